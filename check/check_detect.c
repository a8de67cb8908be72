/* check_detect.c — project detection: project settings over skiff.json over package.json over
 * a static site; lockfiles; output directory choice; malformed and hostile repositories. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect.h"
#include "testfs.h"

static char repo[64];
static const struct detect_settings none = { "", "", "" };

static void setup(void)
{
	testfs_tmpdir(repo, sizeof(repo), "check_detect");
}

static void teardown(void)
{
	testfs_rmtree(repo);
}

static void put(const char *name, const char *text)
{
	testfs_put(repo, name, text);
}

static void dir(const char *name)
{
	testfs_mkdir(repo, name);
}

START_TEST(test_detect_static_root)
{
	struct detect_result d;
	struct error err;
	put("index.html", "<h1>hi</h1>");
	ck_assert_int_eq(detect_project(repo, &none, &d, &err), 0);
	ck_assert_int_eq(d.kind, DETECT_STATIC);
	ck_assert_str_eq(d.install_command, "");
	ck_assert_str_eq(d.build_command, "");
	ck_assert(d.output_auto);
	ck_assert_int_eq(detect_output(repo, &d, &err), 0);
	ck_assert_str_eq(d.output_dir, "");
	ck_assert_str_eq(detect_kind_name(d.kind), "static");
	detect_result_dispose(&d);
}
END_TEST

START_TEST(test_detect_static_public)
{
	struct detect_result d;
	struct error err;
	dir("public");
	put("public/index.html", "x");
	ck_assert_int_eq(detect_project(repo, &none, &d, &err), 0);
	ck_assert_int_eq(detect_output(repo, &d, &err), 0);
	ck_assert_str_eq(d.output_dir, "public");
	detect_result_dispose(&d);
}
END_TEST

START_TEST(test_detect_node_npm_install)
{
	struct detect_result d;
	struct error err;
	put("package.json", "{\"scripts\":{\"build\":\"node build.js\"}}");
	ck_assert_int_eq(detect_project(repo, &none, &d, &err), 0);
	ck_assert_int_eq(d.kind, DETECT_NODE);
	ck_assert_str_eq(d.install_command, "npm install");
	ck_assert_str_eq(d.build_command, "npm run build");
	ck_assert_str_eq(d.install_from, "detected");
	/* no output yet: a clear error naming what was looked for */
	ck_assert_int_eq(detect_output(repo, &d, &err), SKIFF_EBUILD);
	ck_assert_ptr_nonnull(strstr(err.message, "dist/"));
	/* build/ only; then dist/ wins over build/ */
	dir("build");
	ck_assert_int_eq(detect_output(repo, &d, &err), 0);
	ck_assert_str_eq(d.output_dir, "build");
	dir("dist");
	ck_assert_int_eq(detect_output(repo, &d, &err), 0);
	ck_assert_str_eq(d.output_dir, "dist");
	detect_result_dispose(&d);
}
END_TEST

START_TEST(test_detect_node_lockfile_npm_ci)
{
	struct detect_result d;
	struct error err;
	put("package.json", "{\"scripts\":{\"build\":\"vite build\"}}");
	put("package-lock.json", "{}");
	ck_assert_int_eq(detect_project(repo, &none, &d, &err), 0);
	ck_assert_str_eq(d.install_command, "npm ci");
	detect_result_dispose(&d);
}
END_TEST

START_TEST(test_detect_package_json_without_build_is_static)
{
	struct detect_result d;
	struct error err;
	put("package.json", "{\"scripts\":{\"test\":\"x\"},\"name\":\"n\"}");
	ck_assert_int_eq(detect_project(repo, &none, &d, &err), 0);
	ck_assert_int_eq(d.kind, DETECT_STATIC);
	ck_assert_str_eq(d.build_command, "");
	detect_result_dispose(&d);
}
END_TEST

START_TEST(test_detect_skiff_json_wins_over_detection)
{
	struct detect_result d;
	struct error err;
	put("package.json", "{\"scripts\":{\"build\":\"vite build\"}}");
	put("package-lock.json", "{}");
	put("skiff.json", "{\"buildCommand\":\"make site\",\"installCommand\":\"\","
			  "\"outputDirectory\":\"./site/\",\"cleanUrls\":true,\"trailingSlash\":false,"
			  "\"spa\":true,\"redirects\":[\"/a /b 301\"],\"headers\":[]}");
	ck_assert_int_eq(detect_project(repo, &none, &d, &err), 0);
	ck_assert(d.has_skiff_json);
	ck_assert_str_eq(d.build_command, "make site");
	ck_assert_str_eq(d.build_from, "skiff.json");
	ck_assert_str_eq(d.install_command, ""); /* explicitly no install step */
	ck_assert_str_eq(d.output_dir, "site");
	ck_assert(!d.output_auto);
	ck_assert(d.clean_urls);
	ck_assert_int_eq(d.trailing_slash, 0);
	ck_assert_int_eq(d.spa, 1);
	ck_assert_uint_eq(json_array_size(d.redirects), 1);
	ck_assert_uint_eq(json_array_size(d.headers), 0);
	/* an explicit output directory is not re-detected */
	ck_assert_int_eq(detect_output(repo, &d, &err), 0);
	ck_assert_str_eq(d.output_dir, "site");
	detect_result_dispose(&d);
}
END_TEST

