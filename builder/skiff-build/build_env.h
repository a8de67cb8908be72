/* build_env.h — the environment of a build's install and build commands: the project's
 * variables of the deployment's context (secrets opened) and skiff's own SKIFF_* ones. */
#ifndef SKIFF_BUILD_BUILD_ENV_H
#define SKIFF_BUILD_BUILD_ENV_H

#include "build.h"

/* Fills b->env and b->mask after the clone (SKIFF_COMMIT is known then), and logs the names
 * (never a value). A secret that cannot be opened (another key, altered) fails the build
 * with a message naming the variable. */
int build_env_load(struct build *b, struct error *err);
/* Frees b->env and b->mask, wiping the values. */
void build_env_dispose(struct build *b);

#endif
