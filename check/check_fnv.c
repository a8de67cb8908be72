/* check_fnv.c — the bucket hash of the in-memory tables is FNV-1a as published. */
#include <check.h>
#include <stdlib.h>

#include "fnv.h"

START_TEST(test_fnv_known_values)
{
	/* the reference values of the FNV-1a 32-bit test suite */
	ck_assert_uint_eq(fnv1a(""), 0x811c9dc5u);
	ck_assert_uint_eq(fnv1a("a"), 0xe40c292cu);
	ck_assert_uint_eq(fnv1a("foobar"), 0xbf9cf968u);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fnv");
	TCase *tc = tcase_create("fnv");
	tcase_add_test(tc, test_fnv_known_values);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
