/* The pure logic of networking: subnets, -p and --expose, ports as ps and
 * inspect show them, the /etc files, and one plugin's CNI configuration. */
#include "cni.h"
#include "error.h"
#include "etc_files.h"
#include "jsonio.h"
#include "networks.h"
#include "portmap_rules.h"
#include "ports.h"
#include "subnet.h"
#include "tap.h"
#include "util.h"

static void subnets(void)
{
	struct cm_subnet s, t;
	char text[19];
	ok(cm_subnet_parse("10.99.0.0/24", &s) && s.prefix == 24, "a /24 parses");
	cm_subnet_format(&s, text);
	is_str(text, "10.99.0.0/24", "and prints back");
	ok(!cm_subnet_parse("10.99.0.1/24", &s), "host bits set: refused");
	ok(!cm_subnet_parse("10.99.0.0/31", &s) && !cm_subnet_parse("10.0.0.0/7", &s), "prefixes out of 8..30 refused");
	ok(!cm_subnet_parse("10.99.0.0", &s) && !cm_subnet_parse("10.99.0.0/", &s) && !cm_subnet_parse("x/24", &s),
	   "malformed subnets refused");
	cm_subnet_parse("10.99.0.0/16", &s);
	cm_subnet_parse("10.99.3.0/24", &t);
	ok(cm_subnet_overlaps(&s, &t) && cm_subnet_overlaps(&t, &s), "a /24 inside a /16 overlaps, both ways");
	cm_subnet_parse("10.98.0.0/16", &t);
	ok(!cm_subnet_overlaps(&s, &t), "neighbours do not");
	uint32_t a;
	cm_ipv4_parse("10.99.200.7", &a);
	ok(cm_subnet_contains(&s, a), "an address in the subnet");
	char gw[16];
	cm_ipv4_format(cm_subnet_gateway(&s), gw);
	is_str(gw, "10.99.0.1", "the gateway is the first host");
	ok(cm_mac_valid("02:42:0a:63:00:05"), "a local unicast MAC");
	ok(!cm_mac_valid("01:00:5e:00:00:01") && !cm_mac_valid("00:00:00:00:00:00") &&
		   !cm_mac_valid("02:42:0a:63:00:05:") && !cm_mac_valid("02-42-0a-63-00-05"),
	   "multicast, zero and malformed MACs refused");
}

static void publish(void)
{
	struct cm_error err = { 0 };
	json_t *p = cm_port_parse("8080:80", &err);
	ok(p && cm_json_int(p, "host_port", 0) == 8080 && cm_json_int(p, "container_port", 0) == 80 &&
		   !strcmp(cm_json_str(p, "protocol"), "tcp") && !*cm_json_str(p, "host_ip"),
	   "HOSTPORT:PORT");
	json_decref(p);
	p = cm_port_parse("127.0.0.1::53/udp", &err);
	ok(p && cm_json_int(p, "host_port", -1) == 0 && !strcmp(cm_json_str(p, "host_ip"), "127.0.0.1") &&
		   !strcmp(cm_json_str(p, "protocol"), "udp"),
	   "IP::PORT/udp leaves the host port to pick");
	json_decref(p);
	p = cm_port_parse("80", &err);
	ok(p && cm_json_int(p, "container_port", 0) == 80 && cm_json_int(p, "host_port", -1) == 0, "PORT alone");
	json_decref(p);
	const char *bad[] = { "0", "70000:80", "80:", "a:80", "8000-8010:80", "80/sctp", "300.1.1.1:80:80", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cm_error_clear(&err);
		p = cm_port_parse(bad[i], &err);
		ok(!p && err.msg && !strchr(err.msg, '\n'), "-p '%s' refused in one line", bad[i]);
		json_decref(p);
	}
	cm_error_clear(&err);
	char *e = cm_port_exposed_parse("9000", &err);
	is_str(e, "9000/tcp", "--expose 9000 is 9000/tcp");
	free(e);
	json_t *config = json_pack("{s:[{s:s, s:i, s:i, s:s}], s:[s, s]}", "ports", "host_ip", "", "host_port", 8080,
				   "container_port", 80, "protocol", "tcp", "expose", "80/tcp", "443/tcp");
	char *text = cm_ports_text(config);
	is_str(text, "0.0.0.0:8080->80/tcp, 443/tcp", "ps: published, then exposed only");
	free(text);
	json_t *ins = cm_ports_inspect(config);
	ok(json_is_null(json_object_get(ins, "443/tcp")) &&
		   !strcmp(cm_json_str(json_array_get(json_object_get(ins, "80/tcp"), 0), "HostPort"), "8080"),
	   "inspect: Podman's Ports map");
	json_decref(ins);
	json_decref(config);
	json_t *good = json_pack("{s:s, s:i, s:i, s:s}", "host_ip", "", "host_port", 1, "container_port", 65535,
				 "protocol", "udp");
	json_t *checked = cm_port_check(good);
	ok(checked && json_equal(checked, good), "a sound port object is kept");
	json_decref(checked);
	json_object_set_new(good, "extra", json_true());
	ok(!cm_port_check(good), "an extra field is refused");
	json_decref(good);
}

