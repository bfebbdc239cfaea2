/* policy.json in the configuration folder: what this host demands of the
 * archives it restores. */
#include "config_dir.h"
#include "error.h"
#include "jsonio.h"
#include "trust.h"
#include "util.h"

#include <string.h>

#define POLICY_FILE "policy.json"
#define POLICY_MAX (64 << 10)

int cm_trust_policy_requires_signature(bool *out, struct cm_error *err)
{
	*out = false;
	cm_autofree char *path = cm_config_path(POLICY_FILE);
	if (!cm_path_exists(path))
		return 0;
	size_t len = 0;
	cm_autofree char *text = cm_read_file_max(path, POLICY_MAX, &len, err);
	if (!text)
		return -1;
	json_t *policy = cm_json_parse(text, len, path, err), *v;
	if (!policy)
		return -1;
	int ret = 0;
	const char *key;
	if (!json_is_object(policy))
		ret = cm_err(err, 0, "%s: not a JSON object", path);
	json_object_foreach(policy, key, v) {
		if (ret < 0)
			break;
		if (strcmp(key, "require_signature")) {
			cm_autofree char *q = cm_json_quote(key, 64);
			ret = cm_err(err, 0, "%s: unknown key %s (known: require_signature)", path, q);
		} else if (!json_is_boolean(v))
			ret = cm_err(err, 0, "%s: require_signature must be true or false", path);
		else
			*out = json_is_true(v);
	}
	json_decref(policy);
	return ret;
}
