/* clone.h — the checkout of the deployment's commit. */
#ifndef SKIFF_BUILD_CLONE_H
#define SKIFF_BUILD_CLONE_H

#include "build.h"

/* The checkout of the deployment's commit into b->repo; records commit and message. */
int build_clone(struct build *b, struct error *err);
/* That clone's side, inside the sandbox (`skiff-build --clone`): progress on stdout, the
 * error on stderr; the exit status (BUILD_CLONE_EXIT_TOO_BIG past the size limit). */
int build_clone_child(int argc, char **argv);

#endif