/* -p 80 forty times over and one fixed port: all distinct, in the
 * ephemeral range, none the fixed one (bind(0) would hand back the same
 * port again and again once its socket is closed). */
static void random_ports(void)
{
	struct cm_error err = { 0 };
	json_t *ports = json_array();
	json_array_append_new(ports, json_pack("{s:s, s:i, s:i, s:s}", "host_ip", "", "host_port", 40000,
					       "container_port", 81, "protocol", "tcp"));
	for (int i = 0; i < 40; i++)
		json_array_append_new(ports, json_pack("{s:s, s:i, s:i, s:s}", "host_ip", "127.0.0.1", "host_port", 0,
						       "container_port", 80 + 100 * i, "protocol", "tcp"));
	int lo = 0, hi = 0;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	ok(f && fscanf(f, "%d %d", &lo, &hi) == 2, "the ephemeral range is readable");
	if (f)
		fclose(f);
	ok(cm_ports_assign(NULL, ports, NULL, &err) == 0, "forty random ports and a fixed one: assigned (%s)",
	   err.msg ? err.msg : "");
	bool distinct = true, in_range = true;
	for (size_t i = 1; i < json_array_size(ports); i++) {
		long a = (long)cm_json_int(json_array_get(ports, i), "host_port", 0);
		in_range = in_range && a >= lo && a <= hi;
		for (size_t k = 0; k < i; k++)
			distinct = distinct && a != cm_json_int(json_array_get(ports, k), "host_port", 0);
	}
	ok(distinct, "no two the same, none the fixed one");
	ok(in_range, "all in %d-%d", lo, hi);
	cm_error_clear(&err);
	json_decref(ports);

	/* two candidates, one published by another container: the other */
	json_t *taken = json_pack("[{s:s, s:i, s:i, s:s, s:s}]", "host_ip", "", "host_port", 40100, "container_port",
				  80, "protocol", "tcp", "holder", "c2");
	json_t *p = json_pack("{s:s, s:i, s:i, s:s}", "host_ip", "", "host_port", 0, "container_port", 80,
			      "protocol", "tcp");
	bool always = true;
	for (int i = 0; i < 20; i++)
		always = always && cm_ports_pick_random("127.0.0.1", p, taken, 40100, 40101, NULL) == 40101;
	ok(always, "a port another container publishes is never picked");
	/* the same port as udp is no clash */
	json_object_set_new(p, "protocol", json_string("udp"));
	ok(cm_ports_pick_random("127.0.0.1", p, taken, 40100, 40100, NULL) == 40100, "its number as udp is free");
	always = true;
	for (int i = 0; i < 20; i++)
		always = always && cm_ports_pick_random("127.0.0.1", p, taken, 40100, 40103, "40100-40101,40103\n") == 40102;
	ok(always, "reserved ports are never picked");
	json_object_set_new(p, "protocol", json_string("tcp"));
	ok(cm_ports_pick_random("127.0.0.1", p, taken, 40100, 40100, NULL) == -1 && cm_json_int(p, "host_port", -1) == 0,
	   "none left: -1, host port 0 again");
	json_decref(p);
	json_decref(taken);
	ok(cm_port_in_list("8080,9000-9010\n", 9005) && cm_port_in_list("8080,9000-9010\n", 8080) &&
		   !cm_port_in_list("8080,9000-9010\n", 8081) && !cm_port_in_list("", 1) &&
		   !cm_port_in_list(NULL, 1) && !cm_port_in_list("junk", 1),
	   "reserved lists: single ports, ranges, empty, unreadable");
}

/* iptables-save -t nat with two containers published by CNI's portmap
 * (recorded here, Debian 12's plugins, iptables 1.8.9 nf_tables). */
static const char nat[] =
	"*nat\n"
	":CNI-DN-1dcf2cb66e1edcc561232 - [0:0]\n"
	"-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n"
	"-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment \"dnat name: \\\"ctrmig\\\" id: \\\"e3a1c9adef58e3ef\\\"\" "
	"-m multiport --dports 45678 -j CNI-DN-1dcf2cb66e1edcc561232\n"
	"-A CNI-HOSTPORT-DNAT -p udp -m comment --comment \"dnat name: \\\"podman\\\" id: \\\"77aa\\\"\" "
	"-m multiport --dports 45679 -j CNI-DN-22222222222222222222a\n"
	"-A CNI-DN-1dcf2cb66e1edcc561232 -s 10.99.0.0/24 -d 127.0.0.1/32 -p tcp -m tcp --dport 45678 -j CNI-HOSTPORT-SETMARK\n"
	"-A CNI-DN-1dcf2cb66e1edcc561232 -d 127.0.0.1/32 -p tcp -m tcp --dport 45678 -j DNAT --to-destination 10.99.0.31:80\n"
	"-A CNI-DN-22222222222222222222a -p udp -m udp --dport 45679 -j DNAT --to-destination 10.88.0.9:81\n"
	"-A CNI-DN-33333333333333333333b -p sctp -m sctp --dport 45680 -j DNAT --to-destination 10.88.0.9:82\n"
	"COMMIT\n";

