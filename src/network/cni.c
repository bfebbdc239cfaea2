#include "cni.h"
#include "error.h"
#include "jsonio.h"
#include "proc_spawn.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

const char *cm_cni_path(void)
{
	const char *p = getenv("CTRMIG_CNI_PATH");
	return p && *p ? p : "/usr/lib/cni:/opt/cni/bin";
}

/* The plugin's full path, from the first folder of the CNI path holding it. */
static char *plugin_path(const char *type)
{
	if (!type || !*type || strchr(type, '/') || !strcmp(type, ".") || !strcmp(type, ".."))
		return NULL;
	return cm_find_executable(cm_cni_path(), type);
}

bool cm_cni_plugin_found(const char *type)
{
	cm_autofree char *p = plugin_path(type);
	return p != NULL;
}

json_t *cm_cni_plugin_config(json_t *conflist, json_t *entry, json_t *capability_args,
			     json_t *prev_result)
{
	json_t *conf = json_deep_copy(entry);
	json_object_set(conf, "cniVersion", json_object_get(conflist, "cniVersion"));
	json_object_set(conf, "name", json_object_get(conflist, "name"));
	/* Only the capabilities this plugin declares reach it. */
	json_t *caps = json_object_get(entry, "capabilities"), *rc = json_object(), *v;
	const char *k;
	json_object_foreach(caps, k, v) {
		json_t *arg = json_object_get(capability_args, k);
		if (json_is_true(v) && arg)
			json_object_set(rc, k, arg);
	}
	if (json_object_size(rc))
		json_object_set(conf, "runtimeConfig", rc);
	json_decref(rc);
	json_object_del(conf, "capabilities");
	if (prev_result)
		json_object_set(conf, "prevResult", prev_result);
	return conf;
}

/* The caller's environment with the CNI variables appended, so they win. */
static char **plugin_env(const struct cm_cni_call *c, const char *command)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = cm_malloc((n + 8) * sizeof(*env));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CNI_", 4))
			env[k++] = cm_strdup(environ[i]);
	env[k++] = cm_strfmt("CNI_COMMAND=%s", command);
	env[k++] = cm_strfmt("CNI_CONTAINERID=%s", c->container_id);
	env[k++] = cm_strfmt("CNI_NETNS=%s", c->netns ? c->netns : "");
	env[k++] = cm_strfmt("CNI_IFNAME=%s", c->ifname);
	env[k++] = cm_strfmt("CNI_ARGS=%s", c->args ? c->args : "");
	env[k++] = cm_strfmt("CNI_PATH=%s", cm_cni_path());
	env[k] = NULL;
	return env;
}

static void env_free(char **env)
{
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

/* The plugin's error in one line: its result's msg and details, else the
 * last line it logged. */
static int plugin_error(struct cm_error *err, const char *type, const struct cm_spawn_io *io)
{
	json_t *j = json_loads(io->out, 0, NULL);
	const char *msg = cm_json_str(j, "msg"), *details = cm_json_str(j, "details");
	int ret;
	if (msg && details && *details)
		ret = cm_err(err, 0, "plugin %s: %s: %s", type, msg, details);
	else if (msg)
		ret = cm_err(err, 0, "plugin %s: %s", type, msg);
	else {
		cm_autofree char *line = cm_spawn_last_line(*io->errout ? io->errout : io->out);
		ret = cm_err(err, 0, "plugin %s failed (status %d)%s%s", type, io->status,
			     *line ? ": " : "", line);
	}
	json_decref(j);
	return ret;
}

/* Runs one plugin; returns its result (ADD) or an empty object (DEL). */
static json_t *run_plugin(const struct cm_cni_call *c, const char *command, json_t *entry,
			  json_t *prev, struct cm_error *err)
{
	const char *type = cm_json_str(entry, "type");
	cm_autofree char *path = plugin_path(type);
	if (!path) {
		cm_err(err, 0, "CNI plugin '%s' not found in %s (Debian: apt install containernetworking-plugins)",
		       type ? type : "", cm_cni_path());
		return NULL;
	}
	json_t *conf = cm_cni_plugin_config(c->conflist, entry, c->capability_args, prev);
	cm_autofree char *input = json_dumps(conf, JSON_COMPACT);
	json_decref(conf);
	char **env = plugin_env(c, command);
	char *argv[] = { path, NULL };
	struct cm_spawn_io io = { .input = input, .input_len = strlen(input) };
	int ret = cm_spawn_io(argv, env, &io, err);
	env_free(env);
	json_t *result = NULL;
	if (ret == 0 && io.status != 0)
		plugin_error(err, type, &io);
	else if (ret == 0 && !strcmp(command, "DEL"))
		result = json_object();
	else if (ret == 0) {
		json_error_t je;
		result = json_loads(io.out, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(result)) {
			json_decref(result);
			result = NULL;
			cm_err(err, 0, "plugin %s: its result is not JSON: %s", type, je.text);
		}
	}
	cm_debug("cni %s %s: status %d%s%s", command, type, io.status, *(io.errout ? io.errout : "") ? ", logged: " : "",
		 io.errout ? io.errout : "");
	free(io.out);
	free(io.errout);
	return result;
}

json_t *cm_cni_add(const struct cm_cni_call *c, struct cm_error *err)
{
	json_t *plugins = json_object_get(c->conflist, "plugins"), *entry, *prev = NULL;
	size_t i;
	json_array_foreach(plugins, i, entry) {
		json_t *result = run_plugin(c, "ADD", entry, prev, err);
		json_decref(prev);
		if (!result)
			return NULL;
		prev = result;
	}
	if (!prev)
		cm_err(err, 0, "network %s has no plugins", cm_json_str(c->conflist, "name"));
	return prev;
}

int cm_cni_del(const struct cm_cni_call *c, json_t *prev_result, struct cm_error *err)
{
	json_t *plugins = json_object_get(c->conflist, "plugins");
	int ret = 0;
	for (size_t i = json_array_size(plugins); i-- > 0;) {
		struct cm_error one = { 0 };
		json_t *r = run_plugin(c, "DEL", json_array_get(plugins, i), prev_result, &one);
		if (!r && ret == 0)
			ret = cm_err(err, 0, "%s", one.msg);
		cm_error_clear(&one);
		json_decref(r);
	}
	return ret;
}
