#include "foreign.h"
#include "caps.h"
#include "error.h"
#include "jsonio.h"
#include "networks.h"
#include "oci_spec.h"
#include "store.h"
#include "subnet.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* Mounts every engine makes for a container, which ctrmig makes again with
 * its own sources (Podman's list; CRI-O adds the last three). */
static const char *const engine_mounts[] = {
	"/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/dev/shm",
	"/run/.containerenv", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
	"/run/secrets", "/dev/termination-log", "/etc/passwd", "/etc/group",
};
/* Of those, the bind mounts ctrmig's spec has (config podman_mounts). */
static const char *const rebound[] = { "/dev/shm", "/run/.containerenv", "/etc/hosts", "/etc/hostname",
				       "/etc/resolv.conf" };

static bool json_array_contains_str(json_t *a, const char *s)
{
	json_t *v;
	size_t i;
	json_array_foreach(a, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

static bool in_json_list(json_t *a, const char *s)
{
	return json_array_contains_str(a, s);
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s && !strcmp(s, list[i]))
			return true;
	return false;
}
#define IN(s, list) in_list(s, list, sizeof(list) / sizeof(list[0]))

const char *cm_foreign_engine(json_t *config, json_t *spec)
{
	if (json_object_get(config, "ctrmig"))
		return NULL;
	const char *m = cm_json_str(json_object_get(spec, "annotations"), "io.container.manager");
	if (m && !strcmp(m, "cri-o"))
		return "CRI-O";
	if ((m && !strcmp(m, "libpod")) || cm_json_str(config, "rootfsImageName"))
		return "Podman";
	return NULL;
}

static bool ns_has_path(json_t *spec, const char *type, bool *present)
{
	json_t *v;
	size_t i;
	*present = false;
	json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, v) {
		if (!strcmp(cm_json_str(v, "type") ? cm_json_str(v, "type") : "", type)) {
			*present = true;
			return cm_json_str(v, "path") != NULL;
		}
	}
	return false;
}

/* Capabilities beyond ctrmig's default set are cap_add, missing ones cap_drop. */
static void caps_of(json_t *spec, json_t *config)
{
	json_t *bounding = json_object_get(json_object_get(json_object_get(spec, "process"), "capabilities"),
					   "bounding");
	json_t *add = json_array(), *drop = json_array(), *v;
	size_t i;
	json_t *defaults = cm_oci_default_caps();
	json_array_foreach(bounding, i, v)
		if (json_is_string(v) && !json_array_contains_str(defaults, json_string_value(v)))
			json_array_append(add, v);
	json_array_foreach(defaults, i, v)
		if (!json_array_contains_str(bounding, json_string_value(v)))
			json_array_append(drop, v);
	if (json_array_size(add))
		json_object_set(config, "cap_add", add);
	if (json_array_size(drop))
		json_object_set(config, "cap_drop", drop);
	json_decref(add), json_decref(drop), json_decref(defaults);
}

/* One of Podman's published ports (newPortMappings: a range of ports, the
 * protocols as "tcp,udp"), a mapping a port as ctrmig records them. */
static int add_port_mapping(json_t *ports, json_t *m, const char *name, struct cm_error *err)
{
	const char *ip = cm_json_str(m, "host_ip") ? cm_json_str(m, "host_ip") : "";
	const char *protocols = cm_json_str(m, "protocol") ? cm_json_str(m, "protocol") : "tcp";
	json_int_t host = cm_json_int(m, "host_port", 0), ctr = cm_json_int(m, "container_port", 0);
	json_int_t range = cm_json_int(m, "range", 1) > 1 ? cm_json_int(m, "range", 1) : 1;
	uint32_t a;
	if (!json_is_object(m) || host < 1 || ctr < 1 || host + range - 1 > 65535 || ctr + range - 1 > 65535)
		return cm_err(err, 0, "config.dump: a published port of container %s is not valid", name);
	if (*ip && !cm_ipv4_parse(ip, &a))
		return cm_err(err, 0, "container %s publishes port %lld on %.64s, which is no IPv4 address: "
				      "ctrmig publishes on IPv4 only", name, (long long)host, ip);
	cm_autofree char *list = cm_strdup(protocols);
	char *save = NULL;
	for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (strcmp(p, "tcp") && strcmp(p, "udp"))
			return cm_err(err, 0, "container %s publishes %.16s port %lld, which ctrmig does not have "
					      "(tcp and udp only)", name, p, (long long)host);
		for (json_int_t k = 0; k < range; k++) {
			if (json_array_size(ports) == 1024)
				return cm_err(err, 0, "container %s publishes more than 1024 ports", name);
			json_array_append_new(ports, json_pack("{s:s, s:I, s:I, s:s}", "host_ip", ip, "host_port",
							       host + k, "container_port", ctr + k, "protocol", p));
		}
	}
	return 0;
}

