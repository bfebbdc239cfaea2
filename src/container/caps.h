/* Linux capability names and numbers, as OCI specs and CRIU's images use them. */
#ifndef CM_CAPS_H
#define CM_CAPS_H

#include <stdint.h>

/* The highest capability number this table knows (CAP_CHECKPOINT_RESTORE). */
#define CM_CAP_LAST 40

/* "CAP_SYS_ADMIN" (or "SYS_ADMIN", any case, as Docker's --cap-add takes
 * it) -> 21; -1 for a name that is not a capability. */
int cm_cap_number(const char *name);
/* 21 -> "CAP_SYS_ADMIN"; NULL past CM_CAP_LAST. */
const char *cm_cap_name(int n);

#endif
