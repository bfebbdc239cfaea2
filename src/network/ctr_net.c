#include "ctr_net.h"
#include "cni.h"
#include "error.h"
#include "etc_files.h"
#include "jsonio.h"
#include "netns.h"
#include "networks.h"
#include "ports.h"
#include "sha256.h"
#include "store.h"
#include "subnet.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define IFNAME "eth0"

/* host-local's reservations: one file per address naming its container. */
#define HOST_LOCAL_DIR "/var/lib/cni/networks"

char *cm_ctr_etc_file(struct cm_store *st, const char *id, const char *name)
{
	cm_autofree char *rel = cm_strfmt("etc/%s", name);
	return cm_store_ctr_path(st, id, rel);
}

/* One network operation at a time per container: a restore's ADD runs in a
 * child while the monitor may release after a runc failure. */
static int net_lock(struct cm_store *st, const char *id)
{
	cm_autofree char *path = cm_store_ctr_path(st, id, "network.lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	while (fd >= 0 && flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	return fd;
}

static void net_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void net_down_locked(struct cm_store *st, const char *id);
static int cni_release_locked(struct cm_store *st, const char *id, char **netns, struct cm_error *err);

static char *cache_path(struct cm_store *st, const char *id)
{
	return cm_store_ctr_path(st, id, "network.json");
}

bool cm_ctr_net_attached(struct cm_store *st, const char *id)
{
	cm_autofree char *p = cache_path(st, id);
	return cm_path_exists(p);
}

json_t *cm_ctr_net_status(struct cm_store *st, const char *id)
{
	cm_autofree char *p = cm_store_ctr_path(st, id, "network.status");
	return cm_path_exists(p) ? cm_json_load(p, NULL) : NULL;
}

/* The one interface of the one network a status describes. */
static json_t *status_interface(json_t *status, const char **net)
{
	if (!json_is_object(status) || json_object_size(status) != 1)
		return NULL;
	const char *k;
	json_t *v;
	json_object_foreach(status, k, v) {
		json_t *ifs = json_object_get(v, "interfaces");
		if (!json_is_object(ifs) || json_object_size(ifs) != 1)
			return NULL;
		*net = k;
		const char *ik;
		json_t *iv;
		json_object_foreach(ifs, ik, iv)
			return json_is_object(iv) ? iv : NULL;
	}
	return NULL;
}

bool cm_net_status_address(json_t *status, struct cm_net_address *out)
{
	memset(out, 0, sizeof(*out));
	const char *net = NULL;
	json_t *iface = status_interface(status, &net);
	json_t *sub = json_array_get(json_object_get(iface, "subnets"), 0);
	const char *ipnet = cm_json_str(sub, "ipnet"), *gw = cm_json_str(sub, "gateway");
	const char *mac = cm_json_str(iface, "mac_address");
	if (!ipnet)
		return false;
	/* "A.B.C.D/N": the address keeps its host bits, unlike a subnet. */
	char ip[16];
	int prefix;
	if (sscanf(ipnet, "%15[0-9.]/%d", ip, &prefix) != 2 || prefix < 8 || prefix > 30)
		return false;
	uint32_t a;
	if (!cm_ipv4_parse(ip, &a))
		return false;
	snprintf(out->network, sizeof(out->network), "%s", net);
	cm_ipv4_format(a, out->ip);
	out->prefix = prefix;
	if (gw && cm_ipv4_parse(gw, &a))
		cm_ipv4_format(a, out->gateway);
	if (mac && cm_mac_valid(mac))
		snprintf(out->mac, sizeof(out->mac), "%s", mac);
	return true;
}

int cm_net_status_check(json_t *status, struct cm_error *err)
{
	const char *net = NULL;
	json_t *iface = status_interface(status, &net);
	struct cm_net_address a;
	if (!iface || !cm_net_status_address(status, &a))
		return cm_err(err, 0, "network.status: not one network with one IPv4 interface");
	if (!cm_net_name_valid(net))
		return cm_err(err, 0, "network.status: network name is not valid");
	const char *mac = cm_json_str(iface, "mac_address");
	if (mac && !*a.mac)
		return cm_err(err, 0, "network.status: mac_address is not a unicast MAC");
	return 0;
}

/* Podman's StatusBlock from a CNI result. */
static json_t *status_from_result(const char *net, json_t *result)
{
	json_t *ifaces = json_object_get(result, "interfaces"), *subnets = json_array(), *ip;
	const char *mac = NULL;
	size_t i;
	json_array_foreach(json_object_get(result, "ips"), i, ip) {
		json_t *iface = json_array_get(ifaces, (size_t)cm_json_int(ip, "interface", -1));
		if (!cm_json_str(iface, "sandbox") || !cm_json_str(ip, "address"))
			continue;
		mac = cm_json_str(iface, "mac");
		json_t *s = json_pack("{s:s}", "ipnet", cm_json_str(ip, "address"));
		if (cm_json_str(ip, "gateway"))
			json_object_set_new(s, "gateway", json_string(cm_json_str(ip, "gateway")));
		json_array_append_new(subnets, s);
	}
	json_t *iface = json_pack("{s:o}", "subnets", subnets);
	if (mac)
		json_object_set_new(iface, "mac_address", json_string(mac));
	return json_pack("{s:{s:{s:o}}}", net, "interfaces", IFNAME, iface);
}

char *cm_ctr_net_holder(const char *net, const char *ip)
{
	cm_autofree char *path = cm_strfmt("%s/%s/%s", HOST_LOCAL_DIR, net, ip);
	char *text = cm_read_file_max(path, 4096, NULL, NULL);
	if (text)
		text[strcspn(text, "\r\n")] = '\0';
	return text;
}

/* "requested IP address X is not available": who holds X, in words. */
static int address_taken(struct cm_store *st, const char *net, const char *ip, struct cm_error *err)
{
	cm_autofree char *text = cm_ctr_net_holder(net, ip);
	cm_autofree char *holder = NULL;
	if (text) {
		json_t *rec = strlen(text) == 64 && cm_is_hex(text) ? cm_store_find_ctr(st, text, NULL) : NULL;
		holder = rec ? cm_strfmt("container %s", cm_json_str(rec, "name"))
			     : cm_strfmt("container %.12s (not in this store)", text);
		json_decref(rec);
	}
	cm_error_clear(err);
	return cm_err(err, 0, "address %s on network %s is held by %s", ip, net,
		      holder ? holder : "another container");
}

static bool held_by_self(const char *net, const char *ip, const char *id, struct cm_error *err)
{
	if (!err->msg || !strstr(err->msg, "is not available in range set"))
		return false;
	cm_autofree char *holder = cm_ctr_net_holder(net, ip);
	return holder && !strcmp(holder, id);
}

static int translate_add_error(struct cm_store *st, const char *net, json_t *conflist, const char *ip,
			       struct cm_error *err)
{
	if (ip && err->msg && strstr(err->msg, "is not available in range set"))
		return address_taken(st, net, ip, err);
	struct cm_subnet s;
	if (ip && err->msg && strstr(err->msg, "failed to allocate all requested IPs") &&
	    cm_net_subnet(conflist, &s)) {
		char sub[19];
		cm_subnet_format(&s, sub);
		cm_error_clear(err);
		return cm_err(err, 0, "address %s is not in network %s's subnet %s", ip, net, sub);
	}
	if (ip && err->msg && strstr(err->msg, "is subnet's gateway")) {
		cm_error_clear(err);
		return cm_err(err, 0, "address %s is network %s's gateway", ip, net);
	}
	return cm_err_wrap(err, "network %s", net);
}

static char *cni_args(const char *ip, const char *mac)
{
	/* IgnoreUnknown: bridge and tuning refuse keys they do not know (IP). */
	char *args = cm_strdup("IgnoreUnknown=1");
	if (ip)
		cm_str_appendf(&args, ";", "IP=%s", ip);
	if (mac)
		cm_str_appendf(&args, ";", "MAC=%s", mac);
	return args;
}

/* portmap's runtimeConfig from the record's published ports. */
static json_t *capability_args(json_t *config)
{
	json_t *maps = json_array(), *p;
	size_t i;
	json_array_foreach(json_object_get(config, "ports"), i, p) {
		const char *hip = cm_json_str(p, "host_ip");
		json_array_append_new(maps, json_pack("{s:I, s:I, s:s, s:s}", "hostPort",
						      cm_json_int(p, "host_port", 0), "containerPort",
						      cm_json_int(p, "container_port", 0), "protocol",
						      cm_json_str(p, "protocol"), "hostIP", hip ? hip : ""));
	}
	return json_pack("{s:o}", "portMappings", maps);
}

/* portmap without port mappings passes the result through on ADD and does
 * nothing on DEL (plugins 1.1.1): a container that publishes nothing skips
 * its two runs. The conflist kept in network.json is this one, so DEL
 * matches ADD. */
static void drop_portmap(json_t *conflist)
{
	json_t *plugins = json_object_get(conflist, "plugins");
	for (size_t i = json_array_size(plugins); i-- > 0;) {
		const char *type = cm_json_str(json_array_get(plugins, i), "type");
		if (type && !strcmp(type, "portmap"))
			json_array_remove(plugins, i);
	}
}

static int cni_up(struct cm_store *st, json_t *rec, const char *net, const char *netns,
		  const struct cm_net_request *req, json_t **result, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id");
	json_t *config = json_object_get(rec, "config");
	json_t *conflist = cm_net_load(st, net, err);
	if (!conflist)
		return -1;
	if (!json_array_size(json_object_get(config, "ports")))
		drop_portmap(conflist);
	const char *ip = req && req->ip ? req->ip : cm_json_str(config, "ip");
	const char *mac = req && req->mac ? req->mac : cm_json_str(config, "mac");
	cm_autofree char *args = cni_args(ip, mac);
	json_t *caps = capability_args(config);
	json_t *cache = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "network", net, "ifname", IFNAME,
				  "netns", netns, "args", args, "capability_args", caps, "conflist", conflist);
	cm_autofree char *path = cache_path(st, id);
	int ret = cm_json_save(path, cache, 0600, err);
	if (ret == 0) {
		struct cm_cni_call call = { .conflist = conflist, .container_id = id, .netns = netns,
					    .ifname = IFNAME, .args = args, .capability_args = caps };
		*result = cm_cni_add(&call, err);
		/* Held under this very id: the same container's earlier life on
		 * this host (another store, a checkpoint streamed here) whose
		 * monitor is releasing it now. Wait for that, a few seconds; but
		 * a copy that runs there keeps it (a DEL under the id would take
		 * its reservation, and two would answer at one address). */
		cm_autofree char *elsewhere = NULL;
		for (int tries = 0; !*result && ip && tries < 50 && held_by_self(net, ip, id, err); tries++) {
			if ((elsewhere = cm_store_id_running_elsewhere(st, id)))
				break;
			cm_cni_del(&call, NULL, NULL);
			cm_error_clear(err);
			usleep(100000);
			*result = cm_cni_add(&call, err);
		}
		if (!*result && elsewhere) {
			/* and no DEL of this attempt either: it would release the
			 * copy's reservation just the same (the namespace, new
			 * and empty, goes with whatever the plugins made in it) */
			unlink(path);
			cm_error_clear(err);
			cm_err(err, 0, "address %s on network %s is held by this container's copy, running in another "
				       "store (runc root %s): CNI gives one container id one address, so stop "
				       "that one first", ip, net, elsewhere);
			ret = -1;
		} else if (!*result) {
			translate_add_error(st, net, conflist, ip, err);
			ret = -1;
		} else {
			json_object_set(cache, "result", *result);
			ret = cm_json_save(path, cache, 0600, err);
		}
	}
	json_decref(caps);
	json_decref(cache);
	json_decref(conflist);
	return ret;
}

