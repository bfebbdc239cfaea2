#include "trust.h"
#include "crypto_init.h"
#include "error.h"
#include "jsonio.h"
#include "trust_keys.h"
#include "util.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

#define SIG_LEN 64 /* an Ed25519 signature */
#define ALGORITHM "ed25519"

/* ---- base64, strict ------------------------------------------------------- */

static char *b64_encode(const unsigned char *in, size_t n)
{
	char *out = cm_malloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

/* Exactly want bytes in canonical padded base64: EVP_DecodeBlock alone counts
 * padding as data and skips white space, so the result is encoded again and
 * must read the same. */
static int b64_decode_exact(const char *s, unsigned char *out, size_t want)
{
	unsigned char buf[4 * ((SIG_LEN + 2) / 3)];
	size_t len = strlen(s);
	if (want > SIG_LEN || len != 4 * ((want + 2) / 3))
		return -1;
	if (EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len) != (int)(len / 4 * 3))
		return -1;
	cm_autofree char *again = b64_encode(buf, want);
	if (strcmp(again, s))
		return -1;
	memcpy(out, buf, want);
	return 0;
}

char *cm_trust_key_base64(const unsigned char pub[32])
{
	return b64_encode(pub, CM_TRUST_PUB_LEN);
}

char *cm_trust_fingerprint(const unsigned char pub[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	cm_crypto_init();
	if (EVP_Digest(pub, CM_TRUST_PUB_LEN, md, &n, EVP_sha256(), NULL) != 1)
		cm_oom();
	char *b64 = b64_encode(md, n);
	b64[strcspn(b64, "=")] = '\0';
	char *fp = cm_strfmt("SHA256:%s", b64);
	free(b64);
	return fp;
}

/* ---- signing -------------------------------------------------------------- */

json_t *cm_trust_sign(const char *key_path, const void *data, size_t len, struct cm_error *err)
{
	EVP_PKEY *key = key_path ? cm_trust_load_private(key_path, err) : cm_trust_host_key(true, err);
	if (!key)
		return NULL;
	unsigned char pub[CM_TRUST_PUB_LEN], sig[SIG_LEN];
	size_t sig_len = sizeof(sig);
	cm_trust_raw_public(key, pub);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, key, NULL) == 1 &&
		 EVP_DigestSign(ctx, sig, &sig_len, data, len) == 1 && sig_len == SIG_LEN;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	if (!ok) {
		unsigned long e = ERR_get_error();
		ERR_clear_error();
		cm_err(err, 0, "sign %s: %s", CM_TRUST_SIG_NAME, e ? ERR_reason_error_string(e) : "failed");
		return NULL;
	}
	cm_autofree char *k64 = b64_encode(pub, sizeof(pub));
	cm_autofree char *s64 = b64_encode(sig, sizeof(sig));
	return json_pack("{s:s, s:s, s:s}", "algorithm", ALGORITHM, "key", k64, "signature", s64);
}

/* ---- verifying ------------------------------------------------------------ */

json_t *cm_trust_sig_parse(const void *buf, size_t len, struct cm_error *err)
{
	if (len > CM_TRUST_SIG_MAX) {
		cm_err(err, 0, "%s: %zu bytes, more than a signature (%d at most)", CM_TRUST_SIG_NAME, len,
		       CM_TRUST_SIG_MAX);
		return NULL;
	}
	return cm_json_parse(buf, len, CM_TRUST_SIG_NAME, err);
}

static int sig_field(json_t *sig, const char *name, const char **out, struct cm_error *err)
{
	json_t *v = json_object_get(sig, name);
	if (!v)
		return cm_err(err, 0, "%s: no \"%s\"", CM_TRUST_SIG_NAME, name);
	if (!json_is_string(v))
		return cm_err(err, 0, "%s: \"%s\" is not a string", CM_TRUST_SIG_NAME, name);
	*out = json_string_value(v);
	return 0;
}

