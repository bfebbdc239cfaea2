#include "etc_files.h"
#include "ctr_net.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

const char *const cm_etc_files[3] = { "hosts", "hostname", "resolv.conf" };

char *cm_etc_hosts_text(json_t *config, const char *name, const char *ip)
{
	const char *hostname = cm_json_str(config, "hostname");
	char *t = cm_strdup("127.0.0.1\tlocalhost localhost.localdomain\n"
			    "::1\tlocalhost localhost.localdomain\n");
	if (ip && hostname && name && strcmp(hostname, name))
		cm_str_appendf(&t, "", "%s\t%s %s\n", ip, hostname, name);
	else if (ip || hostname)
		cm_str_appendf(&t, "", "%s\t%s\n", ip ? ip : "127.0.1.1", hostname ? hostname : name);
	json_t *v;
	size_t i;
	/* --add-host NAME:IP, kept as "NAME:IP"; an IPv6 IP has colons of its own. */
	json_array_foreach(json_object_get(config, "add_hosts"), i, v) {
		const char *s = json_string_value(v), *colon = s ? strchr(s, ':') : NULL;
		if (colon)
			cm_str_appendf(&t, "", "%s\t%.*s\n", colon + 1, (int)(colon - s), s);
	}
	return t;
}

/* A nameserver on the host's loopback cannot answer inside the container. */
static bool loopback_server(const char *line)
{
	const char *p = line + strlen("nameserver");
	p += strspn(p, " \t");
	return !strncmp(p, "127.", 4) || !strncmp(p, "::1", 3);
}

char *cm_etc_resolv_text(json_t *config, const char *host_resolv)
{
	json_t *dns = json_object_get(config, "dns"), *search = json_object_get(config, "dns_search");
	json_t *opts = json_object_get(config, "dns_options"), *v;
	char *t = cm_strdup("");
	size_t i;
	bool host_net = cm_json_str(config, "network") && !strcmp(cm_json_str(config, "network"), "host");
	cm_autofree char *copy = cm_strdup(host_resolv ? host_resolv : "");
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool server = !strncmp(line, "nameserver", 10), srch = !strncmp(line, "search", 6);
		bool opt = !strncmp(line, "options", 7);
		if ((server && (json_array_size(dns) || (!host_net && loopback_server(line)))) ||
		    (srch && json_array_size(search)) || (opt && json_array_size(opts)))
			continue;
		if (server || srch || opt)
			cm_str_appendf(&t, "", "%s\n", line);
	}
	if (json_array_size(search)) {
		cm_str_appendf(&t, "", "search");
		json_array_foreach(search, i, v)
			cm_str_appendf(&t, "", " %s", json_string_value(v));
		cm_str_appendf(&t, "", "\n");
	}
	json_array_foreach(dns, i, v)
		cm_str_appendf(&t, "", "nameserver %s\n", json_string_value(v));
	if (json_array_size(opts)) {
		cm_str_appendf(&t, "", "options");
		json_array_foreach(opts, i, v)
			cm_str_appendf(&t, "", " %s", json_string_value(v));
		cm_str_appendf(&t, "", "\n");
	}
	return t;
}

int cm_etc_files_write(struct cm_store *st, json_t *rec, const char *ip, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id");
	json_t *config = json_object_get(rec, "config");
	cm_autofree char *dir = cm_store_ctr_path(st, id, "etc");
	if (cm_mkdir_p(dir, 0700, err) < 0)
		return -1;
	cm_autofree char *host_resolv = cm_read_file_max("/etc/resolv.conf", 1 << 16, NULL, NULL);
	cm_autofree char *hosts = cm_etc_hosts_text(config, cm_json_str(rec, "name"), ip);
	cm_autofree char *hostname = cm_strfmt("%s\n", cm_json_str(config, "hostname") ?
							       cm_json_str(config, "hostname") : "");
	cm_autofree char *resolv = cm_etc_resolv_text(config, host_resolv);
	if (cm_json_bool(config, "podman_mounts")) {
		/* Podman's: the tmpfs folder behind /dev/shm, and .containerenv */
		cm_autofree char *shm = cm_store_ctr_path(st, id, "shm");
		cm_autofree char *env = cm_ctr_etc_file(st, id, "containerenv");
		const char *text = "engine=\"ctrmig\"\n";
		if (cm_mkdir_p(shm, 01777, err) < 0)
			return -1;
		cm_autoclose int fd = open(env, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0 || cm_write_all(fd, text, strlen(text)) < 0)
			return cm_err(err, errno, "write %s", env);
	}
	const char *texts[3] = { hosts, hostname, resolv };
	for (int i = 0; i < 3; i++) {
		cm_autofree char *path = cm_ctr_etc_file(st, id, cm_etc_files[i]);
		/* Readable inside the container whatever user it runs as; made
		 * again at every start, so not worth an fsync. */
		cm_autoclose int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0 || cm_write_all(fd, texts[i], strlen(texts[i])) < 0)
			return cm_err(err, errno, "write %s", path);
	}
	return 0;
}
