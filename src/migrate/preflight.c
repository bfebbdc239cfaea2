/* Preflight, both halves: asking the target, and answering on the target. */
#include "preflight.h"
#include "criu.h"
#include "archive_io.h"
#include "ctr_net.h"
#include "error.h"
#include "jsonio.h"
#include "manifest.h"
#include "net_opts.h"
#include "networks.h"
#include "proc_spawn.h"
#include "trust.h"
#include "trust_keys.h"
#include <openssl/evp.h>
#include "skopeo.h"
#include "store.h"
#include "target.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef CM_VERSION
#define CM_VERSION "0.1.0"
#endif

#define CPUINFO_MAX (1 << 20)

char *cm_mig_boot_id(void)
{
	char *id = cm_read_file_max("/proc/sys/kernel/random/boot_id", 64, NULL, NULL);
	if (id)
		id[strcspn(id, "\n")] = '\0';
	return id;
}

static char *make_tmp_dir(struct cm_error *err)
{
	char tmpl[] = "/tmp/ctrmig-cpuinfo.XXXXXX";
	if (!mkdtemp(tmpl)) {
		cm_err(err, errno, "make a folder for the CPU description");
		return NULL;
	}
	return cm_strdup(tmpl);
}

/* Runs argv; on failure a reason "WHAT: LAST LINE" in *why. */
static bool passes(char *const argv[], const char *what, char **why)
{
	struct cm_spawn_result r;
	struct cm_error e = { 0 };
	if (cm_spawn_capture(argv, &r, &e) < 0) {
		*why = cm_strfmt("%s: %s", what, e.msg);
		cm_error_clear(&e);
		return false;
	}
	bool ok = r.status == 0;
	if (!ok) {
		cm_autofree char *line = cm_spawn_last_line(r.output);
		*why = cm_strfmt("%s fails there: %s", what, line && *line ? line : "no message");
	}
	cm_spawn_result_free(&r);
	return ok;
}

static void problem(json_t *problems, char *why)
{
	json_array_append_new(problems, json_string(why));
	free(why);
}

static void check_tools(struct cm_store *st, const struct cm_mig_request *req, json_t *problems)
{
	char *why = NULL;
	char *runc[] = { st->runtime, "--version", NULL };
	if (!passes(runc, st->runtime, &why))
		problem(problems, why);
	char *check[] = { "criu", "check", NULL };
	if (!passes(check, "criu check", &why))
		problem(problems, why);
	if (req->lazy && !cm_criu_has_feature("uffd-noncoop"))
		problem(problems, cm_strdup("--lazy needs userfaultfd with non-cooperative events, which this "
					    "kernel lacks ('criu check --feature uffd-noncoop')"));
	if (req->cpuinfo_dir) {
		char *cpu[] = { "criu", "cpuinfo", "check", "-D", (char *)req->cpuinfo_dir, NULL };
		if (!passes(cpu, "the CPU check (criu cpuinfo check)", &why))
			problem(problems, why);
	}
}

static void check_name(struct cm_store *st, const struct cm_mig_request *req, json_t *problems)
{
	json_t *rec = cm_store_find_ctr(st, req->name, NULL);
	if (rec)
		problem(problems, cm_strfmt("a container named %s is there already", req->name));
	json_decref(rec);
	rec = cm_store_find_ctr(st, req->id, NULL);
	if (rec && strcmp(cm_json_str(rec, "name"), req->name))
		problem(problems, cm_strfmt("container %s there has the same id %.12s",
					    cm_json_str(rec, "name"), req->id));
	json_decref(rec);
}

