/* A service that takes seconds to start, for bench/startup.sh:
 *   slowserve PORT MIB SECONDS -> builds MIB MiB of state (passes of a
 *                                 xorshift mix over it, busy for at least
 *                                 SECONDS), prints "ready", then answers
 *                                 each HTTP request on PORT with one line.
 * A request reads a few words of the state, as a service's request touches
 * part of what it built. Linked statically so that it runs in a busybox image. */
#define _GNU_SOURCE /* accept4 */
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 8080;
	size_t n = (argc > 2 ? strtoul(argv[2], NULL, 10) : 384) << 17; /* 8-byte words */
	double secs = argc > 3 ? atof(argv[3]) : 2.5;
	uint64_t *state = mmap(NULL, n ? n * 8 : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (state == MAP_FAILED || n == 0) {
		perror("slowserve: mmap");
		return 1;
	}
	double t0 = now();
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned passes = 0;
	do {
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
			state[i] ^= x;
		}
		passes++;
	} while (now() - t0 < secs);

	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0) {
		perror("slowserve: listen");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	printf("ready after %.2fs, %u passes\n", now() - t0, passes);
	fflush(stdout);
	for (unsigned long req = 1;; req++) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		char buf[4096];
		if (read(c, buf, sizeof(buf)) < 0) { /* the request; its content does not matter */
			close(c);
			continue;
		}
		uint64_t v = 0;
		for (int k = 0; k < 4; k++)
			v ^= state[(req * 2654435761u + k * 40503u) % n];
		char body[64], out[256];
		int bl = snprintf(body, sizeof(body), "slowserve %lu %016llx\n", req, (unsigned long long)v);
		int ol = snprintf(out, sizeof(out), "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
				  "Content-Length: %d\r\nConnection: close\r\n\r\n%s", bl, body);
		if (write(c, out, ol) != ol)
			perror("slowserve: write");
		close(c);
	}
}
