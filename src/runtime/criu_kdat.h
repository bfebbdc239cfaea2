/* CRIU's kernel probe cache, kept where /run is not a tmpfs (see the .c). */
#ifndef CM_CRIU_KDAT_H
#define CM_CRIU_KDAT_H

/* Best effort, before starting CRIU: on failure CRIU just probes again. */
void cm_criu_kdat_keep(void);

#endif
