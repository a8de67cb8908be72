/* rules_match.c — the serve side of rules.h: a manifest's redirect and header rules compiled
 * once into segment patterns, matched per request without parsing. */
#include "rules_match.h"
#include "rules.h"
#include "path.h"
#include "percent.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RULES_QUERY_PARAMS_MAX 64

struct rules_seg {
	const char *text;     /* literal text, or the placeholder's name without ':' */
	size_t len;
	bool param;
};

struct rules_pattern {
	struct rules_seg *segs;
	size_t nsegs;
	bool splat;           /* ends with '*' */
	const char *prefix;   /* literal text before '*' in the last segment ("" for "/x/\*") */
	size_t prefix_len;
};

struct rules_qcond {
	const char *key;
	const char *value;    /* literal, or the placeholder name when param */
	bool param;
};

struct rules_redirect_rule {
	struct rules_pattern pat;
	struct rules_qcond *query;
	size_t nquery;
	const char *to;       /* NULL: the status page only (404/410 without a target) */
	int status;
	bool force;
	bool external;
	unsigned line;
};

struct rules_header_rule {
	struct rules_pattern pat;
	const char **names;
	const char **values;
	size_t nset;
	const char **unset;
	size_t nunset;
};

struct rules {
	struct arena arena;
	struct rules_redirect_rule *redirects;
	size_t nredirects;
	struct rules_header_rule *headers;
	size_t nheaders;
};

/* ---- compile ------------------------------------------------------------------- */

