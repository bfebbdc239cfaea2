#include "oci_spec.h"
#include "caps.h"
#include "error.h"
#include "jsonio.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* Podman's default capability set for a root container. */
static const char *const default_caps[] = {
	"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER",  "CAP_FSETID",
	"CAP_KILL",   "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
	"CAP_SETPCAP", "CAP_SETUID",      "CAP_SYS_CHROOT",
};

json_t *cm_oci_default_caps(void)
{
	json_t *a = json_array();
	for (size_t i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++)
		json_array_append_new(a, json_string(default_caps[i]));
	return a;
}

static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static json_t *str_array(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}
#define STR_ARRAY(v) str_array(v, sizeof(v) / sizeof(v[0]))

static json_t *mount(const char *dst, const char *type, const char *src, const char *opts)
{
	json_t *o = json_array();
	cm_autofree char *copy = cm_strdup(opts);
	for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(o, json_string(t));
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
			 "options", o);
}

static json_t *default_mounts(void)
{
	json_t *m = json_array();
	json_array_append_new(m, mount("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	json_array_append_new(m, mount("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
	json_array_append_new(m, mount("/dev/pts", "devpts", "devpts",
				       "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
	json_array_append_new(m, mount("/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"));
	json_array_append_new(m, mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
	json_array_append_new(m, mount("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
	json_array_append_new(m, mount("/sys/fs/cgroup", "cgroup", "cgroup",
				       "nosuid,noexec,nodev,relatime,ro"));
	return m;
}

void cm_oci_env_set(json_t *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t keylen = eq ? (size_t)(eq - kv) : strlen(kv);
	size_t i;
	json_t *v;
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, kv, keylen) && (s[keylen] == '=' || s[keylen] == '\0')) {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

json_t *cm_oci_volume_parse(const char *arg, struct cm_error *err)
{
	cm_autofree char *copy = cm_strdup(arg);
	char *src = copy, *dst = strchr(copy, ':'), *mode = NULL;
	if (dst) {
		*dst++ = '\0';
		mode = strchr(dst, ':');
		if (mode)
			*mode++ = '\0';
	}
	if (!dst || !*src || !*dst) {
		cm_err(err, 0, "volume %s: expected SRC:DST[:ro]", arg);
		return NULL;
	}
	if (src[0] != '/' || dst[0] != '/') {
		cm_err(err, 0, "volume %s: source and destination must be absolute paths", arg);
		return NULL;
	}
	if (mode && strcmp(mode, "ro") && strcmp(mode, "rw")) {
		cm_err(err, 0, "volume %s: unknown option '%s' (ro or rw)", arg, mode);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:b}", "source", src, "destination", dst, "ro",
			 mode && !strcmp(mode, "ro"));
}

/* The capability set: Podman's defaults, then --cap-add and --cap-drop
 * (drop wins, as in Docker), or every capability with --privileged. */
static json_t *capabilities(json_t *config)
{
	bool on[CM_CAP_LAST + 1] = { false };
	bool privileged = cm_json_bool(config, "privileged");
	for (size_t i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++)
		on[cm_cap_number(default_caps[i])] = true;
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(config, "cap_add"), i, v) {
		int n = cm_cap_number(json_string_value(v));
		if (n >= 0)
			on[n] = true;
	}
	json_array_foreach(json_object_get(config, "cap_drop"), i, v) {
		const char *name = json_string_value(v);
		int n = cm_cap_number(name);
		if (!strcasecmp(name, "ALL"))
			memset(on, 0, sizeof(on));
		else if (n >= 0)
			on[n] = false;
	}
	json_t *caps = json_array();
	for (int n = 0; n <= CM_CAP_LAST; n++)
		if (on[n] || privileged)
			json_array_append_new(caps, json_string(cm_cap_name(n)));
	return caps;
}

static json_t *process(json_t *config, const char *hostname)
{
	json_t *env = json_array();
	cm_oci_env_set(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	cm_oci_env_set(env, "HOME=/root");
	cm_oci_env_set(env, "container=ctrmig");
	if (cm_json_bool(config, "tty"))
		cm_oci_env_set(env, "TERM=xterm");
	cm_autofree char *host = cm_strfmt("HOSTNAME=%s", hostname);
	cm_oci_env_set(env, host);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(config, "env"), i, v)
		cm_oci_env_set(env, json_string_value(v));

	/* Root cannot raise limits past the host's hard limit, so ask for no more. */
	struct rlimit rl = { 1024, 1024 };
	getrlimit(RLIMIT_NOFILE, &rl);
	json_int_t hard = rl.rlim_max == RLIM_INFINITY ? 1048576 : (json_int_t)rl.rlim_max;
	json_int_t soft = hard < 1024 ? hard : 1024;

	json_t *caps = capabilities(config);
	const char *cwd = cm_json_str(config, "workdir");
	json_t *user = json_pack("{s:I, s:I}", "uid", cm_json_int(config, "uid", 0), "gid",
				 cm_json_int(config, "gid", 0));
	if (json_array_size(json_object_get(config, "groups")))
		json_object_set(user, "additionalGids", json_object_get(config, "groups"));
	return json_pack("{s:b, s:o, s:O, s:o, s:s, s:{s:O, s:O, s:o}, s:[{s:s, s:I, s:I}], s:b}",
			 "terminal", cm_json_bool(config, "tty"), "user", user, "args",
			 json_object_get(config, "cmd"), "env", env, "cwd", cwd ? cwd : "/",
			 "capabilities", "bounding", caps, "effective", caps, "permitted", caps,
			 "rlimits", "type", "RLIMIT_NOFILE", "hard", hard,
			 "soft", soft, "noNewPrivileges", 0);
}

/* --device HOST[:CTR[:PERMS]]: the node as runc creates it in the
 * container, and the device cgroup rule that lets the container use it. */
static int add_device(json_t *linux_, json_t *allow, json_t *dev, struct cm_error *err)
{
	const char *path = cm_json_str(dev, "path"), *dst = cm_json_str(dev, "destination");
	const char *perms = cm_json_str(dev, "permissions");
	struct stat sb;
	if (stat(path, &sb) < 0)
		return cm_err(err, errno, "device %s", path);
	if (!S_ISCHR(sb.st_mode) && !S_ISBLK(sb.st_mode))
		return cm_err(err, 0, "device %s: not a character or block device", path);
	const char *type = S_ISCHR(sb.st_mode) ? "c" : "b";
	json_int_t major = major(sb.st_rdev), minor = minor(sb.st_rdev);
	json_array_append_new(json_object_get(linux_, "devices"),
			      json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:i}", "path", dst ? dst : path,
					"type", type, "major", major, "minor", minor, "fileMode",
					(int)(sb.st_mode & 07777), "uid", 0, "gid", 0));
	json_array_append_new(allow, json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1, "type", type,
					       "major", major, "minor", minor, "access",
					       perms ? perms : "rwm"));
	return 0;
}

json_t *cm_oci_spec_build(json_t *config, const char *id, const char *rootfs, struct cm_error *err)
{
	json_t *cmd = json_object_get(config, "cmd");
	if (!json_is_array(cmd) || json_array_size(cmd) == 0) {
		cm_err(err, 0, "no command given and the image has none");
		return NULL;
	}
	bool privileged = cm_json_bool(config, "privileged");
	json_t *mounts = default_mounts(), *v;
	size_t i;
	if (privileged) /* as Podman: /sys writable */
		json_array_foreach(mounts, i, v)
			if (!strcmp(cm_json_str(v, "destination"), "/sys"))
				json_array_remove(json_object_get(v, "options"),
						  json_array_size(json_object_get(v, "options")) - 1);
	json_array_foreach(json_object_get(config, "tmpfs"), i, v)
		json_array_append_new(mounts, mount(json_string_value(v), "tmpfs", "tmpfs",
						    "rw,nosuid,nodev,mode=1777"));
	/* A container from a Podman archive: its CRIU images name Podman's
	 * bind mounts at /dev/shm and /run/.containerenv, so the spec has them. */
	if (cm_json_bool(config, "podman_mounts")) {
		int dir_len = (int)(strrchr(rootfs, '/') - rootfs);
		cm_autofree char *shm = cm_strfmt("%.*s/shm", dir_len, rootfs);
		cm_autofree char *env = cm_strfmt("%.*s/etc/containerenv", dir_len, rootfs);
		for (i = json_array_size(mounts); i-- > 0;)
			if (!strcmp(cm_json_str(json_array_get(mounts, i), "destination"), "/dev/shm"))
				json_array_remove(mounts, i);
		json_array_append_new(mounts, mount("/dev/shm", "bind", shm, "bind,rprivate,nosuid,noexec,nodev"));
		json_array_append_new(mounts, mount("/run/.containerenv", "bind", env, "bind,rprivate"));
	}
	/* /etc/hosts, /etc/hostname, /etc/resolv.conf from <ctr>/etc, unless a
	 * volume takes their place. */
	for (size_t f = 0; cm_json_bool(config, "etc_mounts") && f < 3; f++) {
		static const char *const names[3] = { "hosts", "hostname", "resolv.conf" };
		cm_autofree char *dst = cm_strfmt("/etc/%s", names[f]);
		cm_autofree char *src = cm_strfmt("%.*s/etc/%s", (int)(strrchr(rootfs, '/') - rootfs), rootfs,
						  names[f]);
		bool taken = false;
		json_array_foreach(json_object_get(config, "volumes"), i, v)
			taken |= !strcmp(cm_json_str(v, "destination"), dst);
		if (!taken)
			json_array_append_new(mounts, mount(dst, "bind", src, "rbind,rprivate,rw"));
	}
	json_array_foreach(json_object_get(config, "volumes"), i, v)
		json_array_append_new(mounts, mount(cm_json_str(v, "destination"), "bind",
						    cm_json_str(v, "source"),
						    cm_json_bool(v, "ro") ? "rbind,rprivate,ro"
									  : "rbind,rprivate,rw"));

	json_t *ns = json_array();
	const char *types[] = { "pid", "ipc", "uts", "mount", "network" };
	const char *net = cm_json_str(config, "network");
	bool host_net = net && !strcmp(net, "host");
	const char *netns = cm_json_str(config, "netns");
	for (size_t t = 0; t < 5; t++) {
		bool is_net = !strcmp(types[t], "network");
		if (host_net && is_net)
			continue;
		json_t *n = json_pack("{s:s}", "type", types[t]);
		if (is_net && netns) /* ctrmig's own, kept across checkpoints */
			json_object_set_new(n, "path", json_string(netns));
		json_array_append_new(ns, n);
	}
	cm_autofree char *short_id = cm_strfmt("%.12s", id);
	const char *hostname = cm_json_str(config, "hostname");
	if (!hostname)
		hostname = short_id;
	cm_autofree char *cgroup = cm_strfmt("/ctrmig/%s", id);
	json_t *allow = json_pack("[{s:b, s:s}]", "allow", privileged, "access", "rwm");
	json_t *spec = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:{s:{s:o}, s:s, s:o, s:[], s:o, s:o}, s:{s:s}}",
			 "ociVersion", "1.0.2", "process", process(config, hostname), "root", "path",
			 rootfs, "readonly", 0, "hostname", hostname, "mounts", mounts, "linux",
			 "resources", "devices", allow, "cgroupsPath", cgroup, "namespaces", ns,
			 "devices", "maskedPaths", privileged ? json_array() : STR_ARRAY(masked_paths),
			 "readonlyPaths", privileged ? json_array() : STR_ARRAY(readonly_paths),
			 "annotations", "org.ctrmig.id", id);
	json_t *linux_ = json_object_get(spec, "linux");
	json_array_foreach(json_object_get(config, "devices"), i, v) {
		if (add_device(linux_, allow, v, err) < 0) {
			json_decref(spec);
			return NULL;
		}
	}
	return spec;
}

