/* checkpoint -e and migrate share this: the dump, then the archive. While
 * CRIU writes its page images, a thread hashes them behind it (on what CPU
 * time the dump leaves), and goes on beside the export, which only reads
 * and compresses them. */
#include "archive_io.h"
#include "checkpoint.h"
#include "dump_hash.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

static void watch(void *arg, const char *images)
{
	struct cm_dump_hash **h = arg;
	if (images) {
		struct cm_error e = { 0 };
		/* without it, the export hashes as it streams */
		if (!(*h = cm_dump_hash_start(images, &e)))
			cm_debug("%s", e.msg);
		cm_error_clear(&e);
	} else if (*h) {
		cm_dump_hash_criu_done(*h);
	}
}

int cm_archive_dump_export(struct cm_store *st, json_t *rec, const struct cm_ckpt_opts *ckpt,
			   const struct cm_export_opts *exp, struct cm_ckpt_result *r,
			   struct cm_error *err)
{
	bool exporting = exp->output || exp->fd >= 0;
	struct cm_dump_hash *follower = NULL;
	struct cm_ckpt_opts co = *ckpt;
	if (exporting) {
		co.watch = watch;
		co.watch_arg = &follower;
		/* the release is awaited at the seal, not before the export: it
		 * runs in the background meanwhile */
		co.wait_released = false;
	}
	int ret = cm_ckpt_dump(st, rec, &co, r, err);
	if (ret < 0 || !exporting) {
		if (follower)
			json_decref(cm_dump_hash_finish(follower));
		return ret;
	}
	/* The record as the dump saved it: it names the checkpoint to pack. */
	struct cm_export_opts eo = *exp;
	eo.follower = follower; /* the export's now */
	eo.wait_released = ckpt->wait_released;
	json_t *fresh = cm_store_find_ctr(st, cm_json_str(rec, "id"), err);
	ret = fresh ? cm_archive_export(st, fresh, &eo, err) : -1;
	if (!fresh && follower)
		json_decref(cm_dump_hash_finish(follower));
	json_decref(fresh);
	return ret;
}
