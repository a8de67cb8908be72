/* check_host.c — the Host header's name (port, case, trailing dot) and the rules a custom
 * domain's name must meet: lower-case A-labels, label and name length, no IP address, no
 * name under the platform's own domain. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

static void accepts(const char *name)
{
	struct error err;
	error_clear(&err);
	ck_assert_msg(host_domain_check(name, "example.com", &err) == 0, "%s refused: %s", name,
		      err.message);
}

static void refuses(const char *name, const char *code)
{
	struct error err;
	error_clear(&err);
	ck_assert_msg(host_domain_check(name, "example.com", &err) == SKIFF_EINVALID,
		      "%s accepted", name);
	ck_assert_str_eq(err.name, code);
}

START_TEST(test_host_domain_accepts)
{
	accepts("www.example.org");
	accepts("example.org");
	accepts("a.b.c.example.org");
	accepts("xn--bcher-kva.example");
	accepts("1password.example");
	accepts("example.com.au");
	accepts("notexample.com");            /* not under example.com: another name */
	char label[64];
	memset(label, 'a', 63);
	label[63] = '\0';
	char name[HOST_DOMAIN_MAX + 1];
	snprintf(name, sizeof(name), "%s.org", label);
	accepts(name);
	/* 253 bytes exactly: 63 + 1 + 63 + 1 + 63 + 1 + 61 */
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s", label, label, label, label);
	ck_assert_uint_eq(strlen(name), 253);
	accepts(name);
}
END_TEST

START_TEST(test_host_domain_refuses)
{
	refuses("", "invalid_domain");
	refuses("Www.Example.org", "invalid_domain");
	refuses("localhost", "invalid_domain");
	refuses("192.168.1.10", "invalid_domain");
	refuses("10.0.0.1", "invalid_domain");
	refuses("::1", "invalid_domain");
	refuses("[::1]", "invalid_domain");
	refuses("example.123", "invalid_domain");
	refuses("-a.example.org", "invalid_domain");
	refuses("a-.example.org", "invalid_domain");
	refuses("ab--cd.example.org", "invalid_domain");
	refuses("a..b.example.org", "invalid_domain");
	refuses(".example.org", "invalid_domain");
	refuses("example.org.", "invalid_domain");
	refuses("exa_mple.org", "invalid_domain");
	refuses("b\xc3\xbc" "cher.example", "invalid_domain");
	refuses("example.com", "domain_reserved");
	refuses("site.example.com", "domain_reserved");
	refuses("a.b.example.com", "domain_reserved");
	char label[65];
	memset(label, 'a', 64);
	label[64] = '\0';
	char name[300];
	snprintf(name, sizeof(name), "%s.org", label);
	refuses(name, "invalid_domain");
	snprintf(name, sizeof(name), "%.63s.%.63s.%.63s.%.62s", label, label, label, label);
	ck_assert_uint_eq(strlen(name), 254);
	refuses(name, "invalid_domain");
}
END_TEST

START_TEST(test_host_name_parse)
{
	char out[HOST_MAX + 1];
	ck_assert_int_eq(host_name_parse("WWW.Example.ORG", 0, out), 0);
	ck_assert_str_eq(out, "www.example.org");
	ck_assert_int_eq(host_name_parse("www.example.org.:80", 0, out), 0);
	ck_assert_str_eq(out, "www.example.org");
	ck_assert_int_eq(host_name_parse("www.example.org:443", 443, out), 0);
	ck_assert_int_eq(host_name_parse("www.example.org:8080", 0, out), SKIFF_ENOTFOUND);
	ck_assert_int_eq(host_name_parse("www.example.org:", 0, out), SKIFF_EINVALID);
	ck_assert_int_eq(host_name_parse("www.exa mple.org", 0, out), SKIFF_EINVALID);
	ck_assert_int_eq(host_name_parse("", 0, out), SKIFF_EINVALID);
	ck_assert_int_eq(host_name_parse(NULL, 0, out), SKIFF_EINVALID);
}
END_TEST

/* host_location of path and query on "www.example.org", https. */
static void location_is(const char *path, const char *query, const char *want)
{
	struct buf b;
	buf_init(&b, 4096);
	ck_assert_int_eq(host_location(&b, true, "www.example.org", 443, path, query), 0);
	ck_assert_str_eq(buf_cstr(&b), want);
	buf_dispose(&b);
}

START_TEST(test_host_location)
{
	location_is("/", "", "https://www.example.org/");
	location_is("/a/b.html", "x=1&y=%2F", "https://www.example.org/a/b.html?x=1&y=%2F");
	/* whatever the path, the host is the one given: no open redirect */
	location_is("//evil.example/x", "", "https://www.example.org//evil.example/x");
	location_is("/\\evil.example", "", "https://www.example.org/\\evil.example");
	location_is("/%2F%2Fevil.example", "", "https://www.example.org/%2F%2Fevil.example");
	location_is("http://evil.example/x", "", "https://www.example.org/");
	location_is("@evil.example", "", "https://www.example.org/");
	location_is("", NULL, "https://www.example.org/");
	/* no header can be split: controls, spaces and non-ASCII bytes are escaped */
	location_is("/a\r\nSet-Cookie: x=1", "q=\r\n", "https://www.example.org/a%0D%0ASet-Cookie:%20x=1?q=%0D%0A");
	location_is("/caf\xc3\xa9", "", "https://www.example.org/caf%C3%A9");
	struct buf b;
	buf_init(&b, 4096);
	ck_assert_int_eq(host_location(&b, false, "example.org", 8080, "/p", "q"), 0);
	ck_assert_str_eq(buf_cstr(&b), "http://example.org:8080/p?q");
	buf_reset(&b);
	ck_assert_int_eq(host_location(&b, false, "example.org", 80, "/", ""), 0);
	ck_assert_str_eq(buf_cstr(&b), "http://example.org/");
	buf_reset(&b);
	ck_assert_int_eq(host_location(&b, true, "example.org", 8443, "/", ""), 0);
	ck_assert_str_eq(buf_cstr(&b), "https://example.org:8443/");
	buf_dispose(&b);
	/* a location longer than the buffer's limit is an error, not a cut URL */
	buf_init(&b, 24);
	ck_assert_int_ne(host_location(&b, true, "www.example.org", 443, "/a-long-path", ""), 0);
	buf_dispose(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("host");
	TCase *tc = tcase_create("host");
	tcase_add_test(tc, test_host_domain_accepts);
	tcase_add_test(tc, test_host_domain_refuses);
	tcase_add_test(tc, test_host_name_parse);
	tcase_add_test(tc, test_host_location);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
