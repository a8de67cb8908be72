/* store_s3.c — the s3 backend of the blob store, and skiff-serve's local blob cache: filled
 * by a verified GET, renamed into place atomically, bounded with LRU eviction by access time,
 * shared by any number of processes (flock on a usage counter and on the eviction). */
#include "store_s3.h"
#include "hash.h"
#include "log.h"
#include "s3.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_S3_KEY_MAX 512
#define STORE_S3_ROOT_MAX 768
#define STORE_S3_GRACE_S 10         /* a cache entry used this recently is not evicted */
#define STORE_S3_TOUCH_S 60         /* hits refresh the access time at most this often */
#define STORE_S3_TMP_STALE_S 3600   /* temp files of crashed fills */
#define STORE_S3_USAGE ".usage"
#define STORE_S3_EVICT ".evict"

struct store_s3 {
	const struct config *cfg;
	struct s3 *s3;
	char cache[STORE_S3_ROOT_MAX];      /* cache_path without trailing '/' */
	unsigned long long cache_max;       /* bytes */
	bool cache_ready;
};

int store_s3_open(struct store_s3 **out, const struct config *cfg, struct error *err)
{
	*out = NULL;
	char cache[STORE_S3_ROOT_MAX];
	int rc = store_dir_normalize(cfg->cache_path, "cache_path", cache, sizeof(cache), err);
	if (rc < 0)
		return rc;
	struct store_s3 *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->cfg = cfg;
	memcpy(s->cache, cache, sizeof(cache));
	s->cache_max = (unsigned long long)cfg->cache_max_mb << 20;
	rc = s3_new(&s->s3, cfg, err);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void store_s3_free(struct store_s3 *s)
{
	if (!s)
		return;
	s3_free(s->s3);
	free(s);
}

const char *store_s3_sendfile_root(const struct store_s3 *s)
{
	return s->cache;
}

static int store_s3_blob_key(const char *hash, char out[STORE_S3_KEY_MAX], struct error *err)
{
	if (!store_hash_valid(hash))
		return error_set(err, SKIFF_EINVALID, "invalid_hash",
				 "blob hash must be 64 lowercase hex digits");
	snprintf(out, STORE_S3_KEY_MAX, "blobs/%.2s/%s", hash, hash);
	return 0;
}

/* The same key rules as the file backend: [A-Za-z0-9._-] segments, none empty or starting
 * with '.', blobs/ and tmp/ reserved. */
static int store_s3_key_check(const char *key, struct error *err)
{
	size_t n = key ? strlen(key) : 0;
	if (n == 0 || n > STORE_S3_KEY_MAX - 1)
		return error_set(err, SKIFF_EINVALID, "invalid_key", "store key is empty or too long");
	if (!strncmp(key, "blobs/", 6) || !strncmp(key, "tmp/", 4))
		return error_set(err, SKIFF_EINVALID, "invalid_key", "store key '%s' is reserved", key);
	bool seg_start = true;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (c == '/') {
			if (seg_start)
				break;
			seg_start = true;
			continue;
		}
		if ((seg_start && c == '.') ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return error_set(err, SKIFF_EINVALID, "invalid_key", "store key '%s' is not valid",
					 key);
		seg_start = false;
	}
	if (seg_start)
		return error_set(err, SKIFF_EINVALID, "invalid_key", "store key '%s' is not valid", key);
	return 0;
}

int store_s3_blob_exists(struct store_s3 *s, const char *hash, struct error *err)
{
	char key[STORE_S3_KEY_MAX];
	int rc = store_s3_blob_key(hash, key, err);
	return rc < 0 ? rc : s3_head(s->s3, key, NULL, err);
}

int store_s3_blobs_put(struct store_s3 *s, struct store_upload *u, size_t n,
		       struct error *err)
{
	if (n == 0)
		return 0;
	struct s3_put *puts = calloc(n, sizeof(*puts));
	char (*keys)[STORE_S3_KEY_MAX] = calloc(n, sizeof(*keys));
	if (!puts || !keys)
		abort();
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = store_s3_blob_key(u[i].hash, keys[i], err);
		puts[i] = (struct s3_put){ .key = keys[i], .path = u[i].path, .sha256 = u[i].hash,
					   .content_type = u[i].content_type,
					   .cache_control = S3_CACHE_IMMUTABLE,
					   .content_encoding = u[i].content_encoding };
	}
	if (rc == 0)
		rc = s3_put_many(s->s3, puts, n, true, err);
	for (size_t i = 0; i < n; i++) {
		u[i].uploaded = rc == 0 && puts[i].uploaded;
		u[i].bytes = rc == 0 ? puts[i].bytes : 0;
	}
	free(puts);
	free(keys);
	return rc;
}

