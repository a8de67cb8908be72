/* check_path.c — the request path normaliser: decoding once, traversal, injection, limits. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "path.h"

struct path_case {
	const char *raw;
	int rc;             /* 0, SKIFF_EINVALID (400) or SKIFF_EURITOOLONG (414) */
	const char *want;   /* normalised path when rc == 0 */
};

static const struct path_case path_cases[] = {
	/* plain paths */
	{ "/", 0, "/" },
	{ "/index.html", 0, "/index.html" },
	{ "/a/b/c.txt", 0, "/a/b/c.txt" },
	{ "/a/b/", 0, "/a/b/" },
	{ "//a///b//", 0, "/a/b/" },
	{ "/a b", 0, "/a b" },
	{ "/caf%C3%A9", 0, "/caf\xc3\xa9" },
	{ "/caf\xc3\xa9", 0, "/caf\xc3\xa9" },
	{ "/%7Euser", 0, "/~user" },
	{ "/100%25", 0, "/100%" },
	{ "/a%3Fb", 0, "/a?b" },
	{ "/a%23b", 0, "/a#b" },
	{ "/:splat*", 0, "/:splat*" },
	/* dot segments resolve and never leave the root */
	{ "/../", 0, "/" },
	{ "/..", 0, "/" },
	{ "/../../../etc/passwd", 0, "/etc/passwd" },
	{ "/a/../b", 0, "/b" },
	{ "/a/./b", 0, "/a/b" },
	{ "/a/.", 0, "/a/" },
	{ "/a/..", 0, "/" },
	{ "/a/b/../../../c", 0, "/c" },
	{ "/./", 0, "/" },
	{ "/%2e%2e/", 0, "/" },
	{ "/%2E%2E/etc/passwd", 0, "/etc/passwd" },
	{ "/a/%2e/b", 0, "/a/b" },
	{ "/.%2e/x", 0, "/x" },
	{ "/...", 0, "/..." },
	{ "/..a", 0, "/..a" },
	{ "/.hidden", 0, "/.hidden" },
	/* decoded once: a double-encoded dot pair is a literal segment, not traversal */
	{ "/%252e%252e/", 0, "/%2e%2e/" },
	{ "/%252e%252e/etc/passwd", 0, "/%2e%2e/etc/passwd" },
	{ "/%252f", 0, "/%2f" },
	/* refused: 400 */
	{ "/a%2fb", SKIFF_EINVALID, NULL },
	{ "/a%2Fb", SKIFF_EINVALID, NULL },
	{ "/%00", SKIFF_EINVALID, NULL },
	{ "/a%00.html", SKIFF_EINVALID, NULL },
	{ "/a\\b", SKIFF_EINVALID, NULL },
	{ "/a%5cb", SKIFF_EINVALID, NULL },
	{ "/a%5C..%5C..%5Cwin.ini", SKIFF_EINVALID, NULL },
	{ "/%0d%0aSet-Cookie:x", SKIFF_EINVALID, NULL },
	{ "/a\r\nb", SKIFF_EINVALID, NULL },
	{ "/a\tb", SKIFF_EINVALID, NULL },
	{ "/%7f", SKIFF_EINVALID, NULL },
	{ "/%", SKIFF_EINVALID, NULL },
	{ "/%2", SKIFF_EINVALID, NULL },
	{ "/%zz", SKIFF_EINVALID, NULL },
	{ "/%%32%65", SKIFF_EINVALID, NULL },
	{ "", SKIFF_EINVALID, NULL },
	{ "a/b", SKIFF_EINVALID, NULL },
	{ "*", SKIFF_EINVALID, NULL },
	{ "http://example.com/", SKIFF_EINVALID, NULL },
	/* overlong UTF-8 and other invalid sequences: 400 */
	{ "/%c0%ae%c0%ae/", SKIFF_EINVALID, NULL },      /* overlong "." */
	{ "/%c0%af", SKIFF_EINVALID, NULL },             /* overlong "/" */
	{ "/%e0%80%af", SKIFF_EINVALID, NULL },          /* 3-byte overlong "/" */
	{ "/%f0%80%80%af", SKIFF_EINVALID, NULL },       /* 4-byte overlong "/" */
	{ "/%c1%bf", SKIFF_EINVALID, NULL },
	{ "/%ed%a0%80", SKIFF_EINVALID, NULL },          /* surrogate */
	{ "/%f4%90%80%80", SKIFF_EINVALID, NULL },       /* above U+10FFFF */
	{ "/%ff", SKIFF_EINVALID, NULL },
	{ "/%80", SKIFF_EINVALID, NULL },                /* lone continuation */
	{ "/%c3", SKIFF_EINVALID, NULL },                /* truncated */
	{ "/\xc0\xae", SKIFF_EINVALID, NULL },           /* raw overlong */
	{ "/%f0%9f%98%80", 0, "/\xf0\x9f\x98\x80" },     /* a valid 4-byte character */
};