static void check_image(struct cm_store *st, const struct cm_mig_request *req, json_t *problems)
{
	const char *name = cm_json_str(req->image, "name"), *repo = cm_json_str(req->image, "repo_digest");
	const char *id = cm_json_str(req->image, "id");
	json_t *found = cm_archive_base_find(st, req->image);
	if (found || req->include_image) {
		json_decref(found);
		return;
	}
	if (!repo) {
		problem(problems, cm_strfmt("the base image %s (sha256:%.12s) is not there and has no registry "
					    "to pull it from: --include-image sends it along",
					    name ? name : "(unnamed)", id ? id : ""));
		return;
	}
	struct cm_skopeo so = { .tls_verify = -1 };
	struct cm_error e = { 0 };
	size_t len;
	char *manifest = cm_skopeo_inspect_raw(&so, repo, &len, &e);
	if (!manifest)
		problem(problems, cm_strfmt("the base image %s is not there and cannot be pulled there (%s): "
					    "--include-image sends it along", repo, e.msg ? e.msg : "?"));
	free(manifest);
	cm_error_clear(&e);
}

static void check_network(struct cm_store *st, const struct cm_mig_request *req, json_t *problems)
{
	if (!req->network || cm_net_is_mode(req->network))
		return;
	json_t *config = json_pack("{s:s}", "network", req->network);
	struct cm_error e = { 0 };
	if (cm_net_config_check(st, config, req->ip, &e) < 0) {
		problem(problems, cm_strfmt("%s there", e.msg));
		cm_error_clear(&e);
	} else if (req->ip) {
		/* Reservations are the host's: on the same host the container
		 * itself holds it until its checkpoint lets go. */
		cm_autofree char *holder = cm_ctr_net_holder(req->network, req->ip);
		if (holder && strcmp(holder, req->id)) {
			json_t *rec = strlen(holder) == 64 && cm_is_hex(holder) ? cm_store_find_ctr(st, holder, NULL)
										 : NULL;
			problem(problems, cm_strfmt("address %s on network %s is held there by container %s", req->ip,
						    req->network, rec ? cm_json_str(rec, "name") : holder));
			json_decref(rec);
		}
	}
	json_decref(config);
}

/* Would this host take an archive signed by the source's key as trusted? */
static bool check_signer(const struct cm_mig_request *req, json_t *problems)
{
	if (!req->signer)
		return false;
	struct cm_error e = { 0 };
	cm_autofree char *signer = NULL;
	int verdict = cm_trust_key_verdict(req->signer, &signer, &e);
	bool required = false;
	if (verdict < 0 || cm_trust_policy_requires_signature(&required, &e) < 0)
		problem(problems, cm_strdup(e.msg));
	else if (required && verdict != CM_TRUST_TRUSTED)
		problem(problems, cm_strfmt("its policy requires a trusted signature, and the source's key %s is "
					    "not trusted there ('ctrmig trust add' it there)",
					    signer));
	cm_error_clear(&e);
	return verdict == CM_TRUST_TRUSTED;
}

json_t *cm_mig_preflight_answer(struct cm_store *st, const struct cm_mig_request *req)
{
	json_t *problems = json_array();
	bool trusted = check_signer(req, problems);
	check_tools(st, req, problems);
	check_name(st, req, problems);
	check_image(st, req, problems);
	check_network(st, req, problems);
	cm_autofree char *boot = cm_mig_boot_id();
	return json_pack("{s:s, s:i, s:s, s:b, s:o}", "version", CM_VERSION, "format", CM_ARCHIVE_FORMAT,
			 "boot_id", boot ? boot : "", "signer_trusted", trusted, "problems", problems);
}

/* ---- the source's side ----------------------------------------------------- */

/* This host's CPU, as `criu cpuinfo dump` describes it. */
static char *cpuinfo_dump(size_t *len, struct cm_error *err)
{
	cm_autofree char *dir = make_tmp_dir(err);
	if (!dir)
		return NULL;
	char *argv[] = { "criu", "cpuinfo", "dump", "-D", dir, NULL };
	struct cm_spawn_result r;
	char *data = NULL;
	if (cm_spawn_capture(argv, &r, err) == 0) {
		if (r.status != 0) {
			cm_autofree char *line = cm_spawn_last_line(r.output);
			cm_err(err, 0, "criu cpuinfo dump: %s", line ? line : "failed");
		} else {
			cm_autofree char *img = cm_path_join(dir, "cpuinfo.img");
			data = cm_read_file_max(img, CPUINFO_MAX, len, err);
		}
		cm_spawn_result_free(&r);
	}
	cm_rm_rf(dir, NULL);
	return data;
}

