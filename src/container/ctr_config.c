#include "ctr_config.h"
#include "caps.h"
#include "error.h"
#include "jsonio.h"
#include "networks.h"
#include "ports.h"
#include "subnet.h"
#include "oci_spec.h"
#include "signal_name.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PATH_MAX_LEN 4096

bool cm_config_path_ok(const char *path)
{
	if (!path || path[0] != '/' || strlen(path) > PATH_MAX_LEN)
		return false;
	for (const char *p = path; *p; p++)
		if (p[0] == '/' && p[1] == '.' && p[2] == '.' && (p[3] == '/' || !p[3]))
			return false;
	return true;
}

/* A JSON string with no NUL inside (jansson allows "\u0000"). */
static const char *plain_string(json_t *v)
{
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

static int strings(json_t *config, const char *key, json_t *out, bool (*ok)(const char *),
		   struct cm_error *err)
{
	json_t *arr = json_object_get(config, key), *v;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return cm_err(err, 0, "config.dump: %s is not a list", key);
	json_t *copy = json_array();
	size_t i;
	json_array_foreach(arr, i, v) {
		const char *s = plain_string(v);
		if (!s || (ok && !ok(s))) {
			json_decref(copy);
			return cm_err(err, 0, "config.dump: %s[%zu] is not valid", key, i);
		}
		json_array_append_new(copy, json_string(s));
	}
	json_object_set_new(out, key, copy);
	return 0;
}

static bool env_ok(const char *s)
{
	return s[0] != '=' && strchr(s, '=');
}

static bool cap_ok(const char *s)
{
	return cm_cap_number(s) >= 0;
}

static bool cap_drop_ok(const char *s)
{
	return cap_ok(s) || !strcasecmp(s, "ALL");
}

static bool hostname_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

static bool perms_ok(const char *s)
{
	return *s && strspn(s, "rwm") == strlen(s) && strlen(s) <= 3;
}

/* volumes and devices: lists of objects with known string/bool fields. */
static int objects(json_t *config, const char *key, json_t *out, struct cm_error *err)
{
	json_t *arr = json_object_get(config, key), *v;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return cm_err(err, 0, "config.dump: %s is not a list", key);
	bool vol = !strcmp(key, "volumes");
	json_t *copy = json_array();
	size_t i;
	json_array_foreach(arr, i, v) {
		json_t *ro = json_object_get(v, "ro");
		const char *src = plain_string(json_object_get(v, vol ? "source" : "path"));
		const char *dst = plain_string(json_object_get(v, "destination"));
		const char *perms = vol ? NULL : plain_string(json_object_get(v, "permissions"));
		size_t fields = 2 + (vol ? ro != NULL : perms != NULL);
		bool ok = json_is_object(v) && json_object_size(v) == fields && cm_config_path_ok(src) &&
			  cm_config_path_ok(dst) && (vol ? (!ro || json_is_boolean(ro)) : (!perms || perms_ok(perms)));
		if (!ok) {
			json_decref(copy);
			return cm_err(err, 0, "config.dump: %s[%zu] is not valid", key, i);
		}
		json_array_append_new(copy, vol ? json_pack("{s:s, s:s, s:b}", "source", src, "destination",
							     dst, "ro", json_is_true(ro))
						: json_pack("{s:s, s:s, s:s}", "path", src, "destination", dst,
							    "permissions", perms ? perms : "rwm"));
	}
	json_object_set_new(out, key, copy);
	return 0;
}

static bool id_ok(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 0x7fffffff;
}

/* The user (as given, and resolved when the container was made) and the
 * stop signal: restrictions, taken as recorded once they are well formed. */
static int user_fields(json_t *config, json_t *out, struct cm_error *err)
{
	json_t *user = json_object_get(config, "user"), *uid = json_object_get(config, "uid");
	json_t *gid = json_object_get(config, "gid"), *groups = json_object_get(config, "groups");
	json_t *sig = json_object_get(config, "stop_signal"), *v;
	size_t i;
	if (user && (!plain_string(user) || json_string_length(user) > 256))
		return cm_err(err, 0, "config.dump: user is not valid");
	if ((uid && !id_ok(uid)) || (gid && !id_ok(gid)))
		return cm_err(err, 0, "config.dump: uid or gid is not valid");
	if (groups && (!json_is_array(groups) || json_array_size(groups) > 64))
		return cm_err(err, 0, "config.dump: groups is not valid");
	json_array_foreach(groups, i, v)
		if (!id_ok(v))
			return cm_err(err, 0, "config.dump: groups[%zu] is not valid", i);
	int signum;
	if (sig && (!plain_string(sig) || cm_signal_parse(json_string_value(sig), &signum) < 0))
		return cm_err(err, 0, "config.dump: stop_signal is not a signal");
	const char *keys[] = { "user", "uid", "gid", "groups", "stop_signal" };
	json_t *vals[] = { user, uid, gid, groups, sig };
	for (size_t k = 0; k < 5; k++)
		if (vals[k])
			json_object_set_new(out, keys[k], json_deep_copy(vals[k]));
	return 0;
}

static bool ipv4_ok(const char *s)
{
	uint32_t a;
	return cm_ipv4_parse(s, &a);
}

static bool dns_ok(const char *s)
{
	return ipv4_ok(s) || (strchr(s, ':') && strspn(s, "0123456789abcdefABCDEF:.") == strlen(s));
}

/* A word of /etc/resolv.conf: no blanks, no comment, no line break. */
static bool word_ok(const char *s)
{
	if (!*s || strlen(s) > 253)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s) || *s == '#')
			return false;
	return true;
}

