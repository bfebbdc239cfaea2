#include "criu.h"
#include "error.h"
#include "proc_spawn.h"
#include "util.h"

#include <errno.h>
#include <string.h>

/* CRIU image files start with the common magic, then the image's own. */
#define IMG_COMMON_MAGIC 0x54564319u
#define IMG_SERVICE_MAGIC 0x55105940u
#define STATS_MAGIC 0x57093306u

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -1;
		unsigned char b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* Walks one protobuf message, calling back for each varint field. */
static int walk_message(const unsigned char *p, const unsigned char *end,
			void (*field)(uint64_t num, uint64_t val, void *arg), void *arg,
			int (*nested)(uint64_t num, const unsigned char *p, size_t len, void *arg))
{
	while (p < end) {
		uint64_t key, val;
		if (varint(&p, end, &key) < 0)
			return -1;
		switch (key & 7) {
		case 0:
			if (varint(&p, end, &val) < 0)
				return -1;
			if (field)
				field(key >> 3, val, arg);
			break;
		case 1:
			if (end - p < 8)
				return -1;
			p += 8;
			break;
		case 2:
			if (varint(&p, end, &val) < 0 || val > (uint64_t)(end - p))
				return -1;
			if (nested && nested(key >> 3, p, (size_t)val, arg) < 0)
				return -1;
			p += val;
			break;
		case 5:
			if (end - p < 4)
				return -1;
			p += 4;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static void dump_field(uint64_t num, uint64_t v, void *arg)
{
	struct cm_criu_stats *s = arg;
	switch (num) {
	case 1: s->freezing_time = v; break;
	case 2: s->frozen_time = v; break;
	case 3: s->memdump_time = v; break;
	case 4: s->memwrite_time = v; break;
	case 5: s->pages_scanned = v; break;
	case 6: s->pages_skipped_parent = v; break;
	case 7: s->pages_written = v; break;
	}
}

static void restore_field(uint64_t num, uint64_t v, void *arg)
{
	struct cm_criu_stats *s = arg;
	switch (num) {
	case 1: s->pages_compared = v; break;
	case 2: s->pages_skipped_cow = v; break;
	case 3: s->forking_time = v; break;
	case 4: s->restore_time = v; break;
	case 5: s->pages_restored = v; break;
	}
}

static int stats_entry(uint64_t num, const unsigned char *p, size_t len, void *arg)
{
	struct cm_criu_stats *s = arg;
	if (num == 1) {
		s->has_dump = true;
		return walk_message(p, p + len, dump_field, s, NULL);
	}
	if (num == 2) {
		s->has_restore = true;
		return walk_message(p, p + len, restore_field, s, NULL);
	}
	return 0;
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
	return walk_message(buf + 12, buf + 12 + size, NULL, out, stats_entry);
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

bool cm_criu_has_feature(const char *feature)
{
	char *argv[] = { "criu", "check", "--feature", (char *)feature, NULL };
	struct cm_spawn_result res;
	if (cm_spawn_capture(argv, &res, NULL) < 0)
		return false;
	bool ok = res.status == 0;
	cm_spawn_result_free(&res);
	return ok;
}

bool cm_criu_dump_complete(const char *image_dir)
{
	cm_autofree char *inv = cm_path_join(image_dir, "inventory.img");
	return cm_path_exists(inv);
}
