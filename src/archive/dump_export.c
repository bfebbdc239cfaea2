/* checkpoint -e and migrate share this: the dump, then the archive. */
#include "archive_io.h"
#include "checkpoint.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"

int cm_archive_dump_export(struct cm_store *st, json_t *rec, const struct cm_ckpt_opts *ckpt,
			   const struct cm_export_opts *exp, struct cm_ckpt_result *r,
			   struct cm_error *err)
{
	if (cm_ckpt_dump(st, rec, ckpt, r, err) < 0)
		return -1;
	if (!exp->output && exp->fd < 0)
		return 0;
	/* The record as the dump saved it: it names the checkpoint to pack. */
	json_t *fresh = cm_store_find_ctr(st, cm_json_str(rec, "id"), err);
	int ret = fresh ? cm_archive_export(st, fresh, exp, err) : -1;
	json_decref(fresh);
	return ret;
}
