/* store.c — the store's public face: picks the backend, validates hashes and deployment ids,
 * lays out the keys, and hands every call to the backend's ops (store_backend.h). */
#include "store.h"
#include "hex.h"
#include "id.h"
#include "path.h"
#include "store_backend.h"
#include "store_file.h"
#include "store_s3.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STORE_DIR_MAX 768    /* a backend's local directory; leaves room for keys under it */

#define STORE_BLOBS "blobs/"
#define STORE_MANIFESTS "manifests/"
#define STORE_MANIFEST_EXT ".json"
#define STORE_LOGS "logs/"
#define STORE_LOG_EXT ".log"

struct store {
	struct store_backend *b;
	char dir[STORE_DIR_MAX];
};

/* The backends by cfg->store, each with the configuration key of its local directory. */
static const struct store_kind {
	const char *name;
	const char *dir_key;
	size_t dir_offset;
	int (*open)(struct store_backend **out, const struct config *cfg, const char *dir,
		    struct error *err);
} store_kinds[] = {
	{ "file", "store_path", offsetof(struct config, store_path), store_file_open },
	{ "s3", "cache_path", offsetof(struct config, cache_path), store_s3_open },
};

/* Copies an absolute directory path without trailing '/' into out[outlen]. */
static int store_dir_normalize(const char *path, const char *name, char *out, size_t outlen,
			       struct error *err)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || path[0] != '/' || n >= outlen)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "%s must be an absolute path shorter than %zu bytes", name, outlen);
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

