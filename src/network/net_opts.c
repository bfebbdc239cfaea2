#include "net_opts.h"
#include "error.h"
#include "jsonio.h"
#include "networks.h"
#include "ports.h"
#include "subnet.h"
#include "util.h"

#include <ctype.h>
#include <string.h>

static bool hostname_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

/* Words that go into /etc/resolv.conf or /etc/hosts as they are. */
static bool word_ok(const char *s)
{
	if (!*s || strlen(s) > 253)
		return false;
	for (const char *p = s; *p; p++)
		if (!isgraph((unsigned char)*p) || *p == '#')
			return false;
	return true;
}

int cm_net_opt(struct net_opts *o, int opt, const char *arg, struct cm_error *err)
{
	uint32_t a;
	switch (opt) {
	case 'p': {
		json_t *p = cm_port_parse(arg, err);
		if (!p)
			return -1;
		json_array_append_new(o->ports, p);
		return 0;
	}
	case 'P':
		o->publish_all = true;
		return 0;
	case 'x': {
		char *e = cm_port_exposed_parse(arg, err);
		if (!e)
			return cm_err_wrap(err, "--expose");
		json_array_append_new(o->expose, json_string(e));
		free(e);
		return 0;
	}
	case 'I':
		if (!cm_ipv4_parse(arg, &a))
			return cm_err(err, 0, "--ip %s: not an IPv4 address", arg);
		o->ip = arg;
		return 0;
	case 'M':
		if (!cm_mac_valid(arg))
			return cm_err(err, 0, "--mac-address %s: expected a unicast MAC like 02:42:0a:63:00:05", arg);
		o->mac = arg;
		return 0;
	case 'H':
		if (!hostname_ok(arg))
			return cm_err(err, 0, "--hostname %s: use letters, digits, '-' and '.', at most 63", arg);
		o->hostname = arg;
		return 0;
	case 'S':
		if (!cm_ipv4_parse(arg, &a) && !strchr(arg, ':'))
			return cm_err(err, 0, "--dns %s: not an IP address", arg);
		json_array_append_new(o->dns, json_string(arg));
		return 0;
	case 'R':
	case 'O':
		if (!word_ok(arg))
			return cm_err(err, 0, "--dns-%s %s: not one word", opt == 'R' ? "search" : "option", arg);
		json_array_append_new(opt == 'R' ? o->dns_search : o->dns_options, json_string(arg));
		return 0;
	case 'T': {
		const char *colon = strchr(arg, ':');
		cm_autofree char *name = colon ? cm_strfmt("%.*s", (int)(colon - arg), arg) : NULL;
		if (!colon || !hostname_ok(name) || (!cm_ipv4_parse(colon + 1, &a) && !strchr(colon + 1, ':')) ||
		    !word_ok(colon + 1))
			return cm_err(err, 0, "--add-host %s: expected NAME:IP", arg);
		json_array_append_new(o->add_hosts, json_string(arg));
		return 0;
	}
	}
	return cm_err(err, 0, "unknown network option");
}

int cm_net_config_check(struct cm_store *st, json_t *config, const char *ip, struct cm_error *err)
{
	const char *net = cm_json_str(config, "network");
	if (!net || cm_net_is_mode(net))
		return 0;
	json_t *conflist = cm_net_load(st, net, err);
	if (!conflist)
		return -1;
	struct cm_subnet s;
	uint32_t a;
	int ret = 0;
	if (ip && cm_net_subnet(conflist, &s) && cm_ipv4_parse(ip, &a) && !cm_subnet_contains(&s, a)) {
		char sub[19];
		cm_subnet_format(&s, sub);
		ret = cm_err(err, 0, "address %s is not in network %s's subnet %s", ip, net, sub);
	}
	json_decref(conflist);
	return ret;
}

static void set_list(json_t *config, const char *key, json_t *list)
{
	if (json_array_size(list))
		json_object_set(config, key, list);
}

int cm_net_opts_apply(struct cm_store *st, struct net_opts *o, json_t *image_run, json_t *config,
		      struct cm_error *err)
{
	const char *net = !strcmp(o->network, "bridge") ? CM_NET_DEFAULT : o->network;
	bool own = strcmp(net, "none") && strcmp(net, "host");
	if (!own && (o->ip || o->mac || json_array_size(o->ports) || o->publish_all))
		return cm_err(err, 0, "--ip, --mac-address and -p/-P need a network: not with --network %s", net);
	if (!strcmp(net, "host") && o->hostname)
		return cm_err(err, 0, "--hostname does not go with --network host: the container has the host's");
	json_object_set_new(config, "network", json_string(net));
	if (o->ip)
		json_object_set_new(config, "ip", json_string(o->ip));
	if (o->mac)
		json_object_set_new(config, "mac", json_string(o->mac));
	if (o->hostname)
		json_object_set_new(config, "hostname", json_string(o->hostname));
	/* The image's exposed ports, then --expose's. */
	json_t *expose = json_array(), *v;
	const char *k;
	json_object_foreach(json_object_get(image_run, "ExposedPorts"), k, v) {
		struct cm_error ignored = { 0 };
		char *e = cm_port_exposed_parse(k, &ignored);
		if (e)
			json_array_append_new(expose, json_string(e));
		free(e);
		cm_error_clear(&ignored);
	}
	size_t i;
	json_array_foreach(o->expose, i, v)
		json_array_append(expose, v);
	if (o->publish_all)
		json_array_foreach(expose, i, v) {
			json_t *p = cm_port_parse(json_string_value(v), err);
			if (!p) {
				json_decref(expose);
				return -1;
			}
			json_array_append_new(o->ports, p);
		}
	set_list(config, "expose", expose);
	json_decref(expose);
	int ret = cm_net_config_check(st, config, o->ip, err);
	if (ret == 0 && json_array_size(o->ports))
		ret = cm_ports_assign(st, o->ports, NULL, err);
	if (ret < 0)
		return -1;
	set_list(config, "ports", o->ports);
	set_list(config, "dns", o->dns);
	set_list(config, "dns_search", o->dns_search);
	set_list(config, "dns_options", o->dns_options);
	set_list(config, "add_hosts", o->add_hosts);
	if (strcmp(net, "host"))
		json_object_set_new(config, "etc_mounts", json_true());
	return 0;
}

void cm_net_opts_free(struct net_opts *o)
{
	json_t **lists[] = { &o->ports, &o->expose, &o->dns, &o->dns_search, &o->dns_options, &o->add_hosts };
	for (size_t i = 0; i < 6; i++) {
		json_decref(*lists[i]);
		*lists[i] = NULL;
	}
}
