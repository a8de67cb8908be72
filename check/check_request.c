/* check_request.c — variables (the index against libfcgi's scan), form parsing (whole and cut at every byte), query parameters, and request
 * bodies read as plain CGI from stdin, whole and arriving a byte at a time. */
#include <check.h>
#include <fcgiapp.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "request.h"

/* Parses exactly len bytes from a heap copy without a terminator, so a read past the end
 * is caught by the sanitizer build. */
static int form(const char *s, size_t len, json_t **out, struct error *err)
{
	char *p = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(p);
	memcpy(p, s, len);
	int rc = request_form_parse(p, len, out, err);
	free(p);
	return rc;
}

static const char *field(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* ---- variables -------------------------------------------------------------- */

/* request_param through the index answers what libfcgi's own scan answers, for every name
 * asked: present, absent, a prefix of another, a second of one name, colliding names. */
static void params_agree(char **envp, bool want_indexed)
{
	static struct http_request req;   /* the index is large: not on the stack */
	static const char *names[] = {
		"HTTP_HOST", "HTTP_IF", "HTTP_IF_RANGE", "HTTP_IF_NONE_MATCH", "REQUEST_URI",
		"QUERY_STRING", "EMPTY", "HTTPS", "HTTP_AXXXXB", "HTTP_AYYYYB", "HTTP_AZZZZB",
		"HTTP_ACCEPT", "X", "X=", "", "NOT_THERE", "V99", "V0", "V1", "V63", "REQUEST_METHO",
	};
	memset(&req, 0, sizeof(req));
	req.fcgx = &req;          /* FastCGI mode: never read through, the index answers */
	req.envp = envp;
	request_index(&req);
	ck_assert_int_eq(req.indexed, want_indexed);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *got = request_param(&req, names[i]), *want = FCGX_GetParam(names[i], envp);
		if (!*names[i] || strchr(names[i], '='))
			want = NULL;      /* no variable has such a name */
		ck_assert_msg(got == want, "%s: %s, libfcgi %s", names[i], got ? got : "(none)",
			      want ? want : "(none)");
	}
}

START_TEST(test_request_param_index)
{
	char *envp[] = {
		"HTTP_HOST=a.example", "HTTP_IF_RANGE=\"x\"", "REQUEST_URI=/p?q", "QUERY_STRING=q",
		"EMPTY=", "HTTPS=on", "HTTP_HOST=second.example", "=no name", "no equals sign",
		/* the same length and the same first, middle and last bytes: one hash */
		"HTTP_AXXXXB=1", "HTTP_AYYYYB=2", "HTTP_AZZZZB=3", "X==", "REQUEST_METHOD=GET", NULL,
	};
	params_agree(envp, true);
}
END_TEST

START_TEST(test_request_param_many)
{
	/* more variables than the index takes: request_param scans them, with the same answers */
	static char vars[REQUEST_INDEX_SLOTS][16];
	char *envp[REQUEST_INDEX_SLOTS + 2];
	for (size_t n = REQUEST_INDEX_SLOTS / 2; n <= REQUEST_INDEX_SLOTS / 2 + 1; n++) {
		envp[0] = "HTTP_HOST=a.example";
		for (size_t i = 1; i < n; i++) {
			snprintf(vars[i], sizeof(vars[i]), "V%zu=%zu", i, i);
			envp[i] = vars[i];
		}
		envp[n] = NULL;
		params_agree(envp, n <= REQUEST_INDEX_SLOTS / 2);
	}
}
END_TEST

/* ---- forms ---------------------------------------------------------------- */

START_TEST(test_request_form_basic)
{
	const char *s = "gitURL=https%3A%2F%2Fgithub.com%2Fo%2Fr.git&slug=my-site&branch=&"
			"buildCommand=npm+run+build&x=a%2Bb%20c";
	json_t *o = NULL;
	struct error err;
	ck_assert_int_eq(form(s, strlen(s), &o, &err), 0);
	ck_assert_str_eq(field(o, "gitURL"), "https://github.com/o/r.git");
	ck_assert_str_eq(field(o, "slug"), "my-site");
	ck_assert_str_eq(field(o, "branch"), "");
	ck_assert_str_eq(field(o, "buildCommand"), "npm run build");
	ck_assert_str_eq(field(o, "x"), "a+b c");
	ck_assert_uint_eq(json_object_size(o), 5);
	json_decref(o);
}
END_TEST

