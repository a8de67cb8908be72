/* serve.h — what skiff-serve answers for one request to one deployment (doc/sites.md),
 * as a pure function of the manifest and the request's facts: no I/O, no Redis, so every
 * rule is testable without FastCGI (check/check_serve.c). */
#ifndef SKIFF_SERVE_H
#define SKIFF_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include "arena.h"
#include "buf.h"
#include "manifest.h"

/* The request facts the rules read; NULL or "" when absent. */
struct serve_request {
	const char *method;            /* "GET", "HEAD", ... */
	const char *path;              /* raw path (percent-encoded, no query) */
	const char *query;             /* raw query string without '?' */
	const char *accept;
	const char *accept_encoding;
	const char *if_none_match;
	const char *if_modified_since;
	const char *range;
	const char *if_range;
};

enum serve_body {
	SERVE_BODY_NONE,    /* 304, 416, HEAD of a page: headers only */
	SERVE_BODY_BLOB,    /* bytes [offset, offset+length) of blob `blob` */
	SERVE_BODY_PAGE,    /* skiff's own small HTML page for status (serve_page) */
};

struct serve_header {
	const char *name;
	const char *value;
};

#define SERVE_HEADERS_MAX 64

struct serve_decision {
	int status;
	enum serve_body body;
	const char *content_type;                   /* NULL: none */
	const char *blob;                           /* hash of the bytes sent (a variant's) */
	unsigned long long blob_size;               /* size of that blob */
	unsigned long long offset, length;          /* the part sent (206: the range) */
	const char *location;                       /* for redirects (also in headers) */
	struct serve_header headers[SERVE_HEADERS_MAX]; /* all but Content-Type/-Length */
	size_t nheaders;
	const char *reason;                         /* for logs: which rule decided */
};

/* Decides the answer. m->rules, when not NULL, is the struct rules compiled from m->config
 * (rules_compile). Strings in d point into m or into arena. */
void serve_decide(const struct manifest *m, const struct serve_request *req, struct arena *arena,
		  struct serve_decision *d);

/* A decision for skiff's own page (no deployment involved: 400, 404, 410, 414, 503, ...). */
void serve_decide_page(int status, const struct serve_request *req, struct serve_decision *d);

/* Appends skiff's own HTML page for status (and, for redirects, a link to location). */
void serve_page(struct buf *b, int status, const char *location);

#endif