/* Checks what the target said: an answer at all, the format, no problem. */
static int judge(const char *out, const char *errout, int status, json_t **answer, struct cm_error *err)
{
	struct cm_error e = { 0 };
	json_t *a = status == 0 && out ? cm_json_parse(out, strlen(out), "the answer", &e) : NULL;
	cm_error_clear(&e);
	if (!a || !json_is_array(json_object_get(a, "problems"))) {
		json_decref(a);
		cm_autofree char *line = cm_spawn_last_line(errout ? errout : "");
		if (status == 255) /* ssh's own failures; ctrmig exits 125 */
			return cm_err(err, 0, "ssh failed: %s", line && *line ? line : "no message");
		return cm_err(err, 0, "no ctrmig that can take a migration there (exit %d%s%s)", status,
			      line && *line ? ": " : "", line ? line : "");
	}
	json_int_t format = cm_json_int(a, "format", 0);
	const char *first = json_string_value(json_array_get(json_object_get(a, "problems"), 0));
	int ret = 0;
	if (format != CM_ARCHIVE_FORMAT)
		ret = cm_err(err, 0, "ctrmig %s there reads archive format %lld, this one writes %d",
			     cm_json_str(a, "version"), (long long)format, CM_ARCHIVE_FORMAT);
	else if (first)
		ret = cm_err(err, 0, "%s", first);
	if (ret < 0)
		json_decref(a);
	else
		*answer = a;
	return ret;
}

int cm_mig_preflight(struct cm_store *st, json_t *rec, const struct cm_mig_target *t,
		     bool include_image, bool lazy, json_t **answer, struct cm_error *err)
{
	size_t len = 0;
	cm_autofree char *cpu = cpuinfo_dump(&len, err);
	if (!cpu)
		return -1;
	const char *id = cm_json_str(rec, "id");
	json_t *config = json_object_get(rec, "config");
	cm_autofree char *image = json_dumps(json_object_get(rec, "image"), JSON_COMPACT | JSON_SORT_KEYS);
	struct cm_argv args = { 0 };
	cm_argv_add(&args, "__migrate-preflight");
	cm_argv_add(&args, "--id");
	cm_argv_add(&args, id);
	cm_argv_add(&args, "--name");
	cm_argv_add(&args, cm_json_str(rec, "name"));
	cm_argv_add(&args, "--image");
	cm_argv_add(&args, image ? image : "{}");
	const char *net = cm_json_str(config, "network");
	json_t *status = cm_ctr_net_status(st, id);
	struct cm_net_address a;
	if (net && !cm_net_is_mode(net)) {
		cm_argv_add(&args, "--network");
		cm_argv_add(&args, net);
		if (status && cm_net_status_address(status, &a) && *a.ip && !strcmp(a.network, net)) {
			cm_argv_add(&args, "--ip");
			cm_argv_add(&args, a.ip);
		}
	}
	json_decref(status);
	if (include_image)
		cm_argv_add(&args, "--include-image");
	if (lazy)
		cm_argv_add(&args, "--lazy");
	/* the key the archive will be signed with (made now if need be) */
	EVP_PKEY *key = cm_trust_host_key(true, NULL);
	cm_autofree char *signer = NULL;
	if (key) {
		unsigned char pub[CM_TRUST_PUB_LEN];
		cm_trust_raw_public(key, pub);
		signer = cm_trust_key_base64(pub);
		EVP_PKEY_free(key);
		cm_argv_add(&args, "--signer");
		cm_argv_add(&args, signer);
	}
	struct cm_argv argv = { 0 };
	cm_mig_target_argv(t, (const char *const *)args.v, &argv);
	cm_argv_free(&args);
	struct cm_spawn_io io = { .input = cpu, .input_len = len };
	int ret = cm_spawn_io(argv.v, NULL, &io, err);
	cm_argv_free(&argv);
	if (ret == 0)
		ret = judge(io.out, io.errout, io.status, answer, err);
	free(io.out);
	free(io.errout);
	return ret;
}
