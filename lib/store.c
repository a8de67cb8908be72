/* store.c — the blob store's file backend: content-addressed blobs, objects by key, atomic
 * writes by rename from the store's own tmp/ directory. */
#include "store.h"
#include "hash.h"
#include "store_s3.h"   /* s3 backend (issue 5) */
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_KEY_MAX 512
#define STORE_LIST_DEPTH 4
#define STORE_ROOT_MAX 768    /* leaves room for "/blobs/ab/{hash}" and keys */

struct store {
	const struct config *cfg;
	struct store_s3 *s3;   /* s3 backend (issue 5): when set, every call goes to store_s3.c */
	char root[STORE_ROOT_MAX];
	char blobs[STORE_ROOT_MAX + 8];   /* root/blobs: the X-Sendfile root */
	char tmp[STORE_ROOT_MAX + 8];     /* root/tmp: temp files, renamed into place */
};

static int store_mkdir(const char *path, struct error *err)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	return error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot create %s: %s", path,
			 strerror(errno));
}

/* mkdir -p for the directories between root and the last '/' of path (path is under root). */
static int store_mkdir_parents(struct store *s, const char *path, struct error *err)
{
	char tmp[STORE_PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof(tmp))
		return error_set(err, SKIFF_EINVALID, NULL, "store path too long");
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + strlen(s->root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		int rc = store_mkdir(tmp, err);
		*p = '/';
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int store_join(const struct store *s, char out[STORE_PATH_MAX], const char *key,
		      struct error *err)
{
	int n = snprintf(out, STORE_PATH_MAX, "%s/%s", s->root, key);
	if (n < 0 || n >= STORE_PATH_MAX)
		return error_set(err, SKIFF_EINVALID, NULL, "store key too long");
	return 0;
}

int store_open(struct store **out, const struct config *cfg, struct error *err)
{
	*out = NULL;
	if (!strcmp(cfg->store, "s3")) { /* s3 backend (issue 5) */
		struct store_s3 *s3;
		int rc = store_s3_open(&s3, cfg, err);
		if (rc < 0)
			return rc;
		if (!(*out = calloc(1, sizeof(**out))))
			abort();
		(*out)->cfg = cfg;
		(*out)->s3 = s3;
		return 0;
	}
	if (strcmp(cfg->store, "file"))
		return error_set(err, SKIFF_EINVALID, "invalid_config", "unknown store '%s'",
				 cfg->store);
	char root[STORE_ROOT_MAX];
	int rc = store_dir_normalize(cfg->store_path, "store_path", root, sizeof(root), err);
	if (rc < 0)
		return rc;
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->cfg = cfg;
	memcpy(s->root, root, sizeof(root));
	snprintf(s->blobs, sizeof(s->blobs), "%s/blobs", s->root);
	snprintf(s->tmp, sizeof(s->tmp), "%s/tmp", s->root);
	char dir[STORE_ROOT_MAX + 16];
	rc = store_mkdir(s->root, err);
	if (rc == 0)
		rc = store_mkdir(s->blobs, err);
	if (rc == 0)
		rc = store_mkdir(s->tmp, err);
	if (rc == 0) {
		snprintf(dir, sizeof(dir), "%s/manifests", s->root);
		rc = store_mkdir(dir, err);
	}
	if (rc == 0) {
		snprintf(dir, sizeof(dir), "%s/logs", s->root);
		rc = store_mkdir(dir, err);
	}
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void store_free(struct store *s)
{
	if (s)
		store_s3_free(s->s3);
	free(s);
}

int store_dir_normalize(const char *path, const char *name, char *out, size_t outlen,
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

int store_hash_valid(const char *hash)
{
	if (!hash)
		return 0;
	size_t i = 0;
	for (; hash[i]; i++)
		if (!((hash[i] >= '0' && hash[i] <= '9') || (hash[i] >= 'a' && hash[i] <= 'f')))
			return 0;
	return i == STORE_HASH_LEN;
}

/* Keys are relative, made of [A-Za-z0-9._-] segments, none empty or starting with '.';
 * blobs/ and tmp/ belong to the blob functions. */
static int store_key_check(const char *key, struct error *err)
{
	size_t n = key ? strlen(key) : 0;
	if (n == 0 || n > STORE_KEY_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_key", "store key is empty or too long");
	if (!strncmp(key, "blobs/", 6) || !strncmp(key, "tmp/", 4))
		return error_set(err, SKIFF_EINVALID, "invalid_key", "store key '%s' is reserved", key);
	bool seg_start = true;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (c == '/') {
			if (seg_start)
				return error_set(err, SKIFF_EINVALID, "invalid_key",
						 "store key has an empty segment");
			seg_start = true;
			continue;
		}
		if (seg_start && c == '.')
			return error_set(err, SKIFF_EINVALID, "invalid_key",
					 "store key segment starts with '.'");
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return error_set(err, SKIFF_EINVALID, "invalid_key",
					 "store key contains a character outside [A-Za-z0-9._-/]");
		seg_start = false;
	}
	if (seg_start)
		return error_set(err, SKIFF_EINVALID, "invalid_key", "store key ends with '/'");
	return 0;
}

static int store_blob_file(const struct store *s, const char *hash, char out[STORE_PATH_MAX],
			   struct error *err)
{
	if (!store_hash_valid(hash))
		return error_set(err, SKIFF_EINVALID, "invalid_hash",
				 "blob hash must be 64 lowercase hex digits");
	snprintf(out, STORE_PATH_MAX, "%s/%.2s/%s", s->blobs, hash, hash);
	return 0;
}

int store_blob_exists(struct store *s, const char *hash, struct error *err)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_blob_exists(s->s3, hash, err);
	char path[STORE_PATH_MAX];
	int rc = store_blob_file(s, hash, path, err);
	if (rc < 0)
		return rc;
	struct stat st;
	if (stat(path, &st) == 0)
		return S_ISREG(st.st_mode) ? 1 : 0;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot stat blob %s: %s", hash,
			 strerror(errno));
}

/* A fresh temp file in tmp/, mode 0644 (the web server reads blobs). */
static int store_tmp_open(struct store *s, char path[STORE_PATH_MAX], struct error *err)
{
	snprintf(path, STORE_PATH_MAX, "%s/put.XXXXXX", s->tmp);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot create a temp file in %s: %s",
				 s->tmp, strerror(errno));
	if (fchmod(fd, 0644) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return error_set(err, SKIFF_ESTORE, "store_unavailable", "chmod: %s", strerror(e));
	}
	return fd;
}

static int store_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Copies src into the temp file fd, computing the SHA-256 of what was copied. */
static int store_copy_hashed(int src, int fd, char hex[HASH_HEX_LEN + 1], struct error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		abort();
	unsigned char chunk[65536];
	int rc = 0;
	for (;;) {
		ssize_t n = read(src, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_set(err, SKIFF_EIO, NULL, "cannot read blob source: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, chunk, (size_t)n);
		if (store_write_all(fd, chunk, (size_t)n) < 0) {
			rc = error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot write blob: %s",
				       strerror(errno));
			goto out;
		}
	}
	unsigned char bin[32];
	EVP_DigestFinal_ex(md, bin, NULL);
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[HASH_HEX_LEN] = '\0';
out:
	EVP_MD_CTX_free(md);
	return rc;
}

int store_blob_put(struct store *s, const char *hash, const char *src_path,
		   const char *content_type, struct error *err)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_blob_put(s->s3, hash, src_path, content_type, err);
	(void)content_type; /* the file backend keeps only bytes; the manifest has the type */
	char dest[STORE_PATH_MAX], tmp[STORE_PATH_MAX], got[HASH_HEX_LEN + 1];
	int src = -1, fd = -1, rc = store_blob_file(s, hash, dest, err);
	if (rc < 0)
		return rc;
	rc = store_blob_exists(s, hash, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	/* src_path is the caller's (e.g. /proc/self/fd/N of a file it opened safely) */
	src = open(src_path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return error_set(err, SKIFF_EIO, NULL, "cannot open %s: %s", src_path, strerror(errno));
	fd = store_tmp_open(s, tmp, err);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	rc = store_copy_hashed(src, fd, got, err);
	if (rc < 0)
		goto out;
	if (strcmp(got, hash)) {
		rc = error_set(err, SKIFF_ESTORE, "blob_mismatch",
			       "blob %s: the content changed while it was stored", hash);
		goto out;
	}
	rc = store_mkdir_parents(s, dest, err);
	if (rc < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		rc = error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot write blob: %s",
			       strerror(errno));
		goto out;
	}
	fd = -1;
	/* written once: an existing blob (a concurrent put of the same bytes) stays untouched */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) < 0) {
		if (errno == EINVAL && rename(tmp, dest) == 0)
			goto out;
		if (errno != EEXIST)
			rc = error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot store blob %s: %s",
				       hash, strerror(errno));
		unlink(tmp);
	}
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (src >= 0)
		close(src);
	return rc;
}

