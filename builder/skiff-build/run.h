/* run.h — the install and build commands. */
#ifndef SKIFF_BUILD_RUN_H
#define SKIFF_BUILD_RUN_H

#include "build.h"

/* The commands' PATH (inside the sandbox, /usr is the host's) */
#define RUN_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Runs the install and build commands. */
int build_run(struct build *b, struct error *err);
struct gitauth;
/* `skiff-build --clone URL DIR [BRANCH]` in the sandbox, with the build's network and
 * limits, and auth's credentials on a descriptor of their own; b->repo is the clone
 * afterwards, and auth->seen the SSH host key it saw. */
int build_run_clone(struct build *b, const char *url, const char *branch, struct gitauth *auth,
		    struct error *err);

#endif