static bool add_host_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	cm_autofree char *name = colon ? cm_strfmt("%.*s", (int)(colon - s), s) : NULL;
	return name && hostname_ok(name) && dns_ok(colon + 1);
}

static bool exposed_ok(const char *s)
{
	struct cm_error e = { 0 };
	cm_autofree char *norm = cm_port_exposed_parse(s, &e);
	cm_error_clear(&e);
	return norm && !strcmp(norm, s);
}

/* The address, published ports and /etc files of the network config. */
static int network_fields(json_t *config, json_t *out, struct cm_error *err)
{
	const char *ip = plain_string(json_object_get(config, "ip"));
	const char *mac = plain_string(json_object_get(config, "mac"));
	json_t *etc = json_object_get(config, "etc_mounts");
	if ((json_object_get(config, "ip") && (!ip || !ipv4_ok(ip))) ||
	    (json_object_get(config, "mac") && (!mac || !cm_mac_valid(mac))))
		return cm_err(err, 0, "config.dump: ip or mac is not valid");
	if (etc && !json_is_boolean(etc))
		return cm_err(err, 0, "config.dump: etc_mounts is not true or false");
	if (ip)
		json_object_set_new(out, "ip", json_string(ip));
	if (mac)
		json_object_set_new(out, "mac", json_string(mac));
	if (json_is_true(etc))
		json_object_set_new(out, "etc_mounts", json_true());
	if (strings(config, "dns", out, dns_ok, err) < 0 || strings(config, "dns_search", out, word_ok, err) < 0 ||
	    strings(config, "dns_options", out, word_ok, err) < 0 ||
	    strings(config, "add_hosts", out, add_host_ok, err) < 0 ||
	    strings(config, "expose", out, exposed_ok, err) < 0)
		return -1;
	json_t *ports = json_object_get(config, "ports"), *p;
	if (!ports)
		return 0;
	if (!json_is_array(ports) || json_array_size(ports) > 1024)
		return cm_err(err, 0, "config.dump: ports is not a list");
	json_t *copy = json_array();
	json_object_set_new(out, "ports", copy);
	size_t i;
	json_array_foreach(ports, i, p) {
		json_t *c = cm_port_check(p);
		if (!c)
			return cm_err(err, 0, "config.dump: ports[%zu] is not valid", i);
		json_array_append_new(copy, c);
	}
	return 0;
}

