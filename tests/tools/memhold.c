/* Holds memory whose content can be checked, for the lazy restore tests:
 *   memhold MIB -> MIB MiB of private anonymous memory filled from a seeded
 *                  xorshift64, then "ready SUM"; then a count every 0.2 s
 *                  that never touches the buffer; on SIGUSR1, "sum SUM" over
 *                  the whole buffer again.
 * The same MIB always gives the same SUM, so a restore that brought a page
 * back wrong, or not at all, shows in the sum. Linked statically so that it
 * runs in a busybox container. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static volatile sig_atomic_t want_sum;

static void on_usr1(int sig)
{
	(void)sig;
	want_sum = 1;
}

/* FNV-1a over 64-bit words: order matters, so a page in the wrong place shows. */
static uint64_t checksum(const uint64_t *w, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ w[i]) * 0x100000001b3ull;
	return h;
}

int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 10) : 64) << 20;
	size_t n = len / sizeof(uint64_t);
	uint64_t *mem = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		mem[i] = x;
	}
	signal(SIGUSR1, on_usr1);
	printf("ready %016llx\n", (unsigned long long)checksum(mem, n));
	fflush(stdout);
	struct timespec tick = { 0, 200 * 1000 * 1000 };
	for (unsigned long count = 1;; count++) {
		if (want_sum) {
			want_sum = 0;
			printf("sum %016llx\n", (unsigned long long)checksum(mem, n));
		}
		printf("%lu\n", count);
		fflush(stdout);
		nanosleep(&tick, NULL);
	}
}
