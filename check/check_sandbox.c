/* check_sandbox.c — what a build leaves on the host: its work directory (measured, removed
 * without following symlinks out of it) and its pids cgroup. */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"
#include "testfs.h"

static void put_file(const char *dir, const char *name, size_t size)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	char block[4096];
	memset(block, 'x', sizeof(block));
	for (size_t done = 0; done < size; done += sizeof(block))
		ck_assert_int_gt(write(fd, block, size - done < sizeof(block) ? size - done : sizeof(block)), 0);
	close(fd);
}

/* The work directory's size counts what is below it, not what its symlinks point at. */
START_TEST(test_sandbox_tree_bytes_and_largest)
{
	char dir[PATH_MAX], outside[PATH_MAX], sub[PATH_MAX + 8], link[PATH_MAX + 16];
	testfs_tmpdir(dir, sizeof(dir), "check_sandbox");
	testfs_tmpdir(outside, sizeof(outside), "check_sandbox_out");
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	put_file(dir, "a", 100 * 1024);
	put_file(sub, "b", 300 * 1024);
	put_file(outside, "huge", 2048 * 1024);
	snprintf(link, sizeof(link), "%s/to-outside", dir);
	ck_assert_int_eq(symlink(outside, link), 0);
	unsigned long long largest = 0;
	unsigned long long bytes = sandbox_tree_bytes(dir, ~0ULL, &largest);
	ck_assert_msg(bytes >= 400 * 1024 && bytes < 1024 * 1024, "bytes %llu", bytes);
	ck_assert_int_eq(largest, 300 * 1024);
	/* past the limit it stops counting, but reports more than the limit */
	ck_assert(sandbox_tree_bytes(dir, 50 * 1024, NULL) > 50 * 1024);
	sandbox_rm_tree(dir);
	ck_assert_int_eq(access(dir, F_OK), -1);
	char huge[PATH_MAX + 8];
	snprintf(huge, sizeof(huge), "%s/huge", outside);
	ck_assert_msg(access(huge, F_OK) == 0, "removing the work directory followed its symlink");
	testfs_rmtree(outside);
}
END_TEST

/* A directory the build made unreadable and unwritable is removed all the same. */
START_TEST(test_sandbox_rm_tree_locked_directories)
{
	char dir[PATH_MAX], sub[PATH_MAX + 8];
	testfs_tmpdir(dir, sizeof(dir), "check_sandbox");
	snprintf(sub, sizeof(sub), "%s/locked", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	put_file(sub, "inside", 10);
	ck_assert_int_eq(chmod(sub, 0), 0);
	sandbox_rm_tree(dir);
	ck_assert_int_eq(access(dir, F_OK), -1);
}
END_TEST

/* Killing the cgroup of a build that has none is harmless. */
START_TEST(test_sandbox_cgroup_kill_without_cgroup)
{
	ck_assert_int_eq(sandbox_cgroup_kill("nosuchbuild0"), 0);
	struct sandbox_cgroup cg = { "" };
	ck_assert_int_eq(sandbox_cgroup_procs_fd(&cg), -1);
	ck_assert_int_eq(sandbox_cgroup_refusals(&cg), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");
	tcase_add_test(tc, test_sandbox_tree_bytes_and_largest);
	tcase_add_test(tc, test_sandbox_rm_tree_locked_directories);
	tcase_add_test(tc, test_sandbox_cgroup_kill_without_cgroup);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