START_TEST(test_request_form_shapes)
{
	json_t *o = NULL;
	struct error err;
	const char *s = "&&a=1&&b&c=x=y&&a=2&";
	ck_assert_int_eq(form(s, strlen(s), &o, &err), 0);
	ck_assert_str_eq(field(o, "a"), "2"); /* later duplicates win */
	ck_assert_str_eq(field(o, "b"), "");  /* a name without '=' is an empty value */
	ck_assert_str_eq(field(o, "c"), "x=y");
	ck_assert_uint_eq(json_object_size(o), 3);
	json_decref(o);
	ck_assert_int_eq(form("", 0, &o, &err), 0);
	ck_assert_uint_eq(json_object_size(o), 0);
	json_decref(o);
	/* UTF-8 passes through, escaped or not */
	s = "name=caf%C3%A9&other=\xc3\xa9t\xc3\xa9";
	ck_assert_int_eq(form(s, strlen(s), &o, &err), 0);
	ck_assert_str_eq(field(o, "name"), "caf\xc3\xa9");
	ck_assert_str_eq(field(o, "other"), "\xc3\xa9t\xc3\xa9");
	json_decref(o);
}
END_TEST

START_TEST(test_request_form_malformed_escapes)
{
	static const char *bad[] = {
		"a=%",       "a=%4",     "a=%zz",    "a=%g0",   "a=%0g", "a=1%",  "a=%%41",
		"%=1",       "k%=1",     "k%4=1",    "a=x&b=%", "a=%-1", "a=% 1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o = NULL;
		struct error err;
		error_clear(&err);
		ck_assert_msg(form(bad[i], strlen(bad[i]), &o, &err) == SKIFF_EINVALID, "accepted %s",
			      bad[i]);
		ck_assert_ptr_null(o);
		ck_assert_str_eq(err.name, "invalid_form");
	}
	/* upper and lower case hex both decode */
	json_t *o = NULL;
	struct error err;
	ck_assert_int_eq(form("a=%4a%4A", 8, &o, &err), 0);
	ck_assert_str_eq(field(o, "a"), "JJ");
	json_decref(o);
}
END_TEST

START_TEST(test_request_form_nul_refused)
{
	static const char *bad[] = { "a=x%00y", "a%00b=1", "a=%00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o = NULL;
		struct error err;
		ck_assert_int_eq(form(bad[i], strlen(bad[i]), &o, &err), SKIFF_EINVALID);
	}
	/* a raw NUL byte inside the given length does not cut the value silently */
	json_t *o = NULL;
	struct error err;
	int rc = form("a=x\0y", 5, &o, &err);
	if (rc == 0) {
		ck_assert_uint_eq(json_string_length(json_object_get(o, "a")), 3);
		json_decref(o);
	}
}
END_TEST

