#include "ports.h"
#include "container.h"
#include "error.h"
#include "jsonio.h"
#include "portmap_rules.h"
#include "store.h"
#include "subnet.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

static bool port_number(const char *s, bool zero_ok, long *out)
{
	char *end;
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	long v = strtol(s, &end, 10);
	*out = v;
	return (zero_ok ? v >= 0 : v >= 1) && v <= 65535;
}

static const char *proto_of(char *spec, struct cm_error *err)
{
	char *slash = strrchr(spec, '/');
	if (!slash)
		return "tcp";
	*slash = '\0';
	if (!strcmp(slash + 1, "tcp") || !strcmp(slash + 1, "udp"))
		return slash + 1;
	cm_err(err, 0, "protocol '%s' is not tcp or udp", slash + 1);
	return NULL;
}

json_t *cm_port_parse(const char *arg, struct cm_error *err)
{
	cm_autofree char *spec = cm_strdup(arg);
	const char *proto = proto_of(spec, err);
	if (!proto) {
		cm_err_wrap(err, "-p %s", arg);
		return NULL;
	}
	/* From the right: container port, host port, host IP. */
	char *parts[3] = { NULL, NULL, NULL };
	int n = 0;
	char *p = spec;
	for (char *colon; n < 2 && (colon = strrchr(p, ':'));) {
		parts[n++] = colon + 1;
		*colon = '\0';
	}
	parts[n++] = p;
	const char *ctr = parts[0], *host = n > 1 ? parts[1] : "", *ip = n > 2 ? parts[2] : "";
	long cport, hport = 0;
	uint32_t a;
	if (strchr(ctr, '-') || strchr(host, '-')) {
		cm_err(err, 0, "-p %s: port ranges are not supported; give each port with its own -p", arg);
		return NULL;
	}
	if (!port_number(ctr, false, &cport) || (*host && !port_number(host, true, &hport))) {
		cm_err(err, 0, "-p %s: expected [[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp] with ports from 1 to 65535",
		       arg);
		return NULL;
	}
	if (*ip && !cm_ipv4_parse(ip, &a)) {
		cm_err(err, 0, "-p %s: '%s' is not an IPv4 address of this host", arg, ip);
		return NULL;
	}
	return json_pack("{s:s, s:I, s:I, s:s}", "host_ip", ip, "host_port", (json_int_t)hport,
			 "container_port", (json_int_t)cport, "protocol", proto);
}

json_t *cm_port_check(json_t *p)
{
	json_t *hp = json_object_get(p, "host_port"), *cp = json_object_get(p, "container_port");
	const char *ip = cm_json_str(p, "host_ip"), *proto = cm_json_str(p, "protocol");
	uint32_t a;
	if (!json_is_object(p) || json_object_size(p) != 4 || !json_is_integer(hp) || !json_is_integer(cp) ||
	    json_integer_value(hp) < 1 || json_integer_value(hp) > 65535 || json_integer_value(cp) < 1 ||
	    json_integer_value(cp) > 65535 || !ip || (*ip && !cm_ipv4_parse(ip, &a)) || !proto ||
	    (strcmp(proto, "tcp") && strcmp(proto, "udp")))
		return NULL;
	return json_pack("{s:s, s:O, s:O, s:s}", "host_ip", ip, "host_port", hp, "container_port", cp,
			 "protocol", proto);
}

char *cm_port_exposed_parse(const char *arg, struct cm_error *err)
{
	cm_autofree char *spec = cm_strdup(arg);
	const char *proto = proto_of(spec, err);
	long port;
	if (!proto || !port_number(spec, false, &port)) {
		if (!err->msg)
			cm_err(err, 0, "expected PORT[/tcp|udp]");
		cm_err_wrap(err, "exposed port %s", arg);
		return NULL;
	}
	return cm_strfmt("%ld/%s", port, proto);
}

