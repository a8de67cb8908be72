/* check_fastpath_switch.c — what a web node's bridge does when it (re)subscribes to the
 * switches (lib/fastpath_switch.c): every site's link goes, with the tree it named, and
 * nothing else; no fastpath_dir, nothing. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fastpath_switch.h"
#include "testfs.h"

static char root[64];

static void setup(void)
{
	testfs_tmpdir(root, sizeof(root), "check_fastpath_switch");
}

static void teardown(void)
{
	testfs_rmtree(root);
}

static int fx_exists(const char *rel)
{
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return lstat(path, &st) == 0;
}

static void fx_link(const char *target, const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ck_assert_int_eq(symlink(target, path), 0);
}

START_TEST(test_fastpath_switch_drop_all)
{
	testfs_mkdir(root, "sites");
	testfs_mkdir(root, "deployments");
	testfs_mkdir(root, "deployments/aaaaaaaaaaa2");
	testfs_put(root, "deployments/aaaaaaaaaaa2/@", "2\tentry\n");
	testfs_mkdir(root, "deployments/bbbbbbbbbbb2");
	testfs_mkdir(root, "deployments/ccccccccccc2");   /* a tree no site names (being built) */
	fx_link("../deployments/aaaaaaaaaaa2", "sites/one");
	fx_link("../deployments/bbbbbbbbbbb2", "sites/two");
	fx_link("../deployments/ccccccccccc2", "sites/.three.123");   /* a link being made */
	testfs_put(root, "suffix", ".localhost\n");
	ck_assert_int_eq(fastpath_switch_drop_all(root), 2);
	ck_assert(!fx_exists("sites/one"));
	ck_assert(!fx_exists("sites/two"));
	ck_assert(!fx_exists("deployments/aaaaaaaaaaa2"));
	ck_assert(!fx_exists("deployments/bbbbbbbbbbb2"));
	ck_assert(fx_exists("deployments/ccccccccccc2"));
	ck_assert(fx_exists("sites/.three.123"));
	ck_assert(fx_exists("suffix"));
	ck_assert_int_eq(fastpath_switch_drop_all(root), 0);
}
END_TEST

START_TEST(test_fastpath_switch_nothing)
{
	ck_assert_int_eq(fastpath_switch_drop_all(""), 0);
	ck_assert_int_eq(fastpath_switch_drop_all(root), 0);   /* no sites/ yet */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fastpath_switch");
	TCase *tc = tcase_create("fastpath_switch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fastpath_switch_drop_all);
	tcase_add_test(tc, test_fastpath_switch_nothing);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