int store_open(struct store **out, const struct config *cfg, struct error *err)
{
	*out = NULL;
	const struct store_kind *k = NULL;
	for (size_t i = 0; i < sizeof(store_kinds) / sizeof(store_kinds[0]); i++)
		if (!strcmp(cfg->store, store_kinds[i].name))
			k = &store_kinds[i];
	if (!k)
		return error_set(err, SKIFF_EINVALID, "invalid_config", "unknown store '%s'",
				 cfg->store);
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	const char *dir = (const char *)cfg + k->dir_offset;
	int rc = store_dir_normalize(dir, k->dir_key, s->dir, sizeof(s->dir), err);
	if (rc == 0)
		rc = k->open(&s->b, cfg, s->dir, err);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void store_free(struct store *s)
{
	if (s && s->b)
		s->b->ops->free(s->b);
	free(s);
}

int store_hash_valid(const char *hash)
{
	if (!hash)
		return 0;
	return hex_span(hash) == STORE_HASH_LEN && hash[STORE_HASH_LEN] == '\0';
}

/* ---- keys ---- */

/* STORE_BLOBS "{h[0:2]}/{h}" of a valid hash into key (on every request: no printf) */
_Static_assert(sizeof(STORE_BLOBS) + 3 + STORE_HASH_LEN <= STORE_KEY_MAX, "blob keys fit");
static void store_blob_name(const char *hash, char key[STORE_KEY_MAX])
{
	char *p = key;
	memcpy(p, STORE_BLOBS, sizeof(STORE_BLOBS) - 1);
	p += sizeof(STORE_BLOBS) - 1;
	memcpy(p, hash, 2);
	p[2] = '/';
	memcpy(p + 3, hash, STORE_HASH_LEN + 1);
}

static int store_blob_key(const char *hash, char key[STORE_KEY_MAX], struct error *err)
{
	if (!store_hash_valid(hash))
		return error_set(err, SKIFF_EINVALID, "invalid_hash",
				 "blob hash must be 64 lowercase hex digits");
	store_blob_name(hash, key);
	return 0;
}

static int store_object_key(const char *dir, const char *id, const char *ext,
			    char key[STORE_KEY_MAX], struct error *err)
{
	if (!id || !id_valid(id))
		return error_set(err, SKIFF_EINVALID, "invalid_id", "invalid deployment id");
	snprintf(key, STORE_KEY_MAX, "%s%s%s", dir, id, ext);
	return 0;
}

/* The hash of "blobs/ab/{hash}", or NULL. */
static const char *store_blob_key_hash(const char *key)
{
	size_t pl = strlen(STORE_BLOBS);
	if (strncmp(key, STORE_BLOBS, pl) || strlen(key) != pl + 3 + STORE_HASH_LEN ||
	    key[pl + 2] != '/')
		return NULL;
	const char *h = key + pl + 3;
	return store_hash_valid(h) && !memcmp(h, key + pl, 2) ? h : NULL;
}

/* The id of "{dir}{id}{ext}" into id, or -1. */
static int store_object_key_id(const char *key, const char *dir, const char *ext,
			       char id[ID_LEN + 1])
{
	size_t dl = strlen(dir), el = strlen(ext);
	if (strncmp(key, dir, dl) || strlen(key) != dl + ID_LEN + el ||
	    strcmp(key + dl + ID_LEN, ext))
		return -1;
	memcpy(id, key + dl, ID_LEN);
	id[ID_LEN] = '\0';
	return id_valid(id) ? 0 : -1;
}

/* ---- blobs ---- */

int store_blob_exists(struct store *s, const char *hash, struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_blob_key(hash, key, err);
	return rc < 0 ? rc : s->b->ops->blob_exists(s->b, key, err);
}

int store_blob_upload_url(struct store *s, const char *hash, long expires,
			  struct store_upload_url *out, struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_blob_key(hash, key, err);
	memset(out, 0, sizeof(*out));
	if (rc < 0 || !s->b->ops->blob_upload_url)
		return rc;
	rc = s->b->ops->blob_upload_url(s->b, hash, key, expires, out, err);
	return rc < 0 ? rc : 1;
}

int store_blob_put(struct store *s, const char *hash, const char *src_path,
		   const char *content_type, struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_blob_key(hash, key, err);
	return rc < 0 ? rc : s->b->ops->blob_put(s->b, hash, key, src_path, content_type, err);
}

int store_blob_path(struct store *s, const char *hash, char out[STORE_PATH_MAX],
		    struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_blob_key(hash, key, err);
	return rc < 0 ? rc : s->b->ops->blob_path(s->b, hash, key, out, err);
}

int store_blob_serve_path(struct store *s, const char *hash, long long size,
			  char out[STORE_PATH_MAX], struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_blob_key(hash, key, err);
	return rc < 0 ? rc : s->b->ops->blob_serve_path(s->b, hash, key, size, out, err);
}

int store_blob_local_path(struct store *s, const char *hash, char out[STORE_PATH_MAX],
			  struct error *err)
{
	/* both backends keep a blob at {sendfile root}/{h[0:2]}/{h}: the file store under
	 * blobs/, the s3 backend's cache under cache_path */
	if (!store_hash_valid(hash))
		return error_set(err, SKIFF_EINVALID, NULL, "invalid blob hash");
	char key[STORE_KEY_MAX];
	store_blob_name(hash, key);
	if (path_join(out, STORE_PATH_MAX, store_sendfile_root(s), key + sizeof(STORE_BLOBS) - 1) < 0)
		return error_set(err, SKIFF_ELIMIT, NULL, "blob path too long");
	return 0;
}

int store_blob_delete(struct store *s, const char *hash, struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_blob_key(hash, key, err);
	return rc < 0 ? rc : s->b->ops->blob_delete(s->b, hash, key, err);
}

/* One by one, for a backend without a batch upload. */
static int store_blobs_put_each(struct store *s, struct store_upload *u,
				const char *const *keys, size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		int have = s->b->ops->blob_exists(s->b, keys[i], err);
		if (have < 0)
			return have;
		if (have)
			continue;
		int rc = s->b->ops->blob_put(s->b, u[i].hash, keys[i], u[i].path, u[i].content_type,
					     err);
		if (rc < 0)
			return rc;
		u[i].uploaded = true;
		struct stat st;
		if (stat(u[i].path, &st) == 0)
			u[i].bytes = (unsigned long long)st.st_size;
	}
	return 0;
}

int store_blobs_put(struct store *s, struct store_upload *u, size_t n, struct error *err)
{
	if (n == 0)
		return 0;
	char (*keys)[STORE_KEY_MAX] = calloc(n, sizeof(*keys));
	const char **kp = calloc(n, sizeof(*kp));
	if (!keys || !kp)
		abort();
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		u[i].uploaded = false;
		u[i].bytes = 0;
		kp[i] = keys[i];
		if (rc == 0)
			rc = store_blob_key(u[i].hash, keys[i], err);
	}
	if (rc == 0 && s->b->ops->blobs_put)
		rc = s->b->ops->blobs_put(s->b, u, kp, n, err);
	else if (rc == 0)
		rc = store_blobs_put_each(s, u, kp, n, err);
	free(kp);
	free(keys);
	return rc;
}