/* Binds ip:port (port 0: any) as the protocol; returns the port bound, or -1. */
static int try_bind(const char *ip, int port, const char *proto)
{
	bool udp = !strcmp(proto, "udp");
	cm_autoclose int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (fd < 0 || (*ip && inet_pton(AF_INET, ip, &sa.sin_addr) != 1))
		return -1;
	socklen_t len = sizeof(sa);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	return ntohs(sa.sin_port);
}

static bool same_mapping(json_t *a, json_t *b)
{
	return cm_json_int(a, "host_port", 0) == cm_json_int(b, "host_port", 0) &&
	       !strcmp(cm_json_str(a, "protocol"), cm_json_str(b, "protocol"));
}

/* The mappings the store's other containers publish; those of running ones
 * name their holder (they refuse the port), the others' only steer random
 * ports away (they would clash when started again). */
static json_t *published_elsewhere(struct cm_store *st, const char *self_id)
{
	json_t *out = json_array(), *recs = st ? cm_store_list_ctrs(st, NULL) : NULL, *rec, *q;
	size_t r, j;
	json_array_foreach(recs, r, rec) {
		if (self_id && !strcmp(self_id, cm_json_str(rec, "id")))
			continue;
		bool running = cm_ctr_status_of(st, rec) == CM_CTR_RUNNING;
		json_array_foreach(json_object_get(json_object_get(rec, "config"), "ports"), j, q) {
			json_t *m = json_deep_copy(q);
			if (running)
				json_object_set_new(m, "holder", json_string(cm_json_str(rec, "name")));
			json_array_append_new(out, m);
		}
	}
	json_decref(recs);
	return out;
}

static json_t *holder_of(json_t *taken, json_t *p)
{
	json_t *q;
	size_t j;
	json_array_foreach(taken, j, q)
		if (same_mapping(p, q))
			return q;
	return NULL;
}

bool cm_port_in_list(const char *list, int port)
{
	const char *s = list ? list : "";
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s)
			return false; /* not a list: nothing in it */
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s)
				return false;
		}
		if (port >= a && port <= b)
			return true;
		s = end + strspn(end, ", \n");
	}
	return false;
}

int cm_ports_pick_random(const char *ip, json_t *p, json_t *taken, int lo, int hi, const char *reserved)
{
	for (int attempt = 0; attempt < 256; attempt++) {
		uint32_t r;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			break;
		int port = lo + (int)(r % (uint32_t)(hi - lo + 1));
		json_object_set_new(p, "host_port", json_integer(port));
		if (!cm_port_in_list(reserved, port) && !holder_of(taken, p) &&
		    try_bind(ip, port, cm_json_str(p, "protocol")) == port)
			return port;
	}
	json_object_set_new(p, "host_port", json_integer(0));
	return -1;
}

/* The kernel's ephemeral range, where random host ports come from. */
static void ephemeral_range(int *lo, int *hi)
{
	cm_autofree char *range = cm_read_file_max("/proc/sys/net/ipv4/ip_local_port_range", 64, NULL, NULL);
	if (!range || sscanf(range, "%d %d", lo, hi) != 2 || *lo < 1024 || *hi > 65535 || *hi <= *lo)
		*lo = 32768, *hi = 60999;
}

