#include "networks.h"
#include "error.h"
#include "jsonio.h"
#include "proc_spawn.h"
#include "sha256.h"
#include "store.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool cm_net_name_valid(const char *name)
{
	if (!isalnum((unsigned char)name[0]) || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

bool cm_net_is_mode(const char *name)
{
	return !strcmp(name, "none") || !strcmp(name, "host") || !strcmp(name, "bridge");
}

static char *net_dir(struct cm_store *st)
{
	return cm_path_join(st->root, "networks");
}

static char *net_path(struct cm_store *st, const char *name)
{
	return cm_strfmt("%s/networks/%s.conflist", st->root, name);
}

json_t *cm_net_conflist(const char *name, const char *bridge, const struct cm_subnet *subnet)
{
	char sub[19], gw[16];
	cm_subnet_format(subnet, sub);
	cm_ipv4_format(cm_subnet_gateway(subnet), gw);
	/* Podman's list: the address and masquerade from bridge + host-local,
	 * published ports from portmap, forwarding rules from firewall (its
	 * iptables backend named: with firewalld running it would pick that). */
	return json_pack("{s:s, s:s, s:[{s:s, s:s, s:b, s:b, s:b, s:{s:b},"
			 " s:{s:s, s:[{s:s}], s:[[{s:s, s:s}]]}},"
			 " {s:s, s:{s:b}}, {s:s, s:s}, {s:s}]}",
			 "cniVersion", "1.0.0", "name", name, "plugins",
			 "type", "bridge", "bridge", bridge, "isGateway", 1, "ipMasq", 1, "hairpinMode", 1,
			 "capabilities", "ips", 1,
			 "ipam", "type", "host-local", "routes", "dst", "0.0.0.0/0", "ranges", "subnet", sub,
			 "gateway", gw,
			 "type", "portmap", "capabilities", "portMappings", 1,
			 "type", "firewall", "backend", "iptables",
			 "type", "tuning");
}

static json_t *bridge_entry(json_t *conflist)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(conflist, "plugins"), i, e)
		if (!strcmp(cm_json_str(e, "type") ? cm_json_str(e, "type") : "", "bridge"))
			return e;
	return NULL;
}

const char *cm_net_bridge(json_t *conflist)
{
	return cm_json_str(bridge_entry(conflist), "bridge");
}

bool cm_net_subnet(json_t *conflist, struct cm_subnet *out)
{
	json_t *ipam = json_object_get(bridge_entry(conflist), "ipam");
	json_t *range = json_array_get(json_array_get(json_object_get(ipam, "ranges"), 0), 0);
	const char *s = cm_json_str(range, "subnet");
	return s && cm_subnet_parse(s, out);
}

json_t *cm_net_describe(json_t *conflist)
{
	const char *name = cm_json_str(conflist, "name");
	char id[65], sub[19] = "", gw[16] = "";
	cm_sha256_hex(name, strlen(name), id);
	struct cm_subnet s;
	if (cm_net_subnet(conflist, &s)) {
		cm_subnet_format(&s, sub);
		cm_ipv4_format(cm_subnet_gateway(&s), gw);
	}
	const char *bridge = cm_net_bridge(conflist);
	return json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:b, s:b, s:b, s:{s:s}}", "name", name,
			 "id", id, "driver", "bridge", "network_interface", bridge ? bridge : "",
			 "subnets", "subnet", sub, "gateway", gw, "ipv6_enabled", 0, "internal", 0,
			 "dns_enabled", 0, "ipam_options", "driver", "host-local");
}

static json_t *load_file(struct cm_store *st, const char *name, struct cm_error *err)
{
	cm_autofree char *path = net_path(st, name);
	if (!cm_path_exists(path)) {
		cm_err(err, 0, "network %s not found", name);
		return NULL;
	}
	json_t *j = cm_json_load(path, err);
	struct cm_subnet s;
	if (j && (!cm_net_subnet(j, &s) || !cm_net_bridge(j))) {
		json_decref(j);
		cm_err(err, 0, "%s: not a bridge network ctrmig wrote", path);
		return NULL;
	}
	return j;
}

