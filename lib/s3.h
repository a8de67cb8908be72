/* s3.h — an S3 client on libcurl: PUT, GET, HEAD, DELETE, ListObjectsV2, and many PUTs in
 * parallel, signed with SigV4, retried with backoff on 5xx, 429 and transport errors (never
 * on other 4xx), path-style or virtual-hosted, against AWS or any S3-compatible endpoint. */
#ifndef SKIFF_S3_H
#define SKIFF_S3_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "config.h"
#include "error.h"
#include "s3_xml.h"   /* struct s3_object, S3_KEY_MAX */

#define S3_URL_MAX 4096
#define S3_PRESIGN_URL_MAX 16384   /* a presigned URL: a session token in it, encoded, fits */
#define S3_ERROR_BODY_MAX 16384

/* Cache-Control of what skiff writes, so that the bucket can be read directly. */
#define S3_CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define S3_CACHE_NONE "no-cache"

struct s3;

/* A client for cfg's bucket (s3_endpoint, s3_bucket, s3_region, s3_prefix, s3_path_style,
 * s3_access_key/s3_secret_key or the other credential sources, s3_parallel). Keys passed to
 * the functions below are relative to s3_prefix. */
int s3_new(struct s3 **out, const struct config *cfg, struct error *err);
void s3_free(struct s3 *s);

/* PUT of bytes in memory (signed with their SHA-256). */
int s3_put_mem(struct s3 *s, const char *key, const void *data, size_t len,
	       const char *content_type, const char *cache_control, struct error *err);
/* PUT of a file. sha256: hex SHA-256 of its bytes, signed as the payload hash so that S3
 * refuses bytes that changed; NULL streams it as UNSIGNED-PAYLOAD. */
int s3_put_file(struct s3 *s, const char *key, const char *path, const char *sha256,
		const char *content_type, const char *cache_control, struct error *err);
/* GET into fd (empty, at offset 0), at most max bytes. A transfer that stalls for s3_timeout
 * seconds (no total-time limit but s3_deadline) or is cut is retried from the bytes already
 * received (Range), from byte 0 only when S3 ignores the range. SKIFF_ENOTFOUND. */
int s3_get_fd(struct s3 *s, const char *key, int fd, unsigned long long max, struct error *err);
/* GET into out (bounded by out->max: SKIFF_ELIMIT). SKIFF_ENOTFOUND. */
int s3_get_buf(struct s3 *s, const char *key, struct buf *out, struct error *err);
/* 1 and info (may be NULL) filled when the object exists, 0 when not, negative on failure. */
int s3_head(struct s3 *s, const char *key, struct s3_object *info, struct error *err);
/* DELETE; deleting a missing key succeeds (as S3 does). */
int s3_delete(struct s3 *s, const char *key, struct error *err);
/* ListObjectsV2 of every key under prefix, page after page; fn returning nonzero stops. */
int s3_list(struct s3 *s, const char *prefix, int (*fn)(const struct s3_object *o, void *ctx),
	    void *ctx, struct error *err);

/* 0 when the bucket answers a one-key listing of the prefix. */
int s3_check(struct s3 *s, struct error *err);

/* One file of a batch upload. */
struct s3_put {
	const char *key;
	const char *path;
	const char *sha256;            /* as for s3_put_file */
	const char *content_type;
	const char *cache_control;
	/* filled by s3_put_many */
	bool uploaded;                 /* false: the object was there already */
	unsigned long long bytes;      /* bytes sent */
	const char *content_encoding;  /* NULL, or the Content-Encoding a direct reader must undo */
};

/* Uploads puts[0..n) with up to s3_parallel requests at once (curl multi). With
 * skip_existing, each key is HEADed first and only missing ones are sent. Every request is
 * retried with backoff; the whole batch has the s3_deadline. Stops at the first failure. */
int s3_put_many(struct s3 *s, struct s3_put *puts, size_t n, bool skip_existing,
		struct error *err);

struct sigv4_pair;
/* A presigned PUT URL of key into url (cap bytes), valid for expires seconds (at most a week,
 * and no longer than temporary credentials live), signed over host and headers[0..n): whoever
 * uploads must send each of those headers with its value, and nothing else signs the body
 * (UNSIGNED-PAYLOAD; a signed x-amz-checksum-sha256 makes S3 hold the body to it). */
int s3_presign_put(struct s3 *s, const char *key, const struct sigv4_pair *headers, size_t n,
		   long expires, char *url, size_t cap, struct error *err);

/* Counters since s3_new (requests sent, retries), for logs and tests. */
void s3_stats(const struct s3 *s, unsigned long long *requests, unsigned long long *retries);

/* ---- pure parts, exposed for tests ---- */

/* The URL of object key objkey (already prefixed; "" for the bucket) with an optional
 * query string (already canonical: sorted, encoded). Virtual-hosted unless path_style or
 * the bucket is not a DNS label (then path-style). Endpoint: "scheme://host[:port][/path]". */
int s3_url_build(char *out, size_t cap, const char *endpoint, const char *bucket,
		 bool path_style, const char *objkey, const char *query);


#endif
