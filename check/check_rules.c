/* check_rules.c — _redirects and _headers parsing (build time): grammar, limits, per-line
 * errors, byte-by-byte feeding, the JSON forms. The matcher: check_rules_match.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

struct report {
	unsigned lines[64];
	char msgs[64][256];
	size_t n;
};

static void report_cb(void *ctx, unsigned line, const char *msg)
{
	struct report *r = ctx;
	if (r->n < 64) {
		r->lines[r->n] = line;
		snprintf(r->msgs[r->n], sizeof(r->msgs[0]), "%s", msg);
		r->n++;
	}
}

static json_t *redirects(const char *text, struct report *r)
{
	json_t *out = NULL;
	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(rules_redirects_parse(text, strlen(text), &out, report_cb, r), 0);
	ck_assert_ptr_nonnull(out);
	return out;
}

static json_t *headers(const char *text, struct report *r)
{
	json_t *out = NULL;
	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(rules_headers_parse(text, strlen(text), &out, report_cb, r), 0);
	ck_assert_ptr_nonnull(out);
	return out;
}

static void assert_json(json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, 0, NULL);
	ck_assert_msg(want != NULL, "bad expected JSON %s", want_text);
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
	char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_msg(json_equal(got, want), "got %s\nwant %s", g, w);
	free(g);
	free(w);
	json_decref(want);
}

START_TEST(test_rules_redirects_grammar)
{
	struct report r;
	json_t *a = redirects(
		"# comment\n"
		"\n"
		"/old            /new\n"
		"/temp  /t   302\n"
		"/news/:year/:month/*   /blog/:year/:month/:splat   301\n"
		"/app/*  /index.html  200\n"
		"/gone   /gone.html   410\n"
		"/shadow /other 301!\n"
		"/ext    https://example.com/x 308\r\n"
		"\t/tabbed\t/t2\t307\n"
		"/store id=:id  /product/:id  302\n"
		"/private/*  404\n", &r);
	ck_assert_uint_eq(r.n, 0);
	assert_json(a, "["
		"{\"from\":\"/old\",\"to\":\"/new\",\"status\":301,\"force\":false,\"line\":3},"
		"{\"from\":\"/temp\",\"to\":\"/t\",\"status\":302,\"force\":false,\"line\":4},"
		"{\"from\":\"/news/:year/:month/*\",\"to\":\"/blog/:year/:month/:splat\",\"status\":301,\"force\":false,\"line\":5},"
		"{\"from\":\"/app/*\",\"to\":\"/index.html\",\"status\":200,\"force\":false,\"line\":6},"
		"{\"from\":\"/gone\",\"to\":\"/gone.html\",\"status\":410,\"force\":false,\"line\":7},"
		"{\"from\":\"/shadow\",\"to\":\"/other\",\"status\":301,\"force\":true,\"line\":8},"
		"{\"from\":\"/ext\",\"to\":\"https://example.com/x\",\"status\":308,\"force\":false,\"line\":9},"
		"{\"from\":\"/tabbed\",\"to\":\"/t2\",\"status\":307,\"force\":false,\"line\":10},"
		"{\"from\":\"/store\",\"to\":\"/product/:id\",\"status\":302,\"force\":false,\"query\":{\"id\":\":id\"},\"line\":11},"
		"{\"from\":\"/private/*\",\"status\":404,\"force\":false,\"line\":12}]");
	json_decref(a);
}
END_TEST

struct bad_line {
	const char *line;
	const char *msg_part;
};

static const struct bad_line bad_redirects[] = {
	{ "/only", "needs a target" },
	{ "/a /b 999", "not supported" },
	{ "/a /b 301 Country=us", "conditions" },
	{ "/a /b 30x", "not a status" },
	{ "/a https://example.com/ 200", "proxying" },
	{ "/a //evil.example/ 301", "one '/'" },
	{ "/a javascript:alert(1) 301", "must be a path" },
	{ "/a/*/b /c", "may only end" },
	{ "/a/:b-c /d", "placeholder" },
	{ "/a/x:y /d", "whole segments" },
	{ "https://old.example/* /new/:splat", "host patterns" },
	{ "relative /x", "not a valid path" },
	{ "/a%2fb /c", "not a valid path" },
	{ "/a%00 /c", "not a valid path" },
	{ "/a /b 301 extra", "not supported" },
	{ "/a id= /b", "" },
	{ "/a =x /b", "empty query parameter" },
	{ "/a https:// 301", "no host" },
};

