#include "sha256.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>

/* OpenSSL's default start-up reads openssl.cnf and registers every cipher
 * and digest by name: a third of a short command's CPU time, for a hash that
 * needs none of it. */
static void init_once(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
				    OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
			    NULL);
}

void cm_sha256_init(struct cm_sha256 *h)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, init_once);
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
