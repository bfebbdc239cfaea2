/* Progress on stderr for the long commands (checkpoint -e, restore -i,
 * migrate): the phase, bytes, rate and time left when the total is known,
 * redrawn on one line at most five times a second. Silent unless enabled,
 * which the commands do only when stderr is a terminal and -q was not given. */
#ifndef CM_PROGRESS_H
#define CM_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void cm_progress_enable(bool on);
/* A new phase ("writing the archive"); total 0 when unknown. */
void cm_progress_phase(const char *what, uint64_t total);
void cm_progress_add(uint64_t bytes);
/* Sets the count (for a reader that knows its position). */
void cm_progress_set(uint64_t done);
/* Clears the line. */
void cm_progress_done(void);

/* The line itself, for the unit tests: "writing the archive 12.0 MiB of
 * 48.0 MiB, 6.0 MiB/s, 6 s left". */
void cm_progress_format(char *out, size_t len, const char *what, uint64_t done, uint64_t total,
			double seconds);

#endif
