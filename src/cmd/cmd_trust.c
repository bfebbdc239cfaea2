/* ctrmig trust key | add | ls | rm: this host's signing key and the keys it
 * trusts, like ssh's known hosts. */
#include "cli.h"
#include "config_dir.h"
#include "error.h"
#include "jsonio.h"
#include "trust.h"
#include "trust_keys.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static const char trust_usage[] =
	"Usage: ctrmig trust COMMAND\n"
	"\n"
	"The keys checkpoint archives are signed with and checked against. Each host\n"
	"signs the archives it writes with its own key, made at first use; a restore\n"
	"checks the signature against this host's key and the keys it trusts.\n"
	"\n"
	"Commands:\n"
	"  key [--fingerprint]        print this host's public key, for other hosts\n"
	"  add FILE|- [--name NAME]   trust the Ed25519 public key (PEM) in FILE or stdin\n"
	"  ls [--format json]         list the trusted keys and their fingerprints\n"
	"  rm NAME...                 stop trusting keys\n"
	"\n"
	"Files, in --config-dir (default $CTRMIG_CONFIG_DIR or " CM_DEFAULT_CONFIG_DIR "):\n"
	"  signing-key.pem            this host's private key\n"
	"  trusted-keys/NAME.pub      the keys this host trusts\n"
	"  policy.json                {\"require_signature\": true} refuses archives\n"
	"                             without a trusted signature\n"
	"\n"
	"Run 'ctrmig trust COMMAND --help' for a command's options. See ctrmig-trust(1).\n";

static const char key_usage[] =
	"Usage: ctrmig trust key [--fingerprint]\n"
	"\n"
	"Print this host's public key (PEM) on stdout, making the key pair if this\n"
	"host has none yet. Give it to another host's 'ctrmig trust add'.\n"
	"\n"
	"Options:\n"
	"      --fingerprint  print the key's fingerprint (SHA256:...) instead\n"
	"  -h, --help         show this help\n";

static const char add_usage[] =
	"Usage: ctrmig trust add FILE|- [--name NAME]\n"
	"\n"
	"Trust the Ed25519 public key in FILE (PEM, as 'ctrmig trust key' prints it;\n"
	"- reads stdin): archives it signs restore here as trusted. Prints the name\n"
	"and the fingerprint, to compare with 'ctrmig trust key --fingerprint' on\n"
	"the key's own host.\n"
	"\n"
	"Options:\n"
	"  -n, --name NAME  the name to trust it under (default: FILE's name without\n"
	"                   .pub); letters, digits, '_', '.' and '-'\n"
	"  -h, --help       show this help\n";

static const char ls_usage[] =
	"Usage: ctrmig trust ls [--format json]\n"
	"\n"
	"List the keys whose signatures this host trusts: its own first, shown as\n"
	"'(this host)' once it has one, then trusted-keys/ by name.\n"
	"\n"
	"Options:\n"
	"      --format json  print a JSON array\n"
	"  -h, --help         show this help\n";

static const char rm_usage[] =
	"Usage: ctrmig trust rm NAME...\n"
	"\n"
	"Stop trusting keys: archives they sign restore here as untrusted.\n"
	"\n"
	"Options:\n"
	"  -h, --help  show this help\n";

/* Options for a subcommand that takes none but -h: 1 after printing help. */
static int no_options(int argc, char **argv, const char *usage, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c = cm_cli_getopt(argc, argv, "h", longopts, usage, err);
	return c == 'h' ? 1 : c == -1 ? 0 : -1;
}

static int trust_key(int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "fingerprint", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool fingerprint = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "h", longopts, key_usage, err)) != -1) {
		if (c != 'f')
			return c == 'h' ? 0 : -1;
		fingerprint = true;
	}
	if (optind < argc)
		return cm_err(err, 0, "trust key takes no arguments (see --help)");
	EVP_PKEY *key = cm_trust_host_key(true, err);
	if (!key)
		return -1;
	if (fingerprint) {
		unsigned char pub[CM_TRUST_PUB_LEN];
		cm_trust_raw_public(key, pub);
		cm_autofree char *fp = cm_trust_fingerprint(pub);
		printf("%s\n", fp);
	} else {
		cm_autofree char *pem = cm_trust_public_pem(key);
		fputs(pem, stdout);
	}
	EVP_PKEY_free(key);
	return 0;
}

/* "hosta.pub" -> "hosta", "/tmp/hosta" -> "hosta" */
static char *default_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n > 4 && !strcmp(base + n - 4, ".pub"))
		n -= 4;
	return cm_strfmt("%.*s", (int)n, base);
}