static int save(struct cm_store *st, json_t *conflist, struct cm_error *err)
{
	cm_autofree char *dir = net_dir(st);
	cm_autofree char *path = net_path(st, cm_json_str(conflist, "name"));
	if (cm_mkdir_p(dir, 0700, err) < 0)
		return -1;
	return cm_json_save(path, conflist, 0600, err);
}

static json_t *ensure_default(struct cm_store *st, struct cm_error *err)
{
	cm_autofree char *path = net_path(st, CM_NET_DEFAULT);
	if (cm_path_exists(path))
		return load_file(st, CM_NET_DEFAULT, err);
	struct cm_subnet s;
	cm_subnet_parse(CM_NET_DEFAULT_SUBNET, &s);
	json_t *c = cm_net_conflist(CM_NET_DEFAULT, "ctrmig0", &s);
	if (save(st, c, err) < 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

json_t *cm_net_load(struct cm_store *st, const char *name, struct cm_error *err)
{
	if (!strcmp(name, CM_NET_DEFAULT))
		return ensure_default(st, err);
	if (!cm_net_name_valid(name)) {
		cm_err(err, 0, "network name '%s' is not valid: use letters, digits, '_', '.', '-'", name);
		return NULL;
	}
	return load_file(st, name, err);
}

json_t *cm_net_list(struct cm_store *st, struct cm_error *err)
{
	json_t *def = ensure_default(st, err);
	if (!def)
		return NULL;
	json_t *list = json_array();
	json_array_append_new(list, def);
	cm_autofree char *dir = net_dir(st);
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);
	for (int k = 0; k < n; k++) {
		const char *f = ents[k]->d_name;
		size_t len = strlen(f);
		cm_autofree char *name = len > 9 && !strcmp(f + len - 9, ".conflist")
						 ? cm_strfmt("%.*s", (int)(len - 9), f) : NULL;
		if (list && name && strcmp(name, CM_NET_DEFAULT) && cm_net_name_valid(name)) {
			json_t *c = load_file(st, name, err);
			if (c)
				json_array_append_new(list, c);
			else
				json_decref(cm_steal_ptr(&list));
		}
	}
	for (int k = 0; k < n; k++)
		free(ents[k]);
	free(ents);
	return list;
}

/* Whether a host route (not one of our bridges) covers part of s: a subnet
 * the host already reaches another way would lose its traffic. */
static const char *host_route_overlap(const struct cm_subnet *s, json_t *nets, char ifname[IF_NAMESIZE + 1])
{
	FILE *f = fopen("/proc/net/route", "re");
	char line[256];
	const char *found = NULL;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned dest, gw, flags, mask;
		char iface[IF_NAMESIZE + 1];
		if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", iface, &dest, &gw, &flags, &mask) != 5 ||
		    mask == 0)
			continue;
		bool ours = false;
		json_t *c;
		size_t i;
		json_array_foreach(nets, i, c)
			ours |= cm_net_bridge(c) && !strcmp(cm_net_bridge(c), iface);
		/* /proc/net/route shows addresses in network order, printed as host words. */
		struct cm_subnet r = { __builtin_bswap32(dest), __builtin_popcount(mask) };
		if (!ours && cm_subnet_overlaps(s, &r)) {
			snprintf(ifname, IF_NAMESIZE + 1, "%s", iface);
			found = ifname;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static char *free_bridge_name(json_t *nets)
{
	for (int n = 1; n < 1000; n++) {
		char *name = cm_strfmt("ctrmig%d", n);
		bool used = if_nametoindex(name) != 0;
		json_t *c;
		size_t i;
		json_array_foreach(nets, i, c)
			used |= cm_net_bridge(c) && !strcmp(cm_net_bridge(c), name);
		if (!used)
			return name;
		free(name);
	}
	return NULL;
}

static const char *overlapping_net(json_t *nets, const struct cm_subnet *s)
{
	json_t *c;
	size_t i;
	json_array_foreach(nets, i, c) {
		struct cm_subnet o;
		if (cm_net_subnet(c, &o) && cm_subnet_overlaps(&o, s))
			return cm_json_str(c, "name");
	}
	return NULL;
}

static int pick_subnet(json_t *nets, struct cm_subnet *out, struct cm_error *err)
{
	char ifname[IF_NAMESIZE + 1];
	for (uint32_t n = 1; n < 255; n++) {
		struct cm_subnet s = { (10u << 24) | (99u << 16) | (n << 8), 24 };
		if (!overlapping_net(nets, &s) && !host_route_overlap(&s, nets, ifname)) {
			*out = s;
			return 0;
		}
	}
	return cm_err(err, 0, "no free subnet left in 10.99.0.0/16: give one with --subnet");
}

json_t *cm_net_create(struct cm_store *st, const char *name, const char *subnet, struct cm_error *err)
{
	if (!cm_net_name_valid(name) || cm_net_is_mode(name)) {
		cm_err(err, 0, "network name '%s' is not valid: use letters, digits, '_', '.', '-' (not none, host or bridge)",
		       name);
		return NULL;
	}
	cm_autofree char *path = net_path(st, name);
	if (!strcmp(name, CM_NET_DEFAULT) || cm_path_exists(path)) {
		cm_err(err, 0, "network %s already exists", name);
		return NULL;
	}
	json_t *nets = cm_net_list(st, err), *c = NULL;
	if (!nets)
		return NULL;
	struct cm_subnet s;
	char ifname[IF_NAMESIZE + 1];
	const char *other;
	if (subnet && !cm_subnet_parse(subnet, &s)) {
		cm_err(err, 0, "subnet '%s' is not valid: give an IPv4 network as A.B.C.D/N, N from 8 to 30, host bits zero",
		       subnet);
	} else if (subnet && (other = overlapping_net(nets, &s))) {
		cm_err(err, 0, "subnet %s overlaps network %s", subnet, other);
	} else if (subnet && host_route_overlap(&s, nets, ifname)) {
		cm_err(err, 0, "subnet %s overlaps a route of this host (on %s)", subnet, ifname);
	} else if (subnet || pick_subnet(nets, &s, err) == 0) {
		cm_autofree char *bridge = free_bridge_name(nets);
		if (!bridge)
			cm_err(err, 0, "no free bridge name ctrmigN left");
		else
			c = cm_net_conflist(name, bridge, &s);
		if (c && save(st, c, err) < 0) {
			json_decref(c);
			c = NULL;
		}
	}
	json_decref(nets);
	return c;
}

int cm_net_remove(struct cm_store *st, const char *name, struct cm_error *err)
{
	if (!strcmp(name, CM_NET_DEFAULT))
		return cm_err(err, 0, "network %s is the default network and cannot be removed", name);
	json_t *c = cm_net_load(st, name, err);
	if (!c)
		return -1;
	json_t *recs = cm_store_list_ctrs(st, err), *rec;
	if (!recs) {
		json_decref(c);
		return -1;
	}
	size_t i;
	int ret = 0;
	json_array_foreach(recs, i, rec) {
		const char *net = cm_json_str(json_object_get(rec, "config"), "network");
		if (net && !strcmp(net, name)) {
			ret = cm_err(err, 0, "network %s is in use by container %s", name, cm_json_str(rec, "name"));
			break;
		}
	}
	json_decref(recs);
	cm_autofree char *path = net_path(st, name);
	if (ret == 0 && unlink(path) < 0)
		ret = cm_err(err, errno, "remove %s", path);
	/* The bridge goes with it, as podman network rm removes its interface. */
	const char *bridge = cm_net_bridge(c);
	if (ret == 0 && bridge && if_nametoindex(bridge)) {
		char *argv[] = { "ip", "link", "delete", (char *)bridge, NULL };
		struct cm_spawn_result r;
		if (cm_spawn_capture(argv, &r, NULL) == 0)
			cm_spawn_result_free(&r);
	}
	json_decref(c);
	return ret;
}
