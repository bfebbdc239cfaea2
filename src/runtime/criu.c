#include "criu.h"
#include "error.h"
#include "proc_spawn.h"
#include "util.h"

#include "criu/stats.pb-c.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <stdlib.h>

/* A statistics file is a service image: the service magic (the common one
 * from older CRIUs), the stats magic, then one entry, decoded by protobuf-c. */
#define IMG_COMMON_MAGIC 0x54564319u
#define IMG_SERVICE_MAGIC 0x55105940u
#define STATS_MAGIC 0x57093306u

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int cm_criu_stats_parse(const unsigned char *buf, size_t len, struct cm_criu_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 12)
		return -1;
	uint32_t m1 = le32(buf), m2 = le32(buf + 4);
	if ((m1 != IMG_SERVICE_MAGIC && m1 != IMG_COMMON_MAGIC) || m2 != STATS_MAGIC)
		return -1;
	uint32_t size = le32(buf + 8);
	if (size > len - 12)
		return -1;
	CmCriu__StatsEntry *e = cm_criu__stats_entry__unpack(NULL, size, buf + 12);
	if (!e)
		return -1;
	const CmCriu__DumpStatsEntry *d = e->dump;
	const CmCriu__RestoreStatsEntry *r = e->restore;
	if (d) {
		out->has_dump = true;
		out->freezing_time = d->freezing_time;
		out->frozen_time = d->frozen_time;
		out->memdump_time = d->memdump_time;
		out->memwrite_time = d->memwrite_time;
		out->pages_scanned = d->pages_scanned;
		out->pages_skipped_parent = d->pages_skipped_parent;
		out->pages_written = d->pages_written;
	}
	if (r) {
		out->has_restore = true;
		out->pages_compared = r->pages_compared;
		out->pages_skipped_cow = r->pages_skipped_cow;
		out->forking_time = r->forking_time;
		out->restore_time = r->restore_time;
		out->pages_restored = r->pages_restored;
	}
	cm_criu__stats_entry__free_unpacked(e, NULL);
	return 0;
}

int cm_criu_stats_read(const char *path, struct cm_criu_stats *out, struct cm_error *err)
{
	size_t len;
	cm_autofree char *buf = cm_read_file(path, &len, err);
	if (!buf)
		return -1;
	if (cm_criu_stats_parse((unsigned char *)buf, len, out) < 0)
		return cm_err(err, 0, "%s: not a CRIU statistics file", path);
	return 0;
}

json_t *cm_criu_stats_json(const struct cm_criu_stats *s)
{
	json_t *j = json_object();
	if (s->has_dump) {
		json_object_set_new(j, "freezing_time", json_integer((json_int_t)s->freezing_time));
		json_object_set_new(j, "frozen_time", json_integer((json_int_t)s->frozen_time));
		json_object_set_new(j, "memdump_time", json_integer((json_int_t)s->memdump_time));
		json_object_set_new(j, "memwrite_time", json_integer((json_int_t)s->memwrite_time));
		json_object_set_new(j, "pages_scanned", json_integer((json_int_t)s->pages_scanned));
		json_object_set_new(j, "pages_skipped_parent",
				    json_integer((json_int_t)s->pages_skipped_parent));
		json_object_set_new(j, "pages_written", json_integer((json_int_t)s->pages_written));
	}
	if (s->has_restore) {
		json_object_set_new(j, "forking_time", json_integer((json_int_t)s->forking_time));
		json_object_set_new(j, "restore_time", json_integer((json_int_t)s->restore_time));
		json_object_set_new(j, "pages_compared", json_integer((json_int_t)s->pages_compared));
		json_object_set_new(j, "pages_skipped_cow",
				    json_integer((json_int_t)s->pages_skipped_cow));
		json_object_set_new(j, "pages_restored", json_integer((json_int_t)s->pages_restored));
	}
	return j;
}

/* Error lines that say nothing of the cause: CRIU's closing summary, and a
 * complaint it prints even on success where root cannot raise RLIMIT_NOFILE. */
static bool generic_error(const char *line, size_t len)
{
	static const char *const noise[] = { "Dumping FAILED", "Restoring FAILED", "failed with -1",
					     "Can't setup RLIMIT_NOFILE" };
	for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
		if (memmem(line, len, noise[i], strlen(noise[i])))
			return true;
	return false;
}

char *cm_criu_log_errors(const char *log_text, int max_lines)
{
	char *out = NULL, *last = NULL;
	int n = 0;
	for (const char *line = log_text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *e = memmem(line, len, ") Error (", 9);
		if (e) {
			const char *msg = e + 2; /* from "Error (" on */
			int mlen = (int)(len - (size_t)(msg - line));
			if (!generic_error(line, len) && n < max_lines) {
				char *next = cm_strfmt("%s%s%.*s", out ? out : "", out ? "; " : "", mlen, msg);
				free(out);
				out = next;
				n++;
			}
			free(last);
			last = cm_strfmt("%.*s", mlen, msg);
		}
		line = nl ? nl + 1 : NULL;
	}
	/* The first causes, else whatever CRIU said last. */
	if (out) {
		free(last);
		return out;
	}
	return last;
}

bool cm_criu_found(void)
{
	/* Looked up, not run: starting CRIU costs tens of milliseconds. */
	return cm_on_path("criu");
}

char *cm_criu_identity(void)
{
	cm_autofree char *bin = cm_which("criu");
	cm_autofree char *boot = cm_read_file_max("/proc/sys/kernel/random/boot_id", 64, NULL, NULL);
	struct stat sb;
	if (!bin || !boot || stat(bin, &sb) < 0)
		return NULL;
	boot[strcspn(boot, "\n")] = 0;
	return cm_strfmt("%s %lu %lld.%09ld %s", bin, (unsigned long)sb.st_ino, (long long)sb.st_mtim.tv_sec,
			 sb.st_mtim.tv_nsec, boot);
}

bool cm_criu_has_feature(const char *feature)
{
	/* A feature present stays so until a reboot or a new criu (the boot id
	 * is in the key: /run is not always a tmpfs): each check costs a CRIU
	 * start (~30 ms), on a restore's path. */
	cm_autofree char *id = cm_criu_identity();
	cm_autofree char *cache = cm_strfmt("/run/ctrmig/criu-feature.%s", feature);
	cm_autofree char *known = id ? cm_read_file_max(cache, 4096, NULL, NULL) : NULL;
	if (known && !strcmp(known, id))
		return true;
	char *argv[] = { "criu", "check", "--feature", (char *)feature, NULL };
	struct cm_spawn_result res;
	if (cm_spawn_capture(argv, &res, NULL) < 0)
		return false;
	bool ok = res.status == 0;
	cm_spawn_result_free(&res);
	if (ok && id && cm_mkdir_p("/run/ctrmig", 0700, NULL) == 0)
		cm_write_file_atomic(cache, id, strlen(id), 0600, NULL);
	return ok;
}

bool cm_criu_dump_complete(const char *image_dir)
{
	cm_autofree char *inv = cm_path_join(image_dir, "inventory.img");
	return cm_path_exists(inv);
}
