/* rules.c — parses _redirects, _headers and skiff.json rules into the manifest's JSON form
 * (build time); bad lines are reported with their number and skipped. */
#include "rules.h"
#include "path.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RULES_TOKENS_MAX 16
#define RULES_HEADERS_PER_RULE 100
#define RULES_NAME_MAX 256

struct rules_parse {
	rules_report_fn report;
	void *ctx;
	unsigned line;
};

static void rules_say(struct rules_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rules_say(struct rules_parse *p, const char *fmt, ...)
{
	if (!p->report)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->report(p->ctx, p->line, msg);
}

static int rules_is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

/* Validates a "from"/"for" pattern and writes its normalised, decoded form into out. */
static int rules_pattern(struct rules_parse *p, const char *what, const char *pat, char *out,
			 size_t outsize)
{
	if (rules_is_url(pat)) {
		rules_say(p, "%s: host patterns (\"%.60s\") are not supported; rule skipped", what,
			  pat);
		return -1;
	}
	size_t n = strlen(pat);
	if (n == 0 || pat[0] != '/' || n > PATH_URL_MAX || outsize < n + 2 ||
	    path_normalize(pat, n, out, outsize) != 0) {
		rules_say(p, "%s: \"%.60s\" is not a valid path pattern; rule skipped", what, pat);
		return -1;
	}
	const char *star = strchr(out, '*');
	if (star && star[1] != '\0') {
		rules_say(p, "%s: '*' may only end a pattern (\"%.60s\"); rule skipped", what, pat);
		return -1;
	}
	/* placeholders are whole segments ":name" */
	for (const char *s = out; (s = strchr(s, ':')) != NULL; s++) {
		if (s[-1] != '/') {
			rules_say(p, "%s: ':' placeholders must be whole segments (\"%.60s\"); rule skipped",
				  what, pat);
			return -1;
		}
		size_t k = 1;
		while (s[k] && s[k] != '/') {
			char c = s[k];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			      c == '_')) {
				rules_say(p, "%s: bad placeholder name in \"%.60s\"; rule skipped", what, pat);
				return -1;
			}
			k++;
		}
		if (k == 1) {
			rules_say(p, "%s: empty placeholder in \"%.60s\"; rule skipped", what, pat);
			return -1;
		}
	}
	return 0;
}

static int rules_status_allowed(long status)
{
	switch (status) {
	case 200: case 301: case 302: case 303: case 307: case 308: case 404: case 410:
		return 1;
	default:
		return 0;
	}
}

/* Checks a redirect target: a path, or an absolute http(s) URL for redirects. */
static int rules_target(struct rules_parse *p, const char *to, long status)
{
	size_t n = strlen(to);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)to[i];
		if (c <= 0x20 || c == 0x7f || c == '\\') {
			rules_say(p, "target contains a space, control character or backslash; rule skipped");
			return -1;
		}
	}
	if (rules_is_url(to)) {
		const char *host = strchr(to, '/') + 2;
		if (!*host || *host == '/') {
			rules_say(p, "target URL \"%.60s\" has no host; rule skipped", to);
			return -1;
		}
		if (status == 200 || status == 404 || status == 410) {
			rules_say(p, "status %ld to an external URL (proxying) is not supported; rule skipped",
				  status);
			return -1;
		}
		return 0;
	}
	if (to[0] != '/' || to[1] == '/') {
		rules_say(p, "target \"%.60s\" must be a path starting with one '/' or an http(s) URL; "
			  "rule skipped", to);
		return -1;
	}
	return 0;
}

/* The one constructor of a redirect rule object; NULL (reported) when invalid. */
static json_t *rules_redirect_new(struct rules_parse *p, const char *from, json_t *query,
				  const char *to, long status, int force)
{
	char pat[PATH_URL_MAX + 2];
	if (rules_pattern(p, "from", from, pat, sizeof(pat)))
		return NULL;
	if (!rules_status_allowed(status)) {
		rules_say(p, "status %ld is not supported (200, 301, 302, 303, 307, 308, 404, 410); "
			  "rule skipped", status);
		return NULL;
	}
	if (!to && status != 404 && status != 410) {
		rules_say(p, "a rule with status %ld needs a target; rule skipped", status);
		return NULL;
	}
	if (to && rules_target(p, to, status))
		return NULL;
	json_t *r = json_object();
	json_object_set_new(r, "from", json_string(pat));
	if (to)
		json_object_set_new(r, "to", json_string(to));
	json_object_set_new(r, "status", json_integer(status));
	json_object_set_new(r, "force", json_boolean(force));
	if (query && json_object_size(query))
		json_object_set(r, "query", query);
	json_object_set_new(r, "line", json_integer(p->line));
	return r;
}

