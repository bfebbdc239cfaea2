/* Fills memory for the benchmarks and keeps a counter, like the tests' shell:
 *   memfill MIB   -> MIB MiB resident, half random bytes, half zero pages;
 *                    prints "ready", then a count every 100 ms.
 * Random pages do not compress; zero pages compress to nothing. Linked
 * statically so that it runs in a busybox image. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	size_t len = mib << 20;
	unsigned char *mem = malloc(len ? len : 1);
	if (!mem) {
		perror("malloc");
		return 1;
	}
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t half = len / 2;
	for (size_t i = 0; i + 8 <= half; i += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		memcpy(mem + i, &x, 8);
	}
	memset(mem + half, 0, len - half); /* touched, so resident, but all zero */
	printf("ready %zu MiB\n", mib);
	fflush(stdout);
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	for (unsigned long n = 1;; n++) {
		printf("%lu\n", n);
		fflush(stdout);
		mem[(n * 4096) % (len ? len : 1)] ^= 1; /* stays alive and dirty */
		nanosleep(&tick, NULL);
	}
}
