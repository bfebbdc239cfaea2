#include "sha256.h"
#include "crypto_init.h"
#include "error.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

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

void cm_sha256_final(struct cm_sha256 *h, unsigned char out[32])
{
	unsigned int len = 0;
	EVP_DigestFinal_ex(h->ctx, out, &len);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void cm_sha256_hex(const void *data, size_t len, char hex[65])
{
	struct cm_sha256 h;
	cm_sha256_init(&h);
	cm_sha256_update(&h, data, len);
	cm_sha256_final_hex(&h, hex);
}

int cm_sha256_file(const char *path, char hex[65], long long *size, struct cm_error *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_err(err, errno, "open %s", path);
	struct cm_sha256 h;
	cm_sha256_init(&h);
	const size_t bufsize = 1 << 17;
	cm_autofree unsigned char *buf = cm_malloc(bufsize);
	ssize_t n;
	*size = 0;
	while ((n = read(fd, buf, bufsize)) > 0) {
		cm_sha256_update(&h, buf, (size_t)n);
		*size += n;
	}
	int e = errno;
	close(fd);
	cm_sha256_final_hex(&h, hex);
	return n < 0 ? cm_err(err, e, "read %s", path) : 0;
}
