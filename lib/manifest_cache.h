/* manifest_cache.h — skiff-serve's in-process cache of parsed manifests, keyed by deployment
 * id (manifests never change), bounded in bytes and entries, least recently used out first. */
#ifndef SKIFF_MANIFEST_CACHE_H
#define SKIFF_MANIFEST_CACHE_H

#include <stddef.h>
#include "manifest.h"

#define MANIFEST_CACHE_BYTES (128u << 20)
#define MANIFEST_CACHE_ENTRIES 1024

struct manifest_cache;

struct manifest_cache *manifest_cache_new(size_t max_bytes, size_t max_entries);
void manifest_cache_free(struct manifest_cache *c);
/* The cached manifest of deployment id (and marks it recently used), NULL on a miss.
 * Borrowed: valid until the next manifest_cache_put. O(1). */
struct manifest *manifest_cache_get(struct manifest_cache *c, const char *id);
/* Takes m (keyed by id) and evicts least recently used entries while over the bounds; the
 * newest entry stays even when it alone exceeds max_bytes. */
void manifest_cache_put(struct manifest_cache *c, const char *id, struct manifest *m);
size_t manifest_cache_count(const struct manifest_cache *c);
size_t manifest_cache_bytes(const struct manifest_cache *c);

#endif