START_TEST(test_request_form_invalid_utf8)
{
	json_t *o = NULL;
	struct error err;
	ck_assert_int_eq(form("a=%FF%FE", 8, &o, &err), SKIFF_EINVALID);
	ck_assert_int_eq(form("a=\xff", 3, &o, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_form");
}
END_TEST

START_TEST(test_request_form_too_many_fields)
{
	struct buf b = BUF_INIT(1 << 16);
	for (int i = 0; i < 64; i++)
		buf_printf(&b, "%sf%d=%d", i ? "&" : "", i, i);
	json_t *o = NULL;
	struct error err;
	ck_assert_int_eq(form(b.data, b.len, &o, &err), 0);
	ck_assert_uint_eq(json_object_size(o), 64);
	json_decref(o);
	o = NULL;
	buf_puts(&b, "&f64=64");
	error_clear(&err);
	ck_assert_int_eq(form(b.data, b.len, &o, &err), SKIFF_EINVALID);
	ck_assert_ptr_null(o);
	ck_assert_ptr_nonnull(strstr(err.message, "too many"));
	/* many repeats of one name are still many fields */
	buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, "a=1&");
	ck_assert_int_eq(form(b.data, b.len, &o, &err), SKIFF_EINVALID);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_request_form_long_key)
{
	char s[200];
	memset(s, 'k', 64);
	memcpy(s + 64, "=v", 3);
	json_t *o = NULL;
	struct error err;
	ck_assert_int_eq(form(s, strlen(s), &o, &err), 0); /* 64 bytes is the limit */
	json_decref(o);
	memset(s, 'k', 65);
	memcpy(s + 65, "=v", 3);
	ck_assert_int_eq(form(s, strlen(s), &o, &err), SKIFF_EINVALID);
	/* a long value is fine (the body limit bounds it) */
	struct buf b = BUF_INIT(1 << 20);
	buf_puts(&b, "v=");
	for (int i = 0; i < 20000; i++)
		buf_puts(&b, "%41");
	ck_assert_int_eq(form(b.data, b.len, &o, &err), 0);
	ck_assert_uint_eq(strlen(field(o, "v")), 20000);
	json_decref(o);
	buf_dispose(&b);
}
END_TEST

/* Every prefix of a form body: a cut inside a %XX escape is refused, any other cut parses,
 * and the value of the last field grows one decoded character at a time. */
START_TEST(test_request_form_every_prefix)
{
	const char *s = "gitURL=https%3A%2F%2Fexample.com%2Fr&slug=a+b%41&c";
	size_t n = strlen(s);
	for (size_t len = 0; len <= n; len++) {
		json_t *o = NULL;
		struct error err;
		error_clear(&err);
		int rc = form(s, len, &o, &err);
		/* where does the cut fall relative to the last '%'? */
		int in_escape = 0;
		for (size_t i = len >= 2 ? len - 2 : 0; i < len; i++)
			if (s[i] == '%')
				in_escape = 1;
		if (in_escape) {
			ck_assert_msg(rc == SKIFF_EINVALID, "prefix %zu accepted", len);
			continue;
		}
		ck_assert_msg(rc == 0, "prefix %zu refused: %s", len, err.message);
		const char *url = field(o, "gitURL");
		if (len >= 7)
			ck_assert_msg(url && !strncmp("https://example.com/r", url, strlen(url)),
				      "prefix %zu: gitURL '%s'", len, url ? url : "(none)");
		json_decref(o);
	}
}
END_TEST

/* ---- query strings ---------------------------------------------------------- */

START_TEST(test_request_query_get)
{
	struct arena a;
	arena_init(&a);
	struct http_request req;
	memset(&req, 0, sizeof(req));
	req.arena = &a;
	req.query = "limit=5&cursor=10&name=a%20b&empty=";
	ck_assert_str_eq(request_query_get(&req, "limit"), "5");
	ck_assert_str_eq(request_query_get(&req, "cursor"), "10");
	ck_assert_str_eq(request_query_get(&req, "name"), "a b");
	ck_assert_str_eq(request_query_get(&req, "empty"), "");
	ck_assert_ptr_null(request_query_get(&req, "missing"));
	req.query = "limit=%zz";
	ck_assert_ptr_null(request_query_get(&req, "limit"));
	req.query = "";
	ck_assert_ptr_null(request_query_get(&req, "limit"));
	arena_dispose(&a);
}
END_TEST

/* ---- what may carry a secret in clear ---------------------------------------- */

START_TEST(test_request_confidential)
{
	static const struct { const char *https, *addr; int want; } cases[] = {
		{ NULL, "127.0.0.1", 1 }, { NULL, "127.3.4.5", 1 }, { NULL, "::1", 1 },
		{ NULL, "::ffff:127.0.0.1", 1 }, { "on", "10.0.0.5", 1 }, { "ON", "203.0.113.9", 1 },
		{ NULL, "10.0.0.5", 0 }, { "off", "10.0.0.5", 0 }, { "", "192.168.1.2", 0 },
		{ NULL, "::ffff:10.0.0.1", 0 }, { NULL, "2001:db8::1", 0 }, { NULL, "128.0.0.1", 0 },
		{ NULL, "localhost", 0 }, { NULL, "127.0.0.1 ", 0 }, { NULL, NULL, 0 },
	};
	struct http_request req;
	memset(&req, 0, sizeof(req));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsetenv("HTTPS");
		unsetenv("REMOTE_ADDR");
		if (cases[i].https)
			setenv("HTTPS", cases[i].https, 1);
		if (cases[i].addr)
			setenv("REMOTE_ADDR", cases[i].addr, 1);
		ck_assert_msg(request_confidential(&req) == cases[i].want, "HTTPS=%s REMOTE_ADDR=%s",
			      cases[i].https ? cases[i].https : "-", cases[i].addr ? cases[i].addr : "-");
	}
}
END_TEST

