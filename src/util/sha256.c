#include "sha256.h"
#include "crypto_init.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>

void cm_sha256_init(struct cm_sha256 *h)
{
	cm_crypto_init();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		cm_oom();
	h->ctx = ctx;
}

void cm_sha256_update(struct cm_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void cm_sha256_final_hex(struct cm_sha256 *h, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(h->ctx, md, &len);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	for (unsigned int i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	hex[2 * len] = '\0';
}

void cm_sha256_hex(const void *data, size_t len, char hex[65])
{
	struct cm_sha256 h;
	cm_sha256_init(&h);
	cm_sha256_update(&h, data, len);
	cm_sha256_final_hex(&h, hex);
}
