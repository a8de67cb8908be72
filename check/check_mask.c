/* check_mask.c — secret values hidden in build output: whole, line by line, in a long line
 * cut at every position, and short values left alone. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"

static char *masked(const struct mask *m, const char *in, bool cut)
{
	size_t len = strlen(in);
	char *out = malloc(len + MASK_GROWTH + 1);
	size_t n = mask_apply(m, in, len, cut, out);
	ck_assert_uint_le(n, len + MASK_GROWTH);
	out[n] = '\0';
	return out;
}

#define ck_masked(m, in, want) do { char *got_ = masked(m, in, false); \
	ck_assert_str_eq(got_, want); free(got_); } while (0)

START_TEST(test_mask_every_occurrence)
{
	struct mask m;
	mask_init(&m);
	mask_add(&m, "hunter22", 8);
	ck_masked(&m, "token=hunter22", "token=***");
	ck_masked(&m, "hunter22hunter22 and hunter22.", "****** and ***.");
	ck_masked(&m, "hunter2 is not it", "hunter2 is not it");
	ck_masked(&m, "", "");
	mask_dispose(&m);
}
END_TEST

START_TEST(test_mask_short_values_not_masked)
{
	struct mask m;
	mask_init(&m);
	mask_add(&m, "abc", 3);
	mask_add(&m, "12345", 5);
	ck_assert_uint_eq(m.n, 0);
	ck_masked(&m, "abc 12345", "abc 12345");
	mask_add(&m, "123456", 6); /* MASK_MIN itself is masked */
	ck_masked(&m, "x123456x", "x***x");
	mask_dispose(&m);
}
END_TEST

START_TEST(test_mask_longest_first)
{
	struct mask m;
	mask_init(&m);
	mask_add(&m, "secret", 6);
	mask_add(&m, "secret-and-more", 15);
	ck_masked(&m, "[secret-and-more]", "[***]");
	ck_masked(&m, "[secret-and-less]", "[***-and-less]");
	mask_dispose(&m);
}
END_TEST

START_TEST(test_mask_multiline_value)
{
	struct mask m;
	mask_init(&m);
	const char *pem = "-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\r\nabc\n-----END KEY-----";
	mask_add(&m, pem, strlen(pem));
	ck_masked(&m, "MIIBOgIBAAJBAKj34GkxFhD9", "***");
	ck_masked(&m, "abc", "abc"); /* a short line of it stays */
	ck_masked(&m, "-----END KEY-----", "***");
	mask_dispose(&m);
}
END_TEST

/* A line cut at every position (proc keeps the start of a long line and drops the rest): no
 * part of the value shows before the cut, and the text before the value stays. */
START_TEST(test_mask_cut_lines)
{
	struct mask m;
	mask_init(&m);
	const char *secret = "s3cr3t-T0KEN-value";
	mask_add(&m, secret, strlen(secret));
	char line[128];
	snprintf(line, sizeof(line), "export API=%s; echo done", secret);
	size_t len = strlen(line), start = strlen("export API=");
	for (size_t cut = 1; cut <= len; cut++) {
		char a[128];
		memcpy(a, line, cut);
		a[cut] = '\0';
		char *ma = masked(&m, a, true);
		for (size_t k = 0; k + 3 <= strlen(secret); k++) {
			char piece[4];
			memcpy(piece, secret + k, 3);
			piece[3] = '\0';
			ck_assert_msg(!strstr(ma, piece), "cut %zu: '%s' shows '%s'", cut, ma, piece);
		}
		if (cut > start) /* the value begins before the cut: it is hidden, the rest kept */
			ck_assert_msg(!strncmp(ma, "export API=***", 14), "cut %zu: %s", cut, ma);
		else
			ck_assert_str_eq(ma, a);
		free(ma);
	}
	/* a cut line ending with what merely looks like a value's head loses it too: the price
	 * of not showing a value's first characters */
	char *ma = masked(&m, "status: s3", true);
	ck_assert_str_eq(ma, "status: ***");
	free(ma);
	ma = masked(&m, "status: s3", false);
	ck_assert_str_eq(ma, "status: s3");
	free(ma);
	mask_dispose(&m);
}
END_TEST

START_TEST(test_mask_no_values)
{
	struct mask m;
	mask_init(&m);
	ck_masked(&m, "plain output", "plain output");
	mask_dispose(&m);
	mask_dispose(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mask");
	TCase *tc = tcase_create("mask");
	tcase_add_test(tc, test_mask_every_occurrence);
	tcase_add_test(tc, test_mask_short_values_not_masked);
	tcase_add_test(tc, test_mask_longest_first);
	tcase_add_test(tc, test_mask_multiline_value);
	tcase_add_test(tc, test_mask_cut_lines);
	tcase_add_test(tc, test_mask_no_values);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
