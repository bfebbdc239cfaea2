#include "pull.h"
#include "error.h"
#include "image.h"
#include "jsonio.h"
#include "oci_layout.h"
#include "reference.h"
#include "sha256.h"
#include "skopeo.h"
#include "store.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>

/* A password asked on the terminal, not echoed. */
static char *ask_password(const char *user, struct cm_error *err)
{
	cm_autoclose int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0) {
		cm_err(err, 0, "--creds %s has no password and there is no terminal to ask it on", user);
		return NULL;
	}
	struct termios old, quiet;
	bool echo_off = tcgetattr(tty, &old) == 0;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(tty, TCSAFLUSH, &quiet);
	}
	cm_autofree char *prompt = cm_strfmt("Password for %s: ", user);
	cm_write_all(tty, prompt, strlen(prompt));
	char buf[1024];
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(tty, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 < sizeof(buf))
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (echo_off)
		tcsetattr(tty, TCSAFLUSH, &old);
	cm_write_all(tty, "\n", 1);
	return cm_strdup(buf);
}

/* --creds become an auth file in the staging folder (mode 0600): a
 * password on skopeo's command line would show in /proc/PID/cmdline. */
static char *write_authfile(const char *stage, const char *registry, const char *creds, struct cm_error *err)
{
	cm_autofree char *pair = NULL;
	const char *colon = strchr(creds, ':');
	if (colon) {
		pair = cm_strdup(creds);
	} else {
		cm_autofree char *pass = ask_password(creds, err);
		if (!pass)
			return NULL;
		pair = cm_strfmt("%s:%s", creds, pass);
	}
	size_t len = strlen(pair);
	char *b64 = cm_malloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)pair, (int)len);
	explicit_bzero(pair, len);
	json_t *auth = json_pack("{s:{s:{s:s}}}", "auths", registry, "auth", b64);
	cm_autofree char *text = json_dumps(auth, JSON_COMPACT);
	json_decref(auth);
	explicit_bzero(b64, strlen(b64));
	free(b64);
	char *path = cm_path_join(stage, "auth.json");
	if (cm_write_file_atomic(path, text, strlen(text), 0600, err) < 0) {
		free(path);
		path = NULL;
	}
	explicit_bzero(text, strlen(text));
	return path;
}

/* The store's blobs, hard-linked into the staging layout: skopeo does not
 * download a blob an OCI layout has already. */
static int seed_layout(struct cm_store *st, const char *layout, struct cm_error *err)
{
	cm_autofree char *blobs = cm_path_join(layout, "blobs/sha256");
	cm_autofree char *oci_layout = cm_path_join(layout, "oci-layout");
	cm_autofree char *index = cm_path_join(layout, "index.json");
	const char *v = "{\"imageLayoutVersion\":\"1.0.0\"}", *idx = "{\"schemaVersion\":2,\"manifests\":[]}";
	if (cm_mkdir_p(blobs, 0700, err) < 0 || cm_write_file_atomic(oci_layout, v, strlen(v), 0600, err) < 0 ||
	    cm_write_file_atomic(index, idx, strlen(idx), 0600, err) < 0)
		return -1;
	cm_autofree char *ours = cm_strfmt("%s/blobs/sha256", st->root);
	DIR *d = opendir(ours);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strlen(de->d_name) != 64 || !cm_is_hex(de->d_name))
			continue;
		cm_autofree char *from = cm_path_join(ours, de->d_name);
		cm_autofree char *to = cm_path_join(blobs, de->d_name);
		if (link(from, to) < 0)
			cm_debug("not reusing blob %.12s: %s", de->d_name, strerror(errno));
	}
	if (d)
		closedir(d);
	return 0;
}

/* Registers the image as it already is, with the name and digests. */
static json_t *name_existing(struct cm_store *st, json_t *img, const char *tag, const char *const *digests,
			     struct cm_error *err)
{
	const char *id = cm_json_str(img, "id");
	cm_autofree char *dir = cm_store_image_dir(st, id);
	cm_autofree char *mpath = cm_path_join(dir, "manifest.json");
	cm_autofree char *cpath = cm_path_join(dir, "config.json");
	size_t mlen, clen;
	cm_autofree char *m = cm_read_file_max(mpath, CM_IMAGE_JSON_MAX, &mlen, err);
	cm_autofree char *c = m ? cm_read_file_max(cpath, CM_IMAGE_JSON_MAX, &clen, err) : NULL;
	if (!c)
		return NULL;
	struct cm_image_new n = { .manifest = m, .manifest_len = mlen, .config = c, .config_len = clen,
				  .name = tag, .repo_digests = digests };
	return cm_image_register(st, &n, err);
}