START_TEST(test_path_cases)
{
	const struct path_case *c = &path_cases[_i];
	size_t n = strlen(c->raw);
	/* an exactly sized, unterminated copy: an over-read shows under ASan */
	char *raw = malloc(n ? n : 1);
	memcpy(raw, c->raw, n);
	char out[PATH_URL_MAX + 2];
	int rc = path_normalize(raw, n, out, sizeof(out));
	ck_assert_msg(rc == c->rc, "path '%s': rc %d, want %d", c->raw, rc, c->rc);
	if (c->rc == 0)
		ck_assert_str_eq(out, c->want);
	free(raw);
}
END_TEST

START_TEST(test_path_too_long)
{
	char raw[PATH_URL_MAX + 64], out[PATH_URL_MAX + 2];
	raw[0] = '/';
	memset(raw + 1, 'a', sizeof(raw) - 1);
	ck_assert_int_eq(path_normalize(raw, PATH_URL_MAX, out, sizeof(out)), 0);
	ck_assert_uint_eq(strlen(out), PATH_URL_MAX);
	ck_assert_int_eq(path_normalize(raw, PATH_URL_MAX + 1, out, sizeof(out)), SKIFF_EURITOOLONG);
	ck_assert_int_eq(path_normalize(raw, sizeof(raw), out, sizeof(out)), SKIFF_EURITOOLONG);
}
END_TEST

/* Every prefix of a tricky path, byte by byte: the result is a well-formed path or a 400, and
 * a truncated escape is always a 400. */
START_TEST(test_path_byte_by_byte)
{
	const char *raw = "/a/%2e%2e/b%20c/./%C3%A9/../d%25/";
	size_t n = strlen(raw);
	for (size_t k = 1; k <= n; k++) {
		char *p = malloc(k);
		memcpy(p, raw, k);
		char out[PATH_URL_MAX + 2];
		int rc = path_normalize(p, k, out, sizeof(out));
		int truncated = 0;    /* an unfinished escape, or "%C3" without its continuation */
		for (size_t i = 0; i < k; i++)
			if (p[i] == '%' && k - i < 3)
				truncated = 1;
		if (k >= 3 && !memcmp(p + k - 3, "%C3", 3))
			truncated = 1;
		if (truncated)
			ck_assert_msg(rc == SKIFF_EINVALID, "prefix %zu: rc %d, want 400", k, rc);
		else
			ck_assert_msg(rc == 0, "prefix %zu: rc %d, want 0", k, rc);
		if (rc == 0) {
			ck_assert_msg(out[0] == '/' && !strstr(out, "//") && !strstr(out, "/../") &&
				      !strstr(out, "/./"), "prefix %zu gave '%s'", k, out);
		}
		free(p);
	}
	char out[PATH_URL_MAX + 2];
	ck_assert_int_eq(path_normalize(raw, n, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/b c/d%/");
}
END_TEST

START_TEST(test_path_output_too_small)
{
	char out[4];
	ck_assert_int_eq(path_normalize("/abcdef", 7, out, sizeof(out)), SKIFF_EINVALID);
}
END_TEST

START_TEST(test_path_encode)
{
	struct buf b = BUF_INIT(1024);
	path_encode(&b, "/a b/caf\xc3\xa9/100%/x?y#z/~k:l@m", strlen("/a b/caf\xc3\xa9/100%/x?y#z/~k:l@m"));
	ck_assert_str_eq(buf_cstr(&b), "/a%20b/caf%C3%A9/100%25/x%3Fy%23z/~k:l@m");
	buf_dispose(&b);
	/* round trip: encode then normalise gives the path back */
	const char *paths[] = { "/a b/", "/%2e%2e/x", "/caf\xc3\xa9", "/q?x" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct buf e = BUF_INIT(1024);
		path_encode(&e, paths[i], strlen(paths[i]));
		char out[PATH_URL_MAX + 2];
		ck_assert_int_eq(path_normalize(e.data, e.len, out, sizeof(out)), 0);
		ck_assert_str_eq(out, paths[i]);
		buf_dispose(&e);
	}
}
END_TEST

START_TEST(test_path_has_extension)
{
	ck_assert(path_has_extension("/app.js"));
	ck_assert(path_has_extension("/a/b.c/d.e"));
	ck_assert(!path_has_extension("/a.b/c"));
	ck_assert(!path_has_extension("/"));
	ck_assert(!path_has_extension("/about"));
}
END_TEST

START_TEST(test_path_join)
{
	char out[8];
	ck_assert_int_eq(path_join(out, sizeof(out), "/ab", "cde"), 7);
	ck_assert_str_eq(out, "/ab/cde");
	/* one byte more than fits: refused whole, never cut */
	ck_assert_int_eq(path_join(out, sizeof(out), "/ab", "cdef"), -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(path_join(out, sizeof(out), "/abcdefgh", ""), -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(path_join(out, sizeof(out), "", "x"), 2);
	ck_assert_str_eq(out, "/x");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("path");
	tcase_add_loop_test(tc, test_path_cases, 0, sizeof(path_cases) / sizeof(path_cases[0]));
	tcase_add_test(tc, test_path_too_long);
	tcase_add_test(tc, test_path_byte_by_byte);
	tcase_add_test(tc, test_path_output_too_small);
	tcase_add_test(tc, test_path_encode);
	tcase_add_test(tc, test_path_has_extension);
	tcase_add_test(tc, test_path_join);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
