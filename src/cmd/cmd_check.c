/* ctrmig check: can this host run and checkpoint containers? */
#include "cli.h"
#include "cni.h"
#include "proc_spawn.h"
#include "criu.h"
#include "criu_conf.h"
#include "error.h"
#include "runc.h"
#include "proc_spawn.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char check_usage[] =
	"Usage: ctrmig check\n"
	"\n"
	"Check that this host can run and checkpoint containers: runc, CRIU and\n"
	"'criu check', overlayfs, cgroups, iptables, root. Exits 0 only when all hold;\n"
	"otherwise prints one line per problem with how to fix it. Also says how CRIU\n"
	"will lock a container's network (nftables when it can: faster restores).\n";

static const char fix_deps[] = "run 'make deps' (scripts/install-deps.sh) as root";

static int report(bool ok, const char *what, const char *detail, const char *fix)
{
	if (ok)
		printf("ok      %-10s %s\n", what, detail);
	else
		printf("FAIL    %-10s %s; fix: %s\n", what, detail, fix);
	return ok ? 0 : 1;
}

static char *first_line(const char *s)
{
	size_t n = strcspn(s, "\n");
	char *l = cm_malloc(n + 1);
	memcpy(l, s, n);
	return l;
}

static int check_criu(void)
{
	char *ver_argv[] = { "criu", "--version", NULL };
	char *chk_argv[] = { "criu", "check", NULL };
	struct cm_spawn_result res;
	if (!cm_on_path("criu") || cm_spawn_capture(ver_argv, &res, NULL) < 0)
		return report(false, "criu", "not found on PATH", fix_deps);
	cm_autofree char *version = first_line(res.output);
	bool ran = res.status == 0;
	cm_spawn_result_free(&res);
	if (!ran)
		return report(false, "criu", "cannot run 'criu --version'", fix_deps);
	if (cm_spawn_capture(chk_argv, &res, NULL) < 0)
		return report(false, "criu", "cannot run 'criu check'", fix_deps);
	cm_autofree char *last = cm_spawn_last_line(res.output);
	bool ok = res.status == 0;
	cm_spawn_result_free(&res);
	cm_autofree char *detail = cm_strfmt("%s, criu check: %s", version, ok ? "looks good" : last);
	return report(ok, "criu", detail,
		      "install a CRIU that supports this kernel: 'make deps' sets one up");
}

/* Not a failure either way: it only decides how fast a restore is. */
static int check_network_lock(struct cm_store *st)
{
	cm_autofree char *conf = cm_criu_conf_path(st);
	if (cm_path_exists(CM_RUNC_CRIU_CONF))
		return report(true, "netlock", "CRIU's options come from " CM_RUNC_CRIU_CONF, "");
	if (cm_path_exists(conf)) {
		cm_autofree char *d = cm_strfmt("%s, from %s", cm_criu_conf_network_lock(st), conf);
		return report(true, "netlock", d, "");
	}
	if (!cm_criu_has_feature("network_lock_nftables"))
		return report(true, "netlock", "iptables: this CRIU cannot lock with nftables (slower restores)", "");
	cm_autofree char *d = cm_strfmt("nftables, written to %s at the first checkpoint", conf);
	return report(true, "netlock", d, "");
}

static bool fs_supported(const char *fs)
{
	cm_autofree char *text = cm_read_file("/proc/filesystems", NULL, NULL);
	cm_autofree char *needle = cm_strfmt("\t%s\n", fs);
	return text && strstr(text, needle);
}

static int check_cgroups(void)
{
	if (cm_path_exists("/sys/fs/cgroup/cgroup.controllers"))
		return report(true, "cgroups", "v2 (unified)", "");
	if (cm_path_exists("/sys/fs/cgroup/freezer"))
		return report(true, "cgroups", "v1 with the freezer controller", "");
	return report(false, "cgroups", "no cgroup v2 and no v1 freezer mounted",
		      "mount cgroup2 on /sys/fs/cgroup");
}

/* The plugins ctrmig's networks chain, and the iptables they drive. */
static int check_cni(void)
{
	static const char *const plugins[] = { "bridge", "host-local", "portmap", "firewall", "tuning" };
	char *missing = NULL;
	for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++)
		if (!cm_cni_plugin_found(plugins[i]))
			cm_str_appendf(&missing, ", ", "%s", plugins[i]);
	cm_autofree char *detail = missing ? cm_strfmt("missing in %s: %s", cm_cni_path(), missing)
					   : cm_strfmt("bridge, host-local, portmap, firewall, tuning in %s",
						       cm_cni_path());
	free(missing);
	int problems = report(!missing, "cni", detail,
			      "apt-get install containernetworking-plugins (or set CTRMIG_CNI_PATH)");
	/* portmap, firewall and bridge's masquerade shell out to iptables and ip6tables. */
	bool ipt = cm_on_path("iptables") && cm_on_path("ip6tables");
	struct cm_spawn_result r = { 0 };
	char *argv[] = { "iptables", "-w", "-t", "nat", "-S", "POSTROUTING", NULL };
	bool usable = ipt && cm_spawn_capture(argv, &r, NULL) == 0 && r.status == 0;
	cm_spawn_result_free(&r);
	problems += report(usable, "nat", usable ? "iptables can read the nat table" :
					      ipt ? "iptables cannot read the nat table" : "iptables or ip6tables not found",
			   "apt-get install iptables; modprobe iptable_nat (or nf_tables)");
	return problems;
}

int cm_cmd_check(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(check_usage, stdout);
		return 0;
	}
	if (argc > 1)
		return cm_err(err, 0, "check takes no arguments");
	int problems = 0;
	problems += report(geteuid() == 0, "root", geteuid() == 0 ? "yes" : "not root",
			   "run ctrmig as root");
	cm_autofree char *runc = cm_runc_version(st);
	problems += report(runc != NULL, "runtime", runc ? runc : "runc not found",
			   runc ? "" : fix_deps);
	problems += check_criu();
	problems += report(fs_supported("overlay"), "overlayfs",
			   fs_supported("overlay") ? "supported" : "not supported by this kernel",
			   "modprobe overlay");
	problems += check_cgroups();
	bool ipt = cm_on_path("iptables-restore");
	problems += report(ipt, "iptables", ipt ? "iptables-restore found" : "iptables-restore not found",
			   "apt-get install iptables (CRIU saves firewall rules with it)");
	problems += check_network_lock(st);
	problems += check_cni();
	if (problems) {
		fflush(stdout);
		return cm_err(err, 0, "%d problem%s found: this host cannot checkpoint containers yet",
			      problems, problems == 1 ? "" : "s");
	}
	printf("this host can run and checkpoint containers\n");
	return 0;
}