int cm_ctr_net_prepare(struct cm_store *st, json_t *rec, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id");
	json_t *config = json_object_get(rec, "config");
	const char *netns = cm_json_str(config, "netns");
	/* Whatever a crashed run left attached goes first (nerdctl does the same:
	 * host-local would not lend the address twice). */
	cm_ctr_net_down(st, id);
	/* Ports given as 0 get a free one; none may be another's. */
	json_t *ports = json_object_get(config, "ports");
	if (json_array_size(ports) && cm_ports_assign(st, ports, id, err) < 0)
		return -1;
	if (netns && cm_netns_create(netns, err) < 0)
		return -1;
	/* runc checks that every bind mount's source exists before it starts:
	 * the files are there now, and attach fills in the address (the same
	 * files, rewritten in place, so a mount already made sees it). */
	if (cm_json_bool(config, "etc_mounts") && cm_etc_files_write(st, rec, NULL, err) < 0) {
		cm_ctr_net_down(st, id);
		return -1;
	}
	return 0;
}

/* What a failed attach leaves: nothing attached; the namespace goes too,
 * unless processes live in it already. */
static void attach_undo(struct cm_store *st, const char *id, bool keep_ns)
{
	if (!keep_ns) {
		net_down_locked(st, id);
		return;
	}
	struct cm_error e = { 0 };
	cni_release_locked(st, id, NULL, &e);
	cm_error_clear(&e);
	cm_autofree char *path = cache_path(st, id);
	unlink(path);
}

