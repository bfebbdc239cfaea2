/* Signed checkpoint archives: the manifest's signature, checking it against
 * the keys this host trusts, and the policy that says whether it must be
 * there. Keys live in the configuration folder; see trust_keys.h and
 * ctrmig-trust(1). */
#ifndef CM_TRUST_H
#define CM_TRUST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct cm_error;

/* The archive member that holds the manifest's signature. */
#define CM_TRUST_SIG_NAME "ctrmig.manifest.sig"
/* A signature document is about 200 bytes; anything over this is refused. */
#define CM_TRUST_SIG_MAX 4096

/* Signs data (the manifest's exact bytes) with Ed25519. key_path is a PEM
 * private key (Ed25519, unencrypted PKCS#8), or NULL for this host's key,
 * made if missing. Returns the document to store as CM_TRUST_SIG_NAME:
 * {"algorithm": "ed25519", "key": "<base64 of the 32-byte raw public key>",
 *  "signature": "<base64 of the 64-byte signature>"} */
json_t *cm_trust_sign(const char *key_path, const void *data, size_t len, struct cm_error *err);

/* Parses a signature member's bytes: at most CM_TRUST_SIG_MAX, JSON without
 * duplicate keys. Its fields are checked by cm_trust_verify. */
json_t *cm_trust_sig_parse(const void *buf, size_t len, struct cm_error *err);

enum cm_trust_verdict {
	CM_TRUST_UNSIGNED,  /* no signature */
	CM_TRUST_UNTRUSTED, /* a valid signature by a key this host does not trust */
	CM_TRUST_TRUSTED,   /* a valid signature by this host's key or a trusted one */
};

/* Checks sig (the parsed CM_TRUST_SIG_NAME, or NULL when the archive has
 * none) over data. A signature that does not verify, or a malformed document,
 * is -1 with err naming CM_TRUST_SIG_NAME. Otherwise returns the verdict and,
 * if signer is not NULL, sets *signer (the caller frees it): for TRUSTED the
 * key's name ("this host", or the trusted-keys file name without .pub), for
 * UNTRUSTED the key's fingerprint, for UNSIGNED NULL. */
int cm_trust_verify(json_t *sig, const void *data, size_t len, char **signer, struct cm_error *err);

/* The verdict cm_trust_verify would give a valid signature by this key (the
 * raw public key in base64): migrate's preflight asks it of the target
 * before anything stops. *signer as there. */
int cm_trust_key_verdict(const char *key64, char **signer, struct cm_error *err);

/* "SHA256:" and the unpadded base64 of the sha256 of the raw public key,
 * in the manner of ssh's fingerprints. The caller frees it. */
char *cm_trust_fingerprint(const unsigned char pub[32]);
/* The raw key in base64, as a signature document's "key" holds it. */
char *cm_trust_key_base64(const unsigned char pub[32]);

/* Whether policy.json in the configuration folder requires a trusted
 * signature ({"require_signature": true}); no file is false. A malformed file
 * is -1 with a one-line error naming it. */
int cm_trust_policy_requires_signature(bool *out, struct cm_error *err);

#endif
