/* The progress line's words: done, total, rate, time left. */
#include "progress.h"
#include "tap.h"

int main(void)
{
	char line[160];
	cm_progress_format(line, sizeof(line), "writing the archive", 12ULL << 20, 48ULL << 20, 2.0);
	is_str(line, "writing the archive 12.0 MiB of 48.0 MiB, 6.0 MiB/s, 6 s left", "a known total: rate and time left");
	cm_progress_format(line, sizeof(line), "reading the archive", 3ULL << 30, 0, 2.0);
	is_str(line, "reading the archive 3.0 GiB, 1.5 GiB/s", "an unknown total (a pipe): no time left");
	cm_progress_format(line, sizeof(line), "x", 0, 10, 0);
	is_str(line, "x 0.0 MiB of 0.0 MiB, 0.0 MiB/s, 0 s left", "nothing done yet, no division by zero");
	return done();
}