static int attach_locked(struct cm_store *st, json_t *rec, const struct cm_net_request *req, bool keep_ns,
			 struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id");
	json_t *config = json_object_get(rec, "config");
	const char *net = cm_json_str(config, "network"), *netns = cm_json_str(config, "netns");
	json_t *result = NULL;
	bool cni = netns && net && !cm_net_is_mode(net);
	if (cni && cni_up(st, rec, net, netns, req, &result, err) < 0) {
		attach_undo(st, id, keep_ns);
		return -1;
	}
	struct cm_net_address addr = { 0 };
	if (result) {
		json_t *status = status_from_result(net, result);
		cm_autofree char *sp = cm_store_ctr_path(st, id, "network.status");
		cm_net_status_address(status, &addr);
		int r = cm_json_save(sp, status, 0600, err);
		json_decref(status);
		json_decref(result);
		if (r < 0) {
			attach_undo(st, id, keep_ns);
			return -1;
		}
	}
	if (cm_json_bool(config, "etc_mounts") &&
	    cm_etc_files_write(st, rec, *addr.ip ? addr.ip : NULL, err) < 0) {
		attach_undo(st, id, keep_ns);
		return -1;
	}
	return 0;
}

int cm_ctr_net_attach(struct cm_store *st, json_t *rec, const struct cm_net_request *req, struct cm_error *err)
{
	int lock = net_lock(st, cm_json_str(rec, "id"));
	int ret = attach_locked(st, rec, req, false, err);
	net_unlock(lock);
	return ret;
}