int store_blob_path(struct store *s, const char *hash, char out[STORE_PATH_MAX],
		    struct error *err)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_blob_path(s->s3, hash, out, err);
	int rc = store_blob_file(s, hash, out, err);
	if (rc < 0)
		return rc;
	rc = store_blob_exists(s, hash, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, SKIFF_ENOTFOUND, NULL, "blob %s not found", hash);
	return 0;
}

int store_blob_serve_path(struct store *s, const char *hash, char out[STORE_PATH_MAX],
			  struct error *err)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_blob_path(s->s3, hash, out, err);
	return store_blob_file(s, hash, out, err);
}

int store_blob_delete(struct store *s, const char *hash, struct error *err)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_blob_delete(s->s3, hash, err);
	char path[STORE_PATH_MAX];
	int rc = store_blob_file(s, hash, path, err);
	if (rc < 0)
		return rc;
	if (unlink(path) == 0)
		return 0;
	if (errno == ENOENT)
		return error_set(err, SKIFF_ENOTFOUND, NULL, "blob %s not found", hash);
	return error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot delete blob %s: %s", hash,
			 strerror(errno));
}

int store_object_put(struct store *s, const char *key, const void *data, size_t len,
		     const char *content_type, struct error *err)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_object_put(s->s3, key, data, len, content_type, err);
	(void)content_type;
	char dest[STORE_PATH_MAX], tmp[STORE_PATH_MAX];
	int rc = store_key_check(key, err);
	if (rc == 0)
		rc = store_join(s, dest, key, err);
	if (rc == 0)
		rc = store_mkdir_parents(s, dest, err);
	if (rc < 0)
		return rc;
	/* A manifest names blobs: flush them to disk first, so a crash never leaves a manifest
	 * pointing at a blob that did not survive (one syncfs instead of one fsync per blob). */
	if (!strncmp(key, "manifests/", 10)) {
		int dfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			syncfs(dfd);
			close(dfd);
		}
	}
	int fd = store_tmp_open(s, tmp, err);
	if (fd < 0)
		return fd;
	if (store_write_all(fd, data, len) < 0 || fdatasync(fd) < 0) {
		rc = error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot write %s: %s", key,
			       strerror(errno));
		close(fd);
		unlink(tmp);
		return rc;
	}
	if (close(fd) < 0 || rename(tmp, dest) < 0) {
		rc = error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot store %s: %s", key,
			       strerror(errno));
		unlink(tmp);
	}
	return rc;
}

