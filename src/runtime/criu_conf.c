#include "criu_conf.h"
#include "criu.h"
#include "error.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* migrate --lazy's page server: runc hands CRIU only its port, and CRIU
 * would listen on every interface; this keeps it on 127.0.0.1, where only
 * ssh's forwarded port reaches it. */
#define PAGE_SERVER_LOCAL \
	"# A lazy migration's page server listens on this host's loopback only:\n" \
	"# ssh carries its pages. Nothing else in a dump or restore uses it.\n" \
	"address 127.0.0.1\n"

/* Why nftables: CRIU locks a container's network for the dump and again
 * while it restores. With iptables that is five iptables-restore runs inside
 * the new namespace per restore (50 ms of a 140 ms restore here); with
 * nftables it is one call into libnftables. CRIU records the method in the
 * images and unlocks with the same one, whatever the restoring host's config. */
static const char conf_nftables[] =
	"# Written by ctrmig, which hands this file to CRIU for its containers\n"
	"# (runc's org.criu.config annotation). CRIU config syntax; edit freely.\n"
	"# Lock the network with nftables: much faster restores than iptables.\n"
	"network-lock nftables\n"
	PAGE_SERVER_LOCAL;
static const char conf_default[] =
	"# Written by ctrmig, which hands this file to CRIU for its containers\n"
	"# (runc's org.criu.config annotation). CRIU config syntax; edit freely.\n"
	"# This CRIU or kernel cannot lock the network with nftables\n"
	"# ('criu check --feature network_lock_nftables' failed): CRIU's default.\n"
	PAGE_SERVER_LOCAL;

char *cm_criu_conf_path(struct cm_store *st)
{
	return cm_path_join(st->root, "criu.conf");
}

char *cm_criu_conf_for_spec(struct cm_store *st)
{
	return cm_path_exists(CM_RUNC_CRIU_CONF) ? NULL : cm_criu_conf_path(st);
}

int cm_criu_conf_ensure(struct cm_store *st, struct cm_error *err)
{
	cm_autofree char *path = cm_criu_conf_path(st);
	if (cm_path_exists(path) || cm_path_exists(CM_RUNC_CRIU_CONF))
		return 0;
	const char *text = cm_criu_has_feature("network_lock_nftables") ? conf_nftables : conf_default;
	if (cm_write_file_atomic(path, text, strlen(text), 0644, err) < 0)
		return cm_err_wrap(err, "write ctrmig's CRIU config");
	return 0;
}

/* The value of KEY on its last line in CRIU's config syntax, or "". */
static void conf_value(const char *text, const char *want, char *value, size_t n)
{
	value[0] = '\0';
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char key[32], v[64];
		/* CRIU's config lines are options without their dashes: "KEY VALUE". */
		if (sscanf(line, " %31[^ \t\n#] %63[^ \t\n#]", key, v) == 2 && !strcmp(key, want))
			snprintf(value, n, "%s", v);
	}
}

bool cm_criu_conf_page_server_local(const char *text)
{
	char v[64];
	conf_value(text, "address", v, sizeof(v));
	return !strcmp(v, "127.0.0.1") || !strcmp(v, "::1") || !strcmp(v, "localhost");
}

const char *cm_criu_conf_parse_network_lock(const char *text)
{
	static const char *const methods[] = { "nftables", "iptables", "skip" };
	const char *found = "iptables";
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char key[32], value[32];
		/* CRIU's config lines are options without their dashes: "KEY VALUE". */
		if (sscanf(line, " %31[^ \t\n#] %31[^ \t\n#]", key, value) != 2 || strcmp(key, "network-lock"))
			continue;
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (!strcmp(value, methods[i]))
				found = methods[i];
	}
	return found;
}

const char *cm_criu_conf_network_lock(struct cm_store *st)
{
	cm_autofree char *path = cm_criu_conf_path(st);
	cm_autofree char *text = cm_read_file(path, NULL, NULL);
	return cm_criu_conf_parse_network_lock(text);
}
