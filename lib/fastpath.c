/* fastpath.c — writes the per-deployment trees and per-site links a web server serves warm
 * hits from by itself, each entry checked against serve_decide (fastpath.h). */
#include "fastpath.h"
#include "fastpath_match.h"
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "path.h"
#include "serve.h"
#include "serve_header.h"

_Static_assert(FASTPATH_MATCH_PATH_MAX == PATH_URL_MAX, "the trees hold every path a URL may have");

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define FASTPATH_DIR_MAX 4096

/* Formats a file name; false (and "") when it does not fit. */
__attribute__((format(printf, 3, 4)))
static bool fastpath_name(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		out[0] = '\0';
		return false;
	}
	return true;
}

int fastpath_linked(const char *dir, const char *slug, const char *id)
{
	char link[FASTPATH_DIR_MAX], target[FASTPATH_DIR_MAX], want[64];
	struct stat st;
	fastpath_name(link, sizeof(link), "%s/sites/%s", dir, slug);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	fastpath_name(want, sizeof(want), "../deployments/%s", id);
	/* a link whose tree was removed under it counts as none: it is made again */
	return strcmp(target, want) == 0 && stat(link, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Removes a directory tree (it holds only directories and entry files). */
static void fastpath_remove(const char *path, int depth)
{
	DIR *d = depth < 512 ? opendir(path) : NULL;
	if (d) {
		struct dirent *de;
		char sub[FASTPATH_DIR_MAX];
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (!fastpath_name(sub, sizeof(sub), "%s/%s", path, de->d_name))
				continue;
			if (unlink(sub) < 0 && (errno == EISDIR || errno == EPERM))
				fastpath_remove(sub, depth + 1);
		}
		closedir(d);
	}
	rmdir(path);
}

/* Takes the site links' lock: held while a link is switched or dropped and the tree it named
 * moved aside, so a tree is only ever removed once no link names it and a link only ever
 * names a tree that is there (fastpath_link checks, under the lock, that the tree it was
 * given was not removed since it was built). flock(2) on the sites directory itself: no
 * file of its own, released when its holder dies. Returns the descriptor to close, or -1
 * (errno ENOENT: no sites directory). */
static int fastpath_lock(const char *dir, struct error *err)
{
	char sites[FASTPATH_DIR_MAX];
	fastpath_name(sites, sizeof(sites), "%s/sites", dir);
	int fd = open(sites, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		error_set(err, SKIFF_EIO, NULL, "fastpath: %s: %s", sites, strerror(e));
		errno = e;
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			error_set(err, SKIFF_EIO, NULL, "fastpath: lock %s: %s", sites,
				  strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Moves deployment id's tree aside in one rename (gone at once for readers) under the lock,
 * to gone, which the caller removes once the lock is released; "" when there was none. */
static void fastpath_tree_retire(const char *dir, const char *id, char gone[FASTPATH_DIR_MAX])
{
	char from[FASTPATH_DIR_MAX];
	fastpath_name(from, sizeof(from), "%s/deployments/%s", dir, id);
	fastpath_name(gone, FASTPATH_DIR_MAX, "%s/deployments/.gone.%s.%ld", dir, id,
		      (long)getpid());
	if (rename(from, gone) < 0)
		gone[0] = '\0';
}

/* The deployment id the site link at path names ("" when none). */
static void fastpath_link_id(const char *link, char id[64])
{
	char target[FASTPATH_DIR_MAX];
	id[0] = '\0';
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	size_t len = strlen(base);
	if (len < 64 && base[0] != '.')
		memcpy(id, base, len + 1);
}

void fastpath_drop(const char *dir, const char *slug)
{
	char link[FASTPATH_DIR_MAX], id[64], gone[FASTPATH_DIR_MAX] = "";
	struct error err;
	if (!dir || !dir[0])
		return;
	fastpath_name(link, sizeof(link), "%s/sites/%s", dir, slug);
	int lock = fastpath_lock(dir, &err);
	if (lock < 0) {
		if (errno != ENOENT)           /* no sites directory: nothing is linked */
			log_warn("fastpath link not removed site=%s message=\"%s\"", slug,
				 err.message);
		return;
	}
	fastpath_link_id(link, id);
	if (unlink(link) < 0 && errno != ENOENT)
		log_warn("fastpath link not removed site=%s errno=%d", slug, errno);
	else if (id[0])
		fastpath_tree_retire(dir, id, gone);
	close(lock);
	if (gone[0])
		fastpath_remove(gone, 0);
}

static int fastpath_mkdir(const char *path, struct error *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return error_set(err, SKIFF_EIO, NULL, "fastpath: mkdir %s: %s", path,
				 strerror(errno));
	return 0;
}

/* fastpath_link; with m (whose deployment is id), a tree removed since it was built is built
 * again under the lock, where no switch can remove it before it is linked. */
static int fastpath_switch(const char *dir, const char *slug, const char *id,
			   const struct manifest *m, struct store *store, struct error *err)
{
	char sites[FASTPATH_DIR_MAX], tmp[FASTPATH_DIR_MAX], link[FASTPATH_DIR_MAX];
	char tree[FASTPATH_DIR_MAX], gone[FASTPATH_DIR_MAX] = "", target[64], old[64];
	struct stat st;
	int lock = -1;
	fastpath_name(sites, sizeof(sites), "%s/sites", dir);
	int rc = fastpath_mkdir(dir, err);
	if (rc < 0 || (rc = fastpath_mkdir(sites, err)) < 0)
		return rc;
	fastpath_name(target, sizeof(target), "../deployments/%s", id);
	fastpath_name(tree, sizeof(tree), "%s/deployments/%s", dir, id);
	fastpath_name(tmp, sizeof(tmp), "%s/.%s.%ld", sites, slug, (long)getpid());
	fastpath_name(link, sizeof(link), "%s/%s", sites, slug);
	unlink(tmp);
	if (symlink(target, tmp) < 0) {
		rc = error_set(err, SKIFF_EIO, NULL, "fastpath: link %s: %s", link, strerror(errno));
		goto out;
	}
	if ((lock = fastpath_lock(dir, err)) < 0) {
		rc = SKIFF_EIO;
		goto out;
	}
	/* another process's switch may have removed the tree since it was built */
	if (stat(tree, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (!m) {
			rc = error_set(err, SKIFF_EGONE, NULL, "fastpath: %s removed meanwhile",
				       tree);
			goto out;
		}
		if ((rc = fastpath_build(dir, m, store, err)) < 0)
			goto out;
	}
	fastpath_link_id(link, old);
	/* one rename: a reader finds the old link or the new one, never none */
	if (rename(tmp, link) < 0) {
		rc = error_set(err, SKIFF_EIO, NULL, "fastpath: link %s: %s", link, strerror(errno));
		goto out;
	}
	if (old[0] && strcmp(old, id) != 0)
		fastpath_tree_retire(dir, old, gone);
out:
	if (lock >= 0)
		close(lock);
	if (rc < 0)
		unlink(tmp);
	if (gone[0])
		fastpath_remove(gone, 0);
	return rc;
}

int fastpath_link(const char *dir, const char *slug, const char *id, struct error *err)
{
	return fastpath_switch(dir, slug, id, NULL, NULL, err);
}

int fastpath_publish(const char *dir, const char *slug, const struct manifest *m,
		     struct store *store, struct error *err)
{
	/* built outside the lock: the lock holds no other site's switch up for a build but
	 * when another process removed this tree in between */
	int rc = fastpath_build(dir, m, store, err);
	return rc < 0 ? rc : fastpath_switch(dir, slug, m->deployment, m, store, err);
}

int fastpath_suffix(const char *dir, const char *domain, long site_port, struct error *err)
{
	char want[CONFIG_STR_MAX + 16], have[sizeof(want)], path[FASTPATH_DIR_MAX],
		tmp[FASTPATH_DIR_MAX];
	if (site_port && site_port != 80)
		snprintf(want, sizeof(want), ".%s:%ld\n", domain, site_port);
	else
		snprintf(want, sizeof(want), ".%s\n", domain);
	size_t n = strlen(want);
	if (!fastpath_name(path, sizeof(path), "%s/suffix", dir) ||
	    !fastpath_name(tmp, sizeof(tmp), "%s/.suffix.%ld", dir, (long)getpid()))
		return error_set(err, SKIFF_EIO, NULL, "fastpath: %s: name too long", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		ssize_t got = read(fd, have, sizeof(have));
		close(fd);
		if (got == (ssize_t)n && memcmp(have, want, n) == 0)
			return 0;
	}
	int rc = fastpath_mkdir(dir, err);
	if (rc < 0)
		return rc;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, want, n) != (ssize_t)n || close(fd) < 0 || rename(tmp, path) < 0) {
		rc = error_set(err, SKIFF_EIO, NULL, "fastpath: %s: %s", path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	return 0;
}

/* 1 when a _redirects rule of m matches on the query string. */
static int fastpath_query_rules(const struct manifest *m)
{
	json_t *rules = json_object_get(m->config, "redirects"), *r;
	size_t i;
	json_array_foreach(rules, i, r) {
		json_t *q = json_object_get(r, "query");
		if (q && (!json_is_object(q) || json_object_size(q) > 0))
			return 1;
	}
	return 0;
}

/* Headers the web server owns or a fast path must not send from an entry. */
static bool fastpath_header_ok(const char *name, const char *value)
{
	static const char *const owned[] = {
		"Content-Length", "Content-Type", "Content-Range", "Transfer-Encoding", "Connection",
		"Keep-Alive", "Upgrade", "Trailer", "TE", "Date", "Server", "Status", "Location",
		"X-Sendfile", "X-Sendfile2", "X-LIGHTTPD-send-file", "X-Accel-Redirect",
	};
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (!strcasecmp(name, owned[i]))
			return false;
	for (const char *p = name; *p; p++)
		if (*p <= ' ' || *p >= 127 || *p == ':')
			return false;
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 127)
			return false;
	return name[0] != '\0';
}

struct fastpath_build_ctx {
	const struct manifest *m;
	struct store *store;
	struct arena arena;
	struct buf line;
	const char *root;             /* the tree being built */
	int query;
	size_t entries;
};

/* Decides path for one Accept-Encoding; true when the answer is a plain file whose headers
 * an entry can carry. */
static bool fastpath_decide(struct fastpath_build_ctx *c, const char *path, const char *ae,
			    struct serve_decision *d)
{
	struct serve_request rq = { .method = "GET", .path = path, .query = "",
				    .accept_encoding = ae };
	serve_decide(c->m, &rq, &c->arena, d);
	/* without a Last-Modified (a manifest without "created") lighttpd's X-Sendfile adds the
	 * blob file's: only skiff-serve sends that */
	if (d->status != 200 || d->body != SERVE_BODY_BLOB || !d->content_type ||
	    !serve_header_get(d, "Last-Modified") ||
	    d->offset != 0 || d->length != d->blob_size)
		return false;
	for (size_t i = 0; i < d->nheaders; i++) {
		const char *n = d->headers[i].name;
		if (strcasecmp(n, "ETag") && strcasecmp(n, "Content-Encoding") &&
		    !fastpath_header_ok(n, d->headers[i].value))
			return false;
	}
	return true;
}

/* The same headers, ETag and Content-Encoding aside. */
static bool fastpath_same_headers(const struct serve_decision *a, const struct serve_decision *b)
{
	if (strcmp(a->content_type, b->content_type) != 0)
		return false;
	size_t na = 0, nb = 0;
	for (size_t i = 0; i < a->nheaders; i++) {
		const char *n = a->headers[i].name;
		if (!strcasecmp(n, "ETag") || !strcasecmp(n, "Content-Encoding"))
			continue;
		na++;
		const char *v = serve_header_get(b, n);
		if (!v || strcmp(v, a->headers[i].value) != 0)
			return false;
	}
	for (size_t i = 0; i < b->nheaders; i++)
		if (strcasecmp(b->headers[i].name, "ETag") && strcasecmp(b->headers[i].name,
									"Content-Encoding"))
			nb++;
	return na == nb;
}

/* The hash, local path and size of the blob d sends, or "-" three times for NULL. The size
 * lets the web server check the file it is about to send with the stat it makes anyway: a
 * file of another length (a cache file cut short) is left to skiff-serve. */
static void fastpath_put_blob(struct fastpath_build_ctx *c, const struct serve_decision *d)
{
	char path[STORE_PATH_MAX];
	struct error err;
	if (!d || store_blob_local_path(c->store, d->blob, path, &err) < 0) {
		buf_puts(&c->line, "\t-\t-\t-");
		return;
	}
	buf_printf(&c->line, "\t%s\t%s\t%llu", d->blob, path, d->blob_size);
}

/* d when it chose the variant of coding, else NULL. */
static const struct serve_decision *fastpath_variant(const struct serve_decision *d,
						     const char *coding)
{
	const char *ce = serve_header_get(d, "Content-Encoding");
	return ce && !strcmp(ce, coding) ? d : NULL;
}

/* Creates the directories of file (relative to c->root). */
static int fastpath_parents(struct fastpath_build_ctx *c, const char *rel, struct error *err)
{
	char p[FASTPATH_DIR_MAX];
	int n = snprintf(p, sizeof(p), "%s/%s", c->root, rel);
	if (n < 0 || n >= (int)sizeof(p))
		return error_set(err, SKIFF_ELIMIT, NULL, "fastpath: path too long");
	size_t skip = strlen(c->root) + 1;
	for (char *s = p + skip; (s = strchr(s, '/')); s++) {
		*s = '\0';
		int rc = fastpath_mkdir(p, err);
		*s = '/';
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Writes c->line to file rel (relative to c->root), creating its directories. */
static int fastpath_write(struct fastpath_build_ctx *c, const char *rel, struct error *err)
{
	int rc = fastpath_parents(c, rel, err);
	if (rc < 0)
		return rc;
	char file[FASTPATH_DIR_MAX];
	if (!fastpath_name(file, sizeof(file), "%s/%s", c->root, rel))
		return error_set(err, SKIFF_ELIMIT, NULL, "fastpath: path too long");
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return error_set(err, SKIFF_EIO, NULL, "fastpath: %s: %s", file, strerror(errno));
	ssize_t w = write(fd, buf_cstr(&c->line), c->line.len);
	close(fd);
	if (w != (ssize_t)c->line.len)
		return error_set(err, SKIFF_EIO, NULL, "fastpath: short write to %s", file);
	return 0;
}

/* The headers an Apache entry may carry beside those every file has, each set by its own
 * lines of apache/skiff-sites.conf (keep the two lists alike); an answer with any other
 * header stays with skiff-serve under Apache. */
static const char *const fastpath_apache_names[] = {
	"Vary", "X-Frame-Options", "Content-Security-Policy",
	"Content-Security-Policy-Report-Only", "Referrer-Policy", "Permissions-Policy",
	"Strict-Transport-Security", "Access-Control-Allow-Origin", "X-Robots-Tag", "Link",
	"Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy",
	"Cross-Origin-Resource-Policy",
};
#define FASTPATH_APACHE_NAMES (sizeof(fastpath_apache_names) / sizeof(fastpath_apache_names[0]))

/* The name of fastpath_apache_names that name is (any case), or NULL. */
static const char *fastpath_apache_name(const char *name)
{
	for (size_t i = 0; i < FASTPATH_APACHE_NAMES; i++)
		if (!strcasecmp(name, fastpath_apache_names[i]))
			return fastpath_apache_names[i];
	return NULL;
}

/* Puts the Apache entry of the answers id, gz and br into c->line (fastpath.h); false when
 * Apache's configuration could not send every header of them as skiff-serve does. */
static bool fastpath_apache_line(struct fastpath_build_ctx *c, const struct serve_decision *id,
				 const struct serve_decision *gz, const struct serve_decision *br)
{
	const char *cc = NULL, *lm = NULL;
	for (size_t i = 0; i < id->nheaders; i++) {
		const char *n = id->headers[i].name, *v = id->headers[i].value;
		if (!strcasecmp(n, "Cache-Control"))
			cc = v;
		else if (!strcasecmp(n, "Last-Modified"))
			lm = v;
		else if (!strcasecmp(n, "ETag")) {
			/* Apache sends the blob's hash as the ETag: nothing else */
			size_t len = strlen(v), bl = strlen(id->blob);
			if (len != bl + 2 || v[0] != '"' || strncmp(v + 1, id->blob, bl) ||
			    v[len - 1] != '"')
				return false;
		} else if (!((!strcasecmp(n, "X-Content-Type-Options") && !strcmp(v, "nosniff")) ||
			     (!strcasecmp(n, "Accept-Ranges") && !strcmp(v, "bytes")) ||
			     fastpath_apache_name(n)))
			return false;          /* Apache's own value, or a header it cannot set */
	}
	if (!cc || !lm)
		return false;
	buf_reset(&c->line);
	buf_printf(&c->line, "%d\t%s", c->query, id->content_type);
	fastpath_put_blob(c, id);
	fastpath_put_blob(c, fastpath_variant(gz, "gzip"));
	fastpath_put_blob(c, fastpath_variant(br, "br"));
	buf_printf(&c->line, "\t%s\t%s", cc, lm);
	for (size_t i = 0; i < id->nheaders; i++) {
		const char *n = fastpath_apache_name(id->headers[i].name);
		if (n)
			buf_printf(&c->line, "\t%s\t%s", n, id->headers[i].value);
	}
	buf_putc(&c->line, '\n');
	return !c->line.err;
}

/* Writes the entries of request path, if skiff-serve answers it with a plain file. */
static int fastpath_entry(struct fastpath_build_ctx *c, const char *path, struct error *err)
{
	struct serve_decision id, br, gz;
	if (!fastpath_match_path(path, strlen(path)) || !fastpath_decide(c, path, NULL, &id) ||
	    serve_header_get(&id, "Content-Encoding") ||
	    !fastpath_decide(c, path, "br", &br) || !fastpath_same_headers(&id, &br) ||
	    !fastpath_decide(c, path, "gzip", &gz) || !fastpath_same_headers(&id, &gz))
		return 0;
	buf_reset(&c->line);
	buf_printf(&c->line, FASTPATH_FORMAT "\t%d\t%s", c->query, id.content_type);
	fastpath_put_blob(c, &id);
	fastpath_put_blob(c, fastpath_variant(&gz, "gzip"));
	fastpath_put_blob(c, fastpath_variant(&br, "br"));
	for (size_t i = 0; i < id.nheaders; i++)
		if (strcasecmp(id.headers[i].name, "ETag"))
			buf_printf(&c->line, "\t%s\t%s", id.headers[i].name, id.headers[i].value);
	buf_putc(&c->line, '\n');
	if (c->line.err || strchr(id.content_type, '\t') || strchr(id.content_type, '\n'))
		return 0;                      /* too long or unwritable: skiff-serve keeps it */
	const char *rel = arena_printf(&c->arena, "%s@", path + 1);
	int rc = fastpath_write(c, rel, err);
	if (rc < 0)
		return rc;
	c->entries++;
	if (fastpath_apache_line(c, &id, &gz, &br))
		rc = fastpath_write(c, arena_printf(&c->arena, "%sa", rel), err);
	return rc;
}

/* The request paths that may name file f: its own, and the page and directory forms. */
static int fastpath_file(struct fastpath_build_ctx *c, const struct manifest_file *f,
			 struct error *err)
{
	const char *p = f->path;
	size_t n = strlen(p);
	int rc = fastpath_entry(c, p, err);
	if (rc == 0 && n >= 11 && !strcmp(p + n - 11, "/index.html"))
		rc = fastpath_entry(c, arena_strndup(&c->arena, p, n - 10), err);    /* "/d/" */
	if (rc == 0 && n > 5 && !strcmp(p + n - 5, ".html")) {
		const char *stem = arena_strndup(&c->arena, p, n - 5);
		rc = fastpath_entry(c, stem, err);                                     /* "/a" */
		if (rc == 0)
			rc = fastpath_entry(c, arena_printf(&c->arena, "%s/", stem), err);  /* "/a/" */
	}
	return rc;
}

int fastpath_build(const char *dir, const struct manifest *m, struct store *store,
		   struct error *err)
{
	char deps[FASTPATH_DIR_MAX], final[FASTPATH_DIR_MAX], tmp[FASTPATH_DIR_MAX];
	struct stat st;
	struct fastpath_build_ctx c = { .m = m, .store = store, .query = fastpath_query_rules(m) };
	fastpath_name(deps, sizeof(deps), "%s/deployments", dir);
	fastpath_name(final, sizeof(final), "%s/%s", deps, m->deployment);
	if (stat(final, &st) == 0)
		return 0;
	int rc = fastpath_mkdir(dir, err);
	if (rc < 0 || (rc = fastpath_mkdir(deps, err)) < 0)
		return rc;
	fastpath_name(tmp, sizeof(tmp), "%s/.build.%s.XXXXXX", deps, m->deployment);
	if (!mkdtemp(tmp))
		return error_set(err, SKIFF_EIO, NULL, "fastpath: mkdtemp %s: %s", tmp,
				 strerror(errno));
	chmod(tmp, 0755);
	c.root = tmp;
	arena_init(&c.arena);
	buf_init(&c.line, FASTPATH_ENTRY_MAX);
	for (size_t i = 0; i < m->nfiles && rc == 0; i++) {
		rc = fastpath_file(&c, &m->files[i], err);
		if (i % 256 == 255)
			arena_reset(&c.arena);
	}
	if (rc == 0 && rename(tmp, final) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		rc = error_set(err, SKIFF_EIO, NULL, "fastpath: rename to %s: %s", final,
			       strerror(errno));
	if (stat(tmp, &st) == 0)
		fastpath_remove(tmp, 0);       /* failed, or another process was first */
	if (rc == 0)
		log_info("fastpath tree built deployment=%s entries=%zu files=%zu", m->deployment,
			 c.entries, m->nfiles);
	buf_dispose(&c.line);
	arena_dispose(&c.arena);
	return rc;
}
