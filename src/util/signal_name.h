/* Signal names as Docker, Podman and image configs write them: "SIGTERM",
 * "TERM", "term" or "15". */
#ifndef CM_SIGNAL_NAME_H
#define CM_SIGNAL_NAME_H

/* Returns 0 and sets *out, or -1 for a name or number that is no signal. */
int cm_signal_parse(const char *s, int *out);

#endif
