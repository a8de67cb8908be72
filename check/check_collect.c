/* check_collect.c — the output walk: nested directories, symlinks out of the directory
 * (skipped and reported), symlinks inside it, special files, limits, rules files, names. */
#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect.h"
#include "testfs.h"

static char base[64], out[96];
static char notes[8192];
static const struct collect_limits big = { 1000, 1 << 20, 10 << 20 };

static void setup(void)
{
	testfs_tmpdir(base, sizeof(base), "check_collect");
	snprintf(out, sizeof(out), "%s/out", base);
	ck_assert_int_eq(mkdir(out, 0755), 0);
	notes[0] = '\0';
}

static void teardown(void)
{
	testfs_rmtree(base);
}

static void on_note(void *ctx, const char *msg)
{
	(void)ctx;
	size_t n = strlen(notes);
	snprintf(notes + n, sizeof(notes) - n, "%s\n", msg);
}

static void put(const char *rel, const char *text)
{
	testfs_put(out, rel, text);
}

static void mk(const char *rel)
{
	testfs_mkdir(out, rel);
}

static void ln(const char *target, const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", out, rel);
	ck_assert_int_eq(symlink(target, path), 0);
}

/* Walks out/ with lim; returns the walk's result code. */
static int walk(const struct collect_limits *lim, const char *const *exclude,
		struct collect_result *r, struct error *err)
{
	int fd = collect_open_root(base, "out", err);
	ck_assert_int_ge(fd, 0);
	int rc = collect_walk(fd, lim, exclude, on_note, NULL, r, err);
	close(fd);
	return rc;
}

static const struct collect_file *find(const struct collect_result *r, const char *path)
{
	for (size_t i = 0; i < r->nfiles; i++)
		if (!strcmp(r->files[i].path, path))
			return &r->files[i];
	return NULL;
}

START_TEST(test_collect_nested_dirs_sorted)
{
	struct collect_result r;
	struct error err;
	mk("a");
	mk("a/b");
	mk("a/b/c");
	put("a/b/c/deep.txt", "deep");
	put("index.html", "<p>home</p>");
	put("a/page.html", "page");
	mk(".git");
	put(".git/config", "[core]");
	ck_assert_int_eq(walk(&big, NULL, &r, &err), 0);
	ck_assert_uint_eq(r.nfiles, 3);
	ck_assert_str_eq(r.files[0].path, "/a/b/c/deep.txt");
	ck_assert_str_eq(r.files[0].src, "a/b/c/deep.txt");
	ck_assert_uint_eq(r.files[0].size, 4);
	ck_assert_str_eq(r.files[1].path, "/a/page.html");
	ck_assert_str_eq(r.files[2].path, "/index.html");
	ck_assert_uint_eq(r.total, 4 + 11 + 4);
	ck_assert_uint_eq(r.skipped, 0);
	ck_assert_str_eq(notes, "");
	collect_result_dispose(&r);
}
END_TEST

START_TEST(test_collect_symlinks_outside_skipped)
{
	struct collect_result r;
	struct error err;
	char secret[128];
	snprintf(secret, sizeof(secret), "%s/secret.txt", base);
	FILE *f = fopen(secret, "w");
	fputs("SECRET", f);
	fclose(f);
	put("index.html", "x");
	mk("sub");
	ln("/etc/passwd", "passwd");
	ln("../", "up");
	ln("../secret.txt", "leak.txt");
	ln("../../secret.txt", "sub/leak2.txt");
	ln("sub/../../secret.txt", "leak3.txt");
	ln(secret, "abs.txt");
	ck_assert_int_eq(walk(&big, NULL, &r, &err), 0);
	ck_assert_uint_eq(r.nfiles, 1);
	ck_assert_str_eq(r.files[0].path, "/index.html");
	ck_assert_uint_eq(r.skipped, 6);
	ck_assert_ptr_nonnull(strstr(notes, "skipped symlink passwd: points outside the output directory"));
	ck_assert_ptr_nonnull(strstr(notes, "skipped symlink up: points outside the output directory"));
	ck_assert_ptr_nonnull(strstr(notes, "skipped symlink leak.txt: points outside"));
	ck_assert_ptr_nonnull(strstr(notes, "skipped symlink sub/leak2.txt: points outside"));
	ck_assert_ptr_nonnull(strstr(notes, "skipped symlink leak3.txt: points outside"));
	ck_assert_ptr_nonnull(strstr(notes, "skipped symlink abs.txt: points outside"));
	collect_result_dispose(&r);
}
END_TEST

