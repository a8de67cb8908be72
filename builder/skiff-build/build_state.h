/* build_state.h — whether the build should stop, and its phase. */
#ifndef SKIFF_BUILD_BUILD_STATE_H
#define SKIFF_BUILD_BUILD_STATE_H

#include "build.h"

/* The SIGTERM/SIGINT handler: the build stops at its next check. */
void build_state_on_signal(int sig);
/* The signal received, or 0. */
int build_state_signal(void);
/* true once the build should stop: a SIGTERM/SIGINT, or the deployment was canceled. */
bool build_stopped(struct build *b);
/* Records the phase in the deployment record (the state stays building). */
int build_phase(struct build *b, const char *phase, struct error *err);

#endif
