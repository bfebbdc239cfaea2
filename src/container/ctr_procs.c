#include "ctr_procs.h"
#include "error.h"
#include "user.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

static const struct {
	const char *name, *aix, *header;
	enum cm_top_col col;
} descriptors[] = {
	{ "args", "%a", "COMMAND", CM_TOP_ARGS },    { "comm", "%c", "COMMAND", CM_TOP_COMM },
	{ "etime", "%t", "ELAPSED", CM_TOP_ETIME },  { "group", "%G", "GROUP", CM_TOP_GROUP },
	{ "hpid", NULL, "HPID", CM_TOP_HPID },       { "huser", NULL, "HUSER", CM_TOP_HUSER },
	{ "nice", "%n", "NI", CM_TOP_NICE },         { "pcpu", "%C", "%CPU", CM_TOP_PCPU },
	{ "pgid", "%r", "PGID", CM_TOP_PGID },       { "pid", "%p", "PID", CM_TOP_PID },
	{ "ppid", "%P", "PPID", CM_TOP_PPID },       { "rgroup", "%g", "RGROUP", CM_TOP_RGROUP },
	{ "rss", NULL, "RSS", CM_TOP_RSS },          { "ruser", "%u", "RUSER", CM_TOP_RUSER },
	{ "state", NULL, "STATE", CM_TOP_STATE },    { "time", "%x", "TIME", CM_TOP_TIME },
	{ "tty", "%y", "TTY", CM_TOP_TTY },          { "user", "%U", "USER", CM_TOP_USER },
	{ "vsz", "%z", "VSZ", CM_TOP_VSZ },
};
#define NDESC (sizeof(descriptors) / sizeof(descriptors[0]))

const enum cm_top_col cm_top_default_cols[8] = {
	CM_TOP_USER, CM_TOP_PID, CM_TOP_PPID, CM_TOP_PCPU,
	CM_TOP_ETIME, CM_TOP_TTY, CM_TOP_TIME, CM_TOP_ARGS,
};

static const char *header_of(enum cm_top_col col)
{
	for (size_t i = 0; i < NDESC; i++)
		if (descriptors[i].col == col)
			return descriptors[i].header;
	return "?";
}

int cm_top_parse_descriptors(int argc, char **argv, enum cm_top_col *cols, size_t *ncols,
			     struct cm_error *err)
{
	*ncols = 0;
	for (int a = 0; a < argc; a++) {
		cm_autofree char *copy = cm_strdup(argv[a]);
		for (char *save, *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
			size_t i;
			for (i = 0; i < NDESC; i++)
				if (!strcmp(t, descriptors[i].name) ||
				    (descriptors[i].aix && !strcmp(t, descriptors[i].aix)))
					break;
			if (i == NDESC)
				return cm_err(err, 0, "top: unknown descriptor %.64s (see --help)", t);
			if (*ncols == CM_TOP_MAX_COLS)
				return cm_err(err, 0, "top: more than %d descriptors", CM_TOP_MAX_COLS);
			cols[(*ncols)++] = descriptors[i].col;
		}
	}
	if (*ncols == 0)
		return cm_err(err, 0, "top: no descriptors given");
	return 0;
}

int cm_proc_parse_stat(const char *text, struct cm_proc *p)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	if (!open || !close || close < open)
		return -1;
	free(p->comm);
	p->comm = cm_malloc((size_t)(close - open));
	memcpy(p->comm, open + 1, (size_t)(close - open - 1));
	p->comm[close - open - 1] = '\0';
	/* Fields from 3 on (state), as proc(5) numbers them. */
	long long ppid, pgrp, session, tty, tpgid, prio, nice;
	unsigned long long flags, minflt, cminflt, majflt, cmajflt, cutime, cstime, threads, itreal;
	char state;
	int n = sscanf(close + 1,
		       " %c %lld %lld %lld %lld %lld %llu %llu %llu %llu %llu %llu %llu %llu %llu %lld %lld "
		       "%llu %llu %llu %llu %llu",
		       &state, &ppid, &pgrp, &session, &tty, &tpgid, &flags, &minflt, &cminflt, &majflt,
		       &cmajflt, &p->utime, &p->stime, &cutime, &cstime, &prio, &nice, &threads, &itreal,
		       &p->start, &p->vsize, &p->rss_pages);
	if (n != 22)
		return -1;
	p->state = state;
	p->host_ppid = (pid_t)ppid;
	p->tty_nr = (unsigned)tty;
	p->nice = (int)nice;
	return 0;
}

