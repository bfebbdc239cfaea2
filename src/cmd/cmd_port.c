/* ctrmig port: a container's published ports, as Docker and Podman list them. */
#include "cli.h"
#include "error.h"
#include "jsonio.h"
#include "ports.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char port_usage[] =
	"Usage: ctrmig port [-l] CONTAINER [PORT[/PROTO]]\n"
	"\n"
	"List the container's published ports (\"80/tcp -> 0.0.0.0:8080\"), or the host\n"
	"addresses of one of them.\n"
	"\n"
	"Options:\n"
	"  -l, --latest   the newest container\n"
	"  -h, --help     show this help\n";

int cm_cmd_port(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	bool latest;
	int r = cm_cli_latest_only(argc, argv, false, port_usage, &latest, err);
	if (r != 0)
		return r > 0 ? 0 : -1;
	int rest = argc - optind;
	if (rest > (latest ? 1 : 2) || (!latest && rest < 1))
		return cm_err(err, 0, "port takes CONTAINER [PORT[/PROTO]] (see --help)");
	json_t *recs = cm_cli_select_ctrs(st, false, latest, latest ? 0 : 1, argv + optind, port_usage, err);
	if (!recs)
		return -1;
	const char *want_arg = rest > (latest ? 0 : 1) ? argv[argc - 1] : NULL;
	cm_autofree char *want = NULL;
	if (want_arg && !(want = cm_port_exposed_parse(want_arg, err))) {
		json_decref(recs);
		return -1;
	}
	json_t *p;
	size_t i;
	bool any = false;
	json_array_foreach(json_object_get(json_object_get(json_array_get(recs, 0), "config"), "ports"), i, p) {
		cm_autofree char *key = cm_strfmt("%lld/%s", (long long)cm_json_int(p, "container_port", 0),
						  cm_json_str(p, "protocol"));
		const char *ip = cm_json_str(p, "host_ip");
		if (want && strcmp(want, key))
			continue;
		any = true;
		if (want)
			printf("%s:%lld\n", ip && *ip ? ip : "0.0.0.0", (long long)cm_json_int(p, "host_port", 0));
		else
			printf("%s -> %s:%lld\n", key, ip && *ip ? ip : "0.0.0.0",
			       (long long)cm_json_int(p, "host_port", 0));
	}
	int ret = 0;
	if (want && !any)
		ret = cm_err(err, 0, "container %s does not publish port %s",
			     cm_json_str(json_array_get(recs, 0), "name"), want);
	json_decref(recs);
	return ret;
}
