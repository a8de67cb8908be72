/* collect.c — walking a build's output directory with openat/fstatat, never following a
 * symlink out of it. */
#include "collect.h"
#include "hex.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct collect_walk {
	const struct collect_limits *lim;
	const char *const *exclude;
	collect_note_fn note;
	void *ctx;
	struct collect_result *out;
	struct error *err;
	int root_fd;
};

static void collect_note(struct collect_walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void collect_note(struct collect_walk *w, const char *fmt, ...)
{
	w->out->skipped++;
	if (!w->note || w->out->skipped > COLLECT_NOTES_MAX + 1)
		return;
	char msg[COLLECT_PATH_MAX + 256];
	if (w->out->skipped == COLLECT_NOTES_MAX + 1) {
		snprintf(msg, sizeof(msg), "more entries were skipped; not listing them one by one");
	} else {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	w->note(w->ctx, msg);
}

/* A file name skiff can serve: valid UTF-8 (no overlongs, no surrogates), no control
 * characters. */
static bool collect_name_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
		if (n < 0 || c > 0xf4)
			return false;
		unsigned cp = c & (0x3fu >> n);
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3fu);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0x80 && cp <= 0x9f))
			return false;
		p += n + 1;
	}
	return true;
}

/* The name with bytes that are not printable ASCII as \xNN, for notes. */
static void collect_escape(const char *s, char *out, size_t outlen)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < outlen; p++) {
		if (*p >= 0x20 && *p < 0x7f) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			hex_encode(p, 1, out + o);
			o += 2;
		}
	}
	out[o] = '\0';
}

static int collect_add(struct collect_walk *w, const char *rel, const char *src,
		       unsigned long long size)
{
	struct collect_result *r = w->out;
	if (r->nfiles >= w->lim->max_files)
		return error_set(w->err, SKIFF_ELIMIT, "too_many_files",
				 "the output has more than %lu files (max_files)", w->lim->max_files);
	if (size > w->lim->max_file_bytes)
		return error_set(w->err, SKIFF_ELIMIT, "file_too_large",
				 "%s is %llu MB; the limit is %llu MB a file (max_file_mb)", rel,
				 (size + (1u << 20) - 1) >> 20, w->lim->max_file_bytes >> 20);
	if (size > w->lim->max_total_bytes - r->total)
		return error_set(w->err, SKIFF_ELIMIT, "output_too_large",
				 "the output is larger than %llu MB (max_output_mb)",
				 w->lim->max_total_bytes >> 20);
	if (r->nfiles == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct collect_file *f = realloc(r->files, cap * sizeof(*f));
		if (!f)
			abort();
		r->files = f;
		r->cap = cap;
	}
	struct collect_file *f = &r->files[r->nfiles++];
	size_t n = strlen(rel);
	f->path = malloc(n + 2);
	if (!f->path)
		abort();
	f->path[0] = '/';
	memcpy(f->path + 1, rel, n + 1);
	f->src = strdup(src);
	if (!f->src)
		abort();
	f->size = size;
	r->total += size;
	return 0;
}

/* Reads a small rules file at the top level. */
static int collect_rules(struct collect_walk *w, int dirfd, const char *name, char **text,
			 size_t *len)
{
	struct stat st;
	int fd = collect_open_file(dirfd, name, &st, w->err);
	if (fd < 0)
		return fd;
	if (st.st_size > (off_t)COLLECT_RULES_MAX) {
		close(fd);
		collect_note(w, "skipped %s: larger than %u bytes", name, COLLECT_RULES_MAX);
		return 0;
	}
	char *data = malloc((size_t)st.st_size + 1);
	if (!data)
		abort();
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	data[got] = '\0';
	free(*text);
	*text = data;
	*len = got;
	return 0;
}

/* Resolves a relative symlink target lexically from the link's directory; 0 and the path
 * relative to the root in out, or -1 when it leaves the root. */
