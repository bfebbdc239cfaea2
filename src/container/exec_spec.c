#include "exec_spec.h"
#include "caps.h"
#include "error.h"
#include "jsonio.h"
#include "oci_spec.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

/* Every capability ctrmig itself may hold: runc cannot grant more (on a
 * host that runs ctrmig in a container of its own, fewer than all). */
static json_t *all_caps(void)
{
	json_t *caps = json_array();
	for (int n = 0; n <= CM_CAP_LAST; n++)
		if (prctl(PR_CAPBSET_READ, n, 0, 0, 0) == 1)
			json_array_append_new(caps, json_string(cm_cap_name(n)));
	return caps;
}

/* What the helper needs to join a time namespace (CAP_SYS_PTRACE to open
 * init's as another user, CAP_SETPCAP to drop them all again), in every set:
 * root keeps only its bounding set across execve, any other user only its
 * ambient set, which needs inheritable and permitted. */
static const char *const helper_caps[] = { "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SETPCAP" };
#define N_HELPER_CAPS (sizeof(helper_caps) / sizeof(helper_caps[0]))
static const char *const cap_sets[] = { "bounding", "effective", "permitted", "inheritable", "ambient" };

static bool has_cap(json_t *set, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(set, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), name))
			return true;
	return false;
}

/* The helper's first argument: "fg" or "bg" (-d), and with timens
 * "+time=N,M": the capabilities it must drop after joining the time
 * namespace, those the command's bounding set lacks. */
static char *helper_mode(json_t *process, bool detach, bool timens)
{
	const char *base = detach ? "bg" : "fg";
	if (!timens)
		return cm_strdup(base);
	json_t *bounding = json_object_get(json_object_get(process, "capabilities"), "bounding");
	char *mode = cm_strfmt("%s+time=", base);
	for (size_t c = 0; c < N_HELPER_CAPS; c++) {
		if (has_cap(bounding, helper_caps[c]))
			continue;
		char *more = cm_strfmt("%s%s%d", mode, mode[strlen(mode) - 1] == '=' ? "" : ",",
				       cm_cap_number(helper_caps[c]));
		free(mode);
		mode = more;
	}
	return mode;
}

json_t *cm_exec_process(json_t *ctr_process, const struct cm_exec_opts *o, struct cm_error *err)
{
	if (!json_is_object(ctr_process) || !json_is_array(json_object_get(ctr_process, "env"))) {
		cm_err(err, 0, "the container's spec has no process to copy");
		return NULL;
	}
	if (!json_is_array(o->args) || json_array_size(o->args) == 0) {
		cm_err(err, 0, "no command given");
		return NULL;
	}
	json_t *p = json_deep_copy(ctr_process), *v;
	size_t i;
	json_object_set(p, "args", o->args);
	json_object_set_new(p, "terminal", json_boolean(o->terminal));
	/* the container's size is the user's, which runc follows with -t */
	json_object_del(p, "consoleSize");
	json_t *env = json_object_get(p, "env");
	json_array_foreach(o->env, i, v)
		if (json_is_string(v))
			cm_oci_env_set(env, json_string_value(v));
	if (o->cwd)
		json_object_set_new(p, "cwd", json_string(o->cwd));
	if (o->user_given) {
		json_t *user = json_pack("{s:I, s:I}", "uid", (json_int_t)o->uid, "gid", (json_int_t)o->gid);
		if (json_array_size(o->groups))
			json_object_set(user, "additionalGids", o->groups);
		json_object_set_new(p, "user", user);
	}
	if (o->privileged) {
		json_t *caps = all_caps();
		json_object_set_new(p, "capabilities",
				    json_pack("{s:O, s:O, s:O}", "bounding", caps, "effective", caps,
					      "permitted", caps));
		json_decref(caps);
	}
	if (o->helper) {
		cm_autofree char *mode = helper_mode(p, o->detach, o->timens);
		json_t *args = json_array();
		json_array_append_new(args, json_string(CM_EXEC_HELPER_PATH));
		json_array_append_new(args, json_string(mode));
		json_array_extend(args, o->args);
		json_object_set_new(p, "args", args);
	}
	if (o->helper && o->timens) {
		json_t *caps = json_object_get(p, "capabilities");
		if (!json_is_object(caps)) {
			caps = json_object();
			json_object_set_new(p, "capabilities", caps);
		}
		for (size_t k = 0; k < sizeof(cap_sets) / sizeof(cap_sets[0]); k++) {
			json_t *set = json_object_get(caps, cap_sets[k]);
			if (!json_is_array(set)) {
				set = json_array();
				json_object_set_new(caps, cap_sets[k], set);
			}
			for (size_t c = 0; c < N_HELPER_CAPS; c++)
				if (!has_cap(set, helper_caps[c]))
					json_array_append_new(set, json_string(helper_caps[c]));
		}
	}
	return p;
}

