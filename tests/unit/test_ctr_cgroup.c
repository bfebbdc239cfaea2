/* stats and pause: finding a container's cgroup folders, and sizes as Docker prints them. */
#include "ctr_cgroup.h"
#include "tap.h"

#include <stdlib.h>

static const char *mountinfo =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
	"35 31 0:32 /outer /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char *proc_cgroup = "9:name=systemd:/\n"
				 "6:freezer:/ctrmig/abc\n"
				 "4:memory:/outer/ctrmig/abc\n"
				 "2:cpu,cpuacct:/ctrmig/abc\n"
				 "0::/ctrmig/abc\n";

int main(void)
{
	bool v2 = true;
	char *d = cm_cgroup_dir_parse(proc_cgroup, mountinfo, "freezer", &v2);
	is_str(d, "/sys/fs/cgroup/freezer/ctrmig/abc", "v1 freezer");
	ok(!v2, "a v1 hierarchy has the controller");
	free(d);
	d = cm_cgroup_dir_parse(proc_cgroup, mountinfo, "cpuacct", &v2);
	is_str(d, "/sys/fs/cgroup/cpu,cpuacct/ctrmig/abc", "a controller co-mounted with another");
	free(d);
	d = cm_cgroup_dir_parse(proc_cgroup, mountinfo, "memory", &v2);
	is_str(d, "/sys/fs/cgroup/memory/ctrmig/abc", "a hierarchy mounted from below its top");
	free(d);
	d = cm_cgroup_dir_parse(proc_cgroup, mountinfo, "pids", &v2);
	is_str(d, "/sys/fs/cgroup/unified/ctrmig/abc", "no v1 pids hierarchy: the unified one");
	ok(v2, "and it says so");
	free(d);
	ok(cm_cgroup_dir_parse("4:memory:/elsewhere\n", mountinfo, "memory", &v2) == NULL,
	   "a cgroup outside the mounted part is not guessed");
	ok(cm_cgroup_dir_parse("", mountinfo, "memory", &v2) == NULL, "no cgroup at all");
	d = cm_cgroup_dir_parse("0::/a/b\n", "50 1 0:9 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
				"memory", &v2);
	is_str(d, "/sys/fs/cgroup/a/b", "a pure v2 host");
	free(d);

	char *s;
	is_str(s = cm_human_size(0), "0B", "zero");
	free(s);
	is_str(s = cm_human_size(512), "512B", "bytes");
	free(s);
	is_str(s = cm_human_size(487424), "487.4kB", "kilobytes, four digits");
	free(s);
	is_str(s = cm_human_size(2068000), "2.068MB", "megabytes");
	free(s);
	is_str(s = cm_human_size(25280000000.0), "25.28GB", "gigabytes");
	free(s);
	return done();
}
