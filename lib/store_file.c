/* store_file.c — the store's file backend: blobs and objects as files under one directory,
 * written to the store's own tmp/ and renamed into place, so they appear whole or not at all. */
#include "store_file.h"
#include "hash.h"
#include "hex.h"
#include "path.h"

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

#define STORE_FILE_ROOT_MAX 768   /* leaves room for "/blobs/ab/{hash}" and keys */
#define STORE_FILE_LIST_DEPTH 4

struct store_file {
	struct store_backend base;
	char root[STORE_FILE_ROOT_MAX];
	char blobs[STORE_FILE_ROOT_MAX + 8];   /* root/blobs: the X-Sendfile root */
	char tmp[STORE_FILE_ROOT_MAX + 8];     /* root/tmp: temp files, renamed into place */
};

static struct store_file *store_file_of(struct store_backend *b)
{
	return (struct store_file *)b;
}

static int store_file_mkdir(const char *path, struct error *err)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	return error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot create %s: %s", path,
			 strerror(errno));
}

/* mkdir -p for the directories between root and the last '/' of path (path is under root). */
static int store_file_mkdir_parents(struct store_file *s, const char *path, struct error *err)
{
	char tmp[STORE_PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof(tmp))
		return error_set(err, SKIFF_EINVALID, NULL, "store path too long");
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + strlen(s->root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		int rc = store_file_mkdir(tmp, err);
		*p = '/';
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int store_file_join(const struct store_file *s, char out[STORE_PATH_MAX],
			   const char *key, struct error *err)
{
	if (path_join(out, STORE_PATH_MAX, s->root, key) < 0)
		return error_set(err, SKIFF_EINVALID, NULL, "store key too long");
	return 0;
}

static int store_file_blob_exists(struct store_backend *b, const char *key, struct error *err)
{
	char path[STORE_PATH_MAX];
	int rc = store_file_join(store_file_of(b), path, key, err);
	if (rc < 0)
		return rc;
	struct stat st;
	if (stat(path, &st) == 0)
		return S_ISREG(st.st_mode) ? 1 : 0;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot stat %s: %s", key,
			 strerror(errno));
}

/* A fresh temp file in tmp/, mode 0644 (the web server reads blobs). */
static int store_file_tmp_open(struct store_file *s, char path[STORE_PATH_MAX],
			       struct error *err)
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

static int store_file_write_all(int fd, const void *data, size_t len)
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
static int store_file_copy_hashed(int src, int fd, char hex[HASH_HEX_LEN + 1],
				  struct error *err)
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
		if (store_file_write_all(fd, chunk, (size_t)n) < 0) {
			rc = error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot write blob: %s",
				       strerror(errno));
			goto out;
		}
	}
	unsigned char bin[32];
	EVP_DigestFinal_ex(md, bin, NULL);
	hex_encode(bin, sizeof(bin), hex);
out:
	EVP_MD_CTX_free(md);
	return rc;
}

