#include "signal_name.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cm_signal_parse(const char *s, int *out)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
		{ "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "ALRM", SIGALRM },
		{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "WINCH", SIGWINCH }, { "PWR", SIGPWR },
		{ "ABRT", SIGABRT }, { "TSTP", SIGTSTP }, { "URG", SIGURG },   { "SYS", SIGSYS },
	};
	if (s[0] >= '0' && s[0] <= '9') {
		char *end;
		long v = strtol(s, &end, 10);
		if (*end || v < 1 || v >= NSIG)
			return -1;
		*out = (int)v;
		return 0;
	}
	const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (strcasecmp(name, sigs[i].name) == 0) {
			*out = sigs[i].sig;
			return 0;
		}
	}
	return -1;
}
