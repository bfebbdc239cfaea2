/* The key store in the configuration folder (see ctrmig-trust(1)):
 *   signing-key.pem        this host's Ed25519 private key (PKCS#8 PEM, 0600),
 *                          made at first use
 *   trusted-keys/NAME.pub  public keys (SubjectPublicKeyInfo PEM) whose
 *                          signatures this host trusts
 * Every key is Ed25519; any other kind is refused, naming the file. */
#ifndef CM_TRUST_KEYS_H
#define CM_TRUST_KEYS_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

struct cm_error;

#define CM_TRUST_PUB_LEN 32          /* a raw Ed25519 public key */
#define CM_TRUST_PEM_MAX (16 << 10)  /* a key file is a few hundred bytes */
#define CM_TRUST_HOST_KEY_FILE "signing-key.pem"
#define CM_TRUST_KEYS_DIR "trusted-keys"
#define CM_TRUST_NAME_MAX 64
#define CM_TRUST_HOST_NAME "this host" /* the signer named for the host's own key */

/* This host's private key. A missing key is made when create is set (two
 * commands racing agree on one key); otherwise it is NULL with err->code
 * ENOENT. */
EVP_PKEY *cm_trust_host_key(bool create, struct cm_error *err);
/* This host's raw public key: 0, 1 when there is no host key yet, -1 on error. */
int cm_trust_host_public(unsigned char pub[CM_TRUST_PUB_LEN], struct cm_error *err);

/* An Ed25519 private key from a PEM file (unencrypted PKCS#8). */
EVP_PKEY *cm_trust_load_private(const char *path, struct cm_error *err);
/* An Ed25519 public key from PEM text (SubjectPublicKeyInfo); what names the
 * text in errors. A private key is refused rather than read. */
EVP_PKEY *cm_trust_parse_public(const char *pem, size_t len, const char *what, struct cm_error *err);
void cm_trust_raw_public(EVP_PKEY *key, unsigned char pub[CM_TRUST_PUB_LEN]);
/* The public half as PEM text (SubjectPublicKeyInfo), what 'trust add' takes. */
char *cm_trust_public_pem(EVP_PKEY *key);

/* Letters, digits, '_', '.' and '-', starting with a letter or digit. */
bool cm_trust_name_valid(const char *name);

struct cm_trust_key {
	char *name; /* the file name without .pub */
	char *path;
	unsigned char pub[CM_TRUST_PUB_LEN];
};
/* The trusted keys, sorted by name; no folder is no keys. */
int cm_trust_keys_list(struct cm_trust_key **keys, size_t *n, struct cm_error *err);
void cm_trust_keys_free(struct cm_trust_key *keys, size_t n);

/* Trusts the Ed25519 public key in PEM text as trusted-keys/NAME.pub (stored
 * re-encoded, nothing else from the text). Refused, saying why: a private
 * key, a name another key has, a key already trusted under another name, the
 * host's own key. The same key again under the same name changes nothing.
 * Sets pub to the key on success. */
int cm_trust_key_add(const char *pem, size_t len, const char *what, const char *name,
		     unsigned char pub[CM_TRUST_PUB_LEN], struct cm_error *err);
int cm_trust_key_remove(const char *name, struct cm_error *err);

#endif
