/* What the fuzz targets share: a private temp folder for each fuzzer process,
 * files written into it, one input split into several documents, and a
 * configuration folder that trusts the key the seeds are signed with.
 * Everything here aborts on a failure of its own, so that libFuzzer reports
 * it instead of fuzzing on with a broken setup. */
#ifndef CM_FUZZ_H
#define CM_FUZZ_H

#include "config_dir.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A property of the code under test that does not hold: a finding. */
#define FUZZ_ASSERT(cond, ...)                                                         \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                  \
			fputc('\n', stderr);                                           \
			abort();                                                       \
		}                                                                      \
	} while (0)

/* The setup itself failed: not a finding, but nothing to go on with. */
#define FUZZ_SETUP(cond, what)                                                         \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "fuzz: setup: %s: %s\n", what, strerror(errno)); \
			abort();                                                       \
		}                                                                      \
	} while (0)

static char fuzz_dir_buf[4096];

static void fuzz_dir_remove(void)
{
	if (fuzz_dir_buf[0])
		cm_rm_rf(fuzz_dir_buf, NULL);
}

/* $TMPDIR/ctrmig-fuzz.XXXXXX, made at first use, removed at exit. */
static inline const char *fuzz_dir(void)
{
	if (!fuzz_dir_buf[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(fuzz_dir_buf, sizeof(fuzz_dir_buf), "%s/ctrmig-fuzz.XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		FUZZ_SETUP(mkdtemp(fuzz_dir_buf), "mkdtemp");
		atexit(fuzz_dir_remove);
	}
	return fuzz_dir_buf;
}

static inline void fuzz_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_SETUP(fd >= 0, path);
	FUZZ_SETUP(cm_write_all(fd, data, len) == 0, path);
	close(fd);
}

/* Up to max parts, split at NUL bytes (which no JSON document holds); the
 * last part takes the rest, NULs and all. Returns how many. */
struct fuzz_part {
	const char *p;
	size_t n;
};

static inline size_t fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts, size_t max)
{
	size_t n = 0;
	const char *p = (const char *)data, *end = p + size;
	while (n + 1 < max) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul)
			break;
		parts[n++] = (struct fuzz_part){ p, (size_t)(nul - p) };
		p = nul + 1;
	}
	parts[n++] = (struct fuzz_part){ p, (size_t)(end - p) };
	return n;
}

/* The public half of tests/fuzz/seed-key.pem, a key for the seeds only. */
#define FUZZ_SEED_PUB                                                                  \
	"-----BEGIN PUBLIC KEY-----\n"                                                 \
	"MCowBQYDK2VwAyEALjdRfsFGum34ZxCDR7Lk11qOz7FJA6NVuY9PO7MBdOA=\n"                 \
	"-----END PUBLIC KEY-----\n"

/* A configuration folder of our own (nothing under /etc/ctrmig is read), in
 * the fuzzer's temp folder: no host key; the seed key trusted as "seed" if
 * trust_seed; a policy.json that requires a trusted signature if require.
 * Returns its path (the caller frees it); made once per name. */
static inline char *fuzz_config_make(const char *name, bool trust_seed, bool require)
{
	char *conf = cm_path_join(fuzz_dir(), name);
	if (cm_path_exists(conf))
		return conf;
	cm_autofree char *keys = cm_path_join(conf, "trusted-keys");
	FUZZ_SETUP(cm_mkdir_p(keys, 0700, NULL) == 0, keys);
	if (trust_seed) {
		cm_autofree char *pub = cm_path_join(keys, "seed.pub");
		fuzz_write(pub, FUZZ_SEED_PUB, strlen(FUZZ_SEED_PUB));
	}
	if (require) {
		cm_autofree char *policy = cm_path_join(conf, "policy.json");
		fuzz_write(policy, "{\"require_signature\": true}\n", 28);
	}
	return conf;
}

/* The folder the fuzzers use unless they say otherwise: the seed key
 * trusted, no policy. */
static inline void fuzz_config_dir(void)
{
	static char *conf;
	if (!conf)
		conf = fuzz_config_make("conf", true, false);
	cm_config_dir_set(conf);
}

#endif
