/* store_cache.c — a local, verified, size-bounded copy of blobs stored elsewhere, for
 * skiff-serve's X-Sendfile (store_cache.h). */
#include "store_cache.h"
#include "hex.h"
#include "fnv.h"
#include "hash.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_CACHE_ROOT_MAX 768
#define STORE_CACHE_GRACE_S 10         /* an entry used this recently is not evicted */
#define STORE_CACHE_TOUCH_S 60         /* hits refresh the access time at most this often */
#define STORE_CACHE_TMP_STALE_S 3600   /* temp files of crashed fills */
#define STORE_CACHE_USAGE ".usage"
#define STORE_CACHE_EVICT ".evict"

/* An entry whose size differs from its manifest's but whose bytes hashed right, as the file
 * it was then: hashed once per process, not on every request for it (a manifest with a wrong
 * size, from a hostile build, would otherwise make each HEAD of the file cost a hash of it). */
#define STORE_CACHE_ODD_SLOTS 64
struct store_cache_odd {
	char hash[HASH_HEX_LEN + 1];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct store_cache {
	char root[STORE_CACHE_ROOT_MAX];
	unsigned long long max;   /* bytes */
	bool ready;               /* root and root/tmp exist */
	struct store_cache_odd odd[STORE_CACHE_ODD_SLOTS];
};

void store_cache_new(struct store_cache **out, const char *root, unsigned long long max_bytes)
{
	struct store_cache *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	snprintf(c->root, sizeof(c->root), "%s", root);
	c->max = max_bytes;
	*out = c;
}

void store_cache_free(struct store_cache *c)
{
	free(c);
}

const char *store_cache_root(const struct store_cache *c)
{
	return c->root;
}

unsigned long long store_cache_max(const struct store_cache *c)
{
	return c->max;
}

/* An entry's file name: its hash. Anything else in the cache is not counted or removed. */
static bool store_cache_entry_name(const char *name)
{
	return strlen(name) == HASH_HEX_LEN && hex_span(name) == HASH_HEX_LEN;
}

/* The web server reads the cache through X-Sendfile as another user: its directories are
 * 0755 whatever the umask (skiff-serve.service runs with UMask=0027). */
static int store_cache_mkdir(const char *path, struct error *err)
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

static int store_cache_prepare(struct store_cache *c, struct error *err)
{
	if (c->ready)
		return 0;
	char tmp[STORE_CACHE_ROOT_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s/tmp", c->root);
	int rc = store_cache_mkdir(c->root, err);
	if (rc == 0)
		rc = store_cache_mkdir(tmp, err);
	c->ready = rc == 0;
	return rc;
}

static int store_cache_lock_open(const char *root, const char *name)
{
	char path[STORE_CACHE_ROOT_MAX + 16];
	snprintf(path, sizeof(path), "%s/%s", root, name);
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
}

static int store_cache_flock(int fd, int op)
{
	int rc;
	while ((rc = flock(fd, op)) < 0 && errno == EINTR)
		;
	return rc;
}

static long long store_cache_usage_read(int fd)
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

static void store_cache_usage_write(int fd, long long v)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%lld\n", v < 0 ? 0 : v);
	if (pwrite(fd, text, (size_t)n, 0) == n)
		(void)!ftruncate(fd, n);
}

struct store_cache_entry {
	long long atime;
	unsigned long long size;
	char name[HASH_HEX_LEN + 1];
};

static int store_cache_entry_cmp(const void *a, const void *b)
{
	const struct store_cache_entry *x = a, *y = b;
	return (x->atime > y->atime) - (x->atime < y->atime);
}

long long store_cache_evict(const char *root, unsigned long long target, long grace_s)
{
	int lock = store_cache_lock_open(root, STORE_CACHE_EVICT);
	if (lock < 0)
		return -1;
	if (store_cache_flock(lock, LOCK_EX | LOCK_NB) < 0) {
		close(lock);      /* another process is evicting */
		return -1;
	}
	size_t n = 0, cap = 1024;
	struct store_cache_entry *e = malloc(cap * sizeof(*e));
	if (!e)
		abort();
	unsigned long long total = 0;
	long long now = (long long)time(NULL);
	char dir[STORE_CACHE_ROOT_MAX + 8], path[STORE_PATH_MAX];
	for (int i = 0; i < 256; i++) {
		snprintf(dir, sizeof(dir), "%s/%02x", root, i);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *de;
		struct stat st;
		while ((de = readdir(d)) != NULL) {
			if (!store_cache_entry_name(de->d_name) ||
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
			    now - (long long)st.st_mtime > STORE_CACHE_TMP_STALE_S)
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	qsort(e, n, sizeof(*e), store_cache_entry_cmp);
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
	int usage = store_cache_lock_open(root, STORE_CACHE_USAGE);
	if (usage >= 0) {
		store_cache_flock(usage, LOCK_EX);
		store_cache_usage_write(usage, (long long)total);
		close(usage);
	}
	if (evicted)
		log_info("blob cache evicted entries=%zu bytes_left=%llu", evicted, total);
	close(lock);
	return (long long)total;
}

int store_cache_account(const char *root, long long bytes, unsigned long long max_bytes,
			   long grace_s, struct error *err)
{
	int fd = store_cache_lock_open(root, STORE_CACHE_USAGE);
	if (fd < 0)
		return error_set(err, SKIFF_ESTORE, "cache_unavailable", "cannot open %s/%s: %s", root,
				 STORE_CACHE_USAGE, strerror(errno));
	store_cache_flock(fd, LOCK_EX);
	long long used = store_cache_usage_read(fd) + bytes;
	store_cache_usage_write(fd, used);
	close(fd);
	if (used > 0 && (unsigned long long)used > max_bytes)
		store_cache_evict(root, max_bytes / 10 * 8, grace_s);
	return 0;
}

/* Whether the entry at path (st), of another size than expected, holds the blob hash all the
 * same; when it does not it is removed (unlink only: a reader keeps what it opened). */
static bool store_cache_entry_ok(struct store_cache *c, const char *path, const char *hash,
				 const struct stat *st, long long want)
{
	char got[HASH_HEX_LEN + 1];
	unsigned long long size;
	struct error e;
	long long have = (long long)st->st_size;
	struct store_cache_odd *odd = &c->odd[fnv1a(hash) & (STORE_CACHE_ODD_SLOTS - 1)];
	if (!strcmp(odd->hash, hash) && odd->dev == st->st_dev && odd->ino == st->st_ino &&
	    odd->size == st->st_size && odd->mtime.tv_sec == st->st_mtim.tv_sec &&
	    odd->mtime.tv_nsec == st->st_mtim.tv_nsec)
		return true;
	if (hash_file(path, got, &size, &e) == 0 && !strcmp(got, hash)) {
		log_warn("blob size differs from the manifest's hash=%s size=%lld manifest=%lld",
			 hash, have, want);
		snprintf(odd->hash, sizeof(odd->hash), "%s", hash);
		odd->dev = st->st_dev;
		odd->ino = st->st_ino;
		odd->size = st->st_size;
		odd->mtime = st->st_mtim;
		return true;
	}
	log_warn("blob cache entry damaged, fetching it again hash=%s size=%lld want=%lld", hash,
		 have, want);
	unlink(path);
	return false;
}

int store_cache_lookup(struct store_cache *c, const char *hash, long long size,
		       char out[STORE_PATH_MAX], struct error *err)
{
	int n = snprintf(out, STORE_PATH_MAX, "%s/%.2s/%s", c->root, hash, hash);
	if (n < 0 || n >= STORE_PATH_MAX)
		return error_set(err, SKIFF_EINVALID, NULL, "cache path too long");
	struct stat st;
	if (stat(out, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (size >= 0 && (long long)st.st_size != size &&
	    !store_cache_entry_ok(c, out, hash, &st, size))
		return 0;
	/* remember the use for LRU (explicit, so noatime mounts work too) */
	time_t now = time(NULL);
	if (now - st.st_atime >= STORE_CACHE_TOUCH_S) {
		struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
		utimensat(AT_FDCWD, out, ts, 0);
	}
	return 1;
}

int store_cache_tmp_open(struct store_cache *c, const char *hash, char tmp[STORE_PATH_MAX],
			 struct error *err)
{
	char dir[STORE_CACHE_ROOT_MAX + 8];
	int rc = store_cache_prepare(c, err);
	if (rc < 0)
		return rc;
	snprintf(dir, sizeof(dir), "%s/%.2s", c->root, hash);
	if ((rc = store_cache_mkdir(dir, err)) < 0)
		return rc;
	snprintf(tmp, STORE_PATH_MAX, "%s/tmp/get.XXXXXX", c->root);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return error_set(err, SKIFF_ESTORE, "cache_unavailable",
				 "cannot create a temp file in %s/tmp: %s", c->root, strerror(errno));
	return fd;
}

int store_cache_commit(struct store_cache *c, const char *hash, int fd, const char *tmp,
		       const char *path, struct error *err)
{
	char got[HASH_HEX_LEN + 1];
	unsigned long long size = 0;
	int rc = 0;
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
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
	return store_cache_account(c->root, (long long)size, c->max, STORE_CACHE_GRACE_S, err);
}

void store_cache_drop(struct store_cache *c, const char *hash)
{
	char path[STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%.2s/%s", c->root, hash, hash);
	unlink(path);
}