int store_s3_blob_put(struct store_s3 *s, const char *hash, const char *src_path,
		      const char *content_type, struct error *err)
{
	struct store_upload u = { .hash = hash, .path = src_path, .content_type = content_type };
	return store_s3_blobs_put(s, &u, 1, err);
}

int store_s3_object_put(struct store_s3 *s, const char *key, const void *data, size_t len,
			const char *content_type, struct error *err)
{
	int rc = store_s3_key_check(key, err);
	return rc < 0 ? rc : s3_put_mem(s->s3, key, data, len, content_type, S3_CACHE_NONE, err);
}

int store_s3_object_get(struct store_s3 *s, const char *key, struct buf *out, struct error *err)
{
	int rc = store_s3_key_check(key, err);
	return rc < 0 ? rc : s3_get_buf(s->s3, key, out, err);
}

int store_s3_object_delete(struct store_s3 *s, const char *key, struct error *err)
{
	int rc = store_s3_key_check(key, err);
	if (rc == 0)
		rc = s3_head(s->s3, key, NULL, err);
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

int store_s3_list(struct store_s3 *s, const char *prefix,
		  int (*fn)(const char *key, long long age_s, void *ctx), void *ctx,
		  struct error *err)
{
	char p[STORE_S3_KEY_MAX + 2];
	size_t n = prefix ? strlen(prefix) : 0;
	while (n && prefix[n - 1] == '/')
		n--;
	if (n > STORE_S3_KEY_MAX || (n && (prefix[0] == '/' || memmem(prefix, n, "..", 2))))
		return error_set(err, SKIFF_EINVALID, "invalid_key", "invalid store prefix");
	/* "blobs" lists blobs/..., never blobsX/... */
	snprintf(p, sizeof(p), "%.*s%s", (int)n, prefix ? prefix : "", n ? "/" : "");
	struct store_s3_walk w = { fn, ctx, (long long)time(NULL) };
	return s3_list(s->s3, p, store_s3_walk_one, &w, err);
}

int store_s3_check(struct store_s3 *s, struct error *err)
{
	return s3_check(s->s3, err);
}

int store_s3_blob_delete(struct store_s3 *s, const char *hash, struct error *err)
{
	char key[STORE_S3_KEY_MAX], path[STORE_PATH_MAX];
	int rc = store_s3_blob_key(hash, key, err);
	if (rc == 0)
		rc = s3_head(s->s3, key, NULL, err);
	if (rc == 0)
		return error_set(err, SKIFF_ENOTFOUND, NULL, "blob %s not found", hash);
	if (rc > 0)
		rc = s3_delete(s->s3, key, err);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/%.2s/%s", s->cache, hash, hash);
		unlink(path);
	}
	return rc;
}

/* ---- the cache ---- */

/* The web server reads the cache through X-Sendfile as another user: its directories are
 * 0755 whatever the umask (skiff-serve.service runs with UMask=0027). */
static int store_s3_mkdir(const char *path, struct error *err)
{
	if (mkdir(path, 0755) == 0) {
		if (chmod(path, 0755) == 0)
			return 0;
	} else if (errno == EEXIST) {
		return 0;
	}
	return error_set(err, SKIFF_ESTORE, "cache_unavailable", "cannot create %s: %s", path,
			 strerror(errno));
}