/* The last number of a "Key:\tn\tn..." line: the innermost namespace's. */
static int last_number(const char *line, long long *out, int *count)
{
	int c = 0;
	const char *p = line;
	char *end;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			break;
		*out = strtoll(p, &end, 10);
		p = end;
		c++;
	}
	if (count)
		*count = c;
	return c ? 0 : -1;
}

int cm_proc_parse_status(const char *text, struct cm_proc *p)
{
	bool have_pid = false;
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		unsigned long r, e;
		long long v;
		if (sscanf(line, "Uid: %lu %lu", &r, &e) == 2)
			p->ruid = (uid_t)r, p->uid = (uid_t)e;
		else if (sscanf(line, "Gid: %lu %lu", &r, &e) == 2)
			p->rgid = (gid_t)r, p->gid = (gid_t)e;
		else if (!strncmp(line, "NSpid:", 6) && last_number(line + 6, &v, &p->ns_depth) == 0)
			p->pid = (pid_t)v, have_pid = true;
		else if (!strncmp(line, "NSpgid:", 7) && last_number(line + 7, &v, NULL) == 0)
			p->pgid = (pid_t)v;
		line = nl ? nl + 1 : NULL;
	}
	return have_pid ? 0 : -1;
}

static char *read_proc(pid_t pid, const char *file, size_t *len)
{
	cm_autofree char *path = cm_strfmt("/proc/%d/%s", (int)pid, file);
	return cm_read_file_max(path, 1 << 20, len, NULL);
}

