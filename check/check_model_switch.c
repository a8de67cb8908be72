/* check_model_switch.c — a message of the switch channel names a site only when it is exactly
 * a valid slug (lib/model_switch.c, model_switch_slug): a NUL anywhere, an empty or too long
 * message, or one that is not a slug names none, and says why. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "model_switch.h"

/* slug_of: model_switch_slug of [msg, msg+len); the reason in why ("" when accepted) */
static int slug_of(const char *msg, size_t len, char out[SLUG_MAX + 1], char why[ERROR_NAME_MAX])
{
	struct error err = { 0 };
	memset(out, 'X', SLUG_MAX + 1);
	int rc = model_switch_slug(msg, len, out, &err);
	memcpy(why, rc < 0 ? err.name : "", rc < 0 ? ERROR_NAME_MAX : 1);
	return rc;
}

START_TEST(test_model_switch_slug_accepts_a_slug)
{
	char out[SLUG_MAX + 1], why[ERROR_NAME_MAX];
	ck_assert_int_eq(slug_of("demo", 4, out, why), 0);
	ck_assert_str_eq(out, "demo");
	ck_assert_int_eq(slug_of("my-site-2", 9, out, why), 0);
	ck_assert_str_eq(out, "my-site-2");
	/* the length is the message's, not up to a NUL after it */
	ck_assert_int_eq(slug_of("demox", 4, out, why), 0);
	ck_assert_str_eq(out, "demo");
}
END_TEST

START_TEST(test_model_switch_slug_nul_anywhere)
{
	/* "demo-site" with a NUL put at each position, and one after it: never a site */
	const char base[] = "demo-site";
	char msg[sizeof(base) + 1], out[SLUG_MAX + 1], why[ERROR_NAME_MAX];
	for (size_t at = 0; at < sizeof(base); at++) {
		memcpy(msg, base, sizeof(base) - 1);
		msg[sizeof(base) - 1] = 'x';
		msg[at] = '\0';
		ck_assert_int_eq(slug_of(msg, sizeof(base), out, why), SKIFF_EINVALID);
		ck_assert_str_eq(why, "nul");
		ck_assert_str_eq(out, "");
	}
	ck_assert_int_eq(slug_of("demo\0x", 6, out, why), SKIFF_EINVALID);
	ck_assert_str_eq(why, "nul");
	ck_assert_int_eq(slug_of("\0", 1, out, why), SKIFF_EINVALID);
	ck_assert_str_eq(why, "nul");
}
END_TEST

START_TEST(test_model_switch_slug_length)
{
	char msg[SLUG_MAX + 2], out[SLUG_MAX + 1], why[ERROR_NAME_MAX];
	memset(msg, 'a', sizeof(msg));
	ck_assert_int_eq(slug_of(msg, SLUG_MAX, out, why), 0);
	ck_assert_uint_eq(strlen(out), SLUG_MAX);
	ck_assert_int_eq(slug_of(msg, SLUG_MAX + 1, out, why), SKIFF_EINVALID);
	ck_assert_str_eq(why, "too_long");
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(slug_of("", 0, out, why), SKIFF_EINVALID);
	ck_assert_str_eq(why, "empty");
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_model_switch_slug_every_byte)
{
	/* each byte alone: a site only for a-z and 0-9 */
	char out[SLUG_MAX + 1], why[ERROR_NAME_MAX];
	for (int c = 0; c < 256; c++) {
		char msg[1] = { (char)c };
		int want = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		int rc = slug_of(msg, 1, out, why);
		ck_assert_msg(want ? rc == 0 : rc == SKIFF_EINVALID, "byte %d: rc %d", c, rc);
		if (!want)
			ck_assert_str_eq(out, "");
	}
}
END_TEST

START_TEST(test_model_switch_slug_not_a_slug)
{
	const char *bad[] = { "../demo", "Demo", "-demo", "demo-", "de--mo", "demo\n", "a b",
			      "demo/x", "x\033[31m" };
	char out[SLUG_MAX + 1], why[ERROR_NAME_MAX];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(slug_of(bad[i], strlen(bad[i]), out, why), SKIFF_EINVALID);
		ck_assert_str_eq(why, "invalid_slug");
		ck_assert_str_eq(out, "");
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("model_switch");
	TCase *tc = tcase_create("model_switch");
	tcase_add_test(tc, test_model_switch_slug_accepts_a_slug);
	tcase_add_test(tc, test_model_switch_slug_nul_anywhere);
	tcase_add_test(tc, test_model_switch_slug_length);
	tcase_add_test(tc, test_model_switch_slug_every_byte);
	tcase_add_test(tc, test_model_switch_slug_not_a_slug);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