static int rules_pattern_compile(struct arena *a, const char *src, struct rules_pattern *p)
{
	size_t n = strlen(src);
	if (n == 0 || src[0] != '/')
		return -1;
	char *s = arena_strndup(a, src, n);
	if (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	memset(p, 0, sizeof(*p));
	if (n && s[n - 1] == '*') {
		p->splat = true;
		s[--n] = '\0';
		char *slash = strrchr(s, '/');
		p->prefix = slash + 1;
		p->prefix_len = strlen(p->prefix);
		*slash = '\0';
		n = (size_t)(slash - s);
	}
	size_t max = 0;
	for (size_t i = 0; i < n; i++)
		max += (s[i] == '/');
	p->segs = arena_alloc(a, (max + 1) * sizeof(*p->segs));
	for (char *q = s; *q == '/' && q[1];) {
		char *seg = q + 1;
		char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		struct rules_seg *sg = &p->segs[p->nsegs++];
		sg->param = (seg[0] == ':');
		sg->text = sg->param ? seg + 1 : seg;
		sg->len = sg->param ? len - 1 : len;
		q = seg + len;
	}
	return 0;
}

static int rules_compile_redirect(struct arena *a, json_t *j, struct rules_redirect_rule *r)
{
	const char *from = json_string_value(json_object_get(j, "from"));
	const char *to = json_string_value(json_object_get(j, "to"));
	json_t *st = json_object_get(j, "status");
	if (!from || !json_is_integer(st) || rules_pattern_compile(a, from, &r->pat))
		return -1;
	r->status = (int)json_integer_value(st);
	if (!to && r->status != 404 && r->status != 410)
		return -1;
	r->to = to ? arena_strdup(a, to) : NULL;
	r->force = json_is_true(json_object_get(j, "force"));
	r->external = to && (strncasecmp(to, "http://", 7) == 0 || strncasecmp(to, "https://", 8) == 0);
	r->line = (unsigned)json_integer_value(json_object_get(j, "line"));
	json_t *q = json_object_get(j, "query");
	r->nquery = json_object_size(q);
	if (r->nquery) {
		r->query = arena_alloc(a, r->nquery * sizeof(*r->query));
		size_t i = 0;
		const char *k;
		json_t *v;
		json_object_foreach(q, k, v) {
			const char *val = json_is_string(v) ? json_string_value(v) : "";
			r->query[i].key = arena_strdup(a, k);
			r->query[i].param = (val[0] == ':' && val[1]);
			r->query[i].value = arena_strdup(a, r->query[i].param ? val + 1 : val);
			i++;
		}
	}
	return 0;
}

static int rules_compile_header(struct arena *a, json_t *j, struct rules_header_rule *r)
{
	const char *pat = json_string_value(json_object_get(j, "for"));
	if (!pat || rules_pattern_compile(a, pat, &r->pat))
		return -1;
	json_t *set = json_object_get(j, "set"), *unset = json_object_get(j, "unset");
	size_t i;
	json_t *e;
	r->names = arena_alloc(a, (json_array_size(set) + 1) * sizeof(char *));
	r->values = arena_alloc(a, (json_array_size(set) + 1) * sizeof(char *));
	json_array_foreach(set, i, e) {
		const char *name = json_string_value(json_array_get(e, 0));
		const char *value = json_string_value(json_array_get(e, 1));
		if (!rules_header_allowed(name, value) || !value)
			continue;   /* checked at build time; a hand-edited manifest gets no say */
		r->names[r->nset] = arena_strdup(a, name);
		r->values[r->nset++] = arena_strdup(a, value);
	}
	r->unset = arena_alloc(a, (json_array_size(unset) + 1) * sizeof(char *));
	json_array_foreach(unset, i, e) {
		if (json_is_string(e))
			r->unset[r->nunset++] = arena_strdup(a, json_string_value(e));
	}
	return 0;
}

int rules_compile(json_t *config, struct rules **out, struct error *err)
{
	struct rules *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	arena_init(&r->arena);
	json_t *red = json_object_get(config, "redirects");
	json_t *hdr = json_object_get(config, "headers");
	size_t nred = json_is_array(red) ? json_array_size(red) : 0;
	size_t nhdr = json_is_array(hdr) ? json_array_size(hdr) : 0;
	if (nred > RULES_MAX)
		nred = RULES_MAX;
	if (nhdr > RULES_MAX)
		nhdr = RULES_MAX;
	r->redirects = arena_alloc(&r->arena, (nred + 1) * sizeof(*r->redirects));
	r->headers = arena_alloc(&r->arena, (nhdr + 1) * sizeof(*r->headers));
	for (size_t i = 0; i < nred; i++)
		if (rules_compile_redirect(&r->arena, json_array_get(red, i),
					   &r->redirects[r->nredirects]) == 0)
			r->nredirects++;
	for (size_t i = 0; i < nhdr; i++)
		if (rules_compile_header(&r->arena, json_array_get(hdr, i),
					 &r->headers[r->nheaders]) == 0)
			r->nheaders++;
	(void)err;
	*out = r;
	return 0;
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	arena_dispose(&r->arena);
	free(r);
}

size_t rules_memory(const struct rules *r)
{
	return r ? r->arena.used_total + sizeof(*r) : 0;
}

/* ---- match --------------------------------------------------------------------- */

struct rules_path {
	const char *text;        /* the path without its trailing slash ("/" stays) */
	size_t len;
	struct rules_seg *segs;  /* text/len into text */
	size_t nsegs;
};

struct rules_capture {
	const char *name;
	size_t name_len;
	const char *value;
	size_t len;
};

static void rules_path_split(struct arena *a, const char *path, struct rules_path *p)
{
	size_t n = strlen(path);
	if (n > 1 && path[n - 1] == '/')
		n--;
	p->text = path;
	p->len = n;
	size_t max = 1;
	for (size_t i = 0; i < n; i++)
		max += (path[i] == '/');
	p->segs = arena_alloc(a, max * sizeof(*p->segs));
	p->nsegs = 0;
	size_t i = 1;
	while (i < n) {
		size_t start = i;
		while (i < n && path[i] != '/')
			i++;
		p->segs[p->nsegs].text = path + start;
		p->segs[p->nsegs++].len = i - start;
		i++;
	}
}

/* Matches; captures get room for pat->nsegs entries; *splat set when the pattern has one. */
static bool rules_pattern_match(const struct rules_pattern *pat, const struct rules_path *p,
				struct rules_capture *caps, size_t *ncaps, const char **splat,
				size_t *splat_len)
{
	*ncaps = 0;
	if (pat->splat) {
		if (p->nsegs < pat->nsegs + (pat->prefix_len ? 1 : 0))
			return false;
	} else if (p->nsegs != pat->nsegs) {
		return false;
	}
	for (size_t i = 0; i < pat->nsegs; i++) {
		const struct rules_seg *ps = &pat->segs[i], *s = &p->segs[i];
		if (ps->param) {
			caps[*ncaps].name = ps->text;
			caps[*ncaps].name_len = ps->len;
			caps[*ncaps].value = s->text;
			caps[(*ncaps)++].len = s->len;
		} else if (ps->len != s->len || memcmp(ps->text, s->text, s->len) != 0) {
			return false;
		}
	}
	if (!pat->splat)
		return true;
	if (p->nsegs == pat->nsegs) {     /* "/news/\*" matches "/news" with an empty splat */
		*splat = "";
		*splat_len = 0;
		return true;
	}
	const struct rules_seg *s = &p->segs[pat->nsegs];
	if (s->len < pat->prefix_len || memcmp(s->text, pat->prefix, pat->prefix_len) != 0)
		return false;
	*splat = s->text + pat->prefix_len;
	*splat_len = (size_t)(p->text + p->len - *splat);
	return true;
}

/* Decodes a query component ('+' is a space) into the arena. */
static char *rules_query_decode(struct arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1);
	size_t o = 0;
	percent_decode(s, n, PERCENT_PLUS | PERCENT_LENIENT, out, n, &o); /* cannot fail */
	out[o] = '\0';
	return out;
}

/* The value of key in a raw query string, decoded; NULL when absent. */
static const char *rules_query_get(struct arena *a, const char *query, const char *key)
{
	size_t klen = strlen(key);
	const char *s = query;
	while (s && *s) {
		const char *amp = strchr(s, '&');
		size_t n = amp ? (size_t)(amp - s) : strlen(s);
		const char *eq = memchr(s, '=', n);
		size_t kn = eq ? (size_t)(eq - s) : n;
		char *k = rules_query_decode(a, s, kn);
		if (strlen(k) == klen && memcmp(k, key, klen) == 0)
			return eq ? rules_query_decode(a, eq + 1, n - kn - 1) : "";
		s = amp ? amp + 1 : NULL;
	}
	return NULL;
}

