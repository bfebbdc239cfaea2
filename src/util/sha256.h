/* SHA-256 as ctrmig uses it: fed in pieces, read out as 64 hex characters.
 * Image ids, and the archive manifest's member digests. */
#ifndef CM_SHA256_H
#define CM_SHA256_H

#include <stddef.h>

struct cm_sha256 {
	void *ctx; /* OpenSSL's EVP_MD_CTX */
};

void cm_sha256_init(struct cm_sha256 *h);
void cm_sha256_update(struct cm_sha256 *h, const void *data, size_t len);
/* Writes the digest and frees the context. */
void cm_sha256_final_hex(struct cm_sha256 *h, char hex[65]);
/* The 32 bytes themselves; frees the context. */
void cm_sha256_final(struct cm_sha256 *h, unsigned char out[32]);
void cm_sha256_hex(const void *data, size_t len, char hex[65]);

struct cm_error;
/* The digest and size of a file's contents. */
int cm_sha256_file(const char *path, char hex[65], long long *size, struct cm_error *err);

#endif
