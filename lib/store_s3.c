/* store_s3.c — the store's s3 backend: blobs and objects in a bucket under s3_prefix, each
 * blob signed with its hash so that S3 refuses changed bytes, served from a local cache. */
#include "store_s3.h"
#include "log.h"
#include "hex.h"
#include "s3.h"
#include "sigv4.h"
#include "store_cache.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct store_s3 {
	struct store_backend base;
	struct s3 *s3;
	struct store_cache *cache;
};

static struct store_s3 *store_s3_of(struct store_backend *b)
{
	return (struct store_s3 *)b;
}

static int store_s3_blob_exists(struct store_backend *b, const char *key, struct error *err)
{
	return s3_head(store_s3_of(b)->s3, key, NULL, err);
}

/* HEAD each, PUT the missing, s3_parallel at once. */
static int store_s3_blobs_put(struct store_backend *b, struct store_upload *u,
			      const char *const *keys, size_t n, struct error *err)
{
	struct s3_put *puts = calloc(n, sizeof(*puts));
	if (!puts)
		abort();
	for (size_t i = 0; i < n; i++)
		puts[i] = (struct s3_put){ .key = keys[i], .path = u[i].path, .sha256 = u[i].hash,
					   .content_type = u[i].content_type,
					   .cache_control = S3_CACHE_IMMUTABLE,
					   .content_encoding = u[i].content_encoding };
	int rc = s3_put_many(store_s3_of(b)->s3, puts, n, true, err);
	for (size_t i = 0; i < n; i++) {
		u[i].uploaded = rc == 0 && puts[i].uploaded;
		u[i].bytes = rc == 0 ? puts[i].bytes : 0;
	}
	free(puts);
	return rc;
}

static int store_s3_blob_put(struct store_backend *b, const char *hash, const char *key,
			     const char *src_path, const char *content_type, struct error *err)
{
	struct store_upload u = { .hash = hash, .path = src_path, .content_type = content_type };
	return store_s3_blobs_put(b, &u, &key, 1, err);
}

/* GET of the blob into a cache temp file, verified and renamed into place by the cache. */
static int store_s3_cache_fill(struct store_s3 *s, const char *hash, const char *key,
			       const char *path, struct error *err)
{
	char tmp[STORE_PATH_MAX];
	int fd = store_cache_tmp_open(s->cache, hash, tmp, err);
	if (fd < 0)
		return fd;
	int rc = s3_get_fd(s->s3, key, fd, store_cache_max(s->cache), err);
	if (rc < 0) {
		close(fd);
		unlink(tmp);
		return rc;
	}
	return store_cache_commit(s->cache, hash, fd, tmp, path, err);
}