/* Expands ":name" and ":splat" in the rule's target, values percent-encoded. */
static const char *rules_expand(struct arena *a, const char *to, const struct rules_capture *caps,
				size_t ncaps, const char *splat, size_t splat_len)
{
	struct buf b = BUF_INIT(RULES_LINE_MAX * 4);
	for (const char *s = to; *s;) {
		if (*s != ':') {
			buf_putc(&b, *s++);
			continue;
		}
		size_t n = 1;
		while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		       (s[n] >= '0' && s[n] <= '9') || s[n] == '_')
			n++;
		bool done = false;
		if (n == 6 && memcmp(s + 1, "splat", 5) == 0 && splat) {
			path_encode(&b, splat, splat_len);
			done = true;
		}
		for (size_t i = 0; !done && i < ncaps; i++) {
			if (caps[i].name_len == n - 1 && memcmp(caps[i].name, s + 1, n - 1) == 0) {
				path_encode(&b, caps[i].value, caps[i].len);
				done = true;
			}
		}
		if (!done)
			buf_append(&b, s, n);
		s += n;
	}
	const char *res = b.err ? NULL : arena_strdup(a, buf_cstr(&b));
	buf_dispose(&b);
	return res;
}

int rules_redirect_match(const struct rules *r, const char *path, const char *query,
			 size_t *pos, struct arena *arena, struct rules_redirect *out)
{
	if (!r || *pos >= r->nredirects)
		return 0;
	struct rules_path p;
	rules_path_split(arena, path, &p);
	struct rules_capture *caps = arena_alloc(arena, (p.nsegs + RULES_QUERY_PARAMS_MAX + 1) *
						 sizeof(*caps));
	for (size_t i = *pos; i < r->nredirects; i++) {
		const struct rules_redirect_rule *rule = &r->redirects[i];
		size_t ncaps = 0, splat_len = 0;
		const char *splat = NULL;
		if (!rules_pattern_match(&rule->pat, &p, caps, &ncaps, &splat, &splat_len))
			continue;
		bool ok = true;
		for (size_t q = 0; ok && q < rule->nquery && q < RULES_QUERY_PARAMS_MAX; q++) {
			const char *v = rules_query_get(arena, query ? query : "", rule->query[q].key);
			if (!v) {
				ok = false;
			} else if (rule->query[q].param) {
				caps[ncaps].name = rule->query[q].value;
				caps[ncaps].name_len = strlen(rule->query[q].value);
				caps[ncaps].value = v;
				caps[ncaps++].len = strlen(v);
			} else if (strcmp(v, rule->query[q].value) != 0) {
				ok = false;
			}
		}
		if (!ok)
			continue;
		const char *target = NULL;
		if (rule->to) {
			target = rules_expand(arena, rule->to, caps, ncaps, splat, splat_len);
			if (!target)
				continue;
			bool redirect = rule->status >= 300 && rule->status < 400;
			if (redirect && !rule->nquery && query && *query && !strchr(target, '?'))
				target = arena_printf(arena, "%s?%s", target, query);
		}
		out->status = rule->status;
		out->force = rule->force;
		out->external = rule->external;
		out->target = target;
		out->line = rule->line;
		*pos = i + 1;
		return 1;
	}
	*pos = r->nredirects;
	return 0;
}

size_t rules_headers_match(const struct rules *r, const char *path, struct arena *arena,
			   struct rules_header **out)
{
	*out = NULL;
	if (!r || !r->nheaders)
		return 0;
	struct rules_path p;
	rules_path_split(arena, path, &p);
	struct rules_capture *caps = arena_alloc(arena, (p.nsegs + 1) * sizeof(*caps));
	size_t total = 0, n = 0;
	bool *hit = arena_alloc(arena, r->nheaders * sizeof(bool));
	for (size_t i = 0; i < r->nheaders; i++) {
		size_t ncaps, splat_len;
		const char *splat;
		hit[i] = rules_pattern_match(&r->headers[i].pat, &p, caps, &ncaps, &splat, &splat_len);
		if (hit[i])
			total += r->headers[i].nset;
	}
	if (!total)
		return 0;
	struct rules_header *h = arena_alloc(arena, total * sizeof(*h));
	for (size_t i = 0; i < r->nheaders; i++) {
		if (!hit[i])
			continue;
		const struct rules_header_rule *rule = &r->headers[i];
		for (size_t u = 0; u < rule->nunset; u++) {
			size_t k = 0;
			for (size_t j = 0; j < n; j++)
				if (strcasecmp(h[j].name, rule->unset[u]) != 0)
					h[k++] = h[j];
			n = k;
		}
		for (size_t s = 0; s < rule->nset; s++) {
			size_t j;
			for (j = 0; j < n; j++)
				if (strcasecmp(h[j].name, rule->names[s]) == 0)
					break;
			if (j < n) {
				h[j].value = arena_printf(arena, "%s, %s", h[j].value, rule->values[s]);
			} else {
				h[n].name = rule->names[s];
				h[n++].value = rule->values[s];
			}
		}
	}
	*out = h;
	return n;
}
