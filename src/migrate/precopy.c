#include "precopy.h"

struct cm_precopy_rule cm_precopy_default(unsigned rounds)
{
	struct cm_precopy_rule r = { .goal_percent = 70, .max_rounds = rounds ? rounds : 10, .floor_pages = 1024 };
	return r;
}

enum cm_precopy_verdict cm_precopy_next(const struct cm_precopy_rule *r, unsigned round, uint64_t scanned,
					uint64_t skipped_parent, uint64_t written)
{
	if (round >= r->max_rounds)
		return CM_PRECOPY_ROUNDS;
	if (written <= r->floor_pages)
		return CM_PRECOPY_FLOOR;
	/* the first round has nothing to be in sync with */
	if (round > 1 && scanned && skipped_parent * 100 >= (uint64_t)r->goal_percent * scanned)
		return CM_PRECOPY_GOAL;
	return CM_PRECOPY_AGAIN;
}

const char *cm_precopy_reason(enum cm_precopy_verdict v)
{
	switch (v) {
	case CM_PRECOPY_GOAL:
		return "the memory in sync reached the goal";
	case CM_PRECOPY_FLOOR:
		return "the last round wrote few pages";
	case CM_PRECOPY_ROUNDS:
		return "the rounds reached the limit";
	default:
		return "another round";
	}
}
