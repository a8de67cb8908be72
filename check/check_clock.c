/* check_clock.c — the wall clock agrees with time(), the monotonic clock never goes back and
 * measures a sleep. */
#include <check.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

START_TEST(test_clock_wall_is_epoch_ms)
{
	long long before = (long long)time(NULL) * 1000;
	long long ms = clock_wall_ms();
	long long after = (long long)time(NULL) * 1000 + 999;
	ck_assert_int_ge(ms, before);
	ck_assert_int_le(ms, after);
}
END_TEST

START_TEST(test_clock_mono_measures_a_sleep)
{
	long long t0 = clock_mono_ms(), prev = t0;
	for (int i = 0; i < 100000; i++) {
		long long t = clock_mono_ms();
		ck_assert_int_ge(t, prev);
		prev = t;
	}
	usleep(120 * 1000);
	long long took = clock_mono_ms() - t0;
	ck_assert_int_ge(took, 120);
	ck_assert_int_lt(took, 5000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("clock");
	tcase_add_test(tc, test_clock_wall_is_epoch_ms);
	tcase_add_test(tc, test_clock_mono_measures_a_sleep);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