/* ---- request bodies as plain CGI (stdin) ------------------------------------- */

static struct arena body_arena;
static struct config body_cfg;

/* A CGI request whose stdin holds body (the pipe is closed after it). */
static void body_request(struct http_request *req, const char *ctype, const char *body,
			 size_t len, unsigned long long content_length, size_t max_body)
{
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_uint_lt(len, 60000); /* fits the pipe: no writer process needed */
	ck_assert_int_eq(write(fds[1], body, len), (ssize_t)len);
	close(fds[1]);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	arena_init(&body_arena);
	config_defaults(&body_cfg);
	memset(req, 0, sizeof(*req));
	req->arena = &body_arena;
	req->cfg = &body_cfg;
	req->method = "POST";
	req->path = "/api/projects";
	req->query = "";
	req->host = "localhost";
	req->content_type = ctype;
	req->content_length = content_length;
	req->max_body = max_body;
}

static int body_parse(const char *ctype, const char *body, size_t len, size_t max_body,
		      json_t **out, bool *is_form, struct error *err)
{
	struct http_request req;
	body_request(&req, ctype, body, len, len, max_body);
	*out = NULL;
	error_clear(err);
	return request_body_object(&req, out, is_form, err);
}

START_TEST(test_request_body_json)
{
	const char *s = "{\"gitURL\":\"https://github.com/o/r\",\"slug\":\"x\"}";
	json_t *o;
	bool is_form = true;
	struct error err;
	ck_assert_int_eq(body_parse("application/json", s, strlen(s), 65536, &o, &is_form, &err), 0);
	ck_assert(!is_form);
	ck_assert_str_eq(field(o, "slug"), "x");
	json_decref(o);
	/* parameters after the media type are fine */
	ck_assert_int_eq(body_parse("application/json; charset=utf-8", s, strlen(s), 65536, &o,
				    &is_form, &err), 0);
	json_decref(o);
	ck_assert_int_eq(body_parse("Application/JSON", s, strlen(s), 65536, &o, &is_form, &err), 0);
	json_decref(o);
}
END_TEST

START_TEST(test_request_body_form)
{
	const char *s = "gitURL=https%3A%2F%2Fgithub.com%2Fo%2Fr&slug=x";
	json_t *o;
	bool is_form = false;
	struct error err;
	ck_assert_int_eq(body_parse("application/x-www-form-urlencoded", s, strlen(s), 65536, &o,
				    &is_form, &err), 0);
	ck_assert(is_form);
	ck_assert_str_eq(field(o, "gitURL"), "https://github.com/o/r");
	json_decref(o);
}
END_TEST

START_TEST(test_request_body_malformed_json)
{
	static const char *bad[] = {
		"{", "{\"a\":}", "{\"a\":1,}", "not json", "{\"a\":\"x\"} trailing",
		"{'a':1}", "{\"a\":\"\xff\"}", "{\"a\":1,\"a\":2}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o;
		bool is_form;
		struct error err;
		ck_assert_msg(body_parse("application/json", bad[i], strlen(bad[i]), 65536, &o,
					 &is_form, &err) == SKIFF_EINVALID, "accepted %s", bad[i]);
		ck_assert_str_eq(err.name, "invalid_json");
		ck_assert_ptr_null(o);
	}
	/* the message says where */
	json_t *o;
	bool is_form;
	struct error err;
	body_parse("application/json", "{\n\"a\": ]}", 9, 65536, &o, &is_form, &err);
	ck_assert_msg(strstr(err.message, "line 2") != NULL, "%s", err.message);
}
END_TEST

START_TEST(test_request_body_not_an_object)
{
	static const char *bad[] = { "[]", "[{\"gitURL\":\"x\"}]", "\"str\"", "42", "null", "true" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o;
		bool is_form;
		struct error err;
		ck_assert_msg(body_parse("application/json", bad[i], strlen(bad[i]), 65536, &o,
					 &is_form, &err) == SKIFF_EINVALID, "accepted %s", bad[i]);
		ck_assert_str_eq(err.name, "invalid_json");
	}
}
END_TEST

