/* Where ctrmig's host configuration lives (the signing key, trusted keys,
 * policy.json): --config-dir, else $CTRMIG_CONFIG_DIR, else /etc/ctrmig. */
#ifndef CM_CONFIG_DIR_H
#define CM_CONFIG_DIR_H

#define CM_DEFAULT_CONFIG_DIR "/etc/ctrmig"

/* The folder; it need not exist yet. */
const char *cm_config_dir(void);
/* main's --config-dir; NULL goes back to the environment and the default. */
void cm_config_dir_set(const char *dir);
/* A file inside the folder; the caller frees it. */
char *cm_config_path(const char *name);

#endif
