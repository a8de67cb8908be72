/* check_rules_match.c — the compiled _redirects and _headers rules (serve time): which rule
 * a path and query match, the target built from placeholders and splats, forced and
 * continued matches, the headers of every matching rule. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rules_match.h"

static struct rules *compile(const char *redirect_text, const char *header_text)
{
	json_t *cfg = json_object(), *a;
	if (redirect_text) {
		rules_redirects_parse(redirect_text, strlen(redirect_text), &a, NULL, NULL);
		json_object_set_new(cfg, "redirects", a);
	}
	if (header_text) {
		rules_headers_parse(header_text, strlen(header_text), &a, NULL, NULL);
		json_object_set_new(cfg, "headers", a);
	}
	struct rules *r = NULL;
	ck_assert_int_eq(rules_compile(cfg, &r, NULL), 0);
	json_decref(cfg);
	return r;
}

struct match_case {
	const char *path;
	const char *query;
	int status;          /* 0: no rule matches */
	const char *target;
	unsigned line;
};

static const char match_rules[] =
	"/                 /home             302\n"          /* 1 */
	"/exact            /e\n"                             /* 2 */
	"/news/*           /blog/:splat\n"                   /* 3 */
	"/a/:x/b/:y        /r/:y/:x          307\n"          /* 4 */
	"/pre*             /p/:splat         302\n"          /* 5 */
	"/q id=:id         /item/:id         302\n"          /* 6 */
	"/lit v=1          /one              302\n"          /* 7 */
	"/ext/*            https://example.com/:splat 308\n" /* 8 */
	"/spa/*            /spa/index.html   200\n"          /* 9 */
	"/tq               /with?x=1         302\n"          /* 10 */
	"/*                /catch            404\n";         /* 11 */

static const struct match_case match_cases[] = {
	{ "/", "", 302, "/home", 1 },
	{ "/", "a=b", 302, "/home?a=b", 1 },
	{ "/exact", "", 301, "/e", 2 },
	{ "/exact/", "", 301, "/e", 2 },                      /* trailing slash ignored */
	{ "/exact", "x=1&y=2", 301, "/e?x=1&y=2", 2 },        /* query passed through */
	{ "/exactly", "", 404, "/catch", 11 },
	{ "/news", "", 301, "/blog/", 3 },
	{ "/news/", "", 301, "/blog/", 3 },
	{ "/news/2024/01/post", "", 301, "/blog/2024/01/post", 3 },
	{ "/news/a b/caf\xc3\xa9", "", 301, "/blog/a%20b/caf%C3%A9", 3 },
	{ "/newsletter", "", 404, "/catch", 11 },
	{ "/a/1/b/2", "", 307, "/r/2/1", 4 },
	{ "/a/1/b", "", 404, "/catch", 11 },
	{ "/a/1/b/2/3", "", 404, "/catch", 11 },
	{ "/a/1/c/2", "", 404, "/catch", 11 },
	{ "/prefix/more", "", 302, "/p/fix/more", 5 },
	{ "/pre", "", 302, "/p/", 5 },
	{ "/q", "id=42", 302, "/item/42", 6 },
	{ "/q", "x=1&id=a%20b", 302, "/item/a%20b", 6 },
	{ "/q", "id=a+b", 302, "/item/a%20b", 6 },           /* '+' is a space in a query */
	{ "/q", "id=%zz", 302, "/item/%25zz", 6 },          /* a stray '%' is kept as it is */
	{ "/q", "id=50%", 302, "/item/50%25", 6 },
	{ "/q", "ID=1", 404, "/catch", 11 },                  /* names are case-sensitive */
	{ "/q", "", 404, "/catch", 11 },
	{ "/lit", "v=1", 302, "/one", 7 },
	{ "/lit", "v=2", 404, "/catch", 11 },
	{ "/lit", "v=%31", 302, "/one", 7 },                /* compared decoded */
	{ "/ext/x/y", "k=v", 308, "https://example.com/x/y?k=v", 8 },
	{ "/spa/route/deep", "", 200, "/spa/index.html", 9 },
	{ "/tq", "a=b", 302, "/with?x=1", 10 },
	{ "/anything/else", "", 404, "/catch", 11 },
};

START_TEST(test_rules_redirect_match)
{
	struct rules *r = compile(match_rules, NULL);
	const struct match_case *c = &match_cases[_i];
	struct arena a;
	arena_init(&a);
	struct rules_redirect rr;
	size_t pos = 0;
	int hit = rules_redirect_match(r, c->path, c->query, &pos, &a, &rr);
	ck_assert_msg(hit == (c->status != 0), "%s: hit %d", c->path, hit);
	if (hit) {
		ck_assert_msg(rr.line == c->line, "%s: rule of line %u, want %u", c->path, rr.line,
			      c->line);
		ck_assert_int_eq(rr.status, c->status);
		ck_assert_str_eq(rr.target, c->target);
		ck_assert_uint_eq(pos, 0 + rr.line);    /* lines and indexes agree here */
	}
	arena_dispose(&a);
	rules_free(r);
}
END_TEST

