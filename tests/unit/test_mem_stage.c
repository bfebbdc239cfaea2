#include "mem_stage.h"
#include "sha256.h"
#include "store.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>

int main(void)
{
	struct cm_store st = { .root = "/var/lib/ctrmig-test" };
	char hex[65];
	cm_sha256_hex(st.root, strlen(st.root), hex);
	cm_autofree char *stage = cm_strfmt("/dev/shm/ctrmig-%.12s-0123456789abcdef", hex);
	cm_autofree char *inside = cm_strfmt("%s/checkpoint", stage);

	/* Which paths are a stage of this store. */
	cm_autofree char *a = cm_mem_stage_of(&st, stage);
	cm_autofree char *b = cm_mem_stage_of(&st, inside);
	is_str(a, stage, "a stage is its own stage");
	is_str(b, stage, "its checkpoint/ lies in it");
	cm_autofree char *short_rnd = cm_strfmt("/dev/shm/ctrmig-%.12s-0123", hex);
	cm_autofree char *longer = cm_strfmt("%sff/checkpoint", stage);
	ok(!cm_mem_stage_of(&st, short_rnd), "not with a shorter random part");
	ok(!cm_mem_stage_of(&st, longer), "nor a longer one");
	ok(!cm_mem_stage_of(&st, "/var/lib/ctrmig-test/containers/x/checkpoint"), "not the store's own folder");
	struct cm_store other = { .root = "/srv/other" };
	ok(!cm_mem_stage_of(&other, inside), "not another store's stage");
	ok(!cm_mem_stage_of(&st, NULL), "not nothing");

	/* CTRMIG_MEM_STAGE_MAX caps a stage; 0 turns staging off. */
	setenv("CTRMIG_MEM_STAGE_MAX", "1000", 1);
	ok(!cm_mem_stage_fits("/dev/shm", 600, 401), "more than the cap does not fit");
	ok(!cm_mem_stage_fits("/dev/shm", 0, 1001), "nor one file over it");
	setenv("CTRMIG_MEM_STAGE_MAX", "0", 1);
	ok(!cm_mem_stage_create(&st), "no stage with a cap of 0");
	setenv("CTRMIG_MEM_STAGE_MAX", "12x", 1);
	ok(!cm_mem_stage_create(&st), "nor with a cap that is not a number");
	unsetenv("CTRMIG_MEM_STAGE_MAX");
	return done();
}
