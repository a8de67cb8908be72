/* modules.h — a project's node_modules kept in its build cache between builds: restored into
 * the checkout with rename(2) when nothing that decides its content changed, kept again after
 * a successful build. One tree per key (a preview branch's other lockfile does not push out
 * production's), the last few saved. */
#ifndef SKIFF_BUILD_MODULES_H
#define SKIFF_BUILD_MODULES_H

#include "build.h"

/* What the dispatched npm ci becomes on a restored node_modules: an install that keeps it and
 * installs what the lockfile says (package.json and the lockfile agreed when it was saved: the
 * key holds both), without writing the lockfile. */
#define BUILD_MODULES_INSTALL "npm install --prefer-offline --no-audit --no-fund --no-save"

/* Before the install step (b->cache_dir open, variables loaded): computes the key of the
 * checkout's node_modules (its lockfiles, package.json, .npmrc and the like, the install
 * command, the project's variables, the node, npm, pnpm and yarn installed, the platform);
 * when the project keeps a node_modules of that key, moves it into the checkout and, for the
 * detected `npm ci` (which deletes node_modules), runs BUILD_MODULES_INSTALL instead. Each
 * decision is a line in the build log; b->modules_key stays "" when nothing will be kept
 * (no package.json, a repository that carries node_modules, `npm ci` given by the user, the
 * cache on another filesystem than the work directory). */
void build_modules_restore(struct build *b);
/* After a successful build: moves the checkout's node_modules into the cache under
 * b->modules_key, replacing one kept under that key in one rename, and removes the oldest
 * trees of other keys past the last few. */
void build_modules_save(struct build *b);
/* Removes what a build killed between two renames left in cache_dir (called while no other
 * build holds the cache). */
void build_modules_sweep(const char *cache_dir);

#endif