START_TEST(test_collect_symlink_inside_served_as_target)
{
	struct collect_result r;
	struct error err;
	mk("docs");
	put("docs/real.html", "real content");
	ln("docs/real.html", "alias.html");
	ln("../docs/real.html", "docs/../alias2.html"); /* created as out/alias2.html */
	ln("docs", "docs-link");                        /* a directory: skipped */
	ln("alias.html", "chain.html");                 /* a symlink to a symlink: skipped */
	ln("missing.html", "dangling.html");
	ck_assert_int_eq(walk(&big, NULL, &r, &err), 0);
	const struct collect_file *a = find(&r, "/alias.html");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->src, "docs/real.html");
	ck_assert_uint_eq(a->size, 12);
	ck_assert_ptr_null(find(&r, "/alias2.html")); /* ../ from the root: outside */
	ck_assert_ptr_null(find(&r, "/docs-link"));
	ck_assert_ptr_null(find(&r, "/chain.html"));
	ck_assert_ptr_null(find(&r, "/dangling.html"));
	ck_assert_ptr_nonnull(find(&r, "/docs/real.html"));
	ck_assert_uint_eq(r.nfiles, 2);
	ck_assert_ptr_nonnull(strstr(notes, "skipped symlink docs-link"));
	ck_assert_ptr_nonnull(strstr(notes, "skipped symlink chain.html"));
	collect_result_dispose(&r);
}
END_TEST

START_TEST(test_collect_special_files_refused)
{
	struct collect_result r;
	struct error err;
	char path[256];
	put("index.html", "x");
	snprintf(path, sizeof(path), "%s/pipe", out);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	ck_assert_int_eq(walk(&big, NULL, &r, &err), 0);
	ck_assert_uint_eq(r.nfiles, 1);
	ck_assert_ptr_nonnull(strstr(notes, "refused pipe: it is a fifo"));
	/* opening a fifo by name never blocks and is refused */
	struct stat st;
	int fd = open(out, O_RDONLY | O_DIRECTORY);
	ck_assert_int_lt(collect_open_file(fd, "pipe", &st, &err), 0);
	close(fd);
	collect_result_dispose(&r);
}
END_TEST

START_TEST(test_collect_limits)
{
	struct collect_result r;
	struct error err;
	put("a.txt", "12345");
	put("b.txt", "12345");
	put("c.txt", "12345");
	struct collect_limits files = { 2, 1 << 20, 1 << 20 };
	ck_assert_int_eq(walk(&files, NULL, &r, &err), SKIFF_ELIMIT);
	ck_assert_ptr_nonnull(strstr(err.message, "max_files"));
	ck_assert_uint_eq(r.nfiles, 0); /* nothing half-collected is handed back */
	struct collect_limits one = { 100, 4, 1 << 20 };
	ck_assert_int_eq(walk(&one, NULL, &r, &err), SKIFF_ELIMIT);
	ck_assert_ptr_nonnull(strstr(err.message, "max_file_mb"));
	struct collect_limits total = { 100, 100, 12 };
	ck_assert_int_eq(walk(&total, NULL, &r, &err), SKIFF_ELIMIT);
	ck_assert_ptr_nonnull(strstr(err.message, "max_output_mb"));
	struct collect_limits exact = { 3, 5, 15 };
	ck_assert_int_eq(walk(&exact, NULL, &r, &err), 0);
	ck_assert_uint_eq(r.nfiles, 3);
	collect_result_dispose(&r);
}
END_TEST