/* ---- manifests and logs ---- */

int store_manifest_put(struct store *s, const char *id, const char *json, size_t len,
		       struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_object_key(STORE_MANIFESTS, id, STORE_MANIFEST_EXT, key, err);
	if (rc < 0)
		return rc;
	/* a manifest names blobs: they are durable before it is */
	if (s->b->ops->blobs_sync)
		s->b->ops->blobs_sync(s->b);
	return s->b->ops->object_put(s->b, key, json, len, "application/json", err);
}

int store_manifest_get(struct store *s, const char *id, struct buf *out, struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_object_key(STORE_MANIFESTS, id, STORE_MANIFEST_EXT, key, err);
	return rc < 0 ? rc : s->b->ops->object_get(s->b, key, out, err);
}

int store_manifest_delete(struct store *s, const char *id, struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_object_key(STORE_MANIFESTS, id, STORE_MANIFEST_EXT, key, err);
	return rc < 0 ? rc : s->b->ops->object_delete(s->b, key, err);
}

int store_log_put(struct store *s, const char *id, const char *text, size_t len,
		  struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_object_key(STORE_LOGS, id, STORE_LOG_EXT, key, err);
	return rc < 0 ? rc : s->b->ops->object_put(s->b, key, text, len, "text/plain", err);
}

int store_log_get(struct store *s, const char *id, struct buf *out, struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_object_key(STORE_LOGS, id, STORE_LOG_EXT, key, err);
	return rc < 0 ? rc : s->b->ops->object_get(s->b, key, out, err);
}

int store_log_delete(struct store *s, const char *id, struct error *err)
{
	char key[STORE_KEY_MAX];
	int rc = store_object_key(STORE_LOGS, id, STORE_LOG_EXT, key, err);
	return rc < 0 ? rc : s->b->ops->object_delete(s->b, key, err);
}

/* ---- listing ---- */

struct store_lister {
	const char *dir, *ext;   /* ext NULL: blobs */
	int (*fn)(const char *name, long long age_s, void *ctx);
	void *ctx;
};

/* A listed key to its hash or id for the caller's fn; other keys are skipped. */
static int store_list_one(const char *key, long long age_s, void *ctx)
{
	struct store_lister *l = ctx;
	if (!l->ext) {
		const char *hash = store_blob_key_hash(key);
		return hash ? l->fn(hash, age_s, l->ctx) : 0;
	}
	char id[ID_LEN + 1];
	if (store_object_key_id(key, l->dir, l->ext, id) < 0)
		return 0;
	return l->fn(id, age_s, l->ctx);
}

static int store_list(struct store *s, const char *dir, const char *ext,
		      int (*fn)(const char *name, long long age_s, void *ctx), void *ctx,
		      struct error *err)
{
	struct store_lister l = { dir, ext, fn, ctx };
	int rc = s->b->ops->list(s->b, dir, store_list_one, &l, err);
	return rc < 0 ? rc : 0;
}

int store_blob_list(struct store *s, int (*fn)(const char *hash, long long age_s, void *ctx),
		    void *ctx, struct error *err)
{
	return store_list(s, STORE_BLOBS, NULL, fn, ctx, err);
}

int store_manifest_list(struct store *s, int (*fn)(const char *id, long long age_s, void *ctx),
			void *ctx, struct error *err)
{
	return store_list(s, STORE_MANIFESTS, STORE_MANIFEST_EXT, fn, ctx, err);
}

int store_log_list(struct store *s, int (*fn)(const char *id, long long age_s, void *ctx),
		   void *ctx, struct error *err)
{
	return store_list(s, STORE_LOGS, STORE_LOG_EXT, fn, ctx, err);
}

/* ---- the rest ---- */

int store_check(struct store *s, struct error *err)
{
	return s->b->ops->check(s->b, err);
}

const char *store_sendfile_root(const struct store *s)
{
	return s->b->ops->sendfile_root(s->b);
}
