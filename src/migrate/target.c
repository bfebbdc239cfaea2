/* ssh://[user@]host[:port] or --to-root DIR, and the argv for each. */
#include "target.h"
#include "proc_spawn.h"
#include "error.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *cm_mig_shell_quote(const char *s)
{
	size_t n = 3;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *out = cm_malloc(n), *o = out;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

int cm_mig_split_command(const char *cmd, struct cm_argv *out, struct cm_error *err)
{
	const char *p = cmd;
	while (*p) {
		while (*p && isspace((unsigned char)*p))
			p++;
		const char *start = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (p > start)
			cm_argv_addf(out, "%.*s", (int)(p - start), start);
	}
	if (out->n == 0)
		return cm_err(err, 0, "the ssh command is empty");
	return 0;
}

/* A user or host name that ssh cannot take for an option or for more than
 * one word: letters, digits and . _ - (and : inside brackets). */
static bool name_ok(const char *s, size_t len, bool ipv6)
{
	if (len == 0 || len > 253 || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-' && !(ipv6 && c == ':'))
			return false;
	}
	return true;
}

static int parse_dest(struct cm_mig_target *t, const char *dest, struct cm_error *err)
{
	if (strncmp(dest, "ssh://", 6))
		return cm_err(err, 0, "destination %s: give ssh://[user@]host[:port], or --to-root DIR "
				      "for another store on this host", dest);
	const char *p = dest + 6, *end = p + strcspn(p, "/");
	if (*end && end[1])
		return cm_err(err, 0, "destination %s: no path after the host (--remote-root names the "
				      "store there)", dest);
	const char *at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		if (!name_ok(p, (size_t)(at - p), false))
			return cm_err(err, 0, "destination %s: not a valid user name", dest);
		t->user = cm_strfmt("%.*s", (int)(at - p), p);
		p = at + 1;
	}
	const char *host_end, *port = NULL;
	bool ipv6 = *p == '[';
	if (ipv6) {
		p++;
		host_end = memchr(p, ']', (size_t)(end - p));
		if (!host_end)
			return cm_err(err, 0, "destination %s: no ']' after the IPv6 address", dest);
		if (host_end + 1 < end && host_end[1] != ':')
			return cm_err(err, 0, "destination %s: ':' and a port, or nothing, after ']'", dest);
		port = host_end + 1 < end ? host_end + 2 : NULL;
	} else {
		host_end = memchr(p, ':', (size_t)(end - p));
		port = host_end ? host_end + 1 : NULL;
		if (!host_end)
			host_end = end;
	}
	if (!name_ok(p, (size_t)(host_end - p), ipv6))
		return cm_err(err, 0, "destination %s: not a valid host name", dest);
	t->host = cm_strfmt("%.*s", (int)(host_end - p), p);
	if (port) {
		char *stop;
		long v = strtol(port, &stop, 10);
		if (stop == port || stop != end || v < 1 || v > 65535)
			return cm_err(err, 0, "destination %s: the port must be a number from 1 to 65535", dest);
		t->port = (int)v;
	}
	return 0;
}

int cm_mig_target_init(struct cm_mig_target *t, const struct cm_mig_target_opts *o,
		       struct cm_error *err)
{
	memset(t, 0, sizeof(*t));
	if (!!o->dest == !!o->to_root)
		return cm_err(err, 0, "give a destination: ssh://[user@]host[:port] or --to-root DIR");
	if (o->to_root) {
		if (o->remote_root || o->remote_ctrmig || o->ssh_command)
			return cm_err(err, 0, "--to-root moves to this host: --remote-root, --remote-ctrmig and "
					      "--ssh-command go with ssh://");
		if (o->to_root[0] != '/')
			return cm_err(err, 0, "--to-root %s: must be an absolute path", o->to_root);
		t->root = cm_strdup(o->to_root);
		t->ctrmig = cm_strdup(o->self);
		t->display = cm_strdup(o->to_root);
		return 0;
	}
	t->ssh = true;
	if (parse_dest(t, o->dest, err) < 0)
		return -1;
	if (o->remote_root && o->remote_root[0] != '/')
		return cm_err(err, 0, "--remote-root %s: must be an absolute path", o->remote_root);
	const char *cmd = o->ssh_command;
	if (!cmd || !*cmd)
		cmd = getenv("CTRMIG_SSH_COMMAND");
	if (!cmd || !*cmd)
		cmd = "ssh";
	if (cm_mig_split_command(cmd, &t->ssh_cmd, err) < 0)
		return -1;
	t->root = o->remote_root ? cm_strdup(o->remote_root) : NULL;
	t->ctrmig = cm_strdup(o->remote_ctrmig ? o->remote_ctrmig : "ctrmig");
	char tmpl[] = "/tmp/ctrmig-ssh.XXXXXX";
	if (mkdtemp(tmpl)) /* 0700: the socket is as good as the session */
		t->control_dir = cm_strdup(tmpl);
	bool v6 = strchr(t->host, ':') != NULL;
	t->display = cm_strfmt("ssh://%s%s%s%s%s", t->user ? t->user : "", t->user ? "@" : "",
			       v6 ? "[" : "", t->host, v6 ? "]" : "");
	if (t->port)
		cm_str_appendf(&t->display, "", ":%d", t->port);
	return 0;
}