int store_object_get(struct store *s, const char *key, struct buf *out, struct error *err)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_object_get(s->s3, key, out, err);
	char path[STORE_PATH_MAX];
	int rc = store_key_check(key, err);
	if (rc == 0)
		rc = store_join(s, path, key, err);
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return error_set(err, SKIFF_ENOTFOUND, NULL, "%s not found", key);
		return error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot open %s: %s", key,
				 strerror(errno));
	}
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot read %s: %s", key,
				       strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (buf_append(out, chunk, (size_t)n) < 0) {
			rc = error_set(err, SKIFF_ELIMIT, NULL, "%s is larger than %zu bytes", key,
				       out->max);
			break;
		}
	}
	close(fd);
	return rc;
}

int store_object_delete(struct store *s, const char *key, struct error *err)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_object_delete(s->s3, key, err);
	char path[STORE_PATH_MAX];
	int rc = store_key_check(key, err);
	if (rc == 0)
		rc = store_join(s, path, key, err);
	if (rc < 0)
		return rc;
	if (unlink(path) == 0)
		return 0;
	if (errno == ENOENT)
		return error_set(err, SKIFF_ENOTFOUND, NULL, "%s not found", key);
	return error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot delete %s: %s", key,
			 strerror(errno));
}

struct store_walk {
	int (*fn)(const char *key, long long age_s, void *ctx);
	void *ctx;
	time_t now;
	struct error *err;
};

