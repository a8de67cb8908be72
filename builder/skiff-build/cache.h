/* cache.h — the project's build cache: package-manager caches (npm, pnpm, yarn) and its
 * node_modules (modules.h) kept between builds of one project under build_cache_path, bounded
 * by build_cache_mb across projects. */
#ifndef SKIFF_BUILD_CACHE_H
#define SKIFF_BUILD_CACHE_H

#include "build.h"

#define BUILD_CACHE_KINDS 3
/* The package managers' directories in a project's cache: npm, pnpm, yarn. */
extern const char *const build_cache_kinds[BUILD_CACHE_KINDS];

/* Opens the project's cache directory (build_cache_path/{slug}-{created}: a project deleted
 * and made again under the same name does not inherit it), emptied first when the deployment
 * asks for it, and holds it (shared lock) until build_cache_close. b->cache_dir stays empty
 * when the cache is off (build_cache_mb = 0) or cannot be used (logged; the build goes on
 * without it). */
void build_cache_open(struct build *b);
/* Keeps the checkout's node_modules for the next build when keep (the build succeeded), then
 * releases the cache and evicts least recently used project caches until all of them fit
 * build_cache_mb; one held by a running build is skipped. */
void build_cache_close(struct build *b, bool keep);

#endif
