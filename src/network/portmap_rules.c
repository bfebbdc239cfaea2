#include "portmap_rules.h"
#include "proc_spawn.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The run of s up to any of stops, into out: false if empty or too long. */
static bool copy_until(const char *s, const char *stops, char *out, size_t n)
{
	size_t len = strcspn(s, stops);
	if (!len || len >= n)
		return false;
	memcpy(out, s, len);
	out[len] = 0;
	return true;
}

/* The value after key in a rule ("-p tcp" -> "tcp"), into out. */
static bool rule_word(const char *line, const char *key, char *out, size_t n)
{
	const char *k = strstr(line, key);
	return k && copy_until(k + strlen(key), " \n", out, n);
}

/* The chain a CNI-HOSTPORT-DNAT rule jumps to, and the container id in its
 * comment ("dnat name: \"NET\" id: \"ID\""), into chain and id. */
static bool dnat_jump(const char *l, char *chain, size_t cn, char *id, size_t idn)
{
	const char *k = strstr(l, "id: \\\"");
	if (strncmp(l, "-A CNI-HOSTPORT-DNAT ", 21) || !k || !rule_word(l, " -j ", chain, cn))
		return false;
	return copy_until(k + 6, "\\\" ", id, idn);
}

json_t *cm_portmap_parse_dnat(const char *text, const char *self_id)
{
	json_t *out = json_array(), *owners = json_object();
	for (int pass = 0; pass < 2; pass++) {
		for (const char *line = text; line && *line;
		     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			size_t len = strcspn(line, "\n");
			cm_autofree char *l = cm_malloc(len + 1);
			memcpy(l, line, len);
			l[len] = 0;
			char chain[64], id[80], proto[8], port[8], dst[48] = "";
			if (pass == 0) {
				/* which container each chain is for */
				if (dnat_jump(l, chain, sizeof(chain), id, sizeof(id)))
					json_object_set_new(owners, chain, json_string(id));
				continue;
			}
			if (strncmp(l, "-A CNI-DN-", 10) || !strstr(l, " -j DNAT") ||
			    !rule_word(l, "-A ", chain, sizeof(chain)) || !rule_word(l, " -p ", proto, sizeof(proto)) ||
			    !rule_word(l, " --dport ", port, sizeof(port)) || (strcmp(proto, "tcp") && strcmp(proto, "udp")))
				continue;
			const char *owner = json_string_value(json_object_get(owners, chain));
			char *end;
			long n = strtol(port, &end, 10);
			if (*end || n < 1 || n > 65535 || (owner && self_id && !strcmp(owner, self_id)))
				continue;
			if (rule_word(l, " -d ", dst, sizeof(dst)))
				dst[strcspn(dst, "/")] = 0;
			json_array_append_new(out, json_pack("{s:s, s:i, s:s, s:s}", "host_ip", dst, "host_port",
							     (json_int_t)n, "protocol", proto, "owner",
							     owner ? owner : "?"));
		}
	}
	json_decref(owners);
	return out;
}

void cm_portmap_published(json_t *taken, const char *self_id)
{
	char *argv[] = { "iptables-save", "-t", "nat", NULL };
	struct cm_spawn_result res;
	if (!cm_on_path("iptables-save") || cm_spawn_capture(argv, &res, NULL) < 0)
		return;
	json_t *found = res.status == 0 ? cm_portmap_parse_dnat(res.output, self_id) : NULL;
	json_array_extend(taken, found);
	json_decref(found);
	cm_spawn_result_free(&res);
}

