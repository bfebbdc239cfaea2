#include "trust_keys.h"
#include "config_dir.h"
#include "crypto_init.h"
#include "error.h"
#include "jsonio.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <string.h>
#include <sys/stat.h>

static bool has(const char *text, size_t len, const char *needle)
{
	return memmem(text, len, needle, strlen(needle)) != NULL;
}

static void free_secret(char *text, size_t len)
{
	if (text)
		OPENSSL_cleanse(text, len);
	free(text);
}

static const char *type_name(EVP_PKEY *key)
{
	const char *name = EVP_PKEY_get0_type_name(key);
	if (!name)
		name = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
	return name ? name : "unknown";
}

/* Only Ed25519: the signature format names no other algorithm. */
static EVP_PKEY *only_ed25519(EVP_PKEY *key, const char *what, struct cm_error *err)
{
	if (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519)
		return key;
	cm_err(err, 0, "%s: a key of type %s; ctrmig takes Ed25519 keys only", what, type_name(key));
	EVP_PKEY_free(key);
	return NULL;
}

/* OpenSSL would otherwise ask for a passphrase on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static EVP_PKEY *parse_private(const char *pem, size_t len, const char *what, struct cm_error *err)
{
	if (has(pem, len, "ENCRYPTED PRIVATE KEY-----")) {
		cm_err(err, 0, "%s: an encrypted key; ctrmig needs it unencrypted", what);
		return NULL;
	}
	cm_crypto_init();
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		cm_oom();
	EVP_PKEY *key = PEM_read_bio_PrivateKey_ex(bio, NULL, no_passphrase, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!key) {
		if (has(pem, len, "PUBLIC KEY-----"))
			cm_err(err, 0, "%s: a public key; signing needs the private key", what);
		else
			cm_err(err, 0, "%s: not a PEM private key", what);
		return NULL;
	}
	return only_ed25519(key, what, err);
}

EVP_PKEY *cm_trust_load_private(const char *path, struct cm_error *err)
{
	size_t len = 0;
	char *pem = cm_read_file_max(path, CM_TRUST_PEM_MAX, &len, err);
	if (!pem)
		return NULL;
	EVP_PKEY *key = parse_private(pem, len, path, err);
	free_secret(pem, len);
	return key;
}

EVP_PKEY *cm_trust_parse_public(const char *pem, size_t len, const char *what, struct cm_error *err)
{
	if (len > CM_TRUST_PEM_MAX) {
		cm_err(err, 0, "%s: larger than %d bytes, not a key", what, CM_TRUST_PEM_MAX);
		return NULL;
	}
	if (has(pem, len, "PRIVATE KEY-----")) {
		cm_err(err, 0, "%s: a private key; give its public half ('ctrmig trust key' on its host)",
		       what);
		return NULL;
	}
	cm_crypto_init();
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		cm_oom();
	EVP_PKEY *key = PEM_read_bio_PUBKEY_ex(bio, NULL, NULL, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!key) {
		cm_err(err, 0, "%s: not a PEM public key (-----BEGIN PUBLIC KEY-----)", what);
		return NULL;
	}
	return only_ed25519(key, what, err);
}

void cm_trust_raw_public(EVP_PKEY *key, unsigned char pub[CM_TRUST_PUB_LEN])
{
	size_t len = CM_TRUST_PUB_LEN;
	/* cannot fail for an Ed25519 key, which is all that gets here */
	if (EVP_PKEY_get_raw_public_key(key, pub, &len) != 1 || len != CM_TRUST_PUB_LEN)
		cm_oom();
}

static char *bio_text(BIO *bio)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	char *text = cm_malloc((size_t)n + 1);
	memcpy(text, data, (size_t)n);
	return text;
}

char *cm_trust_public_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_PUBKEY(bio, key) != 1)
		cm_oom();
	char *text = bio_text(bio);
	BIO_free(bio);
	return text;
}

/* ---- this host's key ------------------------------------------------------ */