/* A JSON body cut at every byte is refused as malformed; only the whole one parses. */
START_TEST(test_request_body_json_every_prefix)
{
	const char *s = "{\"gitURL\": \"https://github.com/o/r\", \"slug\": \"x\", \"n\": [1, 2.5]}";
	size_t n = strlen(s);
	for (size_t len = 1; len <= n; len++) {
		json_t *o;
		bool is_form;
		struct error err;
		int rc = body_parse("application/json", s, len, 65536, &o, &is_form, &err);
		if (len == n) {
			ck_assert_int_eq(rc, 0);
			json_decref(o);
		} else {
			ck_assert_msg(rc == SKIFF_EINVALID, "prefix %zu: rc %d", len, rc);
		}
	}
}
END_TEST

START_TEST(test_request_body_too_large)
{
	char big[3000];
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	json_t *o;
	bool is_form;
	struct error err;
	ck_assert_int_eq(body_parse("application/json", big, sizeof(big), 1024, &o, &is_form, &err),
			 SKIFF_ELIMIT);
	ck_assert_int_eq(error_status(err.code), 413);
	/* exactly at the limit is fine */
	ck_assert_int_eq(body_parse("application/json", big, sizeof(big), sizeof(big), &o, &is_form,
				    &err), 0);
	json_decref(o);
}
END_TEST

START_TEST(test_request_body_shorter_than_length)
{
	struct http_request req;
	const char *s = "{\"a\":1}";
	body_request(&req, "application/json", s, strlen(s), 100, 65536);
	json_t *o = NULL;
	bool is_form;
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(request_body_object(&req, &o, &is_form, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "body_truncated");
}
END_TEST

START_TEST(test_request_body_wrong_type)
{
	static const char *bad[] = { "text/plain", "application/jsonx", "multipart/form-data; b=x",
				     "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o;
		bool is_form;
		struct error err;
		ck_assert_msg(body_parse(bad[i], "{}", 2, 65536, &o, &is_form, &err) == SKIFF_ETYPE,
			      "accepted '%s'", bad[i]);
		ck_assert_int_eq(error_status(err.code), 415);
	}
}
END_TEST

START_TEST(test_request_body_empty_json)
{
	json_t *o;
	bool is_form;
	struct error err;
	ck_assert_int_eq(body_parse("application/json", "", 0, 65536, &o, &is_form, &err), 0);
	ck_assert(json_is_object(o));
	ck_assert_uint_eq(json_object_size(o), 0);
	json_decref(o);
}
END_TEST

/* An empty body that is not typed JSON or form is what a cross-site form with
 * enctype=text/plain and no fields sends: refused before anything, whatever the method but a
 * bodiless DELETE. */
START_TEST(test_request_body_empty_untyped)
{
	static const char *bad[] = { "text/plain", "", "multipart/form-data; boundary=x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o;
		bool is_form;
		struct error err;
		ck_assert_msg(body_parse(bad[i], "", 0, 65536, &o, &is_form, &err) == SKIFF_ETYPE,
			      "accepted an empty '%s' body", bad[i]);
		ck_assert_ptr_null(o);
	}
	/* an empty form is a form (the dashboard's buttons without fields) */
	json_t *o;
	bool is_form = false;
	struct error err;
	ck_assert_int_eq(body_parse("application/x-www-form-urlencoded", "", 0, 65536, &o, &is_form,
				    &err), 0);
	ck_assert(is_form);
	ck_assert_uint_eq(json_object_size(o), 0);
	json_decref(o);
	/* DELETE /api/projects/{slug} needs no body and no type */
	struct http_request req;
	body_request(&req, "", "", 0, 0, 65536);
	req.method = "DELETE";
	ck_assert_int_eq(request_body_object(&req, &o, &is_form, &err), 0);
	ck_assert(json_is_object(o));
	json_decref(o);
	/* but a DELETE with a text/plain body is refused like a POST */
	body_request(&req, "text/plain", "x", 1, 1, 65536);
	req.method = "DELETE";
	ck_assert_int_eq(request_body_object(&req, &o, &is_form, &err), SKIFF_ETYPE);
}
END_TEST

/* curl -d '{...}' sends JSON as a form: 415 that says what to add, not a parse error. */
START_TEST(test_request_body_json_hint)
{
	static const char *ctypes[] = { "application/x-www-form-urlencoded", "" };
	static const char *bodies[] = { "{\"gitURL\":\"https://github.com/o/r\"}", " \n[1]" };
	for (size_t i = 0; i < 2; i++) {
		for (size_t j = 0; j < 2; j++) {
			json_t *o;
			bool is_form;
			struct error err;
			ck_assert_int_eq(body_parse(ctypes[i], bodies[j], strlen(bodies[j]), 65536, &o,
						    &is_form, &err), SKIFF_ETYPE);
			ck_assert_int_eq(error_status(err.code), 415);
			ck_assert_msg(strstr(err.message, "Content-Type: application/json") != NULL,
				      "no hint: %s", err.message);
		}
	}
	/* text/plain that looks like JSON is still a plain 415 */
	json_t *o;
	bool is_form;
	struct error err;
	ck_assert_int_eq(body_parse("text/plain", "{}", 2, 65536, &o, &is_form, &err), SKIFF_ETYPE);
}
END_TEST



/* A body that arrives one byte per write (a slow client behind the web server) parses to what
 * the whole body does, JSON and form alike. */
static pid_t body_trickle(const char *body, size_t len)
{
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		for (size_t i = 0; i < len; i++) {
			if (write(fds[1], body + i, 1) != 1)
				_exit(1);
			usleep(200);
		}
		_exit(0);
	}
	close(fds[1]);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	return pid;
}