/* Its published host ports, which the restore's -p must allow, as for an
 * unsigned archive of ctrmig's. */
static int ports_of(json_t *cfg, const char *name, json_t *config, struct cm_error *err)
{
	json_t *list = json_object_get(cfg, "newPortMappings"), *m;
	size_t i;
	/* Podman 3's form, which Podman 4 still declares but leaves null */
	if (json_array_size(json_object_get(cfg, "portMappings")) && !json_array_size(list))
		return cm_err(err, 0, "container %s publishes ports in Podman 3's form, which ctrmig does not read",
			      name);
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return cm_err(err, 0, "config.dump: newPortMappings is not a list");
	json_t *ports = json_array();
	json_object_set_new(config, "ports", ports);
	json_array_foreach(list, i, m)
		if (add_port_mapping(ports, m, name, err) < 0)
			return -1;
	return 0;
}

json_t *cm_foreign_record(json_t *cfg, json_t *spec, const char *engine, struct cm_error *err)
{
	const char *id = cm_json_str(cfg, "id"), *name = cm_json_str(cfg, "name");
	json_t *process = json_object_get(spec, "process");
	const char *pod = cm_json_str(cfg, "pod");
	if (!id || !name) {
		cm_err(err, 0, "config.dump: a %s container without id or name", engine);
		return NULL;
	}
	if (pod && *pod) {
		cm_err(err, 0, "container %s belongs to pod %.64s: ctrmig restores single containers", name, pod);
		return NULL;
	}
	if (json_array_size(json_object_get(cfg, "namedVolumes")) || json_array_size(json_object_get(cfg, "volumes"))) {
		cm_err(err, 0, "container %s has named volumes, which ctrmig does not have", name);
		return NULL;
	}
	if (json_array_size(json_object_get(json_object_get(spec, "linux"), "devices"))) {
		cm_err(err, 0, "container %s has devices: restore it with its engine", name);
		return NULL;
	}
	json_t *config = json_object(), *tmpfs = json_array(), *volumes = json_array(), *m;
	size_t i;
	json_array_foreach(json_object_get(spec, "mounts"), i, m) {
		const char *dst = cm_json_str(m, "destination"), *type = cm_json_str(m, "type");
		const char *src = cm_json_str(m, "source");
		if (IN(dst, engine_mounts))
			continue;
		if (type && !strcmp(type, "tmpfs")) {
			json_array_append_new(tmpfs, json_string(dst));
			continue;
		}
		/* a host folder: a volume, which the restore's -v must allow */
		if (type && !strcmp(type, "bind") && src && src[0] == '/' && dst && dst[0] == '/') {
			bool ro = in_json_list(json_object_get(m, "options"), "ro");
			json_array_append_new(volumes, json_pack("{s:s, s:s, s:b}", "source", src, "destination", dst,
								 "ro", ro));
			continue;
		}
		cm_err(err, 0, "container %s has a %.32s mount at %.200s, which ctrmig does not take from a %s archive",
		       name, type ? type : "?", dst ? dst : "?", engine);
		json_decref(tmpfs), json_decref(volumes), json_decref(config);
		return NULL;
	}
	json_object_set_new(config, "tmpfs", tmpfs);
	json_object_set_new(config, "volumes", volumes);
	json_t *args = json_object_get(process, "args"), *env = json_object_get(process, "env");
	json_object_set_new(config, "cmd", args ? json_incref(args) : json_array());
	json_object_set_new(config, "env", json_is_array(env) ? json_incref(env) : json_array());
	json_object_set_new(config, "workdir", json_string(cm_json_str(process, "cwd") ? cm_json_str(process, "cwd") : "/"));
	const char *hostname = cm_json_str(spec, "hostname");
	if (hostname)
		json_object_set_new(config, "hostname", json_string(hostname));
	bool has_net, net_path = ns_has_path(spec, "network", &has_net);
	json_object_set_new(config, "network", json_string(!has_net ? "host" : net_path ? CM_NET_DEFAULT : "none"));
	if (has_net) {
		cm_autofree char *netns = cm_strfmt("/run/ctrmig/%s/netns/%s", "foreign", id);
		json_object_set_new(config, "netns", json_string(netns));
	}
	json_object_set_new(config, "etc_mounts", json_true());
	json_object_set_new(config, "podman_mounts", json_true());
	json_t *user = json_object_get(process, "user");
	json_int_t uid = cm_json_int(user, "uid", 0), gid = cm_json_int(user, "gid", 0);
	if (uid || gid) {
		cm_autofree char *u = cm_strfmt("%lld:%lld", (long long)uid, (long long)gid);
		json_object_set_new(config, "user", json_string(u));
		json_object_set_new(config, "uid", json_integer(uid));
		json_object_set_new(config, "gid", json_integer(gid));
	}
	if (json_is_true(json_object_get(cfg, "privileged")))
		json_object_set_new(config, "privileged", json_true());
	caps_of(spec, config);
	if (has_net && net_path && ports_of(cfg, name, config, err) < 0) {
		json_decref(config);
		return NULL;
	}
	if (json_is_true(json_object_get(process, "terminal")))
		json_object_set_new(config, "tty", json_true());
	if (json_is_true(json_object_get(cfg, "stdin")))
		json_object_set_new(config, "stdin_open", json_true());
	json_int_t sig = cm_json_int(cfg, "stopSignal", 15);
	if (sig > 0 && sig < 65 && sig != 15) {
		char num[8];
		snprintf(num, sizeof(num), "%d", (int)sig);
		json_object_set_new(config, "stop_signal", json_string(num));
	}

	const char *image_id = cm_json_str(cfg, "rootfsImageID") ? cm_json_str(cfg, "rootfsImageID")
								   : cm_json_str(cfg, "rootfsImageRef");
	const char *image_name = cm_json_str(cfg, "rootfsImageName");
	json_t *image = json_pack("{s:s}", "id", image_id ? image_id : "");
	if (image_name)
		json_object_set_new(image, "name", json_string(image_name));
	char now[40];
	cm_time_now(now);
	const char *created = cm_json_str(cfg, "createdTime"), *ckpt = cm_json_str(cfg, "checkpointedTime");
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:s}}", "id", id, "name", name, "created",
			 created ? created : now, "image", image, "config", config, "checkpoint", "time",
			 ckpt ? ckpt : now);
}

