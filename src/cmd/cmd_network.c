/* ctrmig network create | ls | inspect | rm, and ctrmig port */
#include "cli.h"
#include "error.h"
#include "jsonio.h"
#include "networks.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char network_usage[] =
	"Usage: ctrmig network create [--subnet A.B.C.D/N] NAME\n"
	"       ctrmig network ls [-q]\n"
	"       ctrmig network inspect NAME...\n"
	"       ctrmig network rm NAME...\n"
	"\n"
	"Bridge networks through the CNI plugins (bridge, host-local, portmap,\n"
	"firewall, tuning). The default network 'ctrmig' (bridge ctrmig0, 10.99.0.0/24)\n"
	"is what --network bridge means; a new network takes the next free\n"
	"10.99.N.0/24 and bridge ctrmigN unless --subnet says otherwise.\n"
	"\n"
	"Options:\n"
	"      --subnet CIDR   the new network's IPv4 subnet\n"
	"  -q, --quiet         ls: names only\n"
	"  -h, --help          show this help\n";

static int net_create(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "subnet", required_argument, NULL, 's' }, { "driver", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *subnet = NULL;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "d:h", longopts, network_usage, err)) != -1) {
		if (c == 'h')
			return 0;
		if (c == 's')
			subnet = optarg;
		else if (c == 'd' && strcmp(optarg, "bridge"))
			return cm_err(err, 0, "--driver %s: only bridge networks are supported", optarg);
		else if (c != 'd')
			return -1;
	}
	if (optind + 1 != argc)
		return cm_err(err, 0, "network create takes one NAME (see --help)");
	json_t *c_ = cm_net_create(st, argv[optind], subnet, err);
	if (!c_)
		return cm_err_wrap(err, "network create");
	printf("%s\n", argv[optind]);
	json_decref(c_);
	return 0;
}

static int net_ls(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	bool quiet = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "qh", longopts, network_usage, err)) != -1) {
		if (c == 'h')
			return 0;
		if (c != 'q')
			return -1;
		quiet = true;
	}
	json_t *nets = cm_net_list(st, err), *n;
	if (!nets)
		return -1;
	if (!quiet)
		printf("%-12s  %-16s  %-8s  %-18s  %s\n", "NETWORK ID", "NAME", "DRIVER", "SUBNET", "BRIDGE");
	size_t i;
	json_array_foreach(nets, i, n) {
		json_t *d = cm_net_describe(n);
		json_t *sub = json_array_get(json_object_get(d, "subnets"), 0);
		if (quiet)
			printf("%s\n", cm_json_str(d, "name"));
		else
			printf("%-12.12s  %-16s  %-8s  %-18s  %s\n", cm_json_str(d, "id"), cm_json_str(d, "name"),
			       "bridge", cm_json_str(sub, "subnet"), cm_json_str(d, "network_interface"));
		json_decref(d);
	}
	json_decref(nets);
	return 0;
}

static int net_inspect(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc < 2)
		return cm_err(err, 0, "network inspect takes NAME... (see --help)");
	json_t *out = json_array();
	for (int i = 1; i < argc; i++) {
		json_t *c = cm_net_load(st, argv[i], err);
		if (!c) {
			json_decref(out);
			return cm_err_wrap(err, "network inspect");
		}
		json_array_append_new(out, cm_net_describe(c));
		json_decref(c);
	}
	cm_autofree char *text = json_dumps(out, JSON_INDENT(4));
	puts(text);
	json_decref(out);
	return 0;
}

static int net_rm(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc < 2)
		return cm_err(err, 0, "network rm takes NAME... (see --help)");
	for (int i = 1; i < argc; i++) {
		if (cm_net_remove(st, argv[i], err) < 0)
			return cm_err_wrap(err, "network rm");
		printf("%s\n", argv[i]);
	}
	return 0;
}

int cm_cmd_network(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (!strcmp(sub, "create"))
		return net_create(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return net_ls(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "inspect"))
		return net_inspect(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "rm") || !strcmp(sub, "remove"))
		return net_rm(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(network_usage, stdout);
		return 0;
	}
	return cm_err(err, 0, "network: expected create, ls, inspect or rm (see --help)");
}