START_TEST(test_rules_redirects_bad_lines)
{
	const struct bad_line *b = &bad_redirects[_i];
	char text[512];
	snprintf(text, sizeof(text), "/ok /fine\n%s\n/ok2 /fine2\n", b->line);
	struct report r;
	json_t *a = redirects(text, &r);
	if (!strcmp(b->line, "/a id= /b")) {
		/* an empty value is a literal match on an empty parameter: accepted */
		ck_assert_uint_eq(json_array_size(a), 3);
		json_decref(a);
		return;
	}
	ck_assert_msg(json_array_size(a) == 2, "'%s' was accepted", b->line);
	ck_assert_msg(r.n == 1, "'%s': %zu reports", b->line, r.n);
	ck_assert_uint_eq(r.lines[0], 2);
	ck_assert_msg(strstr(r.msgs[0], b->msg_part), "'%s': message '%s' lacks '%s'", b->line,
		      r.msgs[0], b->msg_part);
	json_decref(a);
}
END_TEST

START_TEST(test_rules_redirects_limits)
{
	/* 2,000 bytes a line */
	char *text = malloc(4100);
	memset(text, 0, 4100);
	memcpy(text, "/a /", 4);
	memset(text + 4, 'x', 2100);
	memcpy(text + 2104, "\n/b /c\n", 8);
	struct report r;
	json_t *a = redirects(text, &r);
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.lines[0], 1);
	ck_assert(strstr(r.msgs[0], "longer than 2000"));
	json_decref(a);
	free(text);

	/* 2,000 rules */
	size_t cap = 2100 * 24;
	text = malloc(cap);
	size_t n = 0;
	for (int i = 0; i < 2100; i++)
		n += (size_t)snprintf(text + n, cap - n, "/r%d /t%d\n", i, i);
	a = redirects(text, &r);
	ck_assert_uint_eq(json_array_size(a), RULES_MAX);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.lines[0], RULES_MAX + 1);
	json_decref(a);
	free(text);

	/* a whole file over the limit */
	json_t *out = (json_t *)1;
	ck_assert_int_eq(rules_redirects_parse("", RULES_FILE_MAX + 1, &out, NULL, NULL), SKIFF_ELIMIT);
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_rules_redirects_nul_and_crlf)
{
	const char text[] = "/a /b\r\n/c\0d /e\n/f /g";
	json_t *out;
	struct report r;
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(rules_redirects_parse(text, sizeof(text) - 1, &out, report_cb, &r), 0);
	ck_assert_uint_eq(json_array_size(out), 2);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.lines[0], 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 0), "to")), "/b");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 1), "from")), "/f");
	json_decref(out);
}
END_TEST

/* Fed byte by byte: every prefix parses, and the rules of its complete lines are exactly the
 * whole file's rules for those lines. */
START_TEST(test_rules_redirects_byte_by_byte)
{
	const char *text = "# x\n/a /b\n/c/:d/* /e/:d/:splat 302!\n\n/f id=:i /g/:i 307\n/h 404\n";
	size_t n = strlen(text);
	json_t *whole = NULL;
	ck_assert_int_eq(rules_redirects_parse(text, n, &whole, NULL, NULL), 0);
	ck_assert_uint_eq(json_array_size(whole), 4);
	for (size_t k = 0; k <= n; k++) {
		json_t *part = NULL;
		ck_assert_int_eq(rules_redirects_parse(text, k, &part, NULL, NULL), 0);
		size_t complete = 0;
		for (size_t i = 0; i < k; i++)
			complete += text[i] == '\n';
		size_t j = 0;
		for (size_t i = 0; i < json_array_size(whole); i++) {
			json_t *w = json_array_get(whole, i);
			if ((size_t)json_integer_value(json_object_get(w, "line")) > complete)
				break;
			ck_assert_msg(json_equal(w, json_array_get(part, j)), "prefix %zu rule %zu", k, i);
			j++;
		}
		ck_assert_uint_le(json_array_size(part), j + 1);
		json_decref(part);
	}
	json_decref(whole);
}
END_TEST

