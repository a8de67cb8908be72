/* store_backend.h — the interface between store.c and a store backend (store_file.c,
 * store_s3.c), in the manner of libgit2's git_odb_backend: a backend is a struct whose first
 * member is a struct store_backend, and store.c calls it only through its ops.
 *
 * store.c validates every hash and deployment id and builds every key ("blobs/ab/{hash}",
 * "manifests/{id}.json", "logs/{id}.log") before it calls an op, so a backend receives only
 * well-formed keys. Each op has the contract of the store.h function of the same name. */
#ifndef SKIFF_STORE_BACKEND_H
#define SKIFF_STORE_BACKEND_H

#include <stddef.h>
#include "buf.h"
#include "error.h"
#include "store.h"

#define STORE_KEY_MAX 128    /* the longest key store.c builds, with its NUL */

struct store_backend;

struct store_ops {
	/* 1 when the blob exists, 0 when not. */
	int (*blob_exists)(struct store_backend *b, const char *key, struct error *err);
	int (*blob_put)(struct store_backend *b, const char *hash, const char *key,
			const char *src_path, const char *content_type, struct error *err);
	/* Optional: the batch upload; without it store.c puts the blobs one by one. */
	int (*blobs_put)(struct store_backend *b, struct store_upload *u,
			 const char *const *keys, size_t n, struct error *err);
	int (*blob_path)(struct store_backend *b, const char *hash, const char *key,
			 char out[STORE_PATH_MAX], struct error *err);
	/* size: what the answer promises (store_blob_serve_path) */
	int (*blob_serve_path)(struct store_backend *b, const char *hash, const char *key,
			       long long size, char out[STORE_PATH_MAX], struct error *err);
	int (*blob_delete)(struct store_backend *b, const char *hash, const char *key,
			   struct error *err);
	/* Optional: a URL a client PUTs the blob to itself (0 with out filled); without it
	 * store_blob_upload_url answers 0 and blobs go through skiff. */
	int (*blob_upload_url)(struct store_backend *b, const char *hash, const char *key,
			       long expires, struct store_upload_url *out, struct error *err);
	/* Optional: makes the blobs stored so far durable before a manifest names them. */
	void (*blobs_sync)(struct store_backend *b);
	/* Small objects by key; put is atomic. */
	int (*object_put)(struct store_backend *b, const char *key, const void *data, size_t len,
			  const char *content_type, struct error *err);
	int (*object_get)(struct store_backend *b, const char *key, struct buf *out,
			  struct error *err);
	int (*object_delete)(struct store_backend *b, const char *key, struct error *err);
	/* Calls fn for every key under dir ("blobs/", "manifests/", "logs/") with its age in
	 * seconds; stops when fn returns nonzero. */
	int (*list)(struct store_backend *b, const char *dir,
		    int (*fn)(const char *key, long long age_s, void *ctx), void *ctx,
		    struct error *err);
	int (*check)(struct store_backend *b, struct error *err);
	const char *(*sendfile_root)(const struct store_backend *b);
	void (*free)(struct store_backend *b);
};

struct store_backend {
	const struct store_ops *ops;
};

#endif