int cm_proc_read(pid_t hpid, const char *passwd, const char *group, struct cm_proc *p,
		 struct cm_error *err)
{
	memset(p, 0, sizeof(*p));
	p->hpid = hpid;
	size_t len;
	cm_autofree char *stat = read_proc(hpid, "stat", &len);
	cm_autofree char *status = read_proc(hpid, "status", &len);
	if (!stat || !status || cm_proc_parse_stat(stat, p) < 0 || cm_proc_parse_status(status, p) < 0)
		return cm_err(err, errno, "read /proc/%d", (int)hpid);
	char *cmdline = read_proc(hpid, "cmdline", &len);
	if (cmdline && len > 0) {
		for (size_t i = 0; i < len; i++)
			if (cmdline[i] == '\0')
				cmdline[i] = ' ';
		while (len > 0 && cmdline[len - 1] == ' ')
			cmdline[--len] = '\0';
		p->args = cmdline;
	} else {
		free(cmdline);
		p->args = cm_strfmt("[%s]", p->comm);
	}
	p->user = cm_user_name_of(passwd, p->uid);
	p->ruser = cm_user_name_of(passwd, p->ruid);
	p->group = cm_user_name_of(group, p->gid);
	p->rgroup = cm_user_name_of(group, p->rgid);
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(p->uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		p->huser = cm_strdup(res->pw_name);
	return 0;
}

void cm_proc_resolve_ppid(struct cm_proc *p)
{
	p->ppid = 0;
	size_t len;
	cm_autofree char *status = p->host_ppid > 0 ? read_proc(p->host_ppid, "status", &len) : NULL;
	struct cm_proc parent = { 0 };
	if (status && cm_proc_parse_status(status, &parent) == 0 && parent.ns_depth == p->ns_depth)
		p->ppid = parent.pid;
}

void cm_proc_free(struct cm_proc *p)
{
	free(p->comm), free(p->args), free(p->user), free(p->ruser);
	free(p->group), free(p->rgroup), free(p->huser);
	memset(p, 0, sizeof(*p));
}

/* "d.ddd" with trailing zeros dropped, digits after the point. */
static void fraction(char *out, size_t len, unsigned long long v, unsigned long long unit, int digits,
		     const char *suffix)
{
	char frac[16];
	snprintf(frac, sizeof(frac), "%0*llu", digits, v % unit);
	int n = digits;
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(out, len, "%llu%s%s%s", v / unit, n ? "." : "", frac, suffix);
}

void cm_go_duration(unsigned long long ns, char *out, size_t len)
{
	const unsigned long long s = 1000000000ULL;
	if (ns == 0) {
		snprintf(out, len, "0s");
	} else if (ns < 1000) {
		snprintf(out, len, "%lluns", ns);
	} else if (ns < 1000000) {
		fraction(out, len, ns, 1000, 3, "\xc2\xb5s");
	} else if (ns < s) {
		fraction(out, len, ns, 1000000, 6, "ms");
	} else {
		char secs[40], prefix[48] = "";
		unsigned long long h = ns / (3600 * s), m = ns / (60 * s) % 60;
		fraction(secs, sizeof(secs), ns % (60 * s), s, 9, "s");
		if (h)
			snprintf(prefix, sizeof(prefix), "%lluh%llum", h, m);
		else if (m)
			snprintf(prefix, sizeof(prefix), "%llum", m);
		snprintf(out, len, "%s%s", prefix, secs);
	}
}

static char *tty_name(unsigned tty_nr)
{
	unsigned maj = major(tty_nr), min = minor(tty_nr);
	if (tty_nr == 0)
		return cm_strdup("?");
	if (maj >= 136 && maj <= 143)
		return cm_strfmt("pts/%u", min + (maj - 136) * 256);
	if (maj == 4)
		return min < 64 ? cm_strfmt("tty%u", min) : cm_strfmt("ttyS%u", min - 64);
	return cm_strfmt("%u:%u", maj, min);
}

static char *name_or_id(const char *name, unsigned long id)
{
	return name ? cm_strdup(name) : cm_strfmt("%lu", id);
}

static char *cell(const struct cm_proc *p, enum cm_top_col col, const struct cm_top_clock *clk)
{
	unsigned long long started_ns = p->start * (1000000000ULL / (unsigned long long)clk->ticks);
	unsigned long long elapsed = clk->boot_ns > started_ns ? clk->boot_ns - started_ns : 0;
	unsigned long long cpu_ns = (p->utime + p->stime) * (1000000000ULL / (unsigned long long)clk->ticks);
	char buf[64];
	switch (col) {
	case CM_TOP_ARGS: return cm_strdup(p->args ? p->args : "");
	case CM_TOP_COMM: return cm_strdup(p->comm ? p->comm : "");
	case CM_TOP_ETIME:
		cm_go_duration(elapsed, buf, sizeof(buf));
		return cm_strdup(buf);
	case CM_TOP_GROUP: return name_or_id(p->group, p->gid);
	case CM_TOP_HPID: return cm_strfmt("%d", (int)p->hpid);
	case CM_TOP_HUSER: return name_or_id(p->huser, p->uid);
	case CM_TOP_NICE: return cm_strfmt("%d", p->nice);
	case CM_TOP_PCPU:
		return cm_strfmt("%.3f", elapsed ? (double)cpu_ns / (double)elapsed * 100.0 : 0.0);
	case CM_TOP_PGID: return cm_strfmt("%d", (int)p->pgid);
	case CM_TOP_PID: return cm_strfmt("%d", (int)p->pid);
	case CM_TOP_PPID: return cm_strfmt("%d", (int)p->ppid);
	case CM_TOP_RGROUP: return name_or_id(p->rgroup, p->rgid);
	case CM_TOP_RSS: return cm_strfmt("%llu", p->rss_pages * (unsigned long long)clk->page_size / 1024);
	case CM_TOP_RUSER: return name_or_id(p->ruser, p->ruid);
	case CM_TOP_STATE: return cm_strfmt("%c", p->state);
	case CM_TOP_TIME:
		/* whole seconds of CPU, as psgo counts them */
		cm_go_duration(cpu_ns / 1000000000ULL * 1000000000ULL, buf, sizeof(buf));
		return cm_strdup(buf);
	case CM_TOP_TTY: return tty_name(p->tty_nr);
	case CM_TOP_USER: return name_or_id(p->user, p->uid);
	case CM_TOP_VSZ: return cm_strfmt("%llu", p->vsize / 1024);
	}
	return cm_strdup("?");
}

char *cm_top_render(const struct cm_proc *procs, size_t n, const enum cm_top_col *cols,
		    size_t ncols, const struct cm_top_clock *clk)
{
	char **cells = cm_malloc(sizeof(char *) * (n + 1) * ncols);
	size_t width[CM_TOP_MAX_COLS];
	for (size_t c = 0; c < ncols; c++) {
		cells[c] = cm_strdup(header_of(cols[c]));
		for (size_t r = 0; r < n; r++)
			cells[(r + 1) * ncols + c] = cell(&procs[r], cols[c], clk);
		width[c] = 12;
		for (size_t r = 0; r <= n; r++)
			if (strlen(cells[r * ncols + c]) + 2 > width[c])
				width[c] = strlen(cells[r * ncols + c]) + 2;
	}
	char *out = NULL;
	for (size_t r = 0; r <= n; r++) {
		char *line = cm_strdup("");
		for (size_t c = 0; c < ncols; c++) {
			const char *s = cells[r * ncols + c];
			/* the last column is not padded, as tabwriter leaves it */
			int pad = c + 1 < ncols ? (int)width[c] : 0;
			char *next = cm_strfmt("%s%-*s", line, pad, s);
			free(line);
			line = next;
			free(cells[r * ncols + c]);
		}
		cm_str_appendf(&out, "", "%s\n", line);
		free(line);
	}
	free(cells);
	return out;
}
