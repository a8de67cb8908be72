/* serve_reply.c — the response of a chosen file: br/gzip variant, strong ETag, If-None-Match
 * before If-Modified-Since, single byte ranges, Cache-Control, and the _headers rules. */
#include "serve_reply.h"
#include "fastpath_match.h"
#include "rules_match.h"
#include "serve_header.h"
#include "rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SERVE_CACHE_HTML "public, max-age=0, must-revalidate"
#define SERVE_CACHE_IMMUTABLE "public, max-age=31536000, immutable"

/* A hex digest (8..64, digits and a-f) anywhere, or a Vite-style base64url hash (exactly 8,
 * mixed case and digits) after a name ("index-BkT3Fq1a"). */
static bool serve_token_hashed(const char *t, size_t n, bool first)
{
	size_t digits = 0, lower = 0, upper = 0, hexletters = 0;
	if (n < 8 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (c >= '0' && c <= '9')
			digits++;
		else if (c >= 'a' && c <= 'z')
			lower++, hexletters += (c <= 'f');
		else if (c >= 'A' && c <= 'Z')
			upper++;
		else
			return false;
	}
	if (digits && lower && lower == hexletters && !upper)
		return true;                       /* hex: app.3f2a9c1e.js */
	return !first && n == 8 && digits && lower && upper;
}

int serve_reply_name_hashed(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *ext = strrchr(base, '.');
	if (!ext || ext == base)
		return 0;
	for (const char *s = base; s < ext;) {
		size_t n = strcspn(s, ".-_");
		if (s + n > ext)
			n = (size_t)(ext - s);
		if (serve_token_hashed(s, n, s == base))
			return 1;
		s += n + 1;
	}
	return 0;
}

long long serve_reply_http_date(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
	if (!end || *end)
		return -1;
	return (long long)timegm(&tm);
}

/* Last-Modified of every file of a deployment is its creation time: the last one formatted
 * is kept, so a warm site formats no date. */
static const char *serve_http_date(struct arena *a, long long t)
{
	static long long last_t = -1;
	static char last[64];
	if (t != last_t) {
		time_t tt = (time_t)t;
		struct tm tm;
		if (!gmtime_r(&tt, &tm) ||
		    !strftime(last, sizeof(last), "%a, %d %b %Y %H:%M:%S GMT", &tm))
			return NULL;
		last_t = t;
	}
	return arena_strdup(a, last);
}

/* q-value of coding in an Accept-Encoding list: -1 when not listed. */
static double serve_qvalue(const char *list, const char *coding, double *star)
{
	double q = -1;
	*star = -1;
	size_t cn = strlen(coding);
	for (const char *s = list; s && *s;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		const char *tok = s;
		size_t n = strcspn(s, ";, \t");
		const char *next = s + strcspn(s, ",");
		double v = 1.0;
		const char *qp = s + n;
		while (qp < next) {
			while (qp < next && (*qp == ';' || *qp == ' ' || *qp == '\t'))
				qp++;
			if (next - qp >= 2 && (qp[0] == 'q' || qp[0] == 'Q') && qp[1] == '=') {
				char *e;
				v = strtod(qp + 2, &e);
				if (e == qp + 2 || v < 0 || v > 1)
					v = 0;
			}
			qp += strcspn(qp, ";,");
		}
		if (n == cn && strncasecmp(tok, coding, n) == 0)
			q = v;
		else if (n == 1 && tok[0] == '*')
			*star = v;
		s = next;
	}
	return q;
}

static double serve_accepts(const char *list, const char *coding)
{
	double star;
	double q = serve_qvalue(list, coding, &star);
	if (q < 0 && !strcmp(coding, "gzip")) {
		double s2;
		q = serve_qvalue(list, "x-gzip", &s2);
	}
	return q >= 0 ? q : (star >= 0 ? star : 0);
}

/* Parses a decimal number of at most 19 digits; NULL when none. */
static const char *serve_number(const char *s, unsigned long long *v)
{
	const char *p = s;
	*v = 0;
	while (*p >= '0' && *p <= '9') {
		if (p - s >= 19)
			return NULL;
		*v = *v * 10 + (unsigned long long)(*p - '0');
		p++;
	}
	return p == s ? NULL : p;
}

enum serve_range { SERVE_RANGE_NONE, SERVE_RANGE_OK, SERVE_RANGE_UNSATISFIABLE };

/* One "bytes=a-b", "bytes=a-" or "bytes=-n". Multiple or malformed ranges are ignored. */
static enum serve_range serve_range_parse(const char *h, unsigned long long size,
					  unsigned long long *off, unsigned long long *len)
{
	while (*h == ' ' || *h == '\t')
		h++;
	if (strncasecmp(h, "bytes", 5) != 0)
		return SERVE_RANGE_NONE;
	h += 5;
	while (*h == ' ' || *h == '\t')
		h++;
	if (*h++ != '=')
		return SERVE_RANGE_NONE;
	while (*h == ' ' || *h == '\t')
		h++;
	if (strchr(h, ','))
		return SERVE_RANGE_NONE;
	unsigned long long a, b;
	const char *p;
	if (*h == '-') {
		if (!(p = serve_number(h + 1, &b)))
			return SERVE_RANGE_NONE;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p)
			return SERVE_RANGE_NONE;
		if (b == 0 || size == 0)
			return SERVE_RANGE_UNSATISFIABLE;
		*off = b >= size ? 0 : size - b;
		*len = size - *off;
		return SERVE_RANGE_OK;
	}
	if (!(p = serve_number(h, &a)) || *p++ != '-')
		return SERVE_RANGE_NONE;
	unsigned long long end = size ? size - 1 : 0;
	if (*p >= '0' && *p <= '9') {
		if (!(p = serve_number(p, &b)) || b < a)
			return SERVE_RANGE_NONE;
		if (b < end)
			end = b;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p)
		return SERVE_RANGE_NONE;
	if (a >= size)
		return SERVE_RANGE_UNSATISFIABLE;
	*off = a;
	*len = end - a + 1;
	return SERVE_RANGE_OK;
}