static int trust_add(int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "n:h", longopts, add_usage, err)) != -1) {
		if (c != 'n')
			return c == 'h' ? 0 : -1;
		name = optarg;
	}
	if (argc - optind != 1)
		return cm_err(err, 0, "trust add takes one FILE, or - for stdin (see --help)");
	const char *file = argv[optind];
	bool from_stdin = !strcmp(file, "-");
	if (from_stdin && !name)
		return cm_err(err, 0, "trust add -: give the key a --name");
	cm_autofree char *dflt = name ? NULL : default_name(file);
	if (!name && !cm_trust_name_valid(dflt)) {
		cm_autofree char *q = cm_json_quote(dflt, 80);
		return cm_err(err, 0, "trust add: %s cannot be a key name; give one with --name", q);
	}
	size_t len = 0;
	cm_autofree char *pem = from_stdin
		? cm_read_fd_max(STDIN_FILENO, "standard input", CM_TRUST_PEM_MAX, &len, err)
		: cm_read_file_max(file, CM_TRUST_PEM_MAX, &len, err);
	if (!pem)
		return -1;
	unsigned char pub[CM_TRUST_PUB_LEN];
	if (cm_trust_key_add(pem, len, from_stdin ? "standard input" : file, name ? name : dflt, pub, err) < 0)
		return -1;
	cm_autofree char *fp = cm_trust_fingerprint(pub);
	printf("%s  %s\n", name ? name : dflt, fp);
	return 0;
}

static void add_row(json_t *rows, const char *name, const char *path, const unsigned char pub[32],
		    bool host)
{
	cm_autofree char *fp = cm_trust_fingerprint(pub);
	cm_autofree char *b64 = cm_trust_key_base64(pub);
	json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", name, "fingerprint", fp,
					      "key", b64, "file", path, "host", host));
}

static int trust_ls(int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "h", longopts, ls_usage, err)) != -1) {
		if (c != 'f')
			return c == 'h' ? 0 : -1;
		if (strcmp(optarg, "json"))
			return cm_err(err, 0, "trust ls --format: only 'json' is supported");
		json = true;
	}
	if (optind < argc)
		return cm_err(err, 0, "trust ls takes no arguments (see --help)");
	/* read-only: the host's key is listed once it exists, not made here */
	unsigned char host[CM_TRUST_PUB_LEN];
	int r = cm_trust_host_public(host, err);
	if (r < 0)
		return -1;
	struct cm_trust_key *keys;
	size_t n;
	if (cm_trust_keys_list(&keys, &n, err) < 0)
		return -1;
	json_t *rows = json_array(), *row;
	if (r == 0) {
		cm_autofree char *path = cm_config_path(CM_TRUST_HOST_KEY_FILE);
		add_row(rows, CM_TRUST_HOST_NAME, path, host, true);
	}
	for (size_t i = 0; i < n; i++)
		add_row(rows, keys[i].name, keys[i].path, keys[i].pub, false);
	cm_trust_keys_free(keys, n);
	if (json) {
		cm_autofree char *text = json_dumps(rows, JSON_INDENT(2));
		puts(text);
		json_decref(rows);
		return 0;
	}
	int width = (int)strlen("(" CM_TRUST_HOST_NAME ")");
	size_t i;
	json_array_foreach(rows, i, row) {
		int w = (int)strlen(json_string_value(json_object_get(row, "name")));
		width = w > width ? w : width;
	}
	printf("%-*s  %s\n", width, "NAME", "FINGERPRINT");
	json_array_foreach(rows, i, row) {
		const char *name = json_string_value(json_object_get(row, "name"));
		cm_autofree char *shown = json_is_true(json_object_get(row, "host")) ? cm_strfmt("(%s)", name)
										     : cm_strdup(name);
		printf("%-*s  %s\n", width, shown, json_string_value(json_object_get(row, "fingerprint")));
	}
	json_decref(rows);
	return 0;
}

static int trust_rm(int argc, char **argv, struct cm_error *err)
{
	int r = no_options(argc, argv, rm_usage, err);
	if (r != 0)
		return r > 0 ? 0 : -1;
	if (optind >= argc)
		return cm_err(err, 0, "trust rm takes one or more key names (see 'ctrmig trust ls')");
	for (int i = optind; i < argc; i++) {
		if (cm_trust_key_remove(argv[i], err) < 0)
			return -1;
		printf("%s\n", argv[i]);
	}
	return 0;
}

int cm_cmd_trust(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	(void)st;
	if (argc < 2)
		return cm_err(err, 0, "trust needs a command: key, add, ls or rm (see ctrmig trust --help)");
	const char *sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(trust_usage, stdout);
		return 0;
	}
	if (!strcmp(sub, "key"))
		return trust_key(argc - 1, argv + 1, err);
	if (!strcmp(sub, "add"))
		return trust_add(argc - 1, argv + 1, err);
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return trust_ls(argc - 1, argv + 1, err);
	if (!strcmp(sub, "rm"))
		return trust_rm(argc - 1, argv + 1, err);
	return cm_err(err, 0, "unknown trust command %s (see ctrmig trust --help)", sub);
}