START_TEST(test_rules_headers_grammar)
{
	struct report r;
	json_t *a = headers(
		"# security\n"
		"/*\n"
		"  X-Frame-Options: DENY\n"
		"  X-Robots-Tag: noindex\n"
		"  Link: </a.css>; rel=preload\n"
		"  Link: </b.js>; rel=preload\n"
		"\n"
		"/public/*\n"
		"\t! X-Robots-Tag\n"
		"\tCache-Control:   public, max-age=60  \n"
		"/:lang/about\n"
		"  Content-Language: :lang\n", &r);
	ck_assert_msg(r.n == 0, "report: %s", r.msgs[0]);
	assert_json(a, "["
		"{\"for\":\"/*\",\"set\":[[\"X-Frame-Options\",\"DENY\"],[\"X-Robots-Tag\",\"noindex\"],"
		"[\"Link\",\"</a.css>; rel=preload\"],[\"Link\",\"</b.js>; rel=preload\"]],\"unset\":[],\"line\":2},"
		"{\"for\":\"/public/*\",\"set\":[[\"Cache-Control\",\"public, max-age=60\"]],"
		"\"unset\":[\"X-Robots-Tag\"],\"line\":8},"
		"{\"for\":\"/:lang/about\",\"set\":[[\"Content-Language\",\":lang\"]],\"unset\":[],\"line\":11}]");
	json_decref(a);
}
END_TEST

static const struct bad_line bad_headers[] = {
	{ "  Set-Cookie: a=b", "not allowed" },
	{ "  Content-Length: 5", "not allowed" },
	{ "  Transfer-Encoding: chunked", "not allowed" },
	{ "  Connection: close", "not allowed" },
	{ "  Keep-Alive: 5", "not allowed" },
	{ "  Upgrade: h2c", "not allowed" },
	{ "  X-Sendfile: /etc/passwd", "not allowed" },
	{ "  Status: 500", "not allowed" },
	{ "  Location: /x", "not allowed" },
	{ "  Bad Name: x", "not allowed" },
	{ "  X-A: one\rInjected: two", "not allowed" },
	{ "  X-B: a\x01b", "not allowed" },
	{ "  X-Empty:", "empty value" },
	{ "  no colon here", "Name: value" },
	{ "  : value", "not allowed" },
};

START_TEST(test_rules_headers_bad_lines)
{
	const struct bad_line *b = &bad_headers[_i];
	char text[512];
	snprintf(text, sizeof(text), "/x\n  X-Ok: 1\n%s\n  X-Ok2: 2\n", b->line);
	struct report r;
	json_t *a = headers(text, &r);
	ck_assert_uint_eq(json_array_size(a), 1);
	json_t *set = json_object_get(json_array_get(a, 0), "set");
	ck_assert_msg(json_array_size(set) == 2, "'%s' was accepted", b->line);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.lines[0], 3);
	ck_assert_msg(strstr(r.msgs[0], b->msg_part), "'%s': '%s'", b->line, r.msgs[0]);
	json_decref(a);
}
END_TEST

START_TEST(test_rules_headers_structure_errors)
{
	struct report r;
	json_t *a = headers("  X-Early: 1\n/ok\n  X-A: 1\nhttps://host.example/*\n  X-B: 2\n/empty\n"
			    "/bad/*/x\n  X-C: 3\n", &r);
	ck_assert_uint_eq(json_array_size(a), 1);   /* only /ok */
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(r.lines[0], 1);           /* header before any path */
	ck_assert_uint_eq(r.lines[1], 4);           /* host pattern */
	ck_assert_uint_eq(r.lines[2], 7);           /* '*' in the middle; its lines stay quiet */
	json_decref(a);
}
END_TEST

START_TEST(test_rules_header_allowed)
{
	ck_assert(rules_header_allowed("X-Frame-Options", "DENY"));
	ck_assert(rules_header_allowed("Cache-Control", "no-cache"));
	ck_assert(rules_header_allowed("Content-Security-Policy", "default-src 'self'\tx"));
	ck_assert(!rules_header_allowed("X-A", "a\r\nb"));
	ck_assert(!rules_header_allowed("X-A", "a\nb"));
	ck_assert(!rules_header_allowed("X-A\r\nB", "x"));
	ck_assert(!rules_header_allowed("set-cookie", "x"));
	ck_assert(!rules_header_allowed("PROXY-AUTHORIZATION", "x"));
	ck_assert(!rules_header_allowed("", "x"));
	ck_assert(!rules_header_allowed(NULL, "x"));
	ck_assert(!rules_header_allowed("X:Y", "x"));
	char big[RULES_HEADER_VALUE_MAX + 2];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert(!rules_header_allowed("X-Big", big));
}
END_TEST

