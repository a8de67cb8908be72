/* modules.c — a project's node_modules between builds (modules.h): its key, the restore into
 * the checkout and the save after a successful build, each a rename on one filesystem. Every
 * path is opened without following symlinks, from descriptors of directories a build cannot
 * replace (the work directory, the project's cache directory), so a link a build leaves in
 * its checkout never moves anything from or to outside the project. */
#include "modules.h"
#include "build_log.h"
#include "hash.h"
#include "log.h"
#include "run.h"
#include "sandbox.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MODULES_DIR "modules"            /* cache_dir/modules/{key}/node_modules */
#define MODULES_KEEP 3                   /* trees kept per project, of different keys */
#define MODULES_STAGE ".modules-"        /* cache_dir/.modules-{id}: one build's move */
#define MODULES_FORMAT "skiff-modules-1" /* what the key covers, and how */

/* Files at the checkout's root that decide what an install puts into node_modules. */
static const char *const modules_inputs[] = {
	"package.json", "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml",
	"pnpm-workspace.yaml", ".pnpmfile.cjs", "yarn.lock", ".yarnrc", ".yarnrc.yml",
	"bun.lockb", ".npmrc",
};
/* Programs whose version decides it, as the commands find them on their PATH. */
static const char *const modules_tools[] = { "node", "npm", "pnpm", "yarn", "corepack" };

static void modules_put(struct hash_stream *h, const char *what, const char *value)
{
	hash_stream_update(h, what, strlen(what));
	hash_stream_update(h, " ", 1);
	hash_stream_update(h, value, strlen(value));
	hash_stream_update(h, "\n", 1);
}

/* Puts a variable-length text as its digest, so that no text can pass for the next line. */
static void modules_put_digest(struct hash_stream *h, const char *what, const char *text)
{
	char hex[HASH_HEX_LEN + 1];
	hash_buffer(text, strlen(text), hex);
	modules_put(h, what, hex);
}

/* A program on the commands' PATH: where its link leads, and that file's identity (a new
 * version, or the same reinstalled, is another inode or time). */
