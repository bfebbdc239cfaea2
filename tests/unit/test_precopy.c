/* migrate --pre-copy's stop rule on recorded statistics: CRIU's stats-dump
 * of pre-dump rounds (pages scanned, skipped as unchanged, written). */
#include "precopy.h"
#include "tap.h"

struct round {
	uint64_t scanned, skipped, written;
};

/* Runs the rule over recorded rounds; returns the round it stops after. */
static unsigned stops_after(const struct cm_precopy_rule *r, const struct round *rounds, unsigned n,
			    enum cm_precopy_verdict *why)
{
	for (unsigned i = 0; i < n; i++) {
		*why = cm_precopy_next(r, i + 1, rounds[i].scanned, rounds[i].skipped, rounds[i].written);
		if (*why != CM_PRECOPY_AGAIN)
			return i + 1;
	}
	return 0;
}

int main(void)
{
	struct cm_precopy_rule r = cm_precopy_default(0);
	enum cm_precopy_verdict why;
	/* a 1 GiB service that settles: 262144 pages, fewer dirtied each round */
	const struct round settling[] = {
		{ 262144, 0, 262144 }, { 262144, 150000, 112144 }, { 262144, 200000, 62144 }, { 262144, 240000, 22144 },
	};
	ok(stops_after(&r, settling, 4, &why) == 3 && why == CM_PRECOPY_GOAL,
	   "a settling service stops once 70%% is in sync (round 3: 76%%)");
	/* the first round never counts as in sync, whatever it reports */
	ok(cm_precopy_next(&r, 1, 1000, 1000, 5000) == CM_PRECOPY_AGAIN, "round 1 has nothing to be in sync with");
	/* a writer that dirties everything: the round limit ends it */
	struct round busy[12];
	for (unsigned i = 0; i < 12; i++)
		busy[i] = (struct round){ 262144, 1000, 261144 };
	ok(stops_after(&r, busy, 12, &why) == 10 && why == CM_PRECOPY_ROUNDS, "a busy writer stops at 10 rounds");
	struct cm_precopy_rule three = cm_precopy_default(3);
	ok(stops_after(&three, busy, 12, &why) == 3 && why == CM_PRECOPY_ROUNDS, "--pre-copy=3 stops at 3");
	/* a small container: the first round already writes almost nothing */
	const struct round tiny[] = { { 900, 0, 900 } };
	ok(stops_after(&r, tiny, 1, &why) == 1 && why == CM_PRECOPY_FLOOR, "a round under the floor ends it");
	ok(cm_precopy_next(&r, 2, 0, 0, 5000) == CM_PRECOPY_AGAIN, "nothing scanned: no division, another round");
	ok(cm_precopy_reason(CM_PRECOPY_GOAL) && cm_precopy_reason(CM_PRECOPY_AGAIN), "every verdict has words");
	return done();
}
