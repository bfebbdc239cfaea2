/* libFuzzer target: the JSON members of an archive. The input is up to three
 * documents split at NUL bytes:
 *   config.dump \0 spec.dump \0 ctrmig.manifest.sig
 * A missing one is the first document again. The config (the record's
 * ctrmig.record.config when there is one, else the whole document) goes
 * through cm_config_from_archive, then cm_config_grant with no flags, with
 * --trust-archive-config, with --privileged and with a set of other flags;
 * the spec ctrmig builds from it through cm_spec_check against spec.dump and
 * cm_criu_policy_from_spec. The signature is parsed and checked over the
 * first document's bytes against a configuration folder that trusts only the
 * seed key, and one that trusts none. */
#include "criu_policy.h"
#include "ctr_config.h"
#include "error.h"
#include "fuzz.h"
#include "jsonio.h"
#include "oci_spec.h"
#include "spec_check.h"
#include "trust.h"

#include <jansson.h>

#define FALLBACK_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct cm_grant_opts g_flags, g_privileged = { .privileged = true };
static char *stranger_conf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	stranger_conf = fuzz_config_make("conf-stranger", false, false);
	fuzz_config_dir();
	/* --network host --cap-add SYS_ADMIN --cap-add net_admin
	 * --device /dev/null -v /srv:/data:ro */
	g_flags.network = "host";
	g_flags.cap_add = json_pack("[s, s]", "SYS_ADMIN", "net_admin");
	g_flags.devices = json_array();
	json_array_append_new(g_flags.devices, cm_config_device_parse("/dev/null", NULL));
	g_flags.volumes = json_array();
	json_array_append_new(g_flags.volumes, cm_oci_volume_parse("/srv:/data:ro", NULL));
	return 0;
}

static bool asks_for_grants(json_t *c)
{
	const char *net = cm_json_str(c, "network");
	return json_array_size(json_object_get(c, "volumes")) || json_array_size(json_object_get(c, "devices")) ||
	       json_array_size(json_object_get(c, "cap_add")) || cm_json_bool(c, "privileged") ||
	       (net && !strcmp(net, "host"));
}

static void check_config(json_t *doc, json_t *spec)
{
	json_t *rec = json_object_get(json_object_get(doc, "ctrmig"), "record");
	json_t *config = rec ? json_object_get(rec, "config") : doc;
	const char *id = cm_json_str(rec, "id");
	if (!id || strlen(id) != 64 || !cm_is_hex(id)) /* the reader refuses other ids first */
		id = FALLBACK_ID;
	struct cm_error err = { 0 };
	json_t *asked = cm_config_from_archive(config, id, &err);
	FUZZ_ASSERT(asked || err.msg, "a refused config that says nothing");
	cm_error_clear(&err);
	if (!asked)
		return;

	/* What it gives back is a config it takes again, unchanged. */
	json_t *again = cm_config_from_archive(asked, id, &err);
	FUZZ_ASSERT(again && json_equal(again, asked), "a config read from an archive does not read again: %s",
		    err.msg ? err.msg : "changed");
	json_decref(again);

	struct cm_grant_opts none = { 0 }, all = { .trust_all = true };
	json_t *granted = cm_config_grant(asked, &none, &err);
	FUZZ_ASSERT(!granted == asks_for_grants(asked), "no flags: granted %d, asks for grants %d", !!granted,
		    asks_for_grants(asked));
	FUZZ_ASSERT(granted || err.msg, "a refused grant that says nothing");
	json_decref(granted);
	cm_error_clear(&err);
	granted = cm_config_grant(asked, &all, &err);
	FUZZ_ASSERT(granted && json_equal(granted, asked), "--trust-archive-config: %s",
		    err.msg ? err.msg : "the config changed");
	json_decref(granted);
	granted = cm_config_grant(asked, &g_flags, &err);
	FUZZ_ASSERT(granted || err.msg, "a refused grant that says nothing");
	json_decref(granted);
	cm_error_clear(&err);
	granted = cm_config_grant(asked, &g_privileged, &err);
	FUZZ_ASSERT(granted || err.msg, "a refused grant that says nothing");
	json_decref(granted);
	cm_error_clear(&err);

	cm_autofree char *root = cm_strfmt("/containers/%s/rootfs", id);
	json_t *built = cm_oci_spec_build(asked, id, root, &err);
	/* Only a device (stat on this host) can stop the build of a valid config. */
	FUZZ_ASSERT(built || json_array_size(json_object_get(asked, "devices")), "no spec from a valid config: %s",
		    err.msg);
	cm_error_clear(&err);
	if (!built) {
		json_decref(asked);
		return;
	}
	FUZZ_ASSERT(cm_spec_check(built, built, id, &err) == 0, "the spec ctrmig builds fails its own check: %s",
		    err.msg);
	struct cm_criu_policy pol;
	FUZZ_ASSERT(cm_criu_policy_from_spec(built, &pol, &err) == 0, "no CRIU policy from a built spec: %s",
		    err.msg);
	int r = cm_spec_check(spec, built, id, &err);
	FUZZ_ASSERT(r == 0 || (r == -1 && err.msg), "a refused spec.dump that says nothing (%d)", r);
	cm_error_clear(&err);
	json_decref(built);
	json_decref(asked);
}