static void modules_put_tool(struct hash_stream *h, const char *tool)
{
	char path[PATH_MAX], real[PATH_MAX], id[PATH_MAX + 128];
	for (const char *d = RUN_PATH; *d; d += strcspn(d, ":"), d += *d == ':') {
		struct stat st;
		snprintf(path, sizeof(path), "%.*s/%s", (int)strcspn(d, ":"), d, tool);
		if (!realpath(path, real) || stat(real, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(id, sizeof(id), "%s %llu %llu %lld.%09ld %lld.%09ld", real,
			 (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
		modules_put_digest(h, tool, id);
		return;
	}
	modules_put(h, tool, "-");
}

/* The key of the node_modules an install makes in this checkout; -1 (logged) when one of
 * its inputs is there but not a regular file. */
static int modules_key(struct build *b, int repofd, char out[HASH_HEX_LEN + 1])
{
	struct hash_stream *h = hash_stream_new();
	char hex[HASH_HEX_LEN + 1];
	int rc = 0;
	modules_put(h, "format", MODULES_FORMAT);
	for (size_t i = 0; i < sizeof(modules_inputs) / sizeof(modules_inputs[0]) && rc == 0; i++) {
		const char *name = modules_inputs[i];
		int fd = openat(repofd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat st;
		struct error e;
		if (fd < 0 && errno == ENOENT) {
			modules_put(h, name, "-");
			continue;
		}
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    hash_fd(fd, hex, NULL, &e) < 0) {
			build_log(b, "node_modules not kept: %s is not a regular file", name);
			rc = -1;
		} else {
			modules_put(h, name, hex);
		}
		if (fd >= 0)
			close(fd);
	}
	modules_put_digest(h, "install", b->detect.install_command);
	/* the project's variables (NODE_ENV, npm_config_*), not skiff's own: those change with
	 * every build */
	for (size_t i = 0; i < b->nenv; i++)
		if (strncmp(b->env[i], "SKIFF_", 6))
			modules_put_digest(h, "env", b->env[i]);
	for (size_t i = 0; i < sizeof(modules_tools) / sizeof(modules_tools[0]); i++)
		modules_put_tool(h, modules_tools[i]);
	struct utsname u;
	modules_put(h, "machine", uname(&u) == 0 ? u.machine : "-");
	modules_put(h, "libc", gnu_get_libc_version());
	struct error e;
	modules_put(h, "os", hash_file("/usr/lib/os-release", hex, NULL, &e) == 0 ? hex : "-");
	hash_stream_final(h, out);
	hash_stream_free(h);
	return rc;
}

/* Removes the entry name of the project's cache directory (no link followed). */
static void modules_remove(const struct build *b, const char *name)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", b->cache_dir, name);
	sandbox_rm_tree(path);
}

/* Whether the user's own install command is npm ci, which deletes node_modules first. */
static bool modules_user_ci(const struct build *b)
{
	const char *c = b->detect.install_command;
	if (!strcmp(b->detect.install_from, "detected"))
		return false;
	while (isspace((unsigned char)*c))
		c++;
	size_t n = !strncmp(c, "npm ci", 6) ? 6 : !strncmp(c, "npm clean-install", 17) ? 17 : 0;
	return n && (!c[n] || isspace((unsigned char)c[n]) || strchr(";&|", c[n]));
}

/* The checkout (O_NOFOLLOW from the work directory, which the build cannot replace), or -1. */
static int modules_open_repo(const struct build *b)
{
	int wfd = open(b->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (wfd < 0)
		return -1;
	int fd = openat(wfd, "repo", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(wfd);
	return fd;
}

/* Whether dirfd/name is a directory itself (not a link to one). */
static bool modules_is_dir(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* How many trees cachefd's modules/ holds (those of other keys: another branch's lockfile). */
static size_t modules_count(int cachefd)
{
	int fd = openat(cachefd, MODULES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	size_t n = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Keeps the MODULES_KEEP trees of modules/ saved last (their directory's mtime: when the
 * tree was moved into it) and removes the others, and anything else there. */
static void modules_prune(const struct build *b, int cachefd)
{
	struct { char name[HASH_HEX_LEN + 1]; long long t; } keep[MODULES_KEEP + 1];
	char path[PATH_MAX + 300];
	size_t n = 0;
	int fd = openat(cachefd, MODULES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/" MODULES_DIR "/%s", b->cache_dir, e->d_name);
		if (strlen(e->d_name) != HASH_HEX_LEN || fstatat(dirfd(d), e->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
			sandbox_rm_tree(path);
			continue;
		}
		/* insert by age, newest first; the one pushed past MODULES_KEEP goes */
		long long t = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		size_t i = n;
		while (i > 0 && keep[i - 1].t < t) {
			keep[i] = keep[i - 1];
			i--;
		}
		memcpy(keep[i].name, e->d_name, HASH_HEX_LEN + 1);
		keep[i].t = t;
		if (n < MODULES_KEEP) {
			n++;
		} else {
			snprintf(path, sizeof(path), "%s/" MODULES_DIR "/%s", b->cache_dir,
				 keep[MODULES_KEEP].name);
			sandbox_rm_tree(path);
		}
	}
	closedir(d);
}

void build_modules_restore(struct build *b)
{
	char key[HASH_HEX_LEN + 1], stage[64], inner[96], kept[HASH_HEX_LEN + 16];
	struct stat rs, cs;
	int repofd = -1, cachefd = -1;
	b->modules_key[0] = '\0';
	if (!b->cache_dir[0] || !b->detect.install_command[0])
		return;
	if ((repofd = modules_open_repo(b)) < 0 ||
	    (cachefd = open(b->cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		goto out;
	if (faccessat(repofd, "package.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		goto out; /* not a Node project: nothing to keep */
	if (modules_user_ci(b)) {
		build_log(b, "node_modules not kept: npm ci deletes it (the download cache still "
			  "serves it; an install command of npm install would keep it)");
		goto out;
	}
	if (fstatat(repofd, "node_modules", &rs, AT_SYMLINK_NOFOLLOW) == 0) {
		build_log(b, "node_modules not kept: the repository has its own");
		goto out;
	}
	if (fstat(repofd, &rs) < 0 || fstat(cachefd, &cs) < 0 || rs.st_dev != cs.st_dev) {
		build_log(b, "node_modules not kept: the build cache is on another filesystem than "
			  "the work directory");
		log_warn("node_modules not cached: build_cache_path and work_dir are on different "
			 "filesystems deployment=%s", b->id);
		goto out;
	}
	if (modules_key(b, repofd, key) < 0)
		goto out;
	memcpy(b->modules_key, key, sizeof(key));
	/* take it whole first: a build of the same project saving the same key meanwhile
	 * replaces the entry, never what this one took */
	snprintf(kept, sizeof(kept), MODULES_DIR "/%s", key);
	snprintf(stage, sizeof(stage), MODULES_STAGE "%s", b->id);
	snprintf(inner, sizeof(inner), "%s/node_modules", stage);
	if (renameat(cachefd, kept, cachefd, stage) < 0) {
		if (modules_count(cachefd) == 0)
			build_log(b, "node_modules: none kept in the build cache yet");
		else
			build_log(b, "node_modules not restored: none kept for this lockfile, "
				  "package.json, install command, variables, Node and package manager");
		goto out;
	}
	int rc = modules_is_dir(cachefd, inner) ? renameat(cachefd, inner, repofd, "node_modules")
						 : (errno = ENOTDIR, -1);
	if (rc < 0) {
		build_log(b, "node_modules not restored: %s", strerror(errno));
		modules_remove(b, stage);
		goto out;
	}
	modules_remove(b, stage);
	build_log(b, "Restored node_modules from the build cache");
	if (!strcmp(b->detect.install_from, "detected") &&
	    !strcmp(b->detect.install_command, "npm ci")) {
		snprintf(b->detect.install_command, sizeof(b->detect.install_command), "%s",
			 BUILD_MODULES_INSTALL);
		build_log(b, "Install command (build cache): %s, which keeps it (npm ci would "
			  "delete it)", b->detect.install_command);
	}
out:
	if (repofd >= 0)
		close(repofd);
	if (cachefd >= 0)
		close(cachefd);
}

void build_modules_save(struct build *b)
{
	char stage[64], inner[96], kept[HASH_HEX_LEN + 16];
	int repofd = -1, cachefd = -1;
	if (!b->cache_dir[0] || !b->modules_key[0])
		return;
	if ((repofd = modules_open_repo(b)) < 0 ||
	    (cachefd = open(b->cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		goto out;
	if (!modules_is_dir(repofd, "node_modules"))
		goto out; /* none made, or a link: nothing of it is kept */
	snprintf(stage, sizeof(stage), MODULES_STAGE "%s", b->id);
	snprintf(inner, sizeof(inner), "%s/node_modules", stage);
	snprintf(kept, sizeof(kept), MODULES_DIR "/%s", b->modules_key);
	modules_remove(b, stage);
	if ((mkdirat(cachefd, MODULES_DIR, 0700) < 0 && errno != EEXIST) ||
	    mkdirat(cachefd, stage, 0700) < 0 ||
	    renameat(repofd, "node_modules", cachefd, inner) < 0) {
		build_log(b, "node_modules not kept: %s", strerror(errno));
		modules_remove(b, stage);
		goto out;
	}
	/* in one step: the one kept under this key, if any, swaps places with this one and goes */
	if (renameat2(cachefd, stage, cachefd, kept, RENAME_EXCHANGE) < 0 &&
	    (errno != ENOENT || renameat(cachefd, stage, cachefd, kept) < 0)) {
		build_log(b, "node_modules not kept: %s", strerror(errno));
		modules_remove(b, stage);
		goto out;
	}
	modules_remove(b, stage);
	modules_prune(b, cachefd);
	build_log(b, "Kept node_modules in the build cache for the next build");
out:
	if (repofd >= 0)
		close(repofd);
	if (cachefd >= 0)
		close(cachefd);
}

void build_modules_sweep(const char *cache_dir)
{
	char path[PATH_MAX + 300];
	DIR *d = opendir(cache_dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, MODULES_STAGE, strlen(MODULES_STAGE))) {
			snprintf(path, sizeof(path), "%s/%s", cache_dir, e->d_name);
			sandbox_rm_tree(path);
		}
	closedir(d);
}
