/* store.h — where deployments' bytes live: content-addressed blobs,
 * one manifest per deployment, archived logs. Backends: file (a local directory,
 * store_file.c) and s3 (store_s3.c), behind one table (store_backend.h). Callers name
 * blobs by hash and manifests and logs by deployment id; only store.c knows the keys. */
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
 * system (the web server's open is the only check), the s3 backend as store_blob_path, where
 * a cache entry of another size than size (the manifest's; -1: unknown) is checked against
 * its hash and fetched again when it is not the blob (a file cut short on disk). */
int store_blob_serve_path(struct store *s, const char *hash, long long size,
			  char out[STORE_PATH_MAX], struct error *err);
/* Where the blob's bytes are, or will be, on this machine, without looking (the s3 backend's
 * cache entry may be missing): for the web server's fast path (lib/fastpath.c). */
int store_blob_local_path(struct store *s, const char *hash, char out[STORE_PATH_MAX],
			  struct error *err);
int store_blob_delete(struct store *s, const char *hash, struct error *err);

#define STORE_UPLOAD_URL_MAX 16384   /* a presigned URL: a session token in it, encoded, fits */
#define STORE_UPLOAD_HEADERS 3

/* Where a client may PUT a blob's bytes itself, past skiff: the URL, and the headers it must
 * send with exactly these values (one of them holds the store to the blob's hash). */
struct store_upload_url {
	char url[STORE_UPLOAD_URL_MAX];
	struct {
		const char *name;
		char value[64];
	} headers[STORE_UPLOAD_HEADERS];
	size_t nheaders;
};

/* A direct upload of blob hash for expires seconds: 1 with out filled, 0 when the backend
 * has no such thing (the file store: blobs go through skiff), negative on failure. */
int store_blob_upload_url(struct store *s, const char *hash, long expires,
			  struct store_upload_url *out, struct error *err);

/* One blob of a batch upload. */
struct store_upload {
	const char *hash;              /* SHA-256 hex of the file's bytes */
	const char *path;              /* the file */
	const char *content_type;
	bool uploaded;                 /* out: false when the store had it already */
	unsigned long long bytes;      /* out: bytes stored */
	const char *content_encoding;  /* "gzip" or "br" for a compressed variant, else NULL */
};
/* Stores the blobs the store lacks; the s3 backend sends s3_parallel at once. Stops at the
 * first failure. */
int store_blobs_put(struct store *s, struct store_upload *u, size_t n, struct error *err);

/* The manifest of deployment id (a JSON document). Put is atomic and comes after the blobs
 * it names are durable; get fails with SKIFF_ENOTFOUND, or SKIFF_ELIMIT past out->max. */
int store_manifest_put(struct store *s, const char *id, const char *json, size_t len,
		       struct error *err);
int store_manifest_get(struct store *s, const char *id, struct buf *out, struct error *err);
int store_manifest_delete(struct store *s, const char *id, struct error *err);

/* The archived build log of deployment id (plain text), with the same contracts. */
int store_log_put(struct store *s, const char *id, const char *text, size_t len,
		  struct error *err);
int store_log_get(struct store *s, const char *id, struct buf *out, struct error *err);
int store_log_delete(struct store *s, const char *id, struct error *err);

/* Call fn for every stored blob (by hash), manifest or archived log (by deployment id) with
 * its age in seconds; stop when fn returns nonzero. What is not a well-formed blob, manifest
 * or log is skipped. */
int store_blob_list(struct store *s, int (*fn)(const char *hash, long long age_s, void *ctx),
		    void *ctx, struct error *err);
int store_manifest_list(struct store *s, int (*fn)(const char *id, long long age_s, void *ctx),
			void *ctx, struct error *err);
int store_log_list(struct store *s, int (*fn)(const char *id, long long age_s, void *ctx),
		   void *ctx, struct error *err);

/* 0 when the store answers. */
int store_check(struct store *s, struct error *err);

/* The directory X-Sendfile paths live under (file: store_path/blobs; s3: cache_path). */
const char *store_sendfile_root(const struct store *s);

/* 1 when hash is 64 lowercase hex digits. */
int store_hash_valid(const char *hash);

#endif