START_TEST(test_detect_project_settings_win_over_skiff_json)
{
	struct detect_result d;
	struct error err;
	put("skiff.json", "{\"buildCommand\":\"make site\",\"outputDirectory\":\"site\"}");
	struct detect_settings user = { "echo user-build", "", "" };
	ck_assert_int_eq(detect_project(repo, &user, &d, &err), 0);
	ck_assert_str_eq(d.build_command, "echo user-build");
	ck_assert_str_eq(d.build_from, "project");
	ck_assert_str_eq(d.output_dir, "site"); /* not set by the user: skiff.json's */
	detect_result_dispose(&d);
	struct detect_settings user2 = { "", "", "out" };
	ck_assert_int_eq(detect_project(repo, &user2, &d, &err), 0);
	ck_assert_str_eq(d.output_dir, "out");
	ck_assert_str_eq(d.output_from, "project");
	ck_assert_str_eq(d.build_command, "make site");
	detect_result_dispose(&d);
}
END_TEST

START_TEST(test_detect_skiff_json_defaults)
{
	struct detect_result d;
	struct error err;
	put("skiff.json", "{}");
	ck_assert_int_eq(detect_project(repo, &none, &d, &err), 0);
	ck_assert(!d.clean_urls);
	ck_assert_int_eq(d.trailing_slash, -1);
	ck_assert_int_eq(d.spa, -1);
	ck_assert_ptr_null(d.redirects);
	detect_result_dispose(&d);
}
END_TEST

START_TEST(test_detect_bad_skiff_json)
{
	static const char *const bad[] = {
		"{not json", "[]", "{\"buildCommand\":3}", "{\"outputDirectory\":\"../etc\"}",
		"{\"outputDirectory\":\"/abs\"}", "{\"cleanUrls\":\"yes\"}", "{\"redirects\":{}}",
		"{\"buildCommand\":\"a\\nb\"}", "{\"a\":1,\"a\":2}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct detect_result d;
		struct error err;
		put("skiff.json", bad[i]);
		ck_assert_msg(detect_project(repo, &none, &d, &err) == SKIFF_EINVALID,
			      "accepted skiff.json %s", bad[i]);
		ck_assert_ptr_nonnull(strstr(err.message, "skiff.json"));
	}
}
END_TEST

START_TEST(test_detect_symlinks_not_followed)
{
	struct detect_result d;
	struct error err;
	char path[256];
	snprintf(path, sizeof(path), "%s/package.json", repo);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	ck_assert_int_eq(detect_project(repo, &none, &d, &err), SKIFF_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "symbolic link"));
	ck_assert_ptr_null(strstr(err.message, "root:")); /* nothing of the target leaks */
	unlink(path);
	/* a symlinked dist/ is not an output directory */
	put("package.json", "{\"scripts\":{\"build\":\"x\"}}");
	snprintf(path, sizeof(path), "%s/dist", repo);
	ck_assert_int_eq(symlink("/etc", path), 0);
	ck_assert_int_eq(detect_project(repo, &none, &d, &err), 0);
	ck_assert_int_eq(detect_output(repo, &d, &err), SKIFF_EBUILD);
	detect_result_dispose(&d);
}
END_TEST

START_TEST(test_detect_oversized_file)
{
	struct detect_result d;
	struct error err;
	char path[256];
	snprintf(path, sizeof(path), "%s/skiff.json", repo);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, DETECT_FILE_MAX + 1, SEEK_SET), 0);
	fputc(' ', f);
	fclose(f);
	ck_assert_int_eq(detect_project(repo, &none, &d, &err), SKIFF_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "larger"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("detect");
	TCase *tc = tcase_create("detect");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_detect_static_root);
	tcase_add_test(tc, test_detect_static_public);
	tcase_add_test(tc, test_detect_node_npm_install);
	tcase_add_test(tc, test_detect_node_lockfile_npm_ci);
	tcase_add_test(tc, test_detect_package_json_without_build_is_static);
	tcase_add_test(tc, test_detect_skiff_json_wins_over_detection);
	tcase_add_test(tc, test_detect_project_settings_win_over_skiff_json);
	tcase_add_test(tc, test_detect_skiff_json_defaults);
	tcase_add_test(tc, test_detect_bad_skiff_json);
	tcase_add_test(tc, test_detect_symlinks_not_followed);
	tcase_add_test(tc, test_detect_oversized_file);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