static int store_s3_cache_prepare(struct store_s3 *s, struct error *err)
{
	if (s->cache_ready)
		return 0;
	char tmp[STORE_S3_ROOT_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s/tmp", s->cache);
	int rc = store_s3_mkdir(s->cache, err);
	if (rc == 0)
		rc = store_s3_mkdir(tmp, err);
	s->cache_ready = rc == 0;
	return rc;
}

static int store_s3_lock_open(const char *root, const char *name)
{
	char path[STORE_S3_ROOT_MAX + 16];
	snprintf(path, sizeof(path), "%s/%s", root, name);
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
}

static int store_s3_flock(int fd, int op)
{
	int rc;
	while ((rc = flock(fd, op)) < 0 && errno == EINTR)
		;
	return rc;
}

static long long store_s3_usage_read(int fd)
{
	char text[32];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	char *end;
	long long v = strtoll(text, &end, 10);
	return end == text || v < 0 ? 0 : v;
}

static void store_s3_usage_write(int fd, long long v)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%lld\n", v < 0 ? 0 : v);
	if (pwrite(fd, text, (size_t)n, 0) == n)
		(void)!ftruncate(fd, n);
}

struct store_s3_entry {
	long long atime;
	unsigned long long size;
	char name[HASH_HEX_LEN + 1];
};

static int store_s3_entry_cmp(const void *a, const void *b)
{
	const struct store_s3_entry *x = a, *y = b;
	return (x->atime > y->atime) - (x->atime < y->atime);
}

long long store_s3_cache_evict(const char *root, unsigned long long target, long grace_s)
{
	int lock = store_s3_lock_open(root, STORE_S3_EVICT);
	if (lock < 0)
		return -1;
	if (store_s3_flock(lock, LOCK_EX | LOCK_NB) < 0) {
		close(lock);      /* another process is evicting */
		return -1;
	}
	size_t n = 0, cap = 1024;
	struct store_s3_entry *e = malloc(cap * sizeof(*e));
	if (!e)
		abort();
	unsigned long long total = 0;
	long long now = (long long)time(NULL);
	char dir[STORE_S3_ROOT_MAX + 8], path[STORE_PATH_MAX];
	for (int i = 0; i < 256; i++) {
		snprintf(dir, sizeof(dir), "%s/%02x", root, i);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *de;
		struct stat st;
		while ((de = readdir(d)) != NULL) {
			if (!store_hash_valid(de->d_name) ||
			    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			if (n == cap && !(e = realloc(e, (cap *= 2) * sizeof(*e))))
				abort();
			e[n].atime = (long long)st.st_atime;
			e[n].size = (unsigned long long)st.st_size;
			memcpy(e[n].name, de->d_name, HASH_HEX_LEN + 1);
			total += e[n].size;
			n++;
		}
		closedir(d);
	}
	/* temp files of fills that died */
	snprintf(dir, sizeof(dir), "%s/tmp", root);
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		struct stat st;
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
			    now - (long long)st.st_mtime > STORE_S3_TMP_STALE_S)
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	qsort(e, n, sizeof(*e), store_s3_entry_cmp);
	size_t evicted = 0;
	for (size_t i = 0; i < n && total > target; i++) {
		if (now - e[i].atime < grace_s)
			break;   /* sorted: everything after is newer still */
		snprintf(path, sizeof(path), "%s/%.2s/%s", root, e[i].name, e[i].name);
		if (unlink(path) == 0 || errno == ENOENT) {
			total -= e[i].size;
			evicted++;
		}
	}
	free(e);
	int usage = store_s3_lock_open(root, STORE_S3_USAGE);
	if (usage >= 0) {
		store_s3_flock(usage, LOCK_EX);
		store_s3_usage_write(usage, (long long)total);
		close(usage);
	}
	if (evicted)
		log_info("blob cache evicted entries=%zu bytes_left=%llu", evicted, total);
	close(lock);
	return (long long)total;
}

