/* store_s3.h — the s3 backend of store.h: the same keys as the file backend under s3_prefix
 * (blobs/{h[0:2]}/{h}, manifests/{id}.json, logs/{id}.log), and a local blob cache for
 * skiff-serve (cache_path) bounded by cache_max_mb with LRU eviction. store.c hands every
 * call over to these functions when cfg->store is "s3"; they have store.h's contracts. */
#ifndef SKIFF_STORE_S3_H
#define SKIFF_STORE_S3_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "config.h"
#include "error.h"
#include "store.h"

struct store_s3;

/* Opens the S3 client; the cache directory is created on first use. */
int store_s3_open(struct store_s3 **out, const struct config *cfg, struct error *err);
void store_s3_free(struct store_s3 *s);

int store_s3_blob_exists(struct store_s3 *s, const char *hash, struct error *err);
int store_s3_blob_put(struct store_s3 *s, const char *hash, const char *src_path,
		      const char *content_type, struct error *err);
/* The cache entry of the blob: a hit costs one stat; a miss one GET into a temp file,
 * verified against the hash before the atomic rename. */
int store_s3_blob_path(struct store_s3 *s, const char *hash, char out[STORE_PATH_MAX],
		       struct error *err);
int store_s3_blob_delete(struct store_s3 *s, const char *hash, struct error *err);
int store_s3_object_put(struct store_s3 *s, const char *key, const void *data, size_t len,
			const char *content_type, struct error *err);
int store_s3_object_get(struct store_s3 *s, const char *key, struct buf *out,
			struct error *err);
int store_s3_object_delete(struct store_s3 *s, const char *key, struct error *err);
int store_s3_list(struct store_s3 *s, const char *prefix,
		  int (*fn)(const char *key, long long age_s, void *ctx), void *ctx,
		  struct error *err);
int store_s3_check(struct store_s3 *s, struct error *err);
const char *store_s3_sendfile_root(const struct store_s3 *s);

/* store_blobs_put (struct store_upload is in store.h): the blobs the bucket lacks (HEAD
 * each, PUT the missing), s3_parallel at once, each signed with its hash so that S3 refuses
 * changed bytes. Stops at the first failure. */
int store_s3_blobs_put(struct store_s3 *s, struct store_upload *u, size_t n,
		       struct error *err);

/* ---- the blob cache, exposed for tests ---- */

/* Adds bytes to the cache's usage counter and evicts least recently used blobs when it
 * passes max_bytes, down to 80% of it. Entries used within grace_s seconds are kept. */
int store_s3_cache_account(const char *root, long long bytes, unsigned long long max_bytes,
			   long grace_s, struct error *err);
/* Scans the cache and evicts down to target bytes; returns the bytes left (>= 0). */
long long store_s3_cache_evict(const char *root, unsigned long long target, long grace_s);

#endif