int cm_exec_env_file_parse(const char *text, const char *what, json_t *env, struct cm_error *err)
{
	cm_autofree char *copy = cm_strdup(text);
	int lineno = 0;
	for (char *save, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line += strspn(line, " \t");
		size_t len = strlen(line);
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if (!*line || *line == '#')
			continue;
		char *eq = strchr(line, '=');
		size_t keylen = eq ? (size_t)(eq - line) : len;
		if (keylen == 0)
			return cm_err(err, 0, "%s: line %d: no variable name before '='", what, lineno);
		for (size_t k = 0; k < keylen; k++)
			if (isspace((unsigned char)line[k]))
				return cm_err(err, 0, "%s: line %d: variable name '%.*s' has white space",
					      what, lineno, (int)keylen, line);
		if (eq) {
			json_array_append_new(env, json_string(line));
			continue;
		}
		const char *val = getenv(line);
		if (val) {
			cm_autofree char *kv = cm_strfmt("%s=%s", line, val);
			json_array_append_new(env, json_string(kv));
		}
	}
	return 0;
}

char *cm_exec_runc_error(const char *log)
{
	char *found = NULL;
	cm_autofree char *copy = cm_strdup(log ? log : "");
	for (char *save, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
		const char *lvl = cm_json_str(o, "level"), *msg = cm_json_str(o, "msg");
		if (lvl && msg && (!strcmp(lvl, "error") || !strcmp(lvl, "fatal"))) {
			free(found);
			/* "exec failed: unable to start container process: exec: ..." */
			const char *p = strstr(msg, "unable to start container process: ");
			found = cm_strdup(p ? p + strlen("unable to start container process: ") : msg);
		}
		json_decref(o);
	}
	return found;
}

int cm_exec_status(int runc_status, const char *runc_log)
{
	if (runc_status != 255)
		return runc_status;
	cm_autofree char *msg = cm_exec_runc_error(runc_log);
	if (!msg)
		return runc_status; /* the command's own 255 */
	const char *why = msg;
	if (strncmp(why, "exec: ", 6))
		return 125;
	if (strstr(why, "executable file not found") || strstr(why, "no such file or directory"))
		return CM_EXEC_NOT_FOUND;
	if (strstr(why, "permission denied") || strstr(why, "is a directory") ||
	    strstr(why, "exec format error"))
		return CM_EXEC_CANNOT_RUN;
	return 125;
}

void cm_exec_argv(struct cm_argv *a, const char *runtime, const char *runc_root, const char *log,
		  const char *process_file, int preserve_fds, const char *id)
{
	cm_argv_add(a, runtime);
	cm_argv_add(a, "--root");
	cm_argv_add(a, runc_root);
	cm_argv_add(a, "--log");
	cm_argv_add(a, log);
	cm_argv_add(a, "--log-format");
	cm_argv_add(a, "json");
	cm_argv_add(a, "exec");
	if (preserve_fds > 0)
		cm_argv_addf(a, "--preserve-fds=%d", preserve_fds);
	cm_argv_add(a, "--process");
	cm_argv_add(a, process_file);
	cm_argv_add(a, id);
}