static void dnat_ports(void)
{
	json_t *all = cm_portmap_parse_dnat(nat, NULL);
	ok(json_array_size(all) == 2, "two published ports (not the SETMARK rule, not sctp)");
	json_t *a = json_array_get(all, 0), *b = json_array_get(all, 1);
	ok(a && cm_json_int(a, "host_port", 0) == 45678 && !strcmp(cm_json_str(a, "protocol"), "tcp") &&
		   !strcmp(cm_json_str(a, "host_ip"), "127.0.0.1") && !strcmp(cm_json_str(a, "owner"), "e3a1c9adef58e3ef"),
	   "127.0.0.1:45678/tcp of e3a1c9adef58e3ef");
	ok(b && cm_json_int(b, "host_port", 0) == 45679 && !strcmp(cm_json_str(b, "protocol"), "udp") &&
		   !strcmp(cm_json_str(b, "host_ip"), "") && !strcmp(cm_json_str(b, "owner"), "77aa"),
	   "45679/udp on every address, of Podman's 77aa");
	json_decref(all);
	json_t *others = cm_portmap_parse_dnat(nat, "e3a1c9adef58e3ef");
	ok(json_array_size(others) == 1 && cm_json_int(json_array_get(others, 0), "host_port", 0) == 45679,
	   "the container's own rules left out");
	json_decref(others);
	json_t *none = cm_portmap_parse_dnat("", NULL);
	ok(json_array_size(none) == 0, "no rules: none");
	json_decref(none);
}

static void etc(void)
{
	json_t *config = json_pack("{s:s, s:[s], s:[s], s:[s], s:s}", "hostname", "box", "add_hosts", "db:10.0.0.9",
				   "dns", "10.99.0.53", "dns_search", "example.test", "network", "ctrmig");
	char *hosts = cm_etc_hosts_text(config, "web", "10.99.0.2");
	ok(strstr(hosts, "127.0.0.1\tlocalhost") && strstr(hosts, "10.99.0.2\tbox web\n") &&
		   strstr(hosts, "10.0.0.9\tdb\n"),
	   "hosts: localhost, the container, --add-host");
	free(hosts);
	char *resolv = cm_etc_resolv_text(config, "nameserver 192.0.2.1\nsearch lan\noptions ndots:2\n");
	is_str(resolv, "options ndots:2\nsearch example.test\nnameserver 10.99.0.53\n",
	       "resolv.conf: --dns and --dns-search replace the host's, its options stay");
	free(resolv);
	json_object_del(config, "dns");
	json_object_del(config, "dns_search");
	resolv = cm_etc_resolv_text(config, "nameserver 127.0.0.53\nnameserver 192.0.2.1\n");
	is_str(resolv, "nameserver 192.0.2.1\n", "the host's loopback resolver is left out");
	free(resolv);
	json_decref(config);
}

static void plugin_config(void)
{
	struct cm_subnet s;
	cm_subnet_parse("10.99.0.0/24", &s);
	json_t *list = cm_net_conflist("ctrmig", "ctrmig0", &s);
	json_t *caps = json_pack("{s:[{s:i}]}", "portMappings", "hostPort", 8080);
	json_t *prev = json_pack("{s:s}", "cniVersion", "1.0.0");
	json_t *bridge = cm_cni_plugin_config(list, json_array_get(json_object_get(list, "plugins"), 0), caps, NULL);
	ok(!strcmp(cm_json_str(bridge, "name"), "ctrmig") && !strcmp(cm_json_str(bridge, "cniVersion"), "1.0.0") &&
		   !json_object_get(bridge, "capabilities") && !json_object_get(bridge, "runtimeConfig") &&
		   !json_object_get(bridge, "prevResult"),
	   "bridge: name and version in, no capability it did not declare, no prevResult first");
	json_t *portmap = cm_cni_plugin_config(list, json_array_get(json_object_get(list, "plugins"), 1), caps, prev);
	ok(json_equal(json_object_get(json_object_get(portmap, "runtimeConfig"), "portMappings"),
		      json_object_get(caps, "portMappings")) && json_equal(json_object_get(portmap, "prevResult"), prev),
	   "portmap: its declared portMappings and the previous result");
	json_t *fw = json_array_get(json_object_get(list, "plugins"), 2);
	is_str(cm_json_str(fw, "backend"), "iptables", "firewall: iptables named, never firewalld by chance");
	json_decref(bridge);
	json_decref(portmap);
	json_decref(prev);
	json_decref(caps);
	json_decref(list);
	ok(cm_net_name_valid("web-net") && !cm_net_name_valid("../x") && !cm_net_name_valid(""), "network names");
}

int main(void)
{
	subnets();
	publish();
	etc();
	plugin_config();
	random_ports();
	dnat_ports();
	return done();
}