int cm_ctr_net_up(struct cm_store *st, json_t *rec, const struct cm_net_request *req, struct cm_error *err)
{
	if (cm_ctr_net_prepare(st, rec, err) < 0)
		return -1;
	return cm_ctr_net_attach(st, rec, req, err);
}

void cm_ctr_net_down(struct cm_store *st, const char *id)
{
	int lock = net_lock(st, id);
	net_down_locked(st, id);
	net_unlock(lock);
}

/* CNI DEL with what ADD was given (network.json, which the caller then
 * removes): the address and the interface are released, the namespace
 * stays. Sets *netns to the namespace the cache names, if asked. */
static int cni_release_locked(struct cm_store *st, const char *id, char **netns, struct cm_error *err)
{
	cm_autofree char *path = cache_path(st, id);
	if (!cm_path_exists(path))
		return 0;
	json_t *cache = cm_json_load(path, err);
	if (!cache)
		return -1;
	const char *ns = cm_json_str(cache, "netns");
	if (netns && ns)
		*netns = cm_strdup(ns);
	struct cm_cni_call call = { .conflist = json_object_get(cache, "conflist"),
				    .container_id = id,
				    .netns = ns && cm_netns_is_mounted(ns) ? ns : NULL,
				    .ifname = cm_json_str(cache, "ifname"),
				    .args = cm_json_str(cache, "args"),
				    .capability_args = json_object_get(cache, "capability_args") };
	int ret = call.ifname ? cm_cni_del(&call, json_object_get(cache, "result"), err) : 0;
	json_decref(cache);
	return ret;
}

static void net_down_locked(struct cm_store *st, const char *id)
{
	cm_autofree char *netns = NULL;
	struct cm_error err = { 0 };
	if (cni_release_locked(st, id, &netns, &err) < 0)
		cm_warn("release the network of %.12s: %s", id, err.msg);
	cm_error_clear(&err);
	cm_autofree char *path = cache_path(st, id);
	unlink(path);
	if (!netns)
		netns = cm_store_netns_path(st, id);
	cm_netns_remove(netns); /* nothing there for a container without one */
}

int cm_ctr_net_hand_over(struct cm_store *st, const char *id, struct cm_error *err)
{
	int lock = net_lock(st, id);
	int ret = cni_release_locked(st, id, NULL, err);
	/* Released, even by a DEL that failed half-way: nothing is left for
	 * its monitor to release once the copy holds it (a DEL then, under the
	 * same id, would take the copy's), and take-back adds it whole again. */
	cm_autofree char *path = cache_path(st, id);
	unlink(path);
	net_unlock(lock);
	return ret;
}

