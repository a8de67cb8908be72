/* check_percent.c — the one percent-decoder (paths, queries, forms, the SSE query) and the
 * encoder of paths and S3 keys: flags, malformed escapes, limits, every prefix of an input. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "percent.h"

/* Decodes exactly n bytes from a heap copy without a terminator (a read past the end shows
 * in the sanitizer build); the result NUL-terminated into out[cap], or NULL when refused. */
static const char *decode(const char *s, size_t n, unsigned flags, char *out, size_t cap)
{
	char *p = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(p);
	memcpy(p, s, n);
	size_t len = 99999;
	int rc = percent_decode(p, n, flags, out, cap - 1, &len);
	free(p);
	if (rc < 0)
		return NULL;
	ck_assert_uint_le(len, n);
	out[len] = '\0';
	return out;
}

static const struct {
	const char *in;
	unsigned flags;
	const char *out;     /* NULL: refused */
} cases[] = {
	{ "plain", 0, "plain" },
	{ "a%20b%2fc%2F", 0, "a b/c/" },
	{ "%41%62%7e", 0, "Ab~" },
	{ "%c3%A9", 0, "\xc3\xa9" },
	{ "a+b", 0, "a+b" },
	{ "a+b%2B", PERCENT_PLUS, "a b+" },
	{ "%", 0, NULL },
	{ "%4", 0, NULL },
	{ "%4g", 0, NULL },
	{ "%g4", 0, NULL },
	{ "50%", PERCENT_LENIENT, "50%" },
	{ "%zz%41", PERCENT_LENIENT, "%zzA" },
	{ "%4", PERCENT_LENIENT | PERCENT_PLUS, "%4" },
	{ "a%00b", 0, "a" },                         /* decoded, shown up to the NUL */
	{ "a%00b", PERCENT_NO_NUL, NULL },
	{ "a/b", PERCENT_NO_SLASH, "a/b" },          /* a literal slash is fine */
	{ "a%2fb", PERCENT_NO_SLASH, NULL },
	{ "a%2Fb", PERCENT_NO_SLASH | PERCENT_LENIENT, NULL },
	{ "", 0, "" },
};

START_TEST(test_percent_decode_cases)
{
	char out[64];
	const char *got = decode(cases[_i].in, strlen(cases[_i].in), cases[_i].flags, out,
				 sizeof(out));
	if (!cases[_i].out)
		ck_assert_msg(got == NULL, "'%s' decoded to '%s', want refused", cases[_i].in, got);
	else
		ck_assert_msg(got && !strcmp(got, cases[_i].out), "'%s' decoded to '%s', want '%s'",
			      cases[_i].in, got ? got : "(refused)", cases[_i].out);
}
END_TEST

/* Every prefix: refused exactly when it ends inside an escape, else a prefix of the whole. */
START_TEST(test_percent_decode_every_prefix)
{
	static const char in[] = "/caf%C3%A9/a+b/%41%42/end";
	char whole[64], part[64];
	ck_assert_ptr_nonnull(decode(in, sizeof(in) - 1, PERCENT_PLUS, whole, sizeof(whole)));
	ck_assert_str_eq(whole, "/caf\xc3\xa9/a b/AB/end");
	for (size_t k = 0; k <= sizeof(in) - 1; k++) {
		int pct = 0; /* a '%' among the last two bytes of the prefix */
		for (size_t j = k >= 2 ? k - 2 : 0; j < k; j++)
			pct |= in[j] == '%';
		const char *got = decode(in, k, PERCENT_PLUS, part, sizeof(part));
		if (pct) {
			ck_assert_msg(got == NULL, "prefix %zu decoded", k);
		} else {
			ck_assert_msg(got != NULL, "prefix %zu refused", k);
			ck_assert_msg(!strncmp(whole, got, strlen(got)), "prefix %zu: '%s'", k, got);
		}
	}
}
END_TEST

START_TEST(test_percent_decode_limit)
{
	char out[8];
	size_t len;
	ck_assert_int_eq(percent_decode("abcd", 4, 0, out, 4, &len), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(percent_decode("abcde", 5, 0, out, 4, &len), -1);
	ck_assert_int_eq(percent_decode("%41%42%43%44", 12, 0, out, 4, &len), 0);
	ck_assert_int_eq(memcmp(out, "ABCD", 4), 0);
	ck_assert_int_eq(percent_decode("%41%42%43%44%45", 15, 0, out, 4, &len), -1);
}
END_TEST

START_TEST(test_percent_encode)
{
	struct buf b = BUF_INIT(1024);
	static const char all[] = "aZ09-._~ /?#[]@!$&'()*+,;=:%\"<>\\^`{|}\x01\x7f\xc3\xa9";
	ck_assert_int_eq(percent_encode(&b, all, sizeof(all) - 1, ""), 0);
	ck_assert_str_eq(buf_cstr(&b), "aZ09-._~%20%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C"
				       "%3B%3D%3A%25%22%3C%3E%5C%5E%60%7B%7C%7D%01%7F%C3%A9");
	/* what it writes decodes back to the input */
	char back[128];
	ck_assert_str_eq(decode(buf_cstr(&b), b.len, 0, back, sizeof(back)), all);
	buf_reset(&b);
	ck_assert_int_eq(percent_encode(&b, "a/b c:d\0e", 9, "/:"), 0);
	ck_assert_str_eq(buf_cstr(&b), "a/b%20c:d%00e");
	buf_dispose(&b);
	struct buf small = BUF_INIT(4);
	ck_assert_int_eq(percent_encode(&small, "ab c", 4, ""), SKIFF_ELIMIT);
	buf_dispose(&small);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("percent");
	TCase *tc = tcase_create("percent");
	tcase_add_loop_test(tc, test_percent_decode_cases, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_percent_decode_every_prefix);
	tcase_add_test(tc, test_percent_decode_limit);
	tcase_add_test(tc, test_percent_encode);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