START_TEST(test_rules_redirect_match_continue)
{
	struct rules *r = compile("/a /first 302\n/b /x\n/a /second 301!\n", NULL);
	struct arena a;
	arena_init(&a);
	struct rules_redirect rr;
	size_t pos = 0;
	ck_assert_int_eq(rules_redirect_match(r, "/a", "", &pos, &a, &rr), 1);
	ck_assert_str_eq(rr.target, "/first");
	ck_assert(!rr.force);
	ck_assert_int_eq(rules_redirect_match(r, "/a", "", &pos, &a, &rr), 1);
	ck_assert_str_eq(rr.target, "/second");
	ck_assert(rr.force);
	ck_assert_int_eq(rules_redirect_match(r, "/a", "", &pos, &a, &rr), 0);
	pos = 0;
	ck_assert_int_eq(rules_redirect_match(NULL, "/a", "", &pos, &a, &rr), 0);
	arena_dispose(&a);
	rules_free(r);
}
END_TEST

START_TEST(test_rules_headers_match)
{
	struct rules *r = compile(NULL,
		"/*\n  X-Frame-Options: DENY\n  X-Robots-Tag: noindex\n  Link: <a>\n"
		"/docs/*\n  ! X-Robots-Tag\n  Link: <b>\n  Cache-Control: max-age=60\n"
		"/docs/:page\n  X-Page: yes\n"
		"/other\n  X-Other: 1\n");
	struct arena a;
	arena_init(&a);
	struct rules_header *h;
	size_t n = rules_headers_match(r, "/docs/intro", &a, &h);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(h[0].name, "X-Frame-Options");
	ck_assert_str_eq(h[1].name, "Link");
	ck_assert_str_eq(h[1].value, "<a>, <b>");     /* repeated names joined */
	ck_assert_str_eq(h[2].name, "Cache-Control");
	ck_assert_str_eq(h[3].name, "X-Page");
	n = rules_headers_match(r, "/index.html", &a, &h);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(h[1].name, "X-Robots-Tag");  /* not removed outside /docs */
	n = rules_headers_match(r, "/docs/", &a, &h);  /* the /docs/ pattern with a star matches the directory */
	ck_assert_uint_eq(n, 3);
	n = rules_headers_match(r, "/other/", &a, &h);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(h[3].value, "1");
	arena_dispose(&a);
	rules_free(r);
	ck_assert_uint_eq(rules_headers_match(NULL, "/", &a, &h), 0);
}
END_TEST

START_TEST(test_rules_compile_ignores_bad_entries)
{
	json_t *cfg = json_loads("{\"redirects\":[{\"from\":\"/a\"},{\"from\":3,\"to\":\"/x\",\"status\":301},"
				 "{\"from\":\"/ok\",\"to\":\"/fine\",\"status\":302}],"
				 "\"headers\":[{\"for\":\"/*\",\"set\":[[\"Set-Cookie\",\"x\"],[\"X-A\",\"1\"]]},"
				 "{\"set\":[]}]}", 0, NULL);
	struct rules *r = NULL;
	ck_assert_int_eq(rules_compile(cfg, &r, NULL), 0);
	struct arena a;
	arena_init(&a);
	struct rules_redirect rr;
	size_t pos = 0;
	ck_assert_int_eq(rules_redirect_match(r, "/a", "", &pos, &a, &rr), 0);
	pos = 0;
	ck_assert_int_eq(rules_redirect_match(r, "/ok", "", &pos, &a, &rr), 1);
	struct rules_header *h;
	ck_assert_uint_eq(rules_headers_match(r, "/", &a, &h), 1);
	ck_assert_str_eq(h[0].name, "X-A");
	ck_assert_uint_gt(rules_memory(r), 0);
	arena_dispose(&a);
	rules_free(r);
	rules_free(NULL);
	json_decref(cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules_match");
	TCase *tc = tcase_create("rules_match");
	tcase_add_loop_test(tc, test_rules_redirect_match, 0,
			    sizeof(match_cases) / sizeof(match_cases[0]));
	tcase_add_test(tc, test_rules_redirect_match_continue);
	tcase_add_test(tc, test_rules_headers_match);
	tcase_add_test(tc, test_rules_compile_ignores_bad_entries);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
