/* collect.h — the files a build produced: a walk of the output directory that never follows a
 * symlink out of it, refuses special files, enforces the size limits and keeps `_redirects`
 * and `_headers` out of the served set.
 *
 * Symlinks: a relative symlink whose target, resolved inside the output directory without
 * following any further symlink, is a regular file is served with that file's content under
 * the link's path. Every other symlink is skipped with a note: absolute targets and targets
 * that climb out of the directory ("points outside the output directory"), targets that are
 * directories, other symlinks or missing. */
#ifndef SKIFF_COLLECT_H
#define SKIFF_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include "error.h"

#define COLLECT_PATH_MAX 1024     /* bytes of a served path */
#define COLLECT_DEPTH_MAX 64      /* nested directories */
#define COLLECT_RULES_MAX (1u << 20) /* bytes of _redirects or _headers */
#define COLLECT_NOTES_MAX 100     /* notes reported one by one; the rest are counted */

struct collect_limits {
	unsigned long max_files;
	unsigned long long max_file_bytes;
	unsigned long long max_total_bytes;
};

struct collect_file {
	char *path;                  /* served path: "/a/b.html" */
	char *src;                   /* where its bytes are, relative to the root: "a/b.html" */
	unsigned long long size;
};

struct collect_result {
	struct collect_file *files;  /* sorted by path */
	size_t nfiles, cap;
	unsigned long long total;    /* bytes */
	char *redirects;             /* `_redirects` text (NUL-terminated) or NULL */
	size_t redirects_len;
	char *headers;               /* `_headers` text or NULL */
	size_t headers_len;
	size_t skipped;              /* entries left out (notes) */
};

/* Receives one human-readable line per skipped entry, for the build log. */
typedef void (*collect_note_fn)(void *ctx, const char *msg);

/* Opens rel (a relative directory, "" for base itself) under base, refusing symlinks in any
 * component. Returns a directory fd or a negative error (message for the build log). */
int collect_open_root(const char *base, const char *rel, struct error *err);
/* Walks root_fd. exclude: NULL-terminated names at the top level to leave out (e.g.
 * "skiff.json" when the output is the repository root), may be NULL. ".git" is never
 * collected. Exceeding a limit is SKIFF_ELIMIT with a message naming it. */
int collect_walk(int root_fd, const struct collect_limits *lim, const char *const *exclude,
		 collect_note_fn note, void *ctx, struct collect_result *out, struct error *err);
/* Opens src (a collect_file's src) under root_fd for reading, refusing symlinks in every
 * component and anything but a regular file; fills *st. Returns the fd or a negative error. */
int collect_open_file(int root_fd, const char *src, struct stat *st, struct error *err);
void collect_result_dispose(struct collect_result *r);

#endif