/* The cache entry: a hit costs one stat; a miss one GET, verified against the hash. */
static int store_s3_blob_sized(struct store_backend *b, const char *hash, const char *key,
			       long long size, char out[STORE_PATH_MAX], struct error *err)
{
	struct store_s3 *s = store_s3_of(b);
	int rc = store_cache_lookup(s->cache, hash, size, out, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	struct error e;
	error_clear(&e);
	rc = store_s3_cache_fill(s, hash, key, out, &e);
	if (rc == SKIFF_EIO || (rc == SKIFF_ESTORE && !strcmp(e.name, "cache_unavailable"))) {
		/* the disk may be full: make room and try once more */
		log_warn("blob cache fill failed, evicting and retrying hash=%s error=\"%s\"", hash,
			 e.message);
		store_cache_evict(store_cache_root(s->cache), store_cache_max(s->cache) / 2, 0);
		rc = store_s3_cache_fill(s, hash, key, out, &e);
	}
	return rc < 0 ? error_set(err, e.code, e.name, "%s", e.message) : 0;
}

static int store_s3_blob_path(struct store_backend *b, const char *hash, const char *key,
			      char out[STORE_PATH_MAX], struct error *err)
{
	return store_s3_blob_sized(b, hash, key, -1, out, err);
}

static int store_s3_blob_delete(struct store_backend *b, const char *hash, const char *key,
				struct error *err)
{
	struct store_s3 *s = store_s3_of(b);
	int rc = s3_head(s->s3, key, NULL, err);
	if (rc == 0)
		return error_set(err, SKIFF_ENOTFOUND, NULL, "blob %s not found", hash);
	if (rc > 0)
		rc = s3_delete(s->s3, key, err);
	if (rc == 0)
		store_cache_drop(s->cache, hash);
	return rc;
}

static int store_s3_object_put(struct store_backend *b, const char *key, const void *data,
			       size_t len, const char *content_type, struct error *err)
{
	return s3_put_mem(store_s3_of(b)->s3, key, data, len, content_type, S3_CACHE_NONE, err);
}

static int store_s3_object_get(struct store_backend *b, const char *key, struct buf *out,
			       struct error *err)
{
	return s3_get_buf(store_s3_of(b)->s3, key, out, err);
}

static int store_s3_object_delete(struct store_backend *b, const char *key, struct error *err)
{
	struct store_s3 *s = store_s3_of(b);
	int rc = s3_head(s->s3, key, NULL, err);
	if (rc == 0)
		return error_set(err, SKIFF_ENOTFOUND, NULL, "%s not found", key);
	return rc < 0 ? rc : s3_delete(s->s3, key, err);
}

struct store_s3_walk {
	int (*fn)(const char *key, long long age_s, void *ctx);
	void *ctx;
	long long now;
};

static int store_s3_walk_one(const struct s3_object *o, void *ctx)
{
	struct store_s3_walk *w = ctx;
	long long age = o->mtime ? w->now - o->mtime : 0;
	return w->fn(o->key, age < 0 ? 0 : age, w->ctx);
}

/* dir ends in '/': "blobs/" lists blobs/..., never blobsX/... */
static int store_s3_list(struct store_backend *b, const char *dir,
			 int (*fn)(const char *key, long long age_s, void *ctx), void *ctx,
			 struct error *err)
{
	struct store_s3_walk w = { fn, ctx, (long long)time(NULL) };
	return s3_list(store_s3_of(b)->s3, dir, store_s3_walk_one, &w, err);
}

static int store_s3_check(struct store_backend *b, struct error *err)
{
	return s3_check(store_s3_of(b)->s3, err);
}

static const char *store_s3_sendfile_root(const struct store_backend *b)
{
	return store_cache_root(((const struct store_s3 *)b)->cache);
}

static void store_s3_free(struct store_backend *b)
{
	struct store_s3 *s = store_s3_of(b);
	s3_free(s->s3);
	store_cache_free(s->cache);
	free(s);
}

/* A presigned PUT that carries what skiff's own PUT carries (content type, Cache-Control) and
 * x-amz-checksum-sha256, the blob's hash in base64: S3 refuses a body with another hash
 * (400 BadDigest), so nothing is ever stored under the wrong name. */
static int store_s3_blob_upload_url(struct store_backend *b, const char *hash, const char *key,
				    long expires, struct store_upload_url *out, struct error *err)
{
	unsigned char digest[32];
	if (hex_decode(hash, sizeof(digest), digest) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_hash", "blob hash must be hex");
	out->headers[0].name = "content-type";
	snprintf(out->headers[0].value, sizeof(out->headers[0].value), "application/octet-stream");
	out->headers[1].name = "cache-control";
	snprintf(out->headers[1].value, sizeof(out->headers[1].value), "%s", S3_CACHE_IMMUTABLE);
	out->headers[2].name = "x-amz-checksum-sha256";
	EVP_EncodeBlock((unsigned char *)out->headers[2].value, digest, sizeof(digest));
	out->nheaders = 3;
	struct sigv4_pair hv[STORE_UPLOAD_HEADERS];
	for (size_t i = 0; i < out->nheaders; i++)
		hv[i] = (struct sigv4_pair){ out->headers[i].name, out->headers[i].value };
	return s3_presign_put(store_s3_of(b)->s3, key, hv, out->nheaders, expires, out->url,
			      sizeof(out->url), err);
}

static const struct store_ops store_s3_ops = {
	.blob_exists = store_s3_blob_exists,
	.blob_put = store_s3_blob_put,
	.blobs_put = store_s3_blobs_put,
	.blob_path = store_s3_blob_path,
	.blob_serve_path = store_s3_blob_sized,
	.blob_delete = store_s3_blob_delete,
	.blob_upload_url = store_s3_blob_upload_url,
	.object_put = store_s3_object_put,
	.object_get = store_s3_object_get,
	.object_delete = store_s3_object_delete,
	.list = store_s3_list,
	.check = store_s3_check,
	.sendfile_root = store_s3_sendfile_root,
	.free = store_s3_free,
};

int store_s3_open(struct store_backend **out, const struct config *cfg, const char *dir,
		  struct error *err)
{
	*out = NULL;
	struct store_s3 *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->base.ops = &store_s3_ops;
	int rc = s3_new(&s->s3, cfg, err);
	if (rc < 0) {
		free(s);
		return rc;
	}
	store_cache_new(&s->cache, dir, (unsigned long long)cfg->cache_max_mb << 20);
	*out = &s->base;
	return 0;
}