START_TEST(test_request_body_byte_at_a_time)
{
	static const struct {
		const char *ctype, *body, *key, *value;
	} cases[] = {
		{ "application/json", "{\"gitURL\": \"https://github.com/o/r\", \"slug\": \"x\"}",
		  "gitURL", "https://github.com/o/r" },
		{ "application/x-www-form-urlencoded", "gitURL=https%3A%2F%2Fgithub.com%2Fo%2Fr&slug=x",
		  "gitURL", "https://github.com/o/r" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].body);
		arena_init(&body_arena);
		config_defaults(&body_cfg);
		struct http_request req;
		memset(&req, 0, sizeof(req));
		req.arena = &body_arena;
		req.cfg = &body_cfg;
		req.method = "POST";
		req.path = "/api/projects";
		req.query = "";
		req.host = "localhost";
		req.content_type = cases[i].ctype;
		req.content_length = len;
		req.max_body = 65536;
		pid_t pid = body_trickle(cases[i].body, len);
		json_t *o = NULL;
		bool is_form;
		struct error err;
		error_clear(&err);
		int rc = request_body_object(&req, &o, &is_form, &err);
		int status;
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(rc == 0, "%s: %s", cases[i].ctype, err.message);
		ck_assert_str_eq(field(o, cases[i].key), cases[i].value);
		ck_assert_str_eq(field(o, "slug"), "x");
		ck_assert_uint_eq(json_object_size(o), 2);
		json_decref(o);
		arena_dispose(&body_arena);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("request");
	TCase *tf = tcase_create("form");
	tcase_add_test(tf, test_request_form_basic);
	tcase_add_test(tf, test_request_form_shapes);
	tcase_add_test(tf, test_request_form_malformed_escapes);
	tcase_add_test(tf, test_request_form_nul_refused);
	tcase_add_test(tf, test_request_form_invalid_utf8);
	tcase_add_test(tf, test_request_form_too_many_fields);
	tcase_add_test(tf, test_request_form_long_key);
	tcase_add_test(tf, test_request_form_every_prefix);
	tcase_add_test(tf, test_request_query_get);
	tcase_add_test(tf, test_request_confidential);
	tcase_add_test(tf, test_request_param_index);
	tcase_add_test(tf, test_request_param_many);
	suite_add_tcase(s, tf);
	TCase *tb = tcase_create("body");
	tcase_add_test(tb, test_request_body_json);
	tcase_add_test(tb, test_request_body_form);
	tcase_add_test(tb, test_request_body_malformed_json);
	tcase_add_test(tb, test_request_body_not_an_object);
	tcase_add_test(tb, test_request_body_json_every_prefix);
	tcase_add_test(tb, test_request_body_too_large);
	tcase_add_test(tb, test_request_body_shorter_than_length);
	tcase_add_test(tb, test_request_body_wrong_type);
	tcase_add_test(tb, test_request_body_empty_json);
	tcase_add_test(tb, test_request_body_empty_untyped);
	tcase_add_test(tb, test_request_body_json_hint);
	tcase_add_test(tb, test_request_body_byte_at_a_time);
	suite_add_tcase(s, tb);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
