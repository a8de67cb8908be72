/* store_s3.h — the s3 backend of the store: the same keys as the file backend under
 * s3_prefix, and blobs served from a local cache (store_cache.h) in cache_path, bounded by
 * cache_max_mb. */
#ifndef SKIFF_STORE_S3_H
#define SKIFF_STORE_S3_H

#include "config.h"
#include "error.h"
#include "store_backend.h"

/* Opens the S3 client with its cache in dir (absolute, no trailing '/'), created on first
 * use. */
int store_s3_open(struct store_backend **out, const struct config *cfg, const char *dir,
		  struct error *err);

#endif