/* Written whole beside its final name and linked into place: of two commands
 * making it at once, one wins and the other reads the winner's key. */
static EVP_PKEY *make_host_key(const char *path, struct cm_error *err)
{
	if (cm_mkdir_p(cm_config_dir(), 0755, err) < 0)
		return NULL;
	cm_crypto_init();
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	BIO *bio = BIO_new(BIO_s_secmem());
	if (!key || !bio || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
		cm_oom();
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	struct cm_error e = { 0 };
	int ret = cm_write_file_new(path, data, (size_t)n, 0600, &e);
	BIO_free(bio);
	if (ret == 0) {
		cm_error_clear(&e);
		return key;
	}
	EVP_PKEY_free(key);
	if (e.code != EEXIST) {
		cm_err(err, 0, "%s", e.msg);
		cm_error_clear(&e);
		return NULL;
	}
	cm_error_clear(&e);
	return cm_trust_load_private(path, err);
}

EVP_PKEY *cm_trust_host_key(bool create, struct cm_error *err)
{
	cm_autofree char *path = cm_config_path(CM_TRUST_HOST_KEY_FILE);
	if (cm_path_exists(path) || !create)
		return cm_trust_load_private(path, err);
	EVP_PKEY *key = make_host_key(path, err);
	if (!key)
		cm_err_wrap(err, "make this host's signing key");
	return key;
}

int cm_trust_host_public(unsigned char pub[CM_TRUST_PUB_LEN], struct cm_error *err)
{
	cm_autofree char *path = cm_config_path(CM_TRUST_HOST_KEY_FILE);
	if (!cm_path_exists(path))
		return 1;
	EVP_PKEY *key = cm_trust_load_private(path, err);
	if (!key)
		return -1;
	cm_trust_raw_public(key, pub);
	EVP_PKEY_free(key);
	return 0;
}

/* ---- trusted keys --------------------------------------------------------- */

bool cm_trust_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > CM_TRUST_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct cm_trust_key *)a)->name, ((const struct cm_trust_key *)b)->name);
}

static int load_trusted(const char *dir, const char *file, struct cm_trust_key *k,
			struct cm_error *err)
{
	size_t flen = strlen(file);
	k->path = cm_path_join(dir, file);
	k->name = cm_strfmt("%.*s", (int)(flen - 4), file);
	if (!cm_trust_name_valid(k->name))
		return cm_err(err, 0, "%s: not a key name (letters, digits, '_', '.', '-')", k->path);
	size_t len = 0;
	cm_autofree char *pem = cm_read_file_max(k->path, CM_TRUST_PEM_MAX, &len, err);
	if (!pem)
		return -1;
	EVP_PKEY *key = cm_trust_parse_public(pem, len, k->path, err);
	if (!key)
		return -1;
	cm_trust_raw_public(key, k->pub);
	EVP_PKEY_free(key);
	return 0;
}

int cm_trust_keys_list(struct cm_trust_key **keys, size_t *n, struct cm_error *err)
{
	*keys = NULL;
	*n = 0;
	cm_autofree char *dir = cm_config_path(CM_TRUST_KEYS_DIR);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : cm_err(err, errno, "open %s", dir);
	size_t cap = 0;
	int ret = 0;
	struct dirent *de;
	while (ret == 0 && (de = readdir(d))) {
		size_t flen = strlen(de->d_name);
		/* hidden names are ctrmig's temp files; others are not keys */
		if (de->d_name[0] == '.' || flen <= 4 || strcmp(de->d_name + flen - 4, ".pub"))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			*keys = cm_realloc(*keys, cap * sizeof(**keys));
		}
		struct cm_trust_key *k = &(*keys)[(*n)++];
		memset(k, 0, sizeof(*k));
		ret = load_trusted(dir, de->d_name, k, err);
	}
	closedir(d);
	if (ret < 0) {
		cm_trust_keys_free(*keys, *n);
		*keys = NULL;
		*n = 0;
		return -1;
	}
	if (*n)
		qsort(*keys, *n, sizeof(**keys), by_name);
	return 0;
}