START_TEST(test_rules_from_json)
{
	json_t *in = json_loads("["
		"\"/a /b 302\","
		"{\"from\":\"/c/*\",\"to\":\"/d/:splat\",\"status\":307,\"force\":true},"
		"{\"source\":\"/e\",\"destination\":\"https://x.example/\",\"statusCode\":308},"
		"{\"from\":\"/q\",\"to\":\"/r/:id\",\"query\":{\"id\":\":id\"}},"
		"{\"to\":\"/nofrom\"},"
		"{\"from\":\"/f\",\"to\":\"/g\",\"status\":\"301\"},"
		"42,"
		"{\"from\":\"/h\",\"to\":\"/i\",\"query\":{\"k\":1}}]", 0, NULL);
	ck_assert_ptr_nonnull(in);
	struct report r;
	memset(&r, 0, sizeof(r));
	json_t *out;
	ck_assert_int_eq(rules_redirects_from_json(in, &out, report_cb, &r), 0);
	assert_json(out, "["
		"{\"from\":\"/a\",\"to\":\"/b\",\"status\":302,\"force\":false,\"line\":1},"
		"{\"from\":\"/c/*\",\"to\":\"/d/:splat\",\"status\":307,\"force\":true,\"line\":2},"
		"{\"from\":\"/e\",\"to\":\"https://x.example/\",\"status\":308,\"force\":false,\"line\":3},"
		"{\"from\":\"/q\",\"to\":\"/r/:id\",\"status\":301,\"force\":false,\"query\":{\"id\":\":id\"},\"line\":4}]");
	ck_assert_uint_eq(r.n, 4);
	ck_assert_uint_eq(r.lines[0], 5);
	ck_assert_uint_eq(r.lines[1], 6);
	ck_assert_uint_eq(r.lines[2], 7);
	ck_assert_uint_eq(r.lines[3], 8);
	json_decref(in);
	json_decref(out);

	in = json_loads("["
		"{\"for\":\"/*\",\"values\":{\"X-Frame-Options\":\"DENY\",\"Link\":[\"<a>\",\"<b>\"]}},"
		"{\"source\":\"/api/*\",\"headers\":[{\"key\":\"Access-Control-Allow-Origin\",\"value\":\"*\"}],"
		"\"unset\":[\"X-Frame-Options\"]},"
		"{\"for\":\"/x\",\"values\":{\"Set-Cookie\":\"a=b\",\"X-A\":\"a\\r\\nb\"}},"
		"{\"values\":{}}]", 0, NULL);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(rules_headers_from_json(in, &out, report_cb, &r), 0);
	assert_json(out, "["
		"{\"for\":\"/*\",\"set\":[[\"X-Frame-Options\",\"DENY\"],[\"Link\",\"<a>\"],[\"Link\",\"<b>\"]],\"unset\":[],\"line\":1},"
		"{\"for\":\"/api/*\",\"set\":[[\"Access-Control-Allow-Origin\",\"*\"]],\"unset\":[\"X-Frame-Options\"],\"line\":2}]");
	ck_assert_uint_eq(r.n, 3);    /* Set-Cookie, CR/LF value, no "for" */
	ck_assert_uint_eq(r.lines[0], 3);
	ck_assert_uint_eq(r.lines[2], 4);
	json_decref(in);
	json_decref(out);

	json_t *obj = json_object();
	ck_assert_int_eq(rules_redirects_from_json(obj, &out, NULL, NULL), SKIFF_EINVALID);
	json_decref(obj);
	ck_assert_int_eq(rules_headers_from_json(NULL, &out, NULL, NULL), SKIFF_EINVALID);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_rules_redirects_grammar);
	tcase_add_loop_test(tc, test_rules_redirects_bad_lines, 0,
			    sizeof(bad_redirects) / sizeof(bad_redirects[0]));
	tcase_add_test(tc, test_rules_redirects_limits);
	tcase_add_test(tc, test_rules_redirects_nul_and_crlf);
	tcase_add_test(tc, test_rules_redirects_byte_by_byte);
	tcase_add_test(tc, test_rules_headers_grammar);
	tcase_add_loop_test(tc, test_rules_headers_bad_lines, 0,
			    sizeof(bad_headers) / sizeof(bad_headers[0]));
	tcase_add_test(tc, test_rules_headers_structure_errors);
	tcase_add_test(tc, test_rules_header_allowed);
	tcase_add_test(tc, test_rules_from_json);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