json_t *cm_config_from_archive(json_t *config, const char *old_id, struct cm_error *err)
{
	static const char *const known[] = { "cmd", "env", "workdir", "hostname", "tmpfs", "volumes",
					     "network", "privileged", "cap_add", "cap_drop", "devices",
					     "user", "uid", "gid", "groups", "stop_signal", "netns",
					     "ip", "mac", "ports", "expose", "dns", "dns_search",
					     "dns_options", "add_hosts", "etc_mounts", "tty", "stdin_open",
					     "podman_mounts" };
	if (!json_is_object(config)) {
		cm_err(err, 0, "config.dump: the container record has no config");
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(config, key, v) {
		size_t k = 0;
		while (k < sizeof(known) / sizeof(known[0]) && strcmp(known[k], key))
			k++;
		if (k == sizeof(known) / sizeof(known[0])) {
			cm_err(err, 0, "config.dump: the config field '%.64s' is unknown to this version of ctrmig",
			       key);
			return NULL;
		}
	}
	json_t *out = json_object();
	cm_autofree char *dflt = cm_strfmt("%.12s", old_id);
	const char *workdir = plain_string(json_object_get(config, "workdir"));
	const char *hostname = plain_string(json_object_get(config, "hostname"));
	const char *network = plain_string(json_object_get(config, "network"));
	json_t *priv = json_object_get(config, "privileged");
	if (strings(config, "cmd", out, NULL, err) < 0 || !json_array_size(json_object_get(out, "cmd")))
		goto bad_cmd;
	if (strings(config, "env", out, env_ok, err) < 0 ||
	    strings(config, "tmpfs", out, cm_config_path_ok, err) < 0 ||
	    strings(config, "cap_add", out, cap_ok, err) < 0 ||
	    strings(config, "cap_drop", out, cap_drop_ok, err) < 0 ||
	    objects(config, "volumes", out, err) < 0 || objects(config, "devices", out, err) < 0)
		goto fail;
	if (!cm_config_path_ok(workdir ? workdir : "/")) {
		cm_err(err, 0, "config.dump: workdir is not an absolute path");
		goto fail;
	}
	json_object_set_new(out, "workdir", json_string(workdir ? workdir : "/"));
	if (json_object_get(config, "hostname") && (!hostname || !hostname_ok(hostname))) {
		cm_err(err, 0, "config.dump: hostname is not valid");
		goto fail;
	}
	json_object_set_new(out, "hostname", json_string(hostname ? hostname : dflt));
	if (!network || (!cm_net_is_mode(network) && !cm_net_name_valid(network)) ||
	    !strcmp(network, "bridge")) {
		cm_err(err, 0, "config.dump: network is not none, host or a network's name");
		goto fail;
	}
	json_object_set_new(out, "network", json_string(network));
	if (network_fields(config, out, err) < 0)
		goto fail;
	if (priv && !json_is_boolean(priv)) {
		cm_err(err, 0, "config.dump: privileged is not true or false");
		goto fail;
	}
	if (json_is_true(priv))
		json_object_set_new(out, "privileged", json_true());
	const char *flags[] = { "tty", "stdin_open", "podman_mounts" };
	for (size_t k = 0; k < 3; k++) {
		json_t *f = json_object_get(config, flags[k]);
		if (f && !json_is_boolean(f)) {
			cm_err(err, 0, "config.dump: %s is not true or false", flags[k]);
			goto fail;
		}
		if (json_is_true(f))
			json_object_set_new(out, flags[k], json_true());
	}
	if (user_fields(config, out, err) < 0)
		goto fail;
	/* ctrmig's own network namespace of the archived container; the import
	 * gives the new container its own path. */
	json_t *netns = json_object_get(config, "netns");
	if (netns) {
		const char *path = plain_string(netns);
		cm_autofree char *tail = cm_strfmt("/netns/%.64s", old_id);
		size_t pl = path ? strlen(path) : 0, tl = strlen(tail);
		if (!path || strncmp(path, "/run/ctrmig/", 12) || pl < tl || strcmp(path + pl - tl, tail) ||
		    strlen(old_id) != 64 || !cm_config_path_ok(path) || !strcmp(network, "host")) {
			cm_err(err, 0, "config.dump: netns is not the container's own network namespace");
			goto fail;
		}
		json_object_set_new(out, "netns", json_string(path));
	}
	return out;
bad_cmd:
	if (!err->msg)
		cm_err(err, 0, "config.dump: the container has no command");
fail:
	json_decref(out);
	return NULL;
}

json_t *cm_config_device_parse(const char *arg, struct cm_error *err)
{
	cm_autofree char *copy = cm_strdup(arg);
	char *dst = strchr(copy, ':'), *perms = NULL;
	if (dst) {
		*dst++ = '\0';
		perms = strchr(dst, ':');
		if (perms)
			*perms++ = '\0';
		/* --device /dev/x:rw is HOST:PERMS, as in Docker */
		if (!perms && perms_ok(dst)) {
			perms = dst;
			dst = NULL;
		}
	}
	if (!cm_config_path_ok(copy) || (dst && !cm_config_path_ok(dst)) || (perms && !perms_ok(perms))) {
		cm_err(err, 0, "--device %s: expected HOST-PATH[:CONTAINER-PATH][:PERMISSIONS], absolute paths "
			       "and permissions of r, w, m", arg);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s}", "path", copy, "destination", dst ? dst : copy, "permissions",
			 perms ? perms : "rwm");
}

