#include "skopeo.h"
#include "error.h"
#include "image.h"
#include "proc_spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

#define OUTPUT_MAX (64 << 10)

const char *cm_skopeo_path(struct cm_error *err)
{
	const char *env = getenv("CTRMIG_SKOPEO");
	if (env && *env) {
		if (access(env, X_OK) == 0)
			return env;
	} else if (cm_on_path("skopeo")) {
		return "skopeo";
	}
	cm_err(err, 0, "skopeo is not installed: install it with 'apt-get install skopeo' (or 'make deps'); "
		       "ctrmig pulls, loads and saves images through it");
	return NULL;
}

/* The text of the last msg="..." of a level=fatal (or error) line. */
static char *fatal_message(const char *output)
{
	const char *best = NULL;
	for (const char *p = output; (p = strstr(p, "msg=\"")); p += 5) {
		const char *line = p;
		while (line > output && line[-1] != '\n')
			line--;
		if (strstr(line, "level=fatal") && strstr(line, "level=fatal") < p)
			best = p + 5;
		else if (!best && strstr(line, "level=error") && strstr(line, "level=error") < p)
			best = p + 5;
	}
	if (!best) {
		char *last = cm_spawn_last_line(output);
		return last;
	}
	size_t cap = strlen(best) + 1, o = 0;
	char *msg = cm_malloc(cap);
	for (const char *q = best; *q && *q != '\n'; q++) {
		if (*q == '\\' && q[1]) {
			q++;
			msg[o++] = *q == 'n' ? ' ' : *q;
			continue;
		}
		if (*q == '"')
			break;
		msg[o++] = *q;
	}
	msg[o] = '\0';
	return msg;
}

static bool has(const char *s, const char *needle)
{
	return strstr(s, needle) != NULL;
}

/* The last ": "-separated part of a Go error chain: "connection refused". */
static const char *tail(const char *msg)
{
	const char *t = msg;
	for (const char *p = msg; (p = strstr(p, ": ")); p += 2)
		t = p + 2;
	return t;
}

char *cm_skopeo_explain(const char *output, const char *registry)
{
	cm_autofree char *msg = fatal_message(output ? output : "");
	const char *reg = registry ? registry : "the registry";
	if (!*msg)
		return cm_strdup("skopeo failed without saying why");
	if (has(msg, "connection refused") || has(msg, "no such host") || has(msg, "i/o timeout") ||
	    has(msg, "network is unreachable") || has(msg, "no route to host") ||
	    has(msg, "connection reset") || has(msg, "Temporary failure in name resolution") ||
	    has(msg, "server misbehaving") || has(msg, "context deadline exceeded"))
		return cm_strfmt("registry %s is not reachable: %s", reg, tail(msg));
	if (has(msg, "server gave HTTP response to HTTPS client"))
		return cm_strfmt("registry %s speaks plain HTTP: pull with --tls-verify=false, or mark it "
				 "insecure in registries.conf",
				 reg);
	if (has(msg, "x509:") || has(msg, "tls:"))
		return cm_strfmt("registry %s: TLS: %s", reg, tail(msg));
	if (has(msg, "unauthorized") || has(msg, "authentication required") || has(msg, "denied"))
		return cm_strfmt("registry %s refused access (%s): log in with --creds or --authfile", reg, tail(msg));
	if (has(msg, "manifest unknown") || has(msg, "name unknown") || has(msg, "not found"))
		return cm_strfmt("registry %s has no such image (%s)", reg, tail(msg));
	return cm_strdup(msg);
}

/* Runs skopeo with stdout on our stderr (progress) or nowhere, and its
 * stderr (its messages) captured. Returns its exit status, or -1. */
