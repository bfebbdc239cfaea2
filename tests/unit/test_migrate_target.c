/* migrate's destinations: ssh://[user@]host[:port] and --to-root, the argv
 * built for each, and the quoting for the remote shell. */
#include "error.h"
#include "target.h"
#include "tap.h"

#include <sys/stat.h>
#include "util.h"

#include <stdlib.h>
#include <string.h>

static char *joined(const struct cm_argv *a)
{
	char *s = NULL;
	for (size_t i = 0; i < a->n; i++)
		cm_str_appendf(&s, " ", "%s", a->v[i]);
	return s;
}

static void dest_ok(const char *dest, const char *ssh, const char *args_want, const char *display)
{
	struct cm_mig_target_opts o = { .dest = dest, .ssh_command = ssh, .remote_root = "/srv/ctr root" };
	struct cm_mig_target t;
	struct cm_error e = { 0 };
	ok(cm_mig_target_init(&t, &o, &e) == 0, "%s is taken (%s)", dest, e.msg ? e.msg : "");
	const char *args[] = { "restore", "-i", "-", NULL };
	struct cm_argv a = { 0 };
	/* the multiplexing options, with their random folder, apart */
	struct stat sb;
	ok(t.control_dir && stat(t.control_dir, &sb) == 0 && (sb.st_mode & 0777) == 0700,
	   "%s: a 0700 folder for ssh's control socket", dest);
	cm_mig_target_argv(&t, args, &a);
	cm_autofree char *with = joined(&a);
	cm_autofree char *want_cp = cm_strfmt("-o ControlMaster=auto -o ControlPath=%s/cm -o ControlPersist=60",
					      t.control_dir);
	ok(strstr(with, want_cp) != NULL, "%s: one multiplexed connection", dest);
	cm_argv_free(&a);
	char *cd = t.control_dir;
	t.control_dir = NULL;
	cm_mig_target_argv(&t, args, &a);
	t.control_dir = cd;
	cm_autofree char *s = joined(&a);
	is_str(s, args_want, "%s: argv", dest);
	is_str(t.display, display, "%s: shown as", dest);
	cm_argv_free(&a);
	cm_mig_target_free(&t);
	cm_error_clear(&e);
}

static void dest_bad(const char *dest, const char *why)
{
	struct cm_mig_target_opts o = { .dest = dest };
	struct cm_mig_target t;
	struct cm_error e = { 0 };
	ok(cm_mig_target_init(&t, &o, &e) < 0 && e.msg && strstr(e.msg, why), "%s refused: %s", dest,
	   e.msg ? e.msg : "(accepted)");
	cm_mig_target_free(&t);
	cm_error_clear(&e);
}

int main(void)
{
	unsetenv("CTRMIG_SSH_COMMAND");
	dest_ok("ssh://host", NULL,
		"ssh -o BatchMode=yes -- host 'ctrmig' '--root' '/srv/ctr root' 'restore' '-i' '-'",
		"ssh://host");
	dest_ok("ssh://root@10.0.0.2:2222", "ssh  -i /k/id -o UserKnownHostsFile=/k/kh ",
		"ssh -i /k/id -o UserKnownHostsFile=/k/kh -o BatchMode=yes -p 2222 -l root -- 10.0.0.2 "
		"'ctrmig' '--root' '/srv/ctr root' 'restore' '-i' '-'",
		"ssh://root@10.0.0.2:2222");
	dest_ok("ssh://[::1]:22/", NULL,
		"ssh -o BatchMode=yes -p 22 -- ::1 'ctrmig' '--root' '/srv/ctr root' 'restore' '-i' '-'",
		"ssh://[::1]:22");
	setenv("CTRMIG_SSH_COMMAND", "myssh -F /cfg", 1);
	dest_ok("ssh://h", NULL,
		"myssh -F /cfg -o BatchMode=yes -- h 'ctrmig' '--root' '/srv/ctr root' 'restore' '-i' '-'",
		"ssh://h");
	unsetenv("CTRMIG_SSH_COMMAND");

	dest_bad("host", "give ssh://");
	dest_bad("ssh://-oProxyCommand=x", "not a valid host name");
	dest_bad("ssh://a b", "not a valid host name");
	dest_bad("ssh://-l@h", "not a valid user name");
	dest_bad("ssh://h:0", "port");
	dest_bad("ssh://h:65536", "port");
	dest_bad("ssh://h:22x", "port");
	dest_bad("ssh://h/var/lib", "no path after the host");
	dest_bad("ssh://[::1", "no ']'");
	dest_bad("ssh://h;rm", "not a valid host name");

	struct cm_mig_target_opts lo = { .to_root = "/var/lib/b", .self = "/usr/bin/ctrmig" };
	struct cm_mig_target t;
	struct cm_error e = { 0 };
	ok(cm_mig_target_init(&t, &lo, &e) == 0, "--to-root is taken");
	const char *args[] = { "inspect", "x", NULL };
	struct cm_argv a = { 0 };
	cm_mig_target_argv(&t, args, &a);
	cm_autofree char *s = joined(&a);
	is_str(s, "/usr/bin/ctrmig --root /var/lib/b inspect x", "--to-root runs this binary on the store, unquoted");
	cm_argv_free(&a);
	cm_mig_target_free(&t);
	lo.remote_root = "/x";
	ok(cm_mig_target_init(&t, &lo, &e) < 0, "--to-root with --remote-root is refused");
	cm_mig_target_free(&t);
	cm_error_clear(&e);
	lo = (struct cm_mig_target_opts){ .to_root = "rel", .self = "/c" };
	ok(cm_mig_target_init(&t, &lo, &e) < 0, "--to-root takes an absolute path");
	cm_mig_target_free(&t);
	cm_error_clear(&e);

	cm_autofree char *q = cm_mig_shell_quote("it's $(x) `y`");
	is_str(q, "'it'\\''s $(x) `y`'", "a quote inside single quotes");
	return done();
}