/* Exactly the three fields, each as the format says. */
static int sig_read(json_t *sig, unsigned char pub[CM_TRUST_PUB_LEN], unsigned char s[SIG_LEN],
		    struct cm_error *err)
{
	if (!json_is_object(sig))
		return cm_err(err, 0, "%s: not a JSON object", CM_TRUST_SIG_NAME);
	const char *key, *algorithm, *k64, *s64;
	json_t *v;
	json_object_foreach(sig, key, v) {
		if (strcmp(key, "algorithm") && strcmp(key, "key") && strcmp(key, "signature")) {
			cm_autofree char *q = cm_json_quote(key, 64);
			return cm_err(err, 0, "%s: unknown field %s", CM_TRUST_SIG_NAME, q);
		}
	}
	if (sig_field(sig, "algorithm", &algorithm, err) < 0 || sig_field(sig, "key", &k64, err) < 0 ||
	    sig_field(sig, "signature", &s64, err) < 0)
		return -1;
	if (strcmp(algorithm, ALGORITHM)) {
		cm_autofree char *q = cm_json_quote(algorithm, 32);
		return cm_err(err, 0, "%s: algorithm %s is not one ctrmig knows (%s)", CM_TRUST_SIG_NAME, q,
			      ALGORITHM);
	}
	if (b64_decode_exact(k64, pub, CM_TRUST_PUB_LEN) < 0)
		return cm_err(err, 0, "%s: \"key\" is not %d bytes in base64", CM_TRUST_SIG_NAME,
			      CM_TRUST_PUB_LEN);
	if (b64_decode_exact(s64, s, SIG_LEN) < 0)
		return cm_err(err, 0, "%s: \"signature\" is not %d bytes in base64", CM_TRUST_SIG_NAME,
			      SIG_LEN);
	return 0;
}

static bool signature_valid(const unsigned char pub[CM_TRUST_PUB_LEN], const unsigned char s[SIG_LEN],
			    const void *data, size_t len)
{
	cm_crypto_init();
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, pub, CM_TRUST_PUB_LEN);
	EVP_MD_CTX *ctx = key ? EVP_MD_CTX_new() : NULL;
	bool ok = ctx && EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, key, NULL) == 1 &&
		  EVP_DigestVerify(ctx, s, SIG_LEN, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return ok;
}

/* The name this host trusts the key under, or NULL. */
static int trusted_name(const unsigned char pub[CM_TRUST_PUB_LEN], char **name, struct cm_error *err)
{
	unsigned char host[CM_TRUST_PUB_LEN];
	*name = NULL;
	int r = cm_trust_host_public(host, err);
	if (r < 0)
		return -1;
	if (r == 0 && !memcmp(host, pub, CM_TRUST_PUB_LEN)) {
		*name = cm_strdup(CM_TRUST_HOST_NAME);
		return 0;
	}
	struct cm_trust_key *keys;
	size_t n;
	if (cm_trust_keys_list(&keys, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && !*name; i++)
		if (!memcmp(keys[i].pub, pub, CM_TRUST_PUB_LEN))
			*name = cm_strdup(keys[i].name);
	cm_trust_keys_free(keys, n);
	return 0;
}

int cm_trust_verify(json_t *sig, const void *data, size_t len, char **signer, struct cm_error *err)
{
	unsigned char pub[CM_TRUST_PUB_LEN], s[SIG_LEN];
	char *name = NULL;
	if (signer)
		*signer = NULL;
	if (!sig)
		return CM_TRUST_UNSIGNED;
	if (sig_read(sig, pub, s, err) < 0)
		return -1;
	if (!signature_valid(pub, s, data, len))
		return cm_err(err, 0, "%s: the signature does not match: the archive was changed after it was signed",
			      CM_TRUST_SIG_NAME);
	if (trusted_name(pub, &name, err) < 0)
		return -1;
	int verdict = name ? CM_TRUST_TRUSTED : CM_TRUST_UNTRUSTED;
	if (!name)
		name = cm_trust_fingerprint(pub);
	if (signer)
		*signer = name;
	else
		free(name);
	return verdict;
}

int cm_trust_key_verdict(const char *key64, char **signer, struct cm_error *err)
{
	unsigned char pub[CM_TRUST_PUB_LEN];
	*signer = NULL;
	if (b64_decode_exact(key64, pub, CM_TRUST_PUB_LEN) < 0)
		return cm_err(err, 0, "the key is not %d bytes in base64", CM_TRUST_PUB_LEN);
	char *name = NULL;
	if (trusted_name(pub, &name, err) < 0)
		return -1;
	*signer = name ? name : cm_trust_fingerprint(pub);
	return name ? CM_TRUST_TRUSTED : CM_TRUST_UNTRUSTED;
}
