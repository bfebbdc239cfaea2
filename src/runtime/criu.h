/* What ctrmig reads from CRIU directly: its statistics files, the Error lines
 * of its logs, and its feature checks. The dump and restore themselves go
 * through runc. */
#ifndef CM_CRIU_H
#define CM_CRIU_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cm_error;

/* CRIU's StatsEntry (images/stats.proto): the dump or the restore half. */
struct cm_criu_stats {
	bool has_dump, has_restore;
	uint64_t freezing_time, frozen_time, memdump_time, memwrite_time; /* microseconds */
	uint64_t pages_scanned, pages_skipped_parent, pages_written;
	uint64_t pages_compared, pages_skipped_cow, forking_time, restore_time, pages_restored;
};

/* Parses the bytes of a stats-dump or stats-restore file. */
int cm_criu_stats_parse(const unsigned char *buf, size_t len, struct cm_criu_stats *out);
int cm_criu_stats_read(const char *path, struct cm_criu_stats *out, struct cm_error *err);
/* The statistics as Podman prints them under "criu_statistics". */
json_t *cm_criu_stats_json(const struct cm_criu_stats *s);

/* The first "Error" lines of a CRIU log that name a cause, joined by "; ";
 * CRIU's generic closing lines only when there is nothing else (NULL if none). */
char *cm_criu_log_errors(const char *log_text, int max_lines);

/* `criu check --feature NAME` passes. */
bool cm_criu_has_feature(const char *feature);

/* Which criu would run, and in which boot: the first on PATH, by its path,
 * inode and time, and the kernel's boot id. A cache keyed by it is asked
 * again after an upgrade or a reboot. NULL when there is none. */
char *cm_criu_identity(void);
/* A criu binary is on PATH. */
bool cm_criu_found(void);

/* A dump is complete once CRIU has written its inventory, its last image. */
bool cm_criu_dump_complete(const char *image_dir);

#endif
