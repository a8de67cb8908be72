/* cache.c — the project's build cache between builds: one directory per project with npm's,
 * pnpm's and yarn's caches and its kept node_modules (modules.c), its use time the directory's
 * mtime, evicted least recently used first once all projects' caches pass build_cache_mb. Why it is safe to share between one
 * project's builds, and not between projects: doc/security.md. */
#include "cache.h"
#include "build_log.h"
#include "log.h"
#include "modules.h"
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_ENTRIES_MAX 100000   /* project caches looked at by one eviction */
#define CACHE_DEPTH_MAX 64         /* directory depth counted in a cache */

const char *const build_cache_kinds[BUILD_CACHE_KINDS] = { "npm", "pnpm", "yarn" };

static int cache_mkdir(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

void build_cache_open(struct build *b)
{
	const struct config *cfg = b->cfg;
	char dir[PATH_MAX], sub[PATH_MAX + 8];
	b->cache_dir[0] = '\0';
	b->cache_lock = -1;
	if (cfg->build_cache_mb <= 0)
		return;
	/* a fork's pull request runs code from outside the project and never sees its secrets
	 * (build_env.c): with the project's cache it could leave what a later production build,
	 * which does, runs or trusts (doc/security.md) */
	if (b->deployment.fork) {
		build_log(b, "Build cache not used: a pull request from a fork builds without it");
		return;
	}
	int n = snprintf(dir, sizeof(dir), "%s/%s-%lld", cfg->build_cache_path, b->slug,
			 b->project.created);
	if (n < 0 || (size_t)n >= sizeof(dir) - 16 || cache_mkdir(cfg->build_cache_path) < 0) {
		build_log(b, "Build cache unavailable: cannot create %s", cfg->build_cache_path);
		return;
	}
	if (b->deployment.clear_cache) {
		sandbox_rm_tree(dir);
		build_log(b, "Build cache cleared");
	}
	if (cache_mkdir(dir) < 0) {
		build_log(b, "Build cache unavailable: cannot create its directory");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/.lock", dir);
	int fd = open(sub, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	/* alone with it: what a build killed halfway through a move of node_modules left */
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
		build_modules_sweep(dir);
	if (fd < 0 || flock(fd, LOCK_SH) < 0) {
		if (fd >= 0)
			close(fd);
		build_log(b, "Build cache unavailable: cannot lock it");
		return;
	}
	for (size_t i = 0; i < BUILD_CACHE_KINDS; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, build_cache_kinds[i]);
		if (cache_mkdir(sub) < 0) {
			close(fd);
			build_log(b, "Build cache unavailable: cannot create its directories");
			return;
		}
	}
	utimensat(AT_FDCWD, dir, NULL, 0); /* its last use, for eviction */
	b->cache_lock = fd;
	memcpy(b->cache_dir, dir, sizeof(b->cache_dir));
}

/* Bytes on disk under dirfd's directory (its blocks, links not followed). */
static unsigned long long cache_size(int dirfd, int depth)
{
	unsigned long long total = 0;
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return 0;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		total += (unsigned long long)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode) && depth < CACHE_DEPTH_MAX) {
			int fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 && errno == EACCES && /* a build's chmod does not hide its size */
			    fchmodat(dirfd, e->d_name, 0700, 0) == 0)
				fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				total += cache_size(fd, depth + 1);
		}
	}
	closedir(d);
	return total;
}

struct cache_entry {
	char name[256];
	long long used;            /* mtime of the directory, ns */
	unsigned long long bytes;
};

static int cache_older(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;
	return x->used < y->used ? -1 : x->used > y->used;
}

/* Removes root/name unless a build holds it; 1 when removed. */
static int cache_evict_one(const char *root, const char *name)
{
	char dir[PATH_MAX], lock[PATH_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	snprintf(lock, sizeof(lock), "%s/.lock", dir);
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 0;
	}
	sandbox_rm_tree(dir);
	if (fd >= 0)
		close(fd);
	return 1;
}

static void cache_evict(const struct config *cfg)
{
	const char *root = cfg->build_cache_path;
	unsigned long long cap = (unsigned long long)cfg->build_cache_mb << 20, total = 0;
	char lock[PATH_MAX];
	snprintf(lock, sizeof(lock), "%s/.evict", root);
	int lfd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX) < 0) /* one eviction at a time */
		goto out;
	DIR *d = opendir(root);
	if (!d)
		goto out;
	size_t n = 0, cap_n = 64;
	struct cache_entry *v = malloc(cap_n * sizeof(*v));
	if (!v)
		abort();
	struct dirent *e;
	while ((e = readdir(d)) && n < CACHE_ENTRIES_MAX) {
		struct stat st;
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(v->name) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (n == cap_n) {
			cap_n *= 2;
			v = realloc(v, cap_n * sizeof(*v));
			if (!v)
				abort();
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", e->d_name);
		v[n].used = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		v[n].bytes = cache_size(fd, 0);
		total += v[n].bytes;
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cache_older);
	for (size_t i = 0; i < n && total > cap; i++) {
		if (!cache_evict_one(root, v[i].name))
			continue;
		total -= v[i].bytes;
		log_info("build cache evicted cache=%s bytes=%llu", v[i].name, v[i].bytes);
	}
	free(v);
out:
	if (lfd >= 0)
		close(lfd);
}

void build_cache_close(struct build *b, bool keep)
{
	if (b->cache_lock < 0)
		return;
	if (keep)
		build_modules_save(b);
	close(b->cache_lock); /* releases the shared lock: this cache may go too if too big */
	b->cache_lock = -1;
	cache_evict(b->cfg);
}