static bool serve_is_html(const char *type)
{
	return type && strncasecmp(type, "text/html", 9) == 0;
}

void serve_reply_file(const struct manifest *m, const struct manifest_file *file, int status,
		      bool exact, const struct serve_request *req, struct arena *a,
		      struct serve_decision *d)
{
	bool get = req->method && !strcmp(req->method, "GET");
	bool head = req->method && !strcmp(req->method, "HEAD");
	bool range = status == 200 && get && req->range && *req->range;
	d->status = status;
	d->body = SERVE_BODY_BLOB;
	d->content_type = file->type;

	/* representation: a precompressed variant, never for ranges */
	const struct manifest_variant *v = NULL;
	const char *enc = NULL;
	bool variants = file->gzip.hash[0] || file->br.hash[0];
	if (variants && !range && req->accept_encoding) {
		double qbr = file->br.hash[0] ? serve_accepts(req->accept_encoding, "br") : 0;
		double qgz = file->gzip.hash[0] ? serve_accepts(req->accept_encoding, "gzip") : 0;
		if (qbr > 0 && qbr >= qgz)
			v = &file->br, enc = "br";
		else if (qgz > 0)
			v = &file->gzip, enc = "gzip";
	}
	d->blob = v ? v->hash : file->hash;
	d->blob_size = v ? v->size : file->size;
	d->offset = 0;
	d->length = d->blob_size;
	if (enc)
		serve_header_set(d, "Content-Encoding", enc);
	if (variants)
		serve_header_set(d, "Vary", "Accept-Encoding");
	bool immutable = status == 200 && exact && !serve_is_html(file->type) &&
			 serve_reply_name_hashed(file->path);
	serve_header_set(d, "Cache-Control", immutable ? SERVE_CACHE_IMMUTABLE : SERVE_CACHE_HTML);
	serve_header_set(d, "X-Content-Type-Options", "nosniff");
	if (status != 200)
		return;

	size_t bl = strlen(d->blob);
	char *etag = arena_alloc(a, bl + 3);   /* "\"{blob}\"" on every hit: no printf */
	etag[0] = '"';
	memcpy(etag + 1, d->blob, bl);
	etag[bl + 1] = '"';
	const char *lastmod = m->created > 0 ? serve_http_date(a, m->created / 1000) : NULL;
	serve_header_set(d, "ETag", etag);
	if (lastmod)
		serve_header_set(d, "Last-Modified", lastmod);
	serve_header_set(d, "Accept-Ranges", "bytes");
	if (!get && !head)
		return;
	/* If-None-Match first; If-Modified-Since only without it (RFC 9110 13.2.2). Dates must
	 * match exactly: an older deployment made current again is still "modified". */
	bool not_modified = false;
	if (req->if_none_match && *req->if_none_match)
		not_modified = fastpath_match_etag(req->if_none_match, etag);
	else if (req->if_modified_since && *req->if_modified_since && lastmod)
		not_modified = serve_reply_http_date(req->if_modified_since) == m->created / 1000;
	if (not_modified) {
		d->status = 304;
		d->body = SERVE_BODY_NONE;
		d->content_type = NULL;
		d->length = 0;
		return;
	}
	if (!range)
		return;
	if (req->if_range && *req->if_range) {
		bool fresh = req->if_range[0] == '"' ? strcmp(req->if_range, etag) == 0
			     : (lastmod && serve_reply_http_date(req->if_range) == m->created / 1000);
		if (!fresh)
			return;                /* the client's copy is stale: send it all */
	}
	unsigned long long off = 0, len = 0;
	switch (serve_range_parse(req->range, d->blob_size, &off, &len)) {
	case SERVE_RANGE_NONE:
		return;
	case SERVE_RANGE_UNSATISFIABLE:
		d->status = 416;
		d->body = SERVE_BODY_NONE;
		d->length = 0;
		serve_header_set(d, "Content-Range", arena_printf(a, "bytes */%llu", d->blob_size));
		return;
	case SERVE_RANGE_OK:
		d->status = 206;
		d->offset = off;
		d->length = len;
		serve_header_set(d, "Content-Range", arena_printf(a, "bytes %llu-%llu/%llu", off,
								   off + len - 1, d->blob_size));
		return;
	}
}

void serve_reply_rules(const struct manifest *m, const char *path, struct arena *a,
		       struct serve_decision *d)
{
	struct rules_header *h;
	size_t n = m->rules ? rules_headers_match(m->rules, path, a, &h) : 0;
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(h[i].name, "Content-Type") == 0) {
			if (d->content_type)
				d->content_type = h[i].value;
		} else if (strcasecmp(h[i].name, "Vary") == 0 && serve_header_get(d, "Vary")) {
			serve_header_set(d, "Vary", arena_printf(a, "%s, %s", serve_header_get(d, "Vary"),
								 h[i].value));
		} else {
			serve_header_set(d, h[i].name, h[i].value);
		}
	}
}