int cm_ctr_net_take_back(struct cm_store *st, json_t *rec, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id");
	if (cm_ctr_net_attached(st, id))
		return 0; /* never handed over */
	json_t *status = cm_ctr_net_status(st, id);
	struct cm_net_address a;
	struct cm_net_request req = { 0 };
	if (status && cm_net_status_address(status, &a)) {
		req.ip = a.ip;
		req.mac = *a.mac ? a.mac : NULL;
	}
	int lock = net_lock(st, id);
	/* attach, not up: the namespace is the one its processes are in */
	int ret = req.ip ? attach_locked(st, rec, &req, true, err) : 0;
	net_unlock(lock);
	json_decref(status);
	return ret;
}

json_t *cm_ctr_net_settings(struct cm_store *st, json_t *rec)
{
	const char *id = cm_json_str(rec, "id");
	json_t *config = json_object_get(rec, "config");
	struct cm_net_address a = { 0 };
	json_t *status = cm_ctr_net_attached(st, id) ? cm_ctr_net_status(st, id) : NULL;
	cm_net_status_address(status, &a);
	json_decref(status);
	const char *net = cm_json_str(config, "network"), *netns = cm_json_str(config, "netns");
	json_t *networks = json_object();
	if (net && !cm_net_is_mode(net)) {
		char nid[65];
		cm_sha256_hex(net, strlen(net), nid);
		json_object_set_new(networks, net,
				    json_pack("{s:s, s:s, s:i, s:s, s:s}", "NetworkID", nid, "IPAddress", a.ip,
					      "IPPrefixLen", a.prefix, "Gateway", a.gateway, "MacAddress", a.mac));
	}
	return json_pack("{s:s, s:i, s:s, s:s, s:o, s:s, s:o}", "IPAddress", a.ip, "IPPrefixLen", a.prefix,
			 "Gateway", a.gateway, "MacAddress", a.mac, "Ports", cm_ports_inspect(config),
			 "SandboxKey", netns ? netns : "", "Networks", networks);
}

/* ---- restore: runc waits for the plugins at CRIU's setup-namespaces ---- */

int cm_net_ready_write(const char *ctr_dir, const char *error)
{
	cm_autofree char *path = cm_path_join(ctr_dir, "net.ready");
	cm_autofree char *tmp = cm_path_join(ctr_dir, ".net.ready.tmp");
	cm_autofree char *text = error ? cm_strfmt("error %s", error) : cm_strdup("ok");
	/* whole or absent for the hook that polls it; no fsync: it lives for
	 * one restore */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int ret = cm_write_all(fd, text, strlen(text));
	close(fd);
	return ret < 0 ? -1 : rename(tmp, path);
}

void cm_net_ready_clear(const char *ctr_dir)
{
	cm_autofree char *path = cm_path_join(ctr_dir, "net.ready");
	unlink(path);
}

int cm_net_wait_hook(struct cm_error *err)
{
	cm_autofree char *text = cm_read_fd_max(STDIN_FILENO, "the OCI state", 1 << 16, NULL, err);
	json_t *state = text ? cm_json_parse(text, strlen(text), "OCI state", err) : NULL;
	const char *bundle = cm_json_str(state, "bundle");
	if (!bundle) {
		json_decref(state);
		return err->msg ? -1 : cm_err(err, 0, "OCI state has no bundle");
	}
	/* <ctr>/bundle: the container's folder is the bundle's parent */
	cm_autofree char *dir = cm_strdup(bundle);
	json_decref(state);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	cm_autofree char *path = cm_path_join(dir, "net.ready");
	double until = cm_monotonic_seconds() + 60;
	while (!cm_path_exists(path)) {
		if (cm_monotonic_seconds() > until)
			return cm_err(err, 0, "the network was not ready within 60 s");
		usleep(2000);
	}
	cm_autofree char *word = cm_read_file_max(path, 4096, NULL, err);
	if (!word)
		return -1;
	if (strcmp(word, "ok"))
		return cm_err(err, 0, "%s", !strncmp(word, "error ", 6) ? word + 6 : word);
	return 0;
}
