/* run.h — the install and build commands. */
#ifndef SKIFF_BUILD_RUN_H
#define SKIFF_BUILD_RUN_H

#include "build.h"

/* Runs the install and build commands. */
int build_run(struct build *b, struct error *err);

#endif