json_t *cm_foreign_spec(json_t *spec_dump, json_t *record)
{
	json_t *spec = json_deep_copy(spec_dump);
	const char *id = cm_json_str(record, "id");
	json_t *config = json_object_get(record, "config");
	cm_autofree char *root = cm_strfmt("/containers/%s/rootfs", id);
	json_t *r = json_object_get(spec, "root");
	if (json_is_object(r))
		json_object_set_new(r, "path", json_string(root));
	/* its namespace's bind mount: ctrmig's own takes its place */
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, v)
		if (!strcmp(cm_json_str(v, "type") ? cm_json_str(v, "type") : "", "network") && cm_json_str(v, "path"))
			json_object_set(v, "path", json_object_get(config, "netns"));
	/* a volume's bind mount, with the options ctrmig gives one (the grant
	 * decides its source) */
	json_array_foreach(json_object_get(spec, "mounts"), i, v) {
		json_t *vol;
		size_t k;
		json_array_foreach(json_object_get(config, "volumes"), k, vol)
			if (!strcmp(cm_json_str(v, "destination") ? cm_json_str(v, "destination") : "",
				    cm_json_str(vol, "destination")))
				json_object_set_new(v, "options",
						    json_pack("[s, s, s]", "rbind", "rprivate",
							      cm_json_bool(vol, "ro") ? "ro" : "rw"));
	}
	/* the mounts ctrmig makes again from its own sources */
	json_t *mounts = json_object_get(spec, "mounts");
	for (i = json_array_size(mounts); i-- > 0;)
		if (IN(cm_json_str(json_array_get(mounts, i), "destination"), rebound))
			json_array_remove(mounts, i);
	/* the kernel's file systems at their usual places, mounted with
	 * options of the other engine's (Podman's /dev is noexec too) */
	static const char *const kernel_fs[][2] = { { "/proc", "proc" }, { "/dev", "tmpfs" },
						    { "/dev/pts", "devpts" }, { "/dev/mqueue", "mqueue" },
						    { "/sys", "sysfs" }, { "/sys/fs/cgroup", "cgroup" } };
	for (i = json_array_size(mounts); i-- > 0;) {
		json_t *m = json_array_get(mounts, i);
		for (size_t k = 0; k < sizeof(kernel_fs) / sizeof(kernel_fs[0]); k++)
			if (!strcmp(cm_json_str(m, "destination") ? cm_json_str(m, "destination") : "", kernel_fs[k][0]) &&
			    !strcmp(cm_json_str(m, "type") ? cm_json_str(m, "type") : "", kernel_fs[k][1])) {
				json_array_remove(mounts, i);
				break;
			}
	}
	/* limits within this host's: CRIU's images are held to those anyway */
	json_t *rl = json_object_get(json_object_get(spec, "process"), "rlimits");
	for (i = json_array_size(rl); i-- > 0;) {
		json_t *l = json_array_get(rl, i);
		const char *type = cm_json_str(l, "type");
		struct rlimit host;
		int res = type && !strcmp(type, "RLIMIT_NPROC") ? RLIMIT_NPROC : -1;
		if (res >= 0 && getrlimit(res, &host) == 0 &&
		    (host.rlim_max == RLIM_INFINITY || (json_int_t)host.rlim_max >= cm_json_int(l, "hard", -1)) &&
		    cm_json_int(l, "hard", -1) >= 0)
			json_array_remove(rl, i);
	}
	/* Podman's one sysctl, inside the container's network namespace */
	json_t *sysctl = json_object_get(json_object_get(spec, "linux"), "sysctl");
	const char *ping = cm_json_str(sysctl, "net.ipv4.ping_group_range");
	if (ping && !strcmp(ping, "0 0"))
		json_object_del(sysctl, "net.ipv4.ping_group_range");
	/* Podman makes /proc/asound read-only where ctrmig masks it */
	json_t *lx = json_object_get(spec, "linux");
	json_t *masked = json_object_get(lx, "maskedPaths"), *ro = json_object_get(lx, "readonlyPaths");
	if (json_is_array(masked) && !json_array_contains_str(masked, "/proc/asound") &&
	    json_array_contains_str(ro, "/proc/asound"))
		json_array_append_new(masked, json_string("/proc/asound"));
	return spec;
}

const char *cm_foreign_network(struct cm_store *st, json_t *status)
{
	const char *key;
	json_t *v;
	json_object_foreach(status, key, v) {
		if (!cm_net_name_valid(key) || cm_net_is_mode(key))
			return NULL;
		json_t *c = cm_net_load(st, key, NULL);
		json_decref(c);
		return c ? key : NULL;
	}
	return NULL;
}