/* ---- grants --------------------------------------------------------------- */

static json_t *find_by(json_t *arr, const char *key, const char *value)
{
	json_t *v;
	size_t i;
	json_array_foreach(arr, i, v)
		if (!strcmp(cm_json_str(v, key), value))
			return v;
	return NULL;
}

static bool has_cap(json_t *names, const char *cap)
{
	json_t *v;
	size_t i;
	json_array_foreach(names, i, v)
		if (cm_cap_number(json_string_value(v)) == cm_cap_number(cap))
			return true;
	return false;
}

json_t *cm_config_grant(json_t *asked, const struct cm_grant_opts *g, struct cm_error *err)
{
	json_t *out = json_deep_copy(asked), *v;
	char *refused = NULL;
	size_t i;
	json_array_foreach(g->volumes, i, v) {
		const char *dst = cm_json_str(v, "destination");
		if (!find_by(json_object_get(asked, "volumes"), "destination", dst)) {
			cm_err(err, 0, "-v %s:%s: the checkpointed container had no volume at %s",
			       cm_json_str(v, "source"), dst, dst);
			json_decref(out);
			return NULL;
		}
	}
	json_array_foreach(json_object_get(out, "volumes"), i, v) {
		const char *dst = cm_json_str(v, "destination");
		json_t *given = find_by(g->volumes, "destination", dst);
		if (given)
			json_array_set(json_object_get(out, "volumes"), i, given);
		else if (!g->trust_all)
			cm_str_appendf(&refused, "; ", "host folder %s at %s (-v SRC:%s)", cm_json_str(v, "source"), dst, dst);
	}
	if (cm_json_bool(asked, "privileged") && !g->privileged && !g->trust_all)
		cm_str_appendf(&refused, "; ", "privileged mode (--privileged)");
	json_array_foreach(json_object_get(asked, "cap_add"), i, v) {
		const char *cap = cm_cap_name(cm_cap_number(json_string_value(v)));
		if (!g->privileged && !g->trust_all && !has_cap(g->cap_add, cap))
			cm_str_appendf(&refused, "; ", "capability %s (--cap-add %s)", cap, cap + 4);
	}
	json_array_foreach(json_object_get(out, "devices"), i, v) {
		const char *path = cm_json_str(v, "path");
		json_t *given = find_by(g->devices, "destination", cm_json_str(v, "destination"));
		if (given)
			json_array_set(json_object_get(out, "devices"), i, given);
		else if (!g->trust_all)
			cm_str_appendf(&refused, "; ", "device %s (--device %s)", path, path);
	}
	const char *net = cm_json_str(asked, "network");
	if (net && !strcmp(net, "host") && !g->trust_all && !(g->network && !strcmp(g->network, "host")))
		cm_str_appendf(&refused, "; ", "the host's network (--network host)");
	/* A published port takes the host's traffic on it (portmap's DNAT). */
	if (g->ports)
		json_object_set(out, "ports", g->ports);
	else if (json_array_size(json_object_get(asked, "ports")) && !g->trust_all) {
		json_t *only = json_pack("{s:O}", "ports", json_object_get(asked, "ports"));
		cm_autofree char *ports = cm_ports_text(only);
		json_decref(only);
		cm_str_appendf(&refused, "; ", "host ports %s (-p, which replaces them)", ports);
	}
	if (!refused)
		return out;
	json_decref(out);
	cm_err(err, 0, "the archive asks for %s: give those flags, or --trust-archive-config, or trust "
		       "the key that signed it ('ctrmig trust add')", refused);
	free(refused);
	return NULL;
}
