/* serve.c — skiff-serve's routing rules in order: path, cleanUrls/trailingSlash, _redirects,
 * files, 404.html, SPA fallback (doc/sites.md). Pure: no I/O. */
#include "serve.h"
#include "rules_match.h"
#include "serve_header.h"
#include "serve_reply.h"
#include "error.h"
#include "path.h"
#include "response.h"
#include "rules.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool serve_is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

void serve_decide_page(int status, const struct serve_request *req, struct serve_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->status = status;
	d->body = SERVE_BODY_PAGE;
	d->content_type = "text/html; charset=utf-8";
	serve_header_set(d, "Cache-Control", "no-store");
	serve_header_set(d, "X-Content-Type-Options", "nosniff");
	if (status == 405)
		serve_header_set(d, "Allow", "GET, HEAD");
	if (status == 503)
		serve_header_set(d, "Retry-After", "5");
	d->reason = "page";
}

void serve_page(struct buf *b, int status, const char *location)
{
	const char *text = response_reason(status);
	buf_printf(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<title>%d %s</title></head>\n<body><h1>%d %s</h1>\n", status, text, status, text);
	if (location) {
		buf_puts(b, "<p><a href=\"");
		buf_put_html(b, location);
		buf_puts(b, "\">");
		buf_put_html(b, location);
		buf_puts(b, "</a></p>\n");
	} else if (status == 404) {
		buf_puts(b, "<p>There is nothing at this address.</p>\n");
	} else if (status == 503) {
		buf_puts(b, "<p>The site is temporarily unavailable. Please try again shortly.</p>\n");
	}
	buf_puts(b, "<hr><p><small>skiff</small></p></body></html>\n");
}

static void serve_redirect(struct serve_decision *d, int status, const char *location,
			   const char *reason)
{
	d->status = status;
	d->body = SERVE_BODY_PAGE;
	d->content_type = "text/html; charset=utf-8";
	d->location = location;
	serve_header_set(d, "Location", location);
	serve_header_set(d, "Cache-Control", "public, max-age=0, must-revalidate");
	serve_header_set(d, "X-Content-Type-Options", "nosniff");
	d->reason = reason;
}

/* A redirect to a decoded path within the site, with the request's query string. */
static void serve_redirect_path(struct serve_decision *d, int status, const char *path,
				const struct serve_request *req, struct arena *a,
				const char *reason)
{
	struct buf b = BUF_INIT(PATH_URL_MAX * 3 + 8192);
	path_encode(&b, path, strlen(path));
	if (req->query && *req->query) {
		buf_putc(&b, '?');
		buf_puts(&b, req->query);
	}
	const char *loc = b.err ? "/" : arena_strdup(a, buf_cstr(&b));
	buf_dispose(&b);
	serve_redirect(d, status, loc, reason);
}

static const struct manifest_file *serve_lookup2(const struct manifest *m, struct arena *a,
						 const char *p, size_t n, const char *suffix)
{
	char *key = arena_alloc(a, n + strlen(suffix) + 1);
	memcpy(key, p, n);
	memcpy(key + n, suffix, strlen(suffix) + 1);
	return manifest_lookup(m, key);
}

/* The file a path names: exact, then ".html", then "/index.html" (*dir set: the path lacks
 * the directory's slash). "/x/" tries "/x/index.html", then "/x.html". */
static const struct manifest_file *serve_find(const struct manifest *m, struct arena *a,
					      const char *path, bool *dir)
{
	size_t n = strlen(path);
	const struct manifest_file *f;
	*dir = false;
	if (path[n - 1] == '/') {
		if ((f = serve_lookup2(m, a, path, n, "index.html")))
			return f;
		if (n > 1)
			return serve_lookup2(m, a, path, n - 1, ".html");
		return NULL;
	}
	if ((f = manifest_lookup(m, path)))
		return f;
	if ((f = serve_lookup2(m, a, path, n, ".html")))
		return f;
	if ((f = serve_lookup2(m, a, path, n, "/index.html")))
		*dir = true;
	return f;
}

/* serve_find of the request's path, looked up once however many steps ask for it. */
struct serve_found {
	bool done, dir;
	const struct manifest_file *f;
};

static const struct manifest_file *serve_found_get(const struct manifest *m, struct arena *a,
						   const char *path, struct serve_found *fd)
{
	if (!fd->done) {
		fd->f = serve_find(m, a, path, &fd->dir);
		fd->done = true;
	}
	return fd->f;
}

static bool serve_ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* cleanUrls and trailingSlash: 308 to the canonical form. Returns true when it redirected. */
static bool serve_canonical(const struct manifest *m, const char *path, struct serve_found *fd,
			    const struct serve_request *req, struct arena *a,
			    struct serve_decision *d)
{
	size_t n = strlen(path);
	bool slash = n > 1 && path[n - 1] == '/';
	if (m->clean_urls && serve_ends_with(path, n, ".html") && manifest_lookup(m, path)) {
		char *to = arena_strndup(a, path, n);
		if (serve_ends_with(path, n, "/index.html")) {
			to[n - strlen("index.html")] = '\0';          /* "/a/index.html" → "/a/" */
			size_t k = strlen(to);
			if (m->trailing_slash == 0 && k > 1)
				to[k - 1] = '\0';
		} else {
			to[n - strlen(".html")] = '\0';               /* "/about.html" → "/about" */
			if (m->trailing_slash == 1)
				to = arena_printf(a, "%s/", to);
		}
		serve_redirect_path(d, 308, to, req, a, "cleanUrls");
		return true;
	}
	if (m->trailing_slash == 1 && !slash && n > 1) {
		/* Only a page gets the slash: a path that resolves to "/x/index.html" or "/x.html".
		 * An exact file (/LICENSE, /.well-known/...) is served as it is named. */
		const struct manifest_file *f = serve_found_get(m, a, path, fd);
		if (f && strcmp(f->path, path) != 0) {
			serve_redirect_path(d, 308, arena_printf(a, "%s/", path), req, a,
					    "trailingSlash");
			return true;
		}
	}
	if (m->trailing_slash == 0 && slash) {
		serve_redirect_path(d, 308, arena_strndup(a, path, n - 1), req, a, "trailingSlash");
		return true;
	}
	return false;
}

/* The nearest 404.html up the tree from path's directory. */
static const struct manifest_file *serve_nearest_404(const struct manifest *m, struct arena *a,
						     const char *path)
{
	size_t n = strlen(path);
	while (n > 0 && path[n - 1] != '/')
		n--;                           /* keep the directory with its slash */
	for (;;) {
		const struct manifest_file *f = serve_lookup2(m, a, path, n, "404.html");
		if (f || n <= 1)
			return f;
		n--;                           /* drop the slash, then the segment */
		while (n > 0 && path[n - 1] != '/')
			n--;
	}
}

static bool serve_navigation(const struct serve_request *req, const char *path)
{
	return (req->accept && strstr(req->accept, "text/html")) || !path_has_extension(path);
}

static bool serve_get_or_head(const struct serve_request *req)
{
	return serve_is(req->method, "GET") || serve_is(req->method, "HEAD");
}

/* Not found: SPA fallback for navigations (not for a 404 or 410 rule: its status is what
 * the site asked for), else the nearest 404.html, else skiff's page. */
static void serve_not_found(const struct manifest *m, const char *path, int status,
			    bool by_rule, const struct serve_request *req, struct arena *a,
			    struct serve_decision *d)
{
	const struct manifest_file *index = manifest_lookup(m, "/index.html");
	bool spa = m->spa >= 0 ? m->spa == 1 : (!manifest_lookup(m, "/404.html") && index);
	if (!by_rule && spa && index && serve_get_or_head(req) && serve_navigation(req, path)) {
		serve_reply_file(m, index, 200, false, req, a, d);
		d->reason = "spa";
		return;
	}
	const struct manifest_file *page = serve_nearest_404(m, a, path);
	if (page) {
		serve_reply_file(m, page, status, false, req, a, d);
		d->reason = "404.html";
		return;
	}
	serve_decide_page(status, req, d);
	d->reason = "not found";
}

static void serve_file(const struct manifest *m, const struct manifest_file *f, bool exact,
		       const struct serve_request *req, struct arena *a, struct serve_decision *d)
{
	if (!serve_get_or_head(req)) {
		serve_decide_page(405, req, d);
		return;
	}
	serve_reply_file(m, f, 200, exact, req, a, d);
}

/* Applies a matched _redirects rule; false when the rule does not decide (shadowed). */
static bool serve_rule(const struct manifest *m, const char *path, struct serve_found *fd,
		       const struct rules_redirect *rr, const struct serve_request *req,
		       struct arena *a, struct serve_decision *d)
{
	bool dir;
	if (!rr->force && serve_found_get(m, a, path, fd))
		return false;                  /* an existing file shadows the rule */
	if (rr->status >= 300 && rr->status < 400) {
		serve_redirect(d, rr->status, rr->target, "redirect rule");
		return true;
	}
	const struct manifest_file *f = NULL;
	if (rr->target) {
		const char *t = rr->target;
		size_t tn = strcspn(t, "?#");
		char *norm = arena_alloc(a, tn + 2);
		if (tn <= PATH_URL_MAX && path_normalize(t, tn, norm, tn + 2) == 0)
			f = serve_find(m, a, norm, &dir);
	}
	if (rr->status == 200) {
		if (!f)
			serve_not_found(m, path, 404, false, req, a, d);
		else
			serve_file(m, f, false, req, a, d);
	} else if (f) {                        /* 404, 410 with a page */
		serve_reply_file(m, f, rr->status, false, req, a, d);
	} else {
		serve_not_found(m, path, rr->status, true, req, a, d);
	}
	d->reason = "rewrite rule";
	return true;
}

void serve_decide(const struct manifest *m, const struct serve_request *req, struct arena *a,
		  struct serve_decision *d)
{
	const char *raw = req->path ? req->path : "/";
	size_t rawlen = strlen(raw);
	memset(d, 0, sizeof(*d));
	if (rawlen > PATH_URL_MAX) {
		serve_decide_page(414, req, d);
		return;
	}
	char *path = arena_alloc(a, rawlen + 2);
	int rc = path_normalize(raw, rawlen, path, rawlen + 2);
	if (rc) {
		serve_decide_page(rc == SKIFF_EURITOOLONG ? 414 : 400, req, d);
		return;
	}
	struct serve_found fd = { false, false, NULL };
	if (serve_canonical(m, path, &fd, req, a, d))
		return;
	struct rules_redirect rr;
	size_t pos = 0;
	if (m->rules && rules_redirect_match(m->rules, path, req->query ? req->query : "", &pos, a,
					     &rr) && serve_rule(m, path, &fd, &rr, req, a, d)) {
		if (d->status != 301 && d->status != 302 && d->status != 303 && d->status != 307 &&
		    d->status != 308)
			serve_reply_rules(m, path, a, d);
		return;
	}
	const struct manifest_file *f = serve_found_get(m, a, path, &fd);
	if (f && fd.dir && m->trailing_slash != 0) {
		serve_redirect_path(d, 301, arena_printf(a, "%s/", path), req, a, "directory");
		return;
	}
	if (f)
		serve_file(m, f, strcmp(f->path, path) == 0, req, a, d);
	else
		serve_not_found(m, path, 404, false, req, a, d);
	serve_reply_rules(m, path, a, d);
}
