#include "config_dir.h"
#include "util.h"

#include <stdlib.h>

static const char *override;

void cm_config_dir_set(const char *dir)
{
	override = dir;
}

const char *cm_config_dir(void)
{
	if (override && *override)
		return override;
	const char *env = getenv("CTRMIG_CONFIG_DIR");
	return env && *env ? env : CM_DEFAULT_CONFIG_DIR;
}

char *cm_config_path(const char *name)
{
	return cm_path_join(cm_config_dir(), name);
}
