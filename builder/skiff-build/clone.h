/* clone.h — the checkout of the deployment's commit. */
#ifndef SKIFF_BUILD_CLONE_H
#define SKIFF_BUILD_CLONE_H

#include "build.h"

/* The checkout of the deployment's commit into b->repo; records commit and message. */
int build_clone(struct build *b, struct error *err);

#endif
