/* store.h — where deployments' bytes live (DESIGN.md section 4): content-addressed blobs,
 * one manifest per deployment, archived logs. Backends: file (a local directory) and s3. */
#ifndef SKIFF_STORE_H
#define SKIFF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "config.h"
#include "error.h"

#define STORE_HASH_LEN 64      /* SHA-256 in lowercase hex */
#define STORE_PATH_MAX 1024

struct store;

/* Opens the backend named by cfg->store. The file backend creates its directories. */
int store_open(struct store **out, const struct config *cfg, struct error *err);
void store_free(struct store *s);

/* 1 when the blob exists, 0 when not, negative on failure. */
int store_blob_exists(struct store *s, const char *hash, struct error *err);
/* Stores the file at src_path as blob hash (the caller computed the hash). Atomic: the blob
 * appears whole or not at all. Existing blobs are left untouched (written once). */
int store_blob_put(struct store *s, const char *hash, const char *src_path,
		   const char *content_type, struct error *err);
/* A local path holding the blob's bytes, for X-Sendfile or streaming: the file backend's own
 * file; the s3 backend's cache entry (filled and verified on a miss). SKIFF_ENOTFOUND. */
int store_blob_path(struct store *s, const char *hash, char out[STORE_PATH_MAX],
		    struct error *err);
/* The same path for the serve hot path: the file backend answers without touching the file
 * system (the web server's open is the only check), the s3 backend as store_blob_path. */
int store_blob_serve_path(struct store *s, const char *hash, char out[STORE_PATH_MAX],
			  struct error *err);
int store_blob_delete(struct store *s, const char *hash, struct error *err);

/* Small objects by key: "manifests/{id}.json", "logs/{id}.log". Atomic put. */
int store_object_put(struct store *s, const char *key, const void *data, size_t len,
		     const char *content_type, struct error *err);
int store_object_get(struct store *s, const char *key, struct buf *out, struct error *err);
int store_object_delete(struct store *s, const char *key, struct error *err);

/* Calls fn for every key under prefix ("blobs/", "manifests/") with its age in seconds;
 * stops when fn returns nonzero. */
int store_list(struct store *s, const char *prefix,
	       int (*fn)(const char *key, long long age_s, void *ctx), void *ctx,
	       struct error *err);
/* 0 when the store answers. */
int store_check(struct store *s, struct error *err);

/* The directory X-Sendfile paths live under (file: store_path/blobs; s3: cache_path). */
const char *store_sendfile_root(const struct store *s);

/* One blob of a batch upload (s3 backend, issue 5). */
struct store_upload {
	const char *hash;              /* SHA-256 hex of the file's bytes */
	const char *path;              /* the file */
	const char *content_type;
	bool uploaded;                 /* out: false when the store had it already */
	unsigned long long bytes;      /* out: bytes stored */
	const char *content_encoding;  /* "gzip" or "br" for a compressed variant, else NULL */
};
/* Stores the blobs the store lacks; the s3 backend sends s3_parallel at once. Stops at the
 * first failure. (s3 backend, issue 5) */
int store_blobs_put(struct store *s, struct store_upload *u, size_t n, struct error *err);

/* Copies an absolute directory path without trailing '/' into out[outlen] (a configuration
 * key's value; name is the key for the error message). Shared by the backends. */
int store_dir_normalize(const char *path, const char *name, char *out, size_t outlen,
			struct error *err);

/* 1 when hash is 64 lowercase hex digits. */
int store_hash_valid(const char *hash);

#endif
