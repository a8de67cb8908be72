/* check_error.c — the one table mapping skiff error codes to HTTP statuses and names. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* What API clients see for each code (DESIGN.md section 5, error.h). */
static const struct {
	int code;
	int status;
	const char *name;
} expected[] = {
	{ SKIFF_OK, 200, "ok" },
	{ SKIFF_EINVALID, 400, "invalid_request" },
	{ SKIFF_ENOTFOUND, 404, "not_found" },
	{ SKIFF_ECONFLICT, 409, "conflict" },
	{ SKIFF_ELIMIT, 413, "too_large" },
	{ SKIFF_ETYPE, 415, "unsupported_media_type" },
	{ SKIFF_EAUTH, 401, "unauthorized" },
	{ SKIFF_EFORBIDDEN, 403, "forbidden" },
	{ SKIFF_EMETHOD, 405, "method_not_allowed" },
	{ SKIFF_EREDIS, 503, "redis_unavailable" },
	{ SKIFF_ESTORE, 503, "store_unavailable" },
	{ SKIFF_EIO, 500, "io_error" },
	{ SKIFF_ESYS, 500, "system_error" },
	{ SKIFF_EGIT, 502, "git_error" },
	{ SKIFF_EBUILD, 500, "build_failed" },
	{ SKIFF_ETIMEOUT, 504, "timeout" },
	{ SKIFF_ECANCELED, 409, "canceled" },
	{ SKIFF_EGONE, 410, "gone" },
	{ SKIFF_ERATE, 429, "rate_limited" },
	{ SKIFF_EURITOOLONG, 414, "uri_too_long" },
	{ SKIFF_EINTERNAL, 500, "internal_error" },
	{ SKIFF_EUPSTREAM, 502, "bad_gateway" },
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

START_TEST(test_error_status_every_code)
{
	for (size_t i = 0; i < NEXPECTED; i++) {
		ck_assert_msg(error_status(expected[i].code) == expected[i].status,
			      "code %d: status %d, want %d", expected[i].code,
			      error_status(expected[i].code), expected[i].status);
		ck_assert_str_eq(error_default_name(expected[i].code), expected[i].name);
	}
}
END_TEST

/* Every code from SKIFF_EINVALID down to the last one has an entry of its own: a new code
 * added to error.h without a table row would answer 500 "internal_error". */
START_TEST(test_error_status_no_gaps)
{
	for (int code = SKIFF_EINVALID; code >= SKIFF_EUPSTREAM; code--) {
		int found = 0;
		for (size_t i = 0; i < NEXPECTED; i++)
			found |= expected[i].code == code;
		ck_assert_msg(found, "code %d has no expected status in this test", code);
		if (code != SKIFF_EINTERNAL)
			ck_assert_str_ne(error_default_name(code), "internal_error");
	}
}
END_TEST

START_TEST(test_error_status_names_unique)
{
	for (size_t i = 0; i < NEXPECTED; i++)
		for (size_t j = i + 1; j < NEXPECTED; j++)
			ck_assert_str_ne(error_default_name(expected[i].code),
					 error_default_name(expected[j].code));
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
	tcase_add_test(tc, test_error_status_every_code);
	tcase_add_test(tc, test_error_status_no_gaps);
	tcase_add_test(tc, test_error_status_names_unique);
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