void cm_oci_spec_set_hooks(json_t *spec, const char *ctrmig_path)
{
	json_t *ns = json_object_get(json_object_get(spec, "linux"), "namespaces"), *v;
	size_t i;
	bool own_net = false;
	json_array_foreach(ns, i, v)
		own_net |= !strcmp(cm_json_str(v, "type"), "network") && !cm_json_str(v, "path");
	if (!own_net) {
		json_object_del(spec, "hooks");
		return;
	}
	json_object_set_new(spec, "hooks",
			    json_pack("{s:[{s:s, s:[s, s]}]}", "prestart", "path", ctrmig_path,
				      "args", "ctrmig", "__netns-lo-up"));
}

void cm_oci_spec_add_prestart(json_t *spec, const char *path, const char *arg)
{
	json_t *hooks = json_object_get(spec, "hooks");
	if (!json_is_object(hooks)) {
		hooks = json_object();
		json_object_set_new(spec, "hooks", hooks);
	}
	json_t *pre = json_object_get(hooks, "prestart");
	if (!json_is_array(pre)) {
		pre = json_array();
		json_object_set_new(hooks, "prestart", pre);
	}
	json_array_append_new(pre, json_pack("{s:s, s:[s, s]}", "path", path, "args", "ctrmig", arg));
}

void cm_oci_spec_set_criu_conf(json_t *spec, const char *path)
{
	json_t *ann = json_object_get(spec, "annotations");
	if (!path) {
		json_object_del(ann, "org.criu.config");
		return;
	}
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(spec, "annotations", ann);
	}
	json_object_set_new(ann, "org.criu.config", json_string(path));
}
