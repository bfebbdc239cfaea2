#include "progress.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct {
	bool on, drawn;
	const char *what;
	uint64_t done, total;
	double start, last;
} p;

void cm_progress_enable(bool on)
{
	p.on = on;
}

static void size_text(char *out, size_t len, uint64_t b)
{
	if (b >= 1ULL << 30)
		snprintf(out, len, "%.1f GiB", (double)b / (1ULL << 30));
	else
		snprintf(out, len, "%.1f MiB", (double)b / (1ULL << 20));
}

void cm_progress_format(char *out, size_t len, const char *what, uint64_t done, uint64_t total,
			double seconds)
{
	char d[32], t[32], r[32];
	size_text(d, sizeof(d), done);
	double rate = seconds > 0 ? (double)done / seconds : 0;
	size_text(r, sizeof(r), (uint64_t)rate);
	if (total) {
		size_text(t, sizeof(t), total);
		uint64_t left = total > done && rate > 0 ? (uint64_t)((double)(total - done) / rate + 0.5) : 0;
		snprintf(out, len, "%s %s of %s, %s/s, %llu s left", what, d, t, r, (unsigned long long)left);
	} else {
		snprintf(out, len, "%s %s, %s/s", what, d, r);
	}
}

static void draw(bool force)
{
	if (!p.on || !p.what)
		return;
	double now = cm_monotonic_seconds();
	if (!force && now - p.last < 0.2)
		return;
	p.last = now;
	char line[160];
	cm_progress_format(line, sizeof(line), p.what, p.done, p.total, now - p.start);
	fprintf(stderr, "\r%-79.79s", line);
	fflush(stderr);
	p.drawn = true;
}

void cm_progress_phase(const char *what, uint64_t total)
{
	p.what = what;
	p.total = total;
	p.done = 0;
	p.start = cm_monotonic_seconds();
	p.last = 0;
	draw(true);
}

void cm_progress_add(uint64_t bytes)
{
	p.done += bytes;
	draw(false);
}

void cm_progress_set(uint64_t done)
{
	p.done = done;
	draw(false);
}

void cm_progress_done(void)
{
	if (p.on && p.drawn)
		fprintf(stderr, "\r%79s\r", "");
	p.drawn = false;
	p.what = NULL;
}