/* Calls w->fn for each regular file under dir (key = its path relative to the root). */
static int store_walk_dir(struct store_walk *w, const char *path, const char *key, int depth)
{
	DIR *d = opendir(path);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return error_set(w->err, SKIFF_ESTORE, "store_unavailable", "cannot list %s: %s", key,
				 strerror(errno));
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || (depth == 0 && !*key && !strcmp(de->d_name, "tmp")))
			continue;
		char sub[STORE_PATH_MAX], subkey[STORE_PATH_MAX];
		int n1 = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		int n2 = snprintf(subkey, sizeof(subkey), "%s%s%s", key, *key ? "/" : "", de->d_name);
		if (n1 < 0 || n1 >= (int)sizeof(sub) || n2 < 0 || n2 >= (int)sizeof(subkey))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < STORE_LIST_DEPTH)
			rc = store_walk_dir(w, sub, subkey, depth + 1);
		else if (S_ISREG(st.st_mode))
			rc = w->fn(subkey, (long long)(w->now - st.st_mtime), w->ctx) ? 1 : 0;
	}
	closedir(d);
	return rc;
}

int store_list(struct store *s, const char *prefix,
	       int (*fn)(const char *key, long long age_s, void *ctx), void *ctx,
	       struct error *err)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_list(s->s3, prefix, fn, ctx, err);
	char dir[STORE_ROOT_MAX + STORE_KEY_MAX + 2], key[STORE_KEY_MAX + 1];
	size_t n = prefix ? strlen(prefix) : 0;
	while (n && prefix[n - 1] == '/')
		n--;
	if (n > STORE_KEY_MAX || (n && (prefix[0] == '/' || memmem(prefix, n, "..", 2))))
		return error_set(err, SKIFF_EINVALID, "invalid_key", "invalid store prefix");
	if (n == 3 && !strncmp(prefix, "tmp", 3))
		return 0;
	memcpy(key, prefix ? prefix : "", n);
	key[n] = '\0';
	snprintf(dir, sizeof(dir), "%s%s%s", s->root, n ? "/" : "", key);
	struct store_walk w = { fn, ctx, time(NULL), err };
	int rc = store_walk_dir(&w, dir, key, 0);
	return rc < 0 ? rc : 0;
}

int store_check(struct store *s, struct error *err)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_check(s->s3, err);
	/* readers (skiff-serve, skiff-status under a read-only unit) need only to read */
	if (access(s->blobs, R_OK | X_OK) < 0)
		return error_set(err, SKIFF_ESTORE, "store_unavailable", "store %s is not readable: %s",
				 s->root, strerror(errno));
	return 0;
}

const char *store_sendfile_root(const struct store *s)
{
	if (s->s3) /* s3 backend (issue 5) */
		return store_s3_sendfile_root(s->s3);
	return s->blobs;
}

/* s3 backend (issue 5): the builder's batch upload; the file backend stores one by one. */
int store_blobs_put(struct store *s, struct store_upload *u, size_t n, struct error *err)
{
	if (s->s3)
		return store_s3_blobs_put(s->s3, u, n, err);
	for (size_t i = 0; i < n; i++) {
		u[i].uploaded = false;
		u[i].bytes = 0;
		int have = store_blob_exists(s, u[i].hash, err);
		if (have < 0)
			return have;
		if (have)
			continue;
		int rc = store_blob_put(s, u[i].hash, u[i].path, u[i].content_type, err);
		if (rc < 0)
			return rc;
		u[i].uploaded = true;
		struct stat st;
		if (stat(u[i].path, &st) == 0)
			u[i].bytes = (unsigned long long)st.st_size;
	}
	return 0;
}