static int run(char *const argv[], bool progress, char **output, char **stdout_text, size_t max_stdout,
	       size_t *stdout_len, struct cm_error *err)
{
	int errp[2], outp[2] = { -1, -1 };
	if (pipe2(errp, O_CLOEXEC) < 0)
		return cm_err(err, errno, "pipe");
	if (stdout_text && pipe2(outp, O_CLOEXEC) < 0) {
		close(errp[0]), close(errp[1]);
		return cm_err(err, errno, "pipe");
	}
	pid_t pid;
	int out_fd = stdout_text ? outp[1] : progress ? STDERR_FILENO : -1;
	int r = cm_spawn_fds(argv, -1, out_fd, errp[1], -1, &pid, err);
	close(errp[1]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (r < 0) {
		close(errp[0]);
		if (outp[0] >= 0)
			close(outp[0]);
		return -1;
	}
	size_t elen = 0, olen = 0, ocap = 4096;
	char *ebuf = cm_malloc(OUTPUT_MAX + 1);
	char *obuf = stdout_text ? cm_malloc(ocap) : NULL;
	bool too_big = false;
	struct pollfd fds[2] = { { errp[0], POLLIN, 0 }, { outp[0], POLLIN, 0 } };
	int open_fds = outp[0] >= 0 ? 2 : 1;
	while (open_fds > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[8192];
			ssize_t n = read(fds[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0) {
				/* keep the last OUTPUT_MAX bytes: the fatal line is last */
				if (elen + (size_t)n > OUTPUT_MAX) {
					size_t drop = elen + (size_t)n - OUTPUT_MAX;
					drop = drop > elen ? elen : drop;
					memmove(ebuf, ebuf + drop, elen - drop);
					elen -= drop;
				}
				size_t take = (size_t)n > OUTPUT_MAX ? OUTPUT_MAX : (size_t)n;
				memcpy(ebuf + elen, buf + n - take, take);
				elen += take;
			} else if (!too_big) {
				if (olen + (size_t)n > max_stdout) {
					too_big = true;
					continue;
				}
				while (olen + (size_t)n + 1 > ocap)
					obuf = cm_realloc(obuf, ocap *= 2);
				memcpy(obuf + olen, buf, (size_t)n);
				olen += (size_t)n;
			}
		}
	}
	ebuf[elen] = '\0';
	int status = cm_spawn_wait(pid);
	*output = ebuf;
	if (stdout_text) {
		obuf[olen] = '\0';
		if (too_big && status == 0) {
			free(obuf);
			free(ebuf);
			*output = NULL;
			return cm_err(err, 0, "the registry's manifest is larger than %d bytes", CM_IMAGE_JSON_MAX);
		}
		*stdout_text = obuf;
		*stdout_len = olen;
	}
	return status;
}

static void add_registry_flags(struct cm_argv *a, const struct cm_skopeo *o, const char *side)
{
	if (o->tls_verify >= 0)
		cm_argv_addf(a, "--%stls-verify=%s", side, o->tls_verify ? "true" : "false");
	if (o->authfile)
		cm_argv_addf(a, "--%sauthfile=%s", side, o->authfile);
}

static const char *registry_of(const char *transport_ref, char *buf, size_t len)
{
	const char *p = strncmp(transport_ref, "docker://", 9) ? NULL : transport_ref + 9;
	if (!p)
		return NULL;
	const char *slash = strchr(p, '/');
	snprintf(buf, len, "%.*s", slash ? (int)(slash - p) : (int)strlen(p), p);
	return buf;
}

char *cm_skopeo_inspect_raw(const struct cm_skopeo *o, const char *ref, size_t *len, struct cm_error *err)
{
	const char *skopeo = cm_skopeo_path(err);
	if (!skopeo)
		return NULL;
	struct cm_argv a = { 0 };
	cm_argv_add(&a, skopeo);
	if (o->tmpdir)
		cm_argv_addf(&a, "--tmpdir=%s", o->tmpdir);
	cm_argv_add(&a, "inspect");
	cm_argv_add(&a, "--raw");
	add_registry_flags(&a, o, "");
	cm_argv_add(&a, "--");
	cm_argv_addf(&a, "docker://%s", ref);
	char *output = NULL, *text = NULL;
	int status = run(a.v, false, &output, &text, CM_IMAGE_JSON_MAX, len, err);
	if (status > 0) {
		char reg[300];
		cm_autofree char *why = cm_skopeo_explain(output, registry_of(a.v[a.n - 1], reg, sizeof(reg)));
		cm_err(err, 0, "%s", why);
		free(text);
		text = NULL;
	}
	free(output);
	cm_argv_free(&a);
	return status == 0 ? text : (free(text), NULL);
}

int cm_skopeo_copy(const struct cm_skopeo *o, const char *src, const char *dst, struct cm_error *err)
{
	const char *skopeo = cm_skopeo_path(err);
	if (!skopeo)
		return -1;
	struct cm_argv a = { 0 };
	cm_argv_add(&a, skopeo);
	if (o->tmpdir)
		cm_argv_addf(&a, "--tmpdir=%s", o->tmpdir);
	cm_argv_add(&a, "copy");
	if (!o->progress)
		cm_argv_add(&a, "--quiet");
	if (!strncmp(src, "docker://", 9))
		add_registry_flags(&a, o, "src-");
	if (!strncmp(dst, "docker://", 9))
		add_registry_flags(&a, o, "dest-");
	cm_argv_add(&a, "--");
	cm_argv_add(&a, src);
	cm_argv_add(&a, dst);
	char *output = NULL;
	int status = run(a.v, o->progress, &output, NULL, 0, NULL, err);
	if (status > 0) {
		char reg[300];
		const char *r = registry_of(src, reg, sizeof(reg));
		if (!r)
			r = registry_of(dst, reg, sizeof(reg));
		cm_autofree char *why = cm_skopeo_explain(output, r);
		cm_err(err, 0, "%s", why);
	}
	free(output);
	cm_argv_free(&a);
	return status == 0 ? 0 : -1;
}