int cm_ports_assign(struct cm_store *st, json_t *ports, const char *self_id, struct cm_error *err)
{
	json_t *taken = published_elsewhere(st, self_id), *p;
	size_t i;
	int ret = 0, lo, hi;
	/* after the store's own, whose holders have names */
	if (json_array_size(ports))
		cm_portmap_published(taken, self_id);
	ephemeral_range(&lo, &hi);
	/* what the administrator keeps out of the kernel's own choices */
	cm_autofree char *reserved = cm_read_file_max("/proc/sys/net/ipv4/ip_local_reserved_ports", 1 << 16, NULL, NULL);
	/* the fixed ports first: a random one must not take theirs */
	json_array_foreach(ports, i, p)
		if (cm_json_int(p, "host_port", 0) != 0)
			json_array_append(taken, p);
	json_array_foreach(ports, i, p) {
		const char *ip = cm_json_str(p, "host_ip"), *proto = cm_json_str(p, "protocol");
		if (ret == 0 && cm_json_int(p, "host_port", 0) == 0) {
			if (cm_ports_pick_random(ip ? ip : "", p, taken, lo, hi, reserved) < 0)
				ret = cm_err(err, 0, "find a free %s port on the host: none after 256 tries", proto);
			else
				json_array_append(taken, p);
		}
	}
	json_array_foreach(ports, i, p) {
		if (ret < 0)
			break;
		long port = (long)cm_json_int(p, "host_port", 0);
		const char *proto = cm_json_str(p, "protocol"), *ip = cm_json_str(p, "host_ip");
		for (size_t k = 0; k < i && ret == 0; k++)
			if (same_mapping(p, json_array_get(ports, k)))
				ret = cm_err(err, 0, "host port %ld/%s is published twice", port, proto);
		json_t *q;
		size_t j;
		json_array_foreach(taken, j, q) {
			const char *holder = cm_json_str(q, "holder"), *owner = cm_json_str(q, "owner");
			if (ret == 0 && holder && same_mapping(p, q))
				ret = cm_err(err, 0, "host port %ld/%s is already published by container %s",
					     port, proto, holder);
			if (ret == 0 && owner && same_mapping(p, q))
				ret = cm_err(err, 0, "host port %ld/%s is already published on this host, by container "
						     "%.12s of another store or engine (CNI portmap)", port, proto, owner);
		}
		/* portmap's DNAT would steal the traffic of a program listening there. */
		if (ret == 0 && try_bind(ip ? ip : "", (int)port, proto) < 0)
			ret = cm_err(err, 0, "host port %ld/%s is in use on this host", port, proto);
	}
	json_decref(taken);
	return ret;
}

static bool is_published(json_t *config, const char *exposed)
{
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(config, "ports"), i, p) {
		cm_autofree char *key = cm_strfmt("%lld/%s", (long long)cm_json_int(p, "container_port", 0),
						  cm_json_str(p, "protocol"));
		if (!strcmp(key, exposed))
			return true;
	}
	return false;
}

char *cm_ports_text(json_t *config)
{
	char *t = NULL;
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(config, "ports"), i, p) {
		const char *ip = cm_json_str(p, "host_ip");
		cm_str_appendf(&t, ", ", "%s:%lld->%lld/%s", ip && *ip ? ip : "0.0.0.0",
			       (long long)cm_json_int(p, "host_port", 0),
			       (long long)cm_json_int(p, "container_port", 0), cm_json_str(p, "protocol"));
	}
	json_array_foreach(json_object_get(config, "expose"), i, p)
		if (!is_published(config, json_string_value(p)))
			cm_str_appendf(&t, ", ", "%s", json_string_value(p));
	return t ? t : cm_strdup("");
}

json_t *cm_ports_inspect(json_t *config)
{
	json_t *out = json_object(), *p;
	size_t i;
	json_array_foreach(json_object_get(config, "expose"), i, p)
		json_object_set_new(out, json_string_value(p), json_null());
	json_array_foreach(json_object_get(config, "ports"), i, p) {
		cm_autofree char *key = cm_strfmt("%lld/%s", (long long)cm_json_int(p, "container_port", 0),
						  cm_json_str(p, "protocol"));
		cm_autofree char *hport = cm_strfmt("%lld", (long long)cm_json_int(p, "host_port", 0));
		json_t *list = json_object_get(out, key);
		if (!json_is_array(list)) {
			list = json_array();
			json_object_set_new(out, key, list);
		}
		const char *ip = cm_json_str(p, "host_ip");
		json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", ip ? ip : "", "HostPort", hport));
	}
	return out;
}