static int collect_resolve(const char *dir, const char *target, char *out, size_t outlen)
{
	char tmp[PATH_MAX * 2];
	if (target[0] == '/')
		return -1;
	int n = snprintf(tmp, sizeof(tmp), "%s%s%s", dir, *dir ? "/" : "", target);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	size_t o = 0;
	out[0] = '\0';
	for (char *seg = tmp, *next; seg; seg = next) {
		next = strchr(seg, '/');
		if (next)
			*next++ = '\0';
		if (!*seg || !strcmp(seg, "."))
			continue;
		if (!strcmp(seg, "..")) {
			if (o == 0)
				return -1;
			char *slash = memrchr(out, '/', o);
			o = slash ? (size_t)(slash - out) : 0;
			out[o] = '\0';
			continue;
		}
		size_t sl = strlen(seg);
		if (o + sl + 2 > outlen)
			return -1;
		if (o)
			out[o++] = '/';
		memcpy(out + o, seg, sl + 1);
		o += sl;
	}
	return 0;
}

static int collect_symlink(struct collect_walk *w, int dirfd, const char *dir, const char *name,
			   const char *rel)
{
	char target[PATH_MAX], resolved[COLLECT_PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (n < 0) {
		collect_note(w, "skipped symlink %s: cannot read it", rel);
		return 0;
	}
	target[n] = '\0';
	if (collect_resolve(dir, target, resolved, sizeof(resolved)) < 0) {
		collect_note(w, "skipped symlink %s: points outside the output directory", rel);
		return 0;
	}
	struct stat st;
	struct error e;
	int fd = collect_open_file(w->root_fd, resolved, &st, &e);
	if (fd < 0) {
		collect_note(w, "skipped symlink %s: its target is not a regular file inside the "
			     "output directory", rel);
		return 0;
	}
	close(fd);
	return collect_add(w, rel, resolved, (unsigned long long)st.st_size);
}

static int collect_dir(struct collect_walk *w, int dirfd, const char *dir, int depth)
{
	int fd2 = dup(dirfd);
	DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
	if (!d) {
		if (fd2 >= 0)
			close(fd2);
		return error_set(w->err, SKIFF_EIO, NULL, "cannot list %s/: %s", *dir ? dir : ".",
				 strerror(errno));
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, ".git"))
			continue;
		bool excluded = false;
		for (const char *const *x = depth == 0 ? w->exclude : NULL; x && *x; x++)
			excluded = excluded || !strcmp(*x, name);
		if (excluded)
			continue;
		char rel[COLLECT_PATH_MAX];
		int n = snprintf(rel, sizeof(rel), "%s%s%s", dir, *dir ? "/" : "", name);
		if (!collect_name_valid(name)) {
			char shown[COLLECT_PATH_MAX];
			collect_escape(n > 0 && (size_t)n < sizeof(rel) ? rel : name, shown, sizeof(shown));
			collect_note(w, "skipped %s: the name is not valid UTF-8 or has control "
				     "characters", shown);
			continue;
		}
		if (n < 0 || (size_t)n >= sizeof(rel) - 1) {
			collect_note(w, "skipped %.200s...: the path is longer than %d bytes", rel,
				     COLLECT_PATH_MAX - 2);
			continue;
		}
		struct stat st;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			collect_note(w, "skipped %s: %s", rel, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth + 1 >= COLLECT_DEPTH_MAX) {
				collect_note(w, "skipped %s/: nested deeper than %d directories", rel,
					     COLLECT_DEPTH_MAX);
				continue;
			}
			int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				collect_note(w, "skipped %s/: %s", rel, strerror(errno));
				continue;
			}
			rc = collect_dir(w, sub, rel, depth + 1);
			close(sub);
		} else if (S_ISREG(st.st_mode)) {
			if (depth == 0 && !strcmp(name, "_redirects"))
				rc = collect_rules(w, dirfd, name, &w->out->redirects,
						   &w->out->redirects_len);
			else if (depth == 0 && !strcmp(name, "_headers"))
				rc = collect_rules(w, dirfd, name, &w->out->headers, &w->out->headers_len);
			else
				rc = collect_add(w, rel, rel, (unsigned long long)st.st_size);
		} else if (S_ISLNK(st.st_mode)) {
			if (depth == 0 && (!strcmp(name, "_redirects") || !strcmp(name, "_headers")))
				collect_note(w, "skipped symlink %s: rules files must be regular files",
					     rel);
			else
				rc = collect_symlink(w, dirfd, dir, name, rel);
		} else {
			const char *what = S_ISFIFO(st.st_mode) ? "a fifo" :
					   S_ISSOCK(st.st_mode) ? "a socket" :
					   S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" :
					   "not a regular file";
			collect_note(w, "refused %s: it is %s", rel, what);
		}
	}
	if (rc == 0 && errno != 0 && !de)
		rc = error_set(w->err, SKIFF_EIO, NULL, "cannot list %s/: %s", *dir ? dir : ".",
			       strerror(errno));
	closedir(d);
	return rc;
}

