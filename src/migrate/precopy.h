/* When iterative pre-copy (migrate --pre-copy) stops pre-dumping and does
 * the final dump: Incus's rule, from CRIU's statistics of each pre-dump.
 * A round's memory "in sync" is the share of scanned pages CRIU skipped
 * because the previous round already had them unchanged; once that reaches
 * the goal (Incus: 70%), or the rounds reach the limit (Incus: 10), or a
 * round wrote no more than a floor of pages, the next dump is the final one.
 * Only kernels with dirty-memory tracking run it (this one lacks it). */
#ifndef CM_PRECOPY_H
#define CM_PRECOPY_H

#include <stdbool.h>
#include <stdint.h>

struct cm_precopy_rule {
	unsigned goal_percent; /* 70 */
	unsigned max_rounds;   /* 10, or --pre-copy=N */
	uint64_t floor_pages;  /* a round that writes this few is good enough: 1024 (4 MiB) */
};

/* The rule with Incus's defaults; rounds 0 keeps the default limit. */
struct cm_precopy_rule cm_precopy_default(unsigned rounds);

enum cm_precopy_verdict { CM_PRECOPY_AGAIN, CM_PRECOPY_GOAL, CM_PRECOPY_FLOOR, CM_PRECOPY_ROUNDS };

/* After round `round` (1 for the first pre-dump, which has no parent),
 * with that round's pages scanned, skipped as unchanged and written. */
enum cm_precopy_verdict cm_precopy_next(const struct cm_precopy_rule *r, unsigned round, uint64_t scanned,
					uint64_t skipped_parent, uint64_t written);
/* Why it stopped, in words, for --print-stats and the log. */
const char *cm_precopy_reason(enum cm_precopy_verdict v);

#endif