static void check_signature(const struct fuzz_part *sig_text, const struct fuzz_part *data)
{
	struct cm_error err = { 0 };
	json_t *sig = cm_trust_sig_parse(sig_text->p, sig_text->n, &err);
	FUZZ_ASSERT(sig || err.msg, "a refused signature document that says nothing");
	cm_error_clear(&err);
	if (!sig)
		return;
	char *signer = NULL;
	int v = cm_trust_verify(sig, data->p, data->n, &signer, &err);
	FUZZ_ASSERT(v == CM_TRUST_UNTRUSTED || v == CM_TRUST_TRUSTED || (v == -1 && err.msg),
		    "verdict %d: %s", v, err.msg ? err.msg : "no message");
	if (v == CM_TRUST_TRUSTED) {
		FUZZ_ASSERT(signer && !strcmp(signer, "seed"), "trusted, signed by %s", signer ? signer : "nobody");
		/* The same signature where no key is trusted. */
		cm_config_dir_set(stranger_conf);
		free(signer);
		signer = NULL;
		v = cm_trust_verify(sig, data->p, data->n, &signer, &err);
		fuzz_config_dir();
		FUZZ_ASSERT(v == CM_TRUST_UNTRUSTED, "a seed signature is %d where no key is trusted", v);
	}
	if (v == CM_TRUST_UNTRUSTED)
		FUZZ_ASSERT(signer && !strncmp(signer, "SHA256:", 7), "untrusted, signer %s", signer ? signer : "none");
	free(signer);
	cm_error_clear(&err);
	json_decref(sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[3];
	size_t n = fuzz_split(data, size, parts, 3);
	const struct fuzz_part *spec_text = &parts[n >= 2 ? 1 : 0], *sig_text = &parts[n >= 3 ? 2 : 0];

	struct cm_error err = { 0 };
	json_t *doc = cm_json_parse(parts[0].p, parts[0].n, "config.dump", &err);
	FUZZ_ASSERT(doc || err.msg, "a parse failure that says nothing");
	cm_error_clear(&err);
	json_t *spec = cm_json_parse(spec_text->p, spec_text->n, "spec.dump", NULL);
	if (spec) {
		struct cm_criu_policy pol;
		cm_criu_policy_from_spec(spec, &pol, &err);
		cm_error_clear(&err);
	}
	if (doc)
		check_config(doc, spec);
	check_signature(sig_text, &parts[0]);
	json_decref(spec);
	json_decref(doc);
	return 0;
}