static bool lock_held(struct cm_store *st)
{
	return st->lock_fd >= 0;
}

json_t *cm_image_pull(struct cm_store *st, const char *ref, const struct cm_pull_opts *o, struct cm_error *err)
{
	struct cm_ref r;
	if (cm_ref_parse(ref, &r, err) < 0)
		return NULL;
	bool progress = !o->quiet && isatty(STDERR_FILENO);
	bool had_lock = lock_held(st);
	cm_autofree char *repo = cm_ref_repository(&r);
	/* skopeo takes a tag or a digest, not both: the digest wins */
	cm_autofree char *source = r.digest ? cm_strfmt("%s@%s", repo, r.digest) : cm_strfmt("%s:%s", repo, r.tag);
	cm_autofree char *tag = r.tag && !o->untagged ? cm_strfmt("%s:%s", repo, r.tag) : NULL;
	cm_autofree char *shown = cm_ref_string(&r);
	cm_autofree char *stage = NULL, *authfile = NULL, *raw = NULL, *layout = NULL, *dst = NULL;
	cm_autofree char *digest_top = NULL, *digest_plat = NULL, *rd_top = NULL, *rd_plat = NULL;
	cm_autofree char *from = NULL, *src_name = NULL;
	json_t *rec = NULL, *doc = NULL;
	const char *digests[3] = { NULL, NULL, NULL };
	char hex[65];
	size_t len;

	if (!cm_skopeo_path(err) || !(stage = cm_image_staging(st, err)))
		goto out;
	struct cm_skopeo sk = { .tls_verify = o->tls_verify, .authfile = o->authfile, .tmpdir = stage,
				.progress = progress };
	if (o->creds && !(authfile = write_authfile(stage, r.domain, o->creds, err)))
		goto out;
	if (authfile)
		sk.authfile = authfile;
	if (progress)
		fprintf(stderr, "Trying to pull %s...\n", shown);

	/* What the registry has for this host now: one small request. */
	if (!(raw = cm_skopeo_inspect_raw(&sk, source, &len, err)))
		goto out;
	cm_sha256_hex(raw, len, hex);
	digest_top = cm_strfmt("sha256:%s", hex);
	if (r.digest && strcmp(r.digest, digest_top)) {
		cm_err(err, 0, "the registry answered %s with a manifest whose digest is %s", source, digest_top);
		goto out;
	}
	if (!(doc = cm_json_parse(raw, len, "the registry's manifest", err)))
		goto out;
	if (json_is_array(json_object_get(doc, "manifests"))) {
		json_t *d = cm_index_pick_platform(doc, err);
		if (!d)
			goto out;
		if (!cm_digest_valid(cm_json_str(d, "digest"))) {
			cm_err(err, 0, "the registry's index for %s has an invalid digest", source);
			goto out;
		}
		digest_plat = cm_strdup(cm_json_str(d, "digest"));
		rd_top = cm_strfmt("%s@%s", repo, digest_top);
	} else {
		digest_plat = cm_strdup(digest_top);
	}
	rd_plat = cm_strfmt("%s@%s", repo, digest_plat);
	digests[0] = rd_plat;
	digests[1] = rd_top;

	if (!had_lock) {
		if (cm_store_lock(st, err) < 0)
			goto out;
		cm_image_recover(st);
	}
	json_t *have = cm_image_find(st, rd_plat, NULL);
	if (have) {
		rec = name_existing(st, have, tag, digests, err);
		json_decref(have);
		goto out;
	}
	layout = cm_path_join(stage, "layout");
	if (seed_layout(st, layout, err) < 0)
		goto out;
	if (!had_lock)
		cm_store_unlock(st);

	/* By the digest just seen: a tag that moves meanwhile changes nothing. */
	from = cm_strfmt("docker://%s", rd_plat);
	dst = cm_strfmt("oci:%s:pull", layout);
	if (strchr(layout, ':')) {
		cm_err(err, 0, "the store's path %s holds a ':', which skopeo cannot take", st->root);
		goto out;
	}
	if (cm_skopeo_copy(&sk, from, dst, err) < 0)
		goto out;
	if (!had_lock && cm_store_lock(st, err) < 0)
		goto out;
	src_name = cm_strfmt("docker://%s", shown);
	struct cm_layout_import li = { .ref_name = "pull", .tag_as = tag, .repo_digests = digests,
				       .source = src_name, .owned = true, .progress = progress };
	rec = cm_image_from_layout_opts(st, layout, &li, err);
out:
	json_decref(doc);
	if (stage)
		cm_rm_rf(stage, NULL);
	cm_ref_free(&r);
	if (!rec)
		cm_err_wrap(err, "pull %s", shown);
	return rec;
}
