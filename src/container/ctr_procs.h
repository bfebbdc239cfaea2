/* A container's processes as `top` shows them: read from /proc, PIDs as the
 * container sees them (NSpid), users by the container's own /etc/passwd, in
 * Podman's columns (its psgo descriptors) and layout. */
#ifndef CM_CTR_PROCS_H
#define CM_CTR_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cm_error;

struct cm_proc {
	pid_t hpid;            /* on the host */
	pid_t pid, ppid, pgid; /* in the container's pid namespace; 0 when outside it */
	pid_t host_ppid;
	int ns_depth;          /* how many pid namespaces NSpid lists */
	uid_t uid, ruid;
	gid_t gid, rgid;
	char state;
	int nice;
	unsigned long long utime, stime, start; /* clock ticks; start since boot */
	unsigned long long vsize, rss_pages;
	unsigned tty_nr;
	char *comm, *args;
	char *user, *ruser, *group, *rgroup, *huser; /* names, or NULL for the number */
};

enum cm_top_col {
	CM_TOP_ARGS, CM_TOP_COMM, CM_TOP_ETIME, CM_TOP_GROUP, CM_TOP_HPID, CM_TOP_HUSER,
	CM_TOP_NICE, CM_TOP_PCPU, CM_TOP_PGID, CM_TOP_PID, CM_TOP_PPID, CM_TOP_RGROUP,
	CM_TOP_RSS, CM_TOP_RUSER, CM_TOP_STATE, CM_TOP_TIME, CM_TOP_TTY, CM_TOP_USER, CM_TOP_VSZ,
};
#define CM_TOP_MAX_COLS 64

/* The clock a table is rendered at. */
struct cm_top_clock {
	unsigned long long boot_ns; /* now, since boot (CLOCK_BOOTTIME) */
	long ticks;                 /* clock ticks a second */
	long page_size;
};

/* Podman's default: user pid ppid pcpu etime tty time args. */
extern const enum cm_top_col cm_top_default_cols[8];

/* Descriptors as `podman top` takes them: names (pid, user, args...) or AIX
 * codes (%p, %U, %a...), in separate arguments or split by commas or blanks. */
int cm_top_parse_descriptors(int argc, char **argv, enum cm_top_col *cols, size_t *ncols,
			     struct cm_error *err);

/* Parsing of /proc/PID/stat and /proc/PID/status text (pure, for tests). */
int cm_proc_parse_stat(const char *text, struct cm_proc *p);
int cm_proc_parse_status(const char *text, struct cm_proc *p);

/* Reads the process hpid from /proc; names users and groups by the passwd and
 * group text given (the container's; NULL: numbers). */
int cm_proc_read(pid_t hpid, const char *passwd, const char *group, struct cm_proc *p,
		 struct cm_error *err);
/* The parent's pid in the container's namespace, 0 when it is outside. */
void cm_proc_resolve_ppid(struct cm_proc *p);
void cm_proc_free(struct cm_proc *p);

/* Go's time.Duration.String(): "0s", "1.5ms", "2m3.25s", "1h0m0s". */
void cm_go_duration(unsigned long long ns, char *out, size_t len);

/* The table, a line a process, columns padded as Go's tabwriter pads them
 * in `podman top` (at least 12 wide, 2 apart). Caller frees. */
char *cm_top_render(const struct cm_proc *procs, size_t n, const enum cm_top_col *cols,
		    size_t ncols, const struct cm_top_clock *clk);

#endif
