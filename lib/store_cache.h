/* store_cache.h — skiff-serve's local copy of blobs that live elsewhere (the s3 backend):
 * {root}/{h[0:2]}/{h}, each entry filled through a temp file, verified against its hash and
 * renamed into place; bounded by max_bytes with LRU eviction by access time; shared by any
 * number of processes (flock on a usage counter and on the eviction). */
#ifndef SKIFF_STORE_CACHE_H
#define SKIFF_STORE_CACHE_H

#include "error.h"
#include "store.h"

struct store_cache;

/* A cache in root (absolute, no trailing '/'), created on first fill. */
void store_cache_new(struct store_cache **out, const char *root, unsigned long long max_bytes);
void store_cache_free(struct store_cache *c);
const char *store_cache_root(const struct store_cache *c);
unsigned long long store_cache_max(const struct store_cache *c);

/* The entry's path into out; 1 on a hit (its use recorded for LRU), 0 on a miss. An entry of
 * another size than size (-1: any) is hashed: a file that is not the blob (cut short or
 * changed on disk) is removed and counts as a miss; one that is (the size was wrong) a hit. */
int store_cache_lookup(struct store_cache *c, const char *hash, long long size,
		       char out[STORE_PATH_MAX], struct error *err);
/* A temp file for a fill of hash: its descriptor (>= 0), its path in tmp. */
int store_cache_tmp_open(struct store_cache *c, const char *hash, char tmp[STORE_PATH_MAX],
			 struct error *err);
/* Ends a fill: closes fd, verifies the temp file's bytes against hash and renames it to the
 * entry's path (from store_cache_lookup), then accounts for its size. On failure the temp
 * file is removed. */
int store_cache_commit(struct store_cache *c, const char *hash, int fd, const char *tmp,
		       const char *path, struct error *err);
/* Removes the entry of hash, if any. */
void store_cache_drop(struct store_cache *c, const char *hash);

/* Adds bytes to the usage counter of the cache in root and evicts least recently used
 * entries when it passes max_bytes, down to 80% of it. Entries used within grace_s seconds
 * are kept. */
int store_cache_account(const char *root, long long bytes, unsigned long long max_bytes,
			long grace_s, struct error *err);
/* Scans the cache and evicts down to target bytes; returns the bytes left (>= 0), or -1 when
 * another process is evicting. */
long long store_cache_evict(const char *root, unsigned long long target, long grace_s);

#endif