/* Parses "301", "200!" into status and force; -1 when tok is not a status. */
static int rules_status_token(const char *tok, long *status, int *force)
{
	size_t n = strlen(tok);
	*force = 0;
	if (n == 4 && tok[3] == '!') {
		*force = 1;
		n = 3;
	}
	if (n != 3)
		return -1;
	long v = 0;
	for (size_t i = 0; i < 3; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return -1;
		v = v * 10 + (tok[i] - '0');
	}
	*status = v;
	return 0;
}

/* One _redirects line (NUL-terminated, modified in place); appends to out. */
static void rules_redirect_line(struct rules_parse *p, char *line, json_t *out)
{
	char *tok[RULES_TOKENS_MAX];
	size_t ntok = 0;
	for (char *s = line; *s;) {
		while (*s == ' ' || *s == '\t')
			*s++ = '\0';
		if (!*s)
			break;
		if (ntok == RULES_TOKENS_MAX) {
			rules_say(p, "too many fields; rule skipped");
			return;
		}
		tok[ntok++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	if (ntok == 0 || tok[0][0] == '#')
		return;
	if (ntok == 1) {
		rules_say(p, "a rule needs a target or a status; rule skipped");
		return;
	}
	size_t i = 1;
	json_t *query = json_object();
	while (i < ntok && strchr(tok[i], '=') && tok[i][0] != '/' && !rules_is_url(tok[i])) {
		char *eq = strchr(tok[i], '=');
		*eq = '\0';
		if (!*tok[i]) {
			rules_say(p, "empty query parameter name; rule skipped");
			json_decref(query);
			return;
		}
		json_object_set_new(query, tok[i], json_string(eq + 1));
		i++;
	}
	const char *to = NULL;
	long status = 301;
	int force = 0;
	if (i < ntok && rules_status_token(tok[i], &status, &force) != 0)
		to = tok[i++];
	else if (i < ntok)
		i++;   /* a status without a target */
	if (to && i < ntok) {
		if (rules_status_token(tok[i], &status, &force) != 0) {
			rules_say(p, "\"%.40s\" is not a status code; rule skipped", tok[i]);
			json_decref(query);
			return;
		}
		i++;
	}
	if (i < ntok) {
		rules_say(p, "conditions (\"%.40s\") are not supported; rule skipped", tok[i]);
		json_decref(query);
		return;
	}
	if (i == 1 + json_object_size(query) && !to) {
		rules_say(p, "a rule needs a target or a status; rule skipped");
		json_decref(query);
		return;
	}
	json_t *r = rules_redirect_new(p, tok[0], query, to, status, force);
	json_decref(query);
	if (r)
		json_array_append_new(out, r);
}

static void rules_header_line(struct rules_parse *p, char *line, json_t *out, void *state);

/* Calls fn for each line of text with its number; stops at the rule limit. */
static int rules_lines(struct rules_parse *p, const char *text, size_t len, json_t *out,
		       void (*fn)(struct rules_parse *p, char *line, json_t *out, void *state),
		       void *state)
{
	char line[RULES_LINE_MAX + 1];
	size_t pos = 0;
	p->line = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *s = text + pos;
		pos += n + (nl ? 1 : 0);
		p->line++;
		if (n && s[n - 1] == '\r')
			n--;
		if (n > RULES_LINE_MAX) {
			rules_say(p, "line longer than %d bytes; skipped", RULES_LINE_MAX);
			continue;
		}
		if (memchr(s, '\0', n)) {
			rules_say(p, "line contains a NUL byte; skipped");
			continue;
		}
		memcpy(line, s, n);
		line[n] = '\0';
		const char *first = line + strspn(line, " \t");
		int rule_line = *first && *first != '#' && (fn != rules_header_line || first == line);
		if (rule_line && json_array_size(out) >= RULES_MAX) {
			rules_say(p, "more than %d rules; the rest are ignored", RULES_MAX);
			break;
		}
		fn(p, line, out, state);
	}
	return 0;
}

static void rules_redirect_line_cb(struct rules_parse *p, char *line, json_t *out, void *state)
{
	(void)state;
	rules_redirect_line(p, line, out);
}

int rules_redirects_parse(const char *text, size_t len, json_t **out, rules_report_fn report,
			  void *ctx)
{
	struct rules_parse p = { report, ctx, 0 };
	*out = NULL;
	if (len > RULES_FILE_MAX) {
		rules_say(&p, "_redirects is larger than %u bytes; ignored", RULES_FILE_MAX);
		return SKIFF_ELIMIT;
	}
	*out = json_array();
	return rules_lines(&p, text, len, *out, rules_redirect_line_cb, NULL);
}

/* ---- headers ------------------------------------------------------------------- */

int rules_header_allowed(const char *name, const char *value)
{
	static const char *const refused[] = {
		"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
		"proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host",
		"content-length", "content-encoding", "content-range", "set-cookie", "etag",
		"status", "location", "x-sendfile", "x-sendfile2", "x-lighttpd-send-file",
		"x-accel-redirect",
	};
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > RULES_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr("!#$%&'*+-.^_`|~", c))))
			return 0;
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strcasecmp(name, refused[i]) == 0)
			return 0;
	if (!value)
		return 1;
	size_t vn = strlen(value);
	if (vn > RULES_HEADER_VALUE_MAX)
		return 0;
	for (size_t i = 0; i < vn; i++) {
		unsigned char c = (unsigned char)value[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

struct rules_header_block {
	json_t *rule;    /* the open block, or NULL */
	int skip;        /* the open block's pattern was bad: ignore its lines quietly */
};

static void rules_header_close(struct rules_parse *p, struct rules_header_block *b, json_t *out)
{
	if (!b->rule)
		return;
	if (json_array_size(json_object_get(b->rule, "set")) ||
	    json_array_size(json_object_get(b->rule, "unset")))
		json_array_append(out, b->rule);
	json_decref(b->rule);
	b->rule = NULL;
	(void)p;
}

static json_t *rules_header_rule_new(struct rules_parse *p, const char *pattern)
{
	char pat[PATH_URL_MAX + 2];
	if (rules_pattern(p, "for", pattern, pat, sizeof(pat)))
		return NULL;
	json_t *r = json_object();
	json_object_set_new(r, "for", json_string(pat));
	json_object_set_new(r, "set", json_array());
	json_object_set_new(r, "unset", json_array());
	json_object_set_new(r, "line", json_integer(p->line));
	return r;
}

static void rules_header_add(struct rules_parse *p, json_t *rule, const char *name,
			     const char *value)
{
	json_t *set = json_object_get(rule, "set"), *unset = json_object_get(rule, "unset");
	if (json_array_size(set) + json_array_size(unset) >= RULES_HEADERS_PER_RULE) {
		rules_say(p, "more than %d headers for one path; skipped", RULES_HEADERS_PER_RULE);
		return;
	}
	if (!rules_header_allowed(name, value)) {
		rules_say(p, "header \"%.60s\" is not allowed (bad name or value, or managed by "
			  "skiff); skipped", name);
		return;
	}
	if (value)
		json_array_append_new(set, json_pack("[ss]", name, value));
	else
		json_array_append_new(unset, json_string(name));
}

static char *rules_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static void rules_header_line(struct rules_parse *p, char *line, json_t *out, void *state)
{
	struct rules_header_block *b = state;
	int indented = (line[0] == ' ' || line[0] == '\t');
	char *s = rules_trim(line);
	if (!*s || *s == '#')
		return;
	if (!indented) {
		rules_header_close(p, b, out);
		b->rule = rules_header_rule_new(p, s);
		b->skip = (b->rule == NULL);
		return;
	}
	if (!b->rule) {
		if (!b->skip)
			rules_say(p, "header line before any path; skipped");
		return;
	}
	if (*s == '!') {
		char *name = rules_trim(s + 1);
		rules_header_add(p, b->rule, name, NULL);
		return;
	}
	char *colon = strchr(s, ':');
	if (!colon) {
		rules_say(p, "expected \"Name: value\"; skipped");
		return;
	}
	*colon = '\0';
	char *name = rules_trim(s);
	char *value = rules_trim(colon + 1);
	if (!*value) {
		rules_say(p, "header \"%.60s\" has an empty value; skipped", name);
		return;
	}
	rules_header_add(p, b->rule, name, value);
}

int rules_headers_parse(const char *text, size_t len, json_t **out, rules_report_fn report,
			void *ctx)
{
	struct rules_parse p = { report, ctx, 0 };
	struct rules_header_block b = { NULL, 0 };
	*out = NULL;
	if (len > RULES_FILE_MAX) {
		rules_say(&p, "_headers is larger than %u bytes; ignored", RULES_FILE_MAX);
		return SKIFF_ELIMIT;
	}
	*out = json_array();
	rules_lines(&p, text, len, *out, rules_header_line, &b);
	if (json_array_size(*out) < RULES_MAX)
		rules_header_close(&p, &b, *out);
	else
		json_decref(b.rule);
	return 0;
}

/* ---- skiff.json ---------------------------------------------------------------- */

static const char *rules_json_str(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	if (!v && b)
		v = json_object_get(o, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void rules_redirect_json(struct rules_parse *p, json_t *e, json_t *out)
{
	if (json_is_string(e)) {
		char line[RULES_LINE_MAX + 1];
		size_t n = json_string_length(e);
		if (n > RULES_LINE_MAX || memchr(json_string_value(e), '\0', n)) {
			rules_say(p, "rule longer than %d bytes; skipped", RULES_LINE_MAX);
			return;
		}
		memcpy(line, json_string_value(e), n + 1);
		rules_redirect_line(p, line, out);
		return;
	}
	if (!json_is_object(e)) {
		rules_say(p, "a redirect must be a string or an object; skipped");
		return;
	}
	const char *from = rules_json_str(e, "from", "source");
	const char *to = rules_json_str(e, "to", "destination");
	json_t *st = json_object_get(e, "status");
	if (!st)
		st = json_object_get(e, "statusCode");
	long status = 301;
	if (st && !json_is_integer(st)) {
		rules_say(p, "\"status\" must be a number; skipped");
		return;
	}
	if (st)
		status = (long)json_integer_value(st);
	json_t *force = json_object_get(e, "force");
	json_t *query = json_object_get(e, "query");
	if (!from) {
		rules_say(p, "a redirect needs \"from\"; skipped");
		return;
	}
	if (query && !json_is_object(query)) {
		rules_say(p, "\"query\" must be an object; skipped");
		return;
	}
	const char *k;
	json_t *v;
	json_object_foreach(query, k, v) {
		if (!json_is_string(v) || !*k) {
			rules_say(p, "query values must be strings; skipped");
			return;
		}
	}
	json_t *r = rules_redirect_new(p, from, query, to, status, json_is_true(force));
	if (r)
		json_array_append_new(out, r);
}

int rules_redirects_from_json(json_t *redirects, json_t **out, rules_report_fn report, void *ctx)
{
	struct rules_parse p = { report, ctx, 0 };
	*out = NULL;
	if (!json_is_array(redirects)) {
		rules_say(&p, "\"redirects\" must be an array; ignored");
		return SKIFF_EINVALID;
	}
	*out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(redirects, i, e) {
		p.line = (unsigned)i + 1;
		if (json_array_size(*out) >= RULES_MAX) {
			rules_say(&p, "more than %d rules; the rest are ignored", RULES_MAX);
			break;
		}
		rules_redirect_json(&p, e, *out);
	}
	return 0;
}

static void rules_header_json(struct rules_parse *p, json_t *e, json_t *out)
{
	if (!json_is_object(e)) {
		rules_say(p, "a header rule must be an object; skipped");
		return;
	}
	const char *pattern = rules_json_str(e, "for", "source");
	if (!pattern) {
		rules_say(p, "a header rule needs \"for\"; skipped");
		return;
	}
	json_t *rule = rules_header_rule_new(p, pattern);
	if (!rule)
		return;
	const char *k;
	json_t *v;
	size_t i;
	json_t *values = json_object_get(e, "values");
	json_object_foreach(values, k, v) {
		if (json_is_string(v)) {
			rules_header_add(p, rule, k, json_string_value(v));
		} else if (json_is_array(v)) {
			json_t *x;
			json_array_foreach(v, i, x) {
				if (json_is_string(x))
					rules_header_add(p, rule, k, json_string_value(x));
				else
					rules_say(p, "header \"%.60s\": values must be strings; skipped", k);
			}
		} else {
			rules_say(p, "header \"%.60s\": value must be a string; skipped", k);
		}
	}
	json_t *list = json_object_get(e, "headers");
	json_array_foreach(list, i, v) {
		const char *name = rules_json_str(v, "key", "name");
		const char *value = rules_json_str(v, "value", NULL);
		if (name && value)
			rules_header_add(p, rule, name, value);
		else
			rules_say(p, "headers[%zu] needs \"key\" and \"value\" strings; skipped", i);
	}
	json_array_foreach(json_object_get(e, "unset"), i, v) {
		if (json_is_string(v))
			rules_header_add(p, rule, json_string_value(v), NULL);
	}
	struct rules_header_block b = { rule, 0 };
	rules_header_close(p, &b, out);
}

int rules_headers_from_json(json_t *headers, json_t **out, rules_report_fn report, void *ctx)
{
	struct rules_parse p = { report, ctx, 0 };
	*out = NULL;
	if (!json_is_array(headers)) {
		rules_say(&p, "\"headers\" must be an array; ignored");
		return SKIFF_EINVALID;
	}
	*out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(headers, i, e) {
		p.line = (unsigned)i + 1;
		if (json_array_size(*out) >= RULES_MAX) {
			rules_say(&p, "more than %d rules; the rest are ignored", RULES_MAX);
			break;
		}
		rules_header_json(&p, e, *out);
	}
	return 0;
}