/* The file backend keeps only bytes (the manifest has the content type). */
static int store_file_blob_put(struct store_backend *b, const char *hash, const char *key,
			       const char *src_path, const char *content_type, struct error *err)
{
	(void)content_type;
	struct store_file *s = store_file_of(b);
	char dest[STORE_PATH_MAX], tmp[STORE_PATH_MAX], got[HASH_HEX_LEN + 1];
	int src = -1, fd = -1, rc = store_file_join(s, dest, key, err);
	if (rc < 0)
		return rc;
	rc = store_file_blob_exists(b, key, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	/* src_path is the caller's (e.g. /proc/self/fd/N of a file it opened safely) */
	src = open(src_path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return error_set(err, SKIFF_EIO, NULL, "cannot open %s: %s", src_path, strerror(errno));
	fd = store_file_tmp_open(s, tmp, err);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	rc = store_file_copy_hashed(src, fd, got, err);
	if (rc < 0)
		goto out;
	if (strcmp(got, hash)) {
		rc = error_set(err, SKIFF_ESTORE, "blob_mismatch",
			       "blob %s: the content changed while it was stored", hash);
		goto out;
	}
	rc = store_file_mkdir_parents(s, dest, err);
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

static int store_file_blob_path(struct store_backend *b, const char *hash, const char *key,
				char out[STORE_PATH_MAX], struct error *err)
{
	int rc = store_file_join(store_file_of(b), out, key, err);
	if (rc < 0)
		return rc;
	rc = store_file_blob_exists(b, key, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, SKIFF_ENOTFOUND, NULL, "blob %s not found", hash);
	return 0;
}

/* No file system call: the web server's open is the only check. */
static int store_file_blob_serve_path(struct store_backend *b, const char *hash,
				      const char *key, long long size, char out[STORE_PATH_MAX],
				      struct error *err)
{
	(void)hash;
	(void)size;
	return store_file_join(store_file_of(b), out, key, err);
}

static int store_file_unlink(struct store_file *s, const char *key, const char *what,
			     struct error *err)
{
	char path[STORE_PATH_MAX];
	int rc = store_file_join(s, path, key, err);
	if (rc < 0)
		return rc;
	if (unlink(path) == 0)
		return 0;
	if (errno == ENOENT)
		return error_set(err, SKIFF_ENOTFOUND, NULL, "%s not found", what);
	return error_set(err, SKIFF_ESTORE, "store_unavailable", "cannot delete %s: %s", what,
			 strerror(errno));
}

static int store_file_blob_delete(struct store_backend *b, const char *hash, const char *key,
				  struct error *err)
{
	char what[STORE_HASH_LEN + 8];
	snprintf(what, sizeof(what), "blob %s", hash);
	return store_file_unlink(store_file_of(b), key, what, err);
}

/* One syncfs instead of one fsync per blob. */
static void store_file_blobs_sync(struct store_backend *b)
{
	int dfd = open(store_file_of(b)->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		syncfs(dfd);
		close(dfd);
	}
}

static int store_file_object_put(struct store_backend *b, const char *key, const void *data,
				 size_t len, const char *content_type, struct error *err)
{
	(void)content_type;
	struct store_file *s = store_file_of(b);
	char dest[STORE_PATH_MAX], tmp[STORE_PATH_MAX];
	int rc = store_file_join(s, dest, key, err);
	if (rc == 0)
		rc = store_file_mkdir_parents(s, dest, err);
	if (rc < 0)
		return rc;
	int fd = store_file_tmp_open(s, tmp, err);
	if (fd < 0)
		return fd;
	if (store_file_write_all(fd, data, len) < 0 || fdatasync(fd) < 0) {
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

static int store_file_object_get(struct store_backend *b, const char *key, struct buf *out,
				 struct error *err)
{
	char path[STORE_PATH_MAX];
	int rc = store_file_join(store_file_of(b), path, key, err);
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

static int store_file_object_delete(struct store_backend *b, const char *key, struct error *err)
{
	return store_file_unlink(store_file_of(b), key, key, err);
}

struct store_file_walk {
	int (*fn)(const char *key, long long age_s, void *ctx);
	void *ctx;
	time_t now;
	struct error *err;
};

/* Calls w->fn for each regular file under dir (key = its path relative to the root). */
static int store_file_walk_dir(struct store_file_walk *w, const char *path, const char *key,
			       int depth)
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
		if (de->d_name[0] == '.')
			continue;
		char sub[STORE_PATH_MAX], subkey[STORE_PATH_MAX];
		int n1 = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		int n2 = snprintf(subkey, sizeof(subkey), "%s/%s", key, de->d_name);
		if (n1 < 0 || n1 >= (int)sizeof(sub) || n2 < 0 || n2 >= (int)sizeof(subkey))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < STORE_FILE_LIST_DEPTH)
			rc = store_file_walk_dir(w, sub, subkey, depth + 1);
		else if (S_ISREG(st.st_mode))
			rc = w->fn(subkey, (long long)(w->now - st.st_mtime), w->ctx) ? 1 : 0;
	}
	closedir(d);
	return rc;
}

/* dir is one of store.c's directories ("blobs/", ...), never tmp/. */
static int store_file_list(struct store_backend *b, const char *dir,
			   int (*fn)(const char *key, long long age_s, void *ctx), void *ctx,
			   struct error *err)
{
	char path[STORE_PATH_MAX], key[STORE_KEY_MAX];
	size_t n = strlen(dir);
	while (n && dir[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(key))
		return error_set(err, SKIFF_EINVALID, NULL, "invalid store directory");
	memcpy(key, dir, n);
	key[n] = '\0';
	int rc = store_file_join(store_file_of(b), path, key, err);
	if (rc < 0)
		return rc;
	struct store_file_walk w = { fn, ctx, time(NULL), err };
	rc = store_file_walk_dir(&w, path, key, 0);
	return rc < 0 ? rc : 0;
}

/* Readers (skiff-serve, skiff-status under a read-only unit) need only to read. */
static int store_file_check(struct store_backend *b, struct error *err)
{
	struct store_file *s = store_file_of(b);
	if (access(s->blobs, R_OK | X_OK) < 0)
		return error_set(err, SKIFF_ESTORE, "store_unavailable", "store %s is not readable: %s",
				 s->root, strerror(errno));
	return 0;
}

static const char *store_file_sendfile_root(const struct store_backend *b)
{
	return ((const struct store_file *)b)->blobs;
}

static void store_file_free(struct store_backend *b)
{
	free(b);
}

static const struct store_ops store_file_ops = {
	.blob_exists = store_file_blob_exists,
	.blob_put = store_file_blob_put,
	.blob_path = store_file_blob_path,
	.blob_serve_path = store_file_blob_serve_path,
	.blob_delete = store_file_blob_delete,
	.blobs_sync = store_file_blobs_sync,
	.object_put = store_file_object_put,
	.object_get = store_file_object_get,
	.object_delete = store_file_object_delete,
	.list = store_file_list,
	.check = store_file_check,
	.sendfile_root = store_file_sendfile_root,
	.free = store_file_free,
};

int store_file_open(struct store_backend **out, const struct config *cfg, const char *dir,
		    struct error *err)
{
	(void)cfg;
	*out = NULL;
	if (strlen(dir) >= STORE_FILE_ROOT_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "store_path must be shorter than %d bytes", STORE_FILE_ROOT_MAX);
	struct store_file *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->base.ops = &store_file_ops;
	snprintf(s->root, sizeof(s->root), "%s", dir);
	snprintf(s->blobs, sizeof(s->blobs), "%s/blobs", s->root);
	snprintf(s->tmp, sizeof(s->tmp), "%s/tmp", s->root);
	char sub[STORE_FILE_ROOT_MAX + 16];
	int rc = store_file_mkdir(s->root, err);
	if (rc == 0)
		rc = store_file_mkdir(s->blobs, err);
	if (rc == 0)
		rc = store_file_mkdir(s->tmp, err);
	if (rc == 0) {
		snprintf(sub, sizeof(sub), "%s/manifests", s->root);
		rc = store_file_mkdir(sub, err);
	}
	if (rc == 0) {
		snprintf(sub, sizeof(sub), "%s/logs", s->root);
		rc = store_file_mkdir(sub, err);
	}
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = &s->base;
	return 0;
}
