/* check_commit_status.c — the repository a git URL names, and the commit status requests of
 * GitHub and GitLab for each deploy event (paths, state names, the GitLab project id encoded). */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "commit_status.h"

START_TEST(test_commit_status_repository)
{
	char out[COMMIT_STATUS_REPOSITORY_MAX + 1];
	ck_assert_int_eq(commit_status_repository("https://github.com/Acme/Site.git", out,
						  sizeof(out)), 0);
	ck_assert_str_eq(out, "Acme/Site");
	ck_assert_int_eq(commit_status_repository("https://gitlab.com/g/sub/p/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "g/sub/p");
	ck_assert_int_eq(commit_status_repository("https://github.com/onlyowner", out, sizeof(out)),
			 -1);
	ck_assert_int_eq(commit_status_repository("file:///srv/git/a/b", out, sizeof(out)), -1);
	ck_assert_int_eq(commit_status_repository_valid("a/../b"), 0);
	ck_assert_int_eq(commit_status_repository_valid("a//b"), 0);
	ck_assert_int_eq(commit_status_repository_valid("a/b c"), 0);
	ck_assert_int_eq(commit_status_repository_valid("a/b"), 1);
}
END_TEST

START_TEST(test_commit_status_request)
{
	char url[512], *body = NULL;
	const char *sha = "0123456789abcdef0123456789abcdef01234567";
	ck_assert_int_eq(commit_status_request("github", "https://ghe.example/api/v3/", "o/r", sha,
					       "deploy.failed", "https://x/", url, sizeof(url),
					       &body), 0);
	ck_assert_str_eq(url, "https://ghe.example/api/v3/repos/o/r/statuses/"
			      "0123456789abcdef0123456789abcdef01234567");
	json_t *j = json_loads(body, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "failure");
	ck_assert_str_eq(json_string_value(json_object_get(j, "context")), "skiff");
	json_decref(j);
	free(body);
	ck_assert_int_eq(commit_status_request("gitlab", "https://gitlab.com/api/v4", "g/sub/p", sha,
					       "deploy.started", "https://x/", url, sizeof(url),
					       &body), 0);
	ck_assert_str_eq(url, "https://gitlab.com/api/v4/projects/g%2Fsub%2Fp/statuses/"
			      "0123456789abcdef0123456789abcdef01234567");
	j = json_loads(body, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "running");
	ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "skiff");
	json_decref(j);
	free(body);
	ck_assert_int_eq(commit_status_request("github", "https://a", "o/r", sha, "deploy.ready",
					       "https://x/", url, 20, &body), -1);
}
END_TEST

static Suite *commit_status_suite(void)
{
	Suite *s = suite_create("commit_status");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_commit_status_repository);
	tcase_add_test(tc, test_commit_status_request);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(commit_status_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