START_TEST(test_collect_rules_files_and_exclude)
{
	struct collect_result r;
	struct error err;
	put("index.html", "x");
	put("_redirects", "/old /new 301\n");
	put("_headers", "/*\n  X-Test: 1\n");
	put("skiff.json", "{}");
	mk("sub");
	put("sub/_redirects", "kept: only the top level one is rules");
	static const char *const exclude[] = { "skiff.json", NULL };
	ck_assert_int_eq(walk(&big, exclude, &r, &err), 0);
	ck_assert_str_eq(r.redirects, "/old /new 301\n");
	ck_assert_uint_eq(r.redirects_len, 14);
	ck_assert_str_eq(r.headers, "/*\n  X-Test: 1\n");
	ck_assert_ptr_null(find(&r, "/_redirects"));
	ck_assert_ptr_null(find(&r, "/_headers"));
	ck_assert_ptr_null(find(&r, "/skiff.json"));
	ck_assert_ptr_nonnull(find(&r, "/sub/_redirects"));
	ck_assert_uint_eq(r.nfiles, 2);
	collect_result_dispose(&r);
}
END_TEST

START_TEST(test_collect_bad_names_skipped)
{
	struct collect_result r;
	struct error err;
	put("ok-é.html", "x");
	put("bad\xff.html", "x");
	put("ctl\x01.html", "x");
	put("over\xc0\xaf.html", "x");
	ck_assert_int_eq(walk(&big, NULL, &r, &err), 0);
	ck_assert_uint_eq(r.nfiles, 1);
	ck_assert_str_eq(r.files[0].path, "/ok-é.html");
	ck_assert_ptr_nonnull(strstr(notes, "skipped bad\\xff.html"));
	ck_assert_ptr_nonnull(strstr(notes, "skipped ctl\\x01.html"));
	ck_assert_uint_eq(r.skipped, 3);
	collect_result_dispose(&r);
}
END_TEST

START_TEST(test_collect_open_root_and_file_refuse_symlinks)
{
	struct error err;
	char path[256];
	ck_assert_int_eq(collect_open_root(base, "missing", &err), SKIFF_EBUILD);
	ck_assert_ptr_nonnull(strstr(err.message, "does not exist"));
	snprintf(path, sizeof(path), "%s/linked", base);
	ck_assert_int_eq(symlink("out", path), 0);
	ck_assert_int_eq(collect_open_root(base, "linked", &err), SKIFF_EBUILD);
	ck_assert_int_eq(collect_open_root(base, "out/../..", &err), SKIFF_EBUILD);
	mk("real");
	put("real/f.txt", "f");
	ln("real", "via");
	int fd = collect_open_root(base, "out", &err);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	int f = collect_open_file(fd, "real/f.txt", &st, &err);
	ck_assert_int_ge(f, 0);
	ck_assert_uint_eq(st.st_size, 1);
	close(f);
	ck_assert_int_lt(collect_open_file(fd, "via/f.txt", &st, &err), 0);
	ck_assert_int_lt(collect_open_file(fd, "../out/real/f.txt", &st, &err), 0);
	ck_assert_int_lt(collect_open_file(fd, "real", &st, &err), 0);
	close(fd);
	int root = collect_open_root(base, "", &err);
	ck_assert_int_ge(root, 0);
	close(root);
}
END_TEST

START_TEST(test_collect_many_notes_are_capped)
{
	struct collect_result r;
	struct error err;
	char name[32];
	for (int i = 0; i < COLLECT_NOTES_MAX + 20; i++) {
		snprintf(name, sizeof(name), "l%03d", i);
		ln("/etc/passwd", name);
	}
	ck_assert_int_eq(walk(&big, NULL, &r, &err), 0);
	ck_assert_uint_eq(r.skipped, COLLECT_NOTES_MAX + 20);
	size_t lines = 0;
	for (const char *p = notes; *p; p++)
		lines += *p == '\n';
	ck_assert_uint_eq(lines, COLLECT_NOTES_MAX + 1);
	ck_assert_ptr_nonnull(strstr(notes, "more entries were skipped"));
	collect_result_dispose(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("collect");
	TCase *tc = tcase_create("collect");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_collect_nested_dirs_sorted);
	tcase_add_test(tc, test_collect_symlinks_outside_skipped);
	tcase_add_test(tc, test_collect_symlink_inside_served_as_target);
	tcase_add_test(tc, test_collect_special_files_refused);
	tcase_add_test(tc, test_collect_limits);
	tcase_add_test(tc, test_collect_rules_files_and_exclude);
	tcase_add_test(tc, test_collect_bad_names_skipped);
	tcase_add_test(tc, test_collect_open_root_and_file_refuse_symlinks);
	tcase_add_test(tc, test_collect_many_notes_are_capped);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