int store_s3_cache_account(const char *root, long long bytes, unsigned long long max_bytes,
			   long grace_s, struct error *err)
{
	int fd = store_s3_lock_open(root, STORE_S3_USAGE);
	if (fd < 0)
		return error_set(err, SKIFF_ESTORE, "cache_unavailable", "cannot open %s/%s: %s", root,
				 STORE_S3_USAGE, strerror(errno));
	store_s3_flock(fd, LOCK_EX);
	long long used = store_s3_usage_read(fd) + bytes;
	store_s3_usage_write(fd, used);
	close(fd);
	if (used > 0 && (unsigned long long)used > max_bytes)
		store_s3_cache_evict(root, max_bytes / 10 * 8, grace_s);
	return 0;
}

/* GET of the blob into a temp file, verified, renamed into place. */
static int store_s3_cache_fill(struct store_s3 *s, const char *hash, const char *path,
			       struct error *err)
{
	char key[STORE_S3_KEY_MAX], tmp[STORE_S3_ROOT_MAX + 32], dir[STORE_S3_ROOT_MAX + 8];
	char got[HASH_HEX_LEN + 1];
	unsigned long long size = 0;
	int rc = store_s3_blob_key(hash, key, err);
	if (rc < 0)
		return rc;
	snprintf(dir, sizeof(dir), "%s/%.2s", s->cache, hash);
	if ((rc = store_s3_mkdir(dir, err)) < 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s/tmp/get.XXXXXX", s->cache);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return error_set(err, SKIFF_ESTORE, "cache_unavailable",
				 "cannot create a temp file in %s/tmp: %s", s->cache, strerror(errno));
	rc = s3_get_fd(s->s3, key, fd, s->cache_max, err);
	if (rc == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		rc = error_set(err, SKIFF_ESTORE, "cache_unavailable", "cannot write the cache: %s",
			       strerror(errno));
	close(fd);
	if (rc == 0)
		rc = hash_file(tmp, got, &size, err);
	if (rc == 0 && strcmp(got, hash)) {
		log_error("blob from the store does not match its hash hash=%s got=%s", hash, got);
		rc = error_set(err, SKIFF_ESTORE, "blob_mismatch",
			       "blob %s from the store does not match its hash", hash);
	}
	if (rc == 0 && rename(tmp, path) < 0)
		rc = error_set(err, SKIFF_ESTORE, "cache_unavailable", "cannot store %s: %s", path,
			       strerror(errno));
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	log_debug("blob cache filled hash=%s bytes=%llu", hash, size);
	return store_s3_cache_account(s->cache, (long long)size, s->cache_max, STORE_S3_GRACE_S,
				      err);
}

int store_s3_blob_path(struct store_s3 *s, const char *hash, char out[STORE_PATH_MAX],
		       struct error *err)
{
	if (!store_hash_valid(hash))
		return error_set(err, SKIFF_EINVALID, "invalid_hash",
				 "blob hash must be 64 lowercase hex digits");
	int n = snprintf(out, STORE_PATH_MAX, "%s/%.2s/%s", s->cache, hash, hash);
	if (n < 0 || n >= STORE_PATH_MAX)
		return error_set(err, SKIFF_EINVALID, NULL, "cache path too long");
	struct stat st;
	if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
		/* a hit: remember the use for LRU (explicit, so noatime mounts work too) */
		time_t now = time(NULL);
		if (now - st.st_atime >= STORE_S3_TOUCH_S) {
			struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
			utimensat(AT_FDCWD, out, ts, 0);
		}
		return 0;
	}
	int rc = store_s3_cache_prepare(s, err);
	if (rc < 0)
		return rc;
	struct error e;
	error_clear(&e);
	rc = store_s3_cache_fill(s, hash, out, &e);
	if (rc == SKIFF_EIO || (rc == SKIFF_ESTORE && !strcmp(e.name, "cache_unavailable"))) {
		/* the disk may be full: make room and try once more */
		log_warn("blob cache fill failed, evicting and retrying hash=%s error=\"%s\"", hash,
			 e.message);
		store_s3_cache_evict(s->cache, s->cache_max / 2, 0);
		rc = store_s3_cache_fill(s, hash, out, &e);
	}
	return rc < 0 ? error_set(err, e.code, e.name, "%s", e.message) : 0;
}
