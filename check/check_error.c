/* check_error.c — error codes to HTTP statuses and names, and the error struct. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Every code from SKIFF_EINVALID down to the last one is in the table: an error status (4xx
 * or 5xx) and a name of its own, so a code added to error.h without a row fails here instead
 * of answering 500 "internal_error". */
START_TEST(test_error_every_code_has_a_row)
{
	for (int code = SKIFF_EINVALID; code >= SKIFF_EUPSTREAM; code--) {
		int status = error_status(code);
		ck_assert_msg(status >= 400 && status <= 599, "code %d: status %d", code, status);
		const char *name = error_default_name(code);
		ck_assert_msg(code == SKIFF_EINTERNAL || strcmp(name, "internal_error") != 0,
			      "code %d has no row of its own", code);
		ck_assert_uint_eq(strspn(name, "abcdefghijklmnopqrstuvwxyz_"), strlen(name));
		for (int other = code - 1; other >= SKIFF_EUPSTREAM; other--)
			ck_assert_msg(strcmp(name, error_default_name(other)) != 0,
				      "codes %d and %d are both \"%s\"", code, other, name);
	}
}
END_TEST

/* What a client does with the status: fix the request (4xx) or retry later (503). */
START_TEST(test_error_status_classes)
{
	static const int client[] = { SKIFF_EINVALID, SKIFF_ENOTFOUND, SKIFF_ECONFLICT,
				      SKIFF_ELIMIT, SKIFF_EAUTH, SKIFF_EFORBIDDEN, SKIFF_EMETHOD,
				      SKIFF_EURITOOLONG, SKIFF_ERATE };
	for (size_t i = 0; i < sizeof(client) / sizeof(client[0]); i++)
		ck_assert_int_lt(error_status(client[i]), 500);
	ck_assert_int_eq(error_status(SKIFF_EREDIS), 503);   /* outages: Retry-After applies */
	ck_assert_int_eq(error_status(SKIFF_ESTORE), 503);
	ck_assert_int_eq(error_status(SKIFF_ENOTFOUND), 404);
	ck_assert_int_eq(error_status(SKIFF_OK), 200);
}
END_TEST

START_TEST(test_error_status_unknown_code)
{
	ck_assert_int_eq(error_status(-999), 500);
	ck_assert_int_eq(error_status(42), 500);
	ck_assert_str_eq(error_default_name(-999), "internal_error");
}
END_TEST

START_TEST(test_error_set_fields)
{
	struct error err;
	error_clear(&err);
	int rc = error_set(&err, SKIFF_ENOTFOUND, "deployment_not_found", "no deployment %s", "abc");
	ck_assert_int_eq(rc, SKIFF_ENOTFOUND);
	ck_assert_int_eq(err.code, SKIFF_ENOTFOUND);
	ck_assert_str_eq(err.name, "deployment_not_found");
	ck_assert_str_eq(err.message, "no deployment abc");
}
END_TEST

START_TEST(test_error_set_default_name)
{
	struct error err;
	error_set(&err, SKIFF_EREDIS, NULL, "down");
	ck_assert_str_eq(err.name, "redis_unavailable");
	ck_assert_int_eq(error_status(err.code), 503);
}
END_TEST

START_TEST(test_error_set_null_err)
{
	ck_assert_int_eq(error_set(NULL, SKIFF_ELIMIT, NULL, "x %d", 1), SKIFF_ELIMIT);
}
END_TEST

START_TEST(test_error_set_long_message_truncated)
{
	struct error err;
	char big[2000], name[200];
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	error_set(&err, SKIFF_EINVALID, name, "%s", big);
	ck_assert_uint_eq(strlen(err.message), ERROR_MESSAGE_MAX - 1);
	ck_assert_uint_eq(strlen(err.name), ERROR_NAME_MAX - 1);
	ck_assert_int_eq(err.message[0], 'm');
}
END_TEST

START_TEST(test_error_clear)
{
	struct error err;
	error_set(&err, SKIFF_EINVALID, "x", "y");
	error_clear(&err);
	ck_assert_int_eq(err.code, 0);
	ck_assert_str_eq(err.name, "");
	ck_assert_str_eq(err.message, "");
	error_clear(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("error");
	tcase_add_test(tc, test_error_every_code_has_a_row);
	tcase_add_test(tc, test_error_status_classes);
	tcase_add_test(tc, test_error_status_unknown_code);
	tcase_add_test(tc, test_error_set_fields);
	tcase_add_test(tc, test_error_set_default_name);
	tcase_add_test(tc, test_error_set_null_err);
	tcase_add_test(tc, test_error_set_long_message_truncated);
	tcase_add_test(tc, test_error_clear);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