void cm_mig_target_free(struct cm_mig_target *t)
{
	cm_autofree char *sock = t->control_dir ? cm_path_join(t->control_dir, "cm") : NULL;
	if (sock && cm_path_exists(sock)) {
		/* the master ends with us */
		struct cm_argv a = { 0 };
		for (size_t i = 0; i < t->ssh_cmd.n; i++)
			cm_argv_add(&a, t->ssh_cmd.v[i]);
		cm_argv_add(&a, "-o");
		cm_argv_addf(&a, "ControlPath=%s/cm", t->control_dir);
		cm_argv_add(&a, "-O");
		cm_argv_add(&a, "exit");
		cm_argv_add(&a, "--");
		cm_argv_add(&a, t->host);
		struct cm_spawn_result r;
		if (cm_spawn_capture(a.v, &r, NULL) == 0)
			cm_spawn_result_free(&r);
		cm_argv_free(&a);
	}
	if (t->control_dir) {
		cm_rm_rf(t->control_dir, NULL);
		free(t->control_dir);
	}
	free(t->user);
	free(t->host);
	cm_argv_free(&t->ssh_cmd);
	free(t->root);
	free(t->ctrmig);
	free(t->display);
}

/* On the target: ctrmig [--root R] ARGS, as words. */
static void ctrmig_words(const struct cm_mig_target *t, const char *const args[], struct cm_argv *w)
{
	cm_argv_add(w, t->ctrmig);
	/* --log-level debug here is debug there too: one story of a move */
	if (cm_log_level == CM_LOG_DEBUG) {
		cm_argv_add(w, "--log-level");
		cm_argv_add(w, "debug");
	}
	if (t->root) {
		cm_argv_add(w, "--root");
		cm_argv_add(w, t->root);
	}
	for (size_t i = 0; args[i]; i++)
		cm_argv_add(w, args[i]);
}

/* ssh and its options up to the host, without the remote command. */
static void ssh_words(const struct cm_mig_target *t, struct cm_argv *out)
{
	for (size_t i = 0; i < t->ssh_cmd.n; i++)
		cm_argv_add(out, t->ssh_cmd.v[i]);
	/* Never a prompt: ctrmig's children have no terminal to ask on. */
	cm_argv_add(out, "-o");
	cm_argv_add(out, "BatchMode=yes");
	if (t->control_dir) {
		cm_argv_add(out, "-o");
		cm_argv_add(out, "ControlMaster=auto");
		cm_argv_add(out, "-o");
		cm_argv_addf(out, "ControlPath=%s/cm", t->control_dir);
		cm_argv_add(out, "-o");
		cm_argv_add(out, "ControlPersist=60");
	}
	if (t->port) {
		cm_argv_add(out, "-p");
		cm_argv_addf(out, "%d", t->port);
	}
	if (t->user) {
		cm_argv_add(out, "-l");
		cm_argv_add(out, t->user);
	}
}

void cm_mig_target_argv(const struct cm_mig_target *t, const char *const args[], struct cm_argv *out)
{
	struct cm_argv w = { 0 };
	ctrmig_words(t, args, &w);
	if (!t->ssh) {
		*out = w;
		return;
	}
	ssh_words(t, out);
	cm_argv_add(out, "--");
	cm_argv_add(out, t->host);
	for (size_t i = 0; i < w.n; i++) {
		cm_autofree char *q = cm_mig_shell_quote(w.v[i]);
		cm_argv_add(out, q);
	}
	cm_argv_free(&w);
}

int cm_mig_target_forward(const struct cm_mig_target *t, int local_port, int *remote_port,
			  struct cm_error *err)
{
	if (!t->ssh) {
		*remote_port = local_port;
		return 0;
	}
	if (!t->control_dir)
		return cm_err(err, 0, "no ssh session to forward the page server through");
	struct cm_argv a = { 0 };
	ssh_words(t, &a);
	cm_argv_add(&a, "-O");
	cm_argv_add(&a, "forward");
	cm_argv_add(&a, "-R");
	cm_argv_addf(&a, "127.0.0.1:0:127.0.0.1:%d", local_port);
	cm_argv_add(&a, "--");
	cm_argv_add(&a, t->host);
	struct cm_spawn_io io;
	memset(&io, 0, sizeof(io));
	int ret = cm_spawn_io(a.v, NULL, &io, err);
	cm_argv_free(&a);
	if (ret == 0) {
		/* ssh prints the port sshd chose */
		char *end = NULL;
		long port = io.out ? strtol(io.out, &end, 10) : 0;
		if (io.status != 0 || port < 1 || port > 65535) {
			cm_autofree char *line = cm_spawn_last_line(io.errout ? io.errout : "");
			ret = cm_err(err, 0, "ssh could not forward a port for the page server%s%s",
				     line && *line ? ": " : "", line ? line : "");
		} else {
			*remote_port = (int)port;
		}
	}
	free(io.out);
	free(io.errout);
	return ret;
}