void cm_trust_keys_free(struct cm_trust_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(keys[i].name);
		free(keys[i].path);
	}
	free(keys);
}

/* 1 when name already holds this very key, 0 when both are new, else -1. */
static int check_new(const char *what, const char *name, const unsigned char pub[CM_TRUST_PUB_LEN],
		     struct cm_error *err)
{
	unsigned char host[CM_TRUST_PUB_LEN];
	int r = cm_trust_host_public(host, err);
	if (r < 0)
		return -1;
	if (r == 0 && !memcmp(host, pub, CM_TRUST_PUB_LEN))
		return cm_err(err, 0, "%s: this host's own key, trusted already", what);
	struct cm_trust_key *keys;
	size_t n;
	if (cm_trust_keys_list(&keys, &n, err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (memcmp(keys[i].pub, pub, CM_TRUST_PUB_LEN))
			continue;
		ret = strcmp(keys[i].name, name) ? cm_err(err, 0, "%s: trusted already as %s", what, keys[i].name)
						 : 1;
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		if (!strcmp(keys[i].name, name))
			ret = cm_err(err, 0, "another key is trusted as %s; choose another --name, or 'ctrmig trust rm %s' first",
				     name, name);
	cm_trust_keys_free(keys, n);
	return ret;
}

int cm_trust_key_add(const char *pem, size_t len, const char *what, const char *name,
		     unsigned char pub[CM_TRUST_PUB_LEN], struct cm_error *err)
{
	if (!cm_trust_name_valid(name)) {
		cm_autofree char *q = cm_json_quote(name, 80);
		return cm_err(err, 0, "key name %s: use letters, digits, '_', '.' and '-', starting with a letter or digit, at most %d",
			      q, CM_TRUST_NAME_MAX);
	}
	EVP_PKEY *key = cm_trust_parse_public(pem, len, what, err);
	if (!key)
		return -1;
	cm_trust_raw_public(key, pub);
	cm_autofree char *text = cm_trust_public_pem(key);
	EVP_PKEY_free(key);
	int r = check_new(what, name, pub, err);
	if (r != 0)
		return r < 0 ? -1 : 0; /* the same key under the same name: nothing to do */
	cm_autofree char *dir = cm_config_path(CM_TRUST_KEYS_DIR);
	cm_autofree char *file = cm_strfmt("%s.pub", name);
	cm_autofree char *path = cm_path_join(dir, file);
	if (cm_mkdir_p(dir, 0755, err) < 0)
		return -1;
	struct cm_error e = { 0 };
	if (cm_write_file_new(path, text, strlen(text), 0644, &e) < 0) {
		if (e.code == EEXIST)
			cm_err(err, 0, "another key is trusted as %s", name);
		else
			cm_err(err, 0, "%s", e.msg);
		cm_error_clear(&e);
		return -1;
	}
	return 0;
}

int cm_trust_key_remove(const char *name, struct cm_error *err)
{
	if (!strcmp(name, CM_TRUST_HOST_NAME) || !strcmp(name, "(" CM_TRUST_HOST_NAME ")"))
		return cm_err(err, 0, "this host's own key is always trusted; it has no entry to remove");
	if (!cm_trust_name_valid(name)) {
		cm_autofree char *q = cm_json_quote(name, 80);
		return cm_err(err, 0, "no trusted key named %s (see 'ctrmig trust ls')", q);
	}
	cm_autofree char *file = cm_strfmt(CM_TRUST_KEYS_DIR "/%s.pub", name);
	cm_autofree char *path = cm_config_path(file);
	if (unlink(path) < 0)
		return errno == ENOENT ? cm_err(err, 0, "no trusted key named %s (see 'ctrmig trust ls')", name)
				       : cm_err(err, errno, "remove %s", path);
	cm_fsync_dir_of(path);
	return 0;
}