static int collect_cmp(const void *a, const void *b)
{
	return strcmp(((const struct collect_file *)a)->path, ((const struct collect_file *)b)->path);
}

int collect_walk(int root_fd, const struct collect_limits *lim, const char *const *exclude,
		 collect_note_fn note, void *ctx, struct collect_result *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct collect_walk w = { lim, exclude, note, ctx, out, err, root_fd };
	int rc = collect_dir(&w, root_fd, "", 0);
	if (rc < 0) {
		collect_result_dispose(out);
		return rc;
	}
	if (out->nfiles)
		qsort(out->files, out->nfiles, sizeof(out->files[0]), collect_cmp);
	return 0;
}

/* Opens one component: directories for every component but the last. */
static int collect_open_at(int dirfd, const char *name, bool dir)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (dir ? O_DIRECTORY : O_NONBLOCK);
	return openat(dirfd, name, flags);
}

int collect_open_file(int root_fd, const char *src, struct stat *st, struct error *err)
{
	char path[COLLECT_PATH_MAX];
	size_t n = strlen(src);
	if (n == 0 || n >= sizeof(path))
		return error_set(err, SKIFF_EINVALID, NULL, "bad file path");
	memcpy(path, src, n + 1);
	int fd = root_fd, rc;
	char *seg = path;
	for (char *slash; (slash = strchr(seg, '/')) != NULL; seg = slash + 1) {
		*slash = '\0';
		int next = (!*seg || !strcmp(seg, "..")) ? (errno = EINVAL, -1) :
							     collect_open_at(fd, seg, true);
		if (fd != root_fd)
			close(fd);
		if (next < 0)
			return error_set(err, SKIFF_EIO, NULL, "cannot open %s: %s", src, strerror(errno));
		fd = next;
	}
	int file = strcmp(seg, "..") ? collect_open_at(fd, seg, false) : (errno = EINVAL, -1);
	int e = errno;
	if (fd != root_fd)
		close(fd);
	if (file < 0)
		return error_set(err, SKIFF_EIO, NULL, "cannot open %s: %s", src, strerror(e));
	if (fstat(file, st) < 0 || !S_ISREG(st->st_mode)) {
		close(file);
		return error_set(err, SKIFF_EIO, NULL, "%s is not a regular file", src);
	}
	rc = fcntl(file, F_SETFL, fcntl(file, F_GETFL) & ~O_NONBLOCK);
	(void)rc;
	return file;
}

int collect_open_root(const char *base, const char *rel, struct error *err)
{
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, SKIFF_EIO, NULL, "cannot open the checkout: %s", strerror(errno));
	char path[COLLECT_PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s", rel);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		close(fd);
		return error_set(err, SKIFF_EINVALID, NULL, "output directory path too long");
	}
	for (char *seg = path, *next; seg && *seg; seg = next) {
		next = strchr(seg, '/');
		if (next)
			*next++ = '\0';
		if (!*seg || !strcmp(seg, "."))
			continue;
		int sub = strcmp(seg, "..") ? collect_open_at(fd, seg, true) : (errno = EINVAL, -1);
		int e = errno;
		close(fd);
		if (sub < 0)
			return error_set(err, SKIFF_EBUILD, "no_output",
					 e == ENOENT ? "the output directory %s/ does not exist" :
					 e == ELOOP || e == ENOTDIR ?
						       "the output directory %s/ is not a directory (symlinks are not followed)" :
						       "the output directory %s/ cannot be opened",
					 rel);
		fd = sub;
	}
	return fd;
}

void collect_result_dispose(struct collect_result *r)
{
	for (size_t i = 0; i < r->nfiles; i++) {
		free(r->files[i].path);
		free(r->files[i].src);
	}
	free(r->files);
	free(r->redirects);
	free(r->headers);
	memset(r, 0, sizeof(r[0]));
}
