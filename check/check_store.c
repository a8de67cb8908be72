/* check_store.c — the file store: blobs written once and atomically, objects by key, listing,
 * rejection of bad hashes and keys, no temp files left behind. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "hash.h"
#include "store.h"
#include "testfs.h"

static char root[64];
static struct config cfg;
static struct store *st;

static void setup(void)
{
	testfs_tmpdir(root, sizeof(root), "check_store");
	config_defaults(&cfg);
	snprintf(cfg.store_path, sizeof(cfg.store_path), "%s/store", root);
	struct error err;
	ck_assert_int_eq(store_open(&st, &cfg, &err), 0);
}

static void teardown(void)
{
	store_free(st);
	st = NULL;
	testfs_rmtree(root);
}

/* Writes data to a file in root; its path into out. */
static void write_src(const char *name, const char *data, char out[256])
{
	snprintf(out, 256, "%s/%s", root, name);
	FILE *f = fopen(out, "w");
	ck_assert_ptr_nonnull(f);
	fputs(data, f);
	fclose(f);
}

static size_t count_dir(const char *sub)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/store/%s", root, sub);
	size_t n = 0;
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The serve path names the blob without asking the file system, and refuses a bad hash. */
START_TEST(test_store_blob_serve_path)
{
	char hash[HASH_HEX_LEN + 1], path[STORE_PATH_MAX], want[STORE_PATH_MAX];
	struct error err;
	hash_buffer("not stored", 10, hash);
	ck_assert_int_eq(store_blob_serve_path(st, hash, path, &err), 0);
	snprintf(want, sizeof(want), "%s/store/blobs/%.2s/%s", root, hash, hash);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(store_blob_serve_path(st, "../../etc/passwd", path, &err), SKIFF_EINVALID);
}
END_TEST

START_TEST(test_store_blob_put_exists_path)
{
	char src[256], hash[HASH_HEX_LEN + 1], path[STORE_PATH_MAX];
	struct error err;
	write_src("a.txt", "hello blob\n", src);
	hash_buffer("hello blob\n", 11, hash);
	ck_assert_int_eq(store_blob_exists(st, hash, &err), 0);
	ck_assert_int_eq(store_blob_path(st, hash, path, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(store_blob_put(st, hash, src, "text/plain", &err), 0);
	ck_assert_int_eq(store_blob_exists(st, hash, &err), 1);
	ck_assert_int_eq(store_blob_path(st, hash, path, &err), 0);
	/* content-addressed layout under the sendfile root, readable by the web server */
	char want[STORE_PATH_MAX];
	snprintf(want, sizeof(want), "%s/store/blobs/%.2s/%s", root, hash, hash);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(strncmp(path, store_sendfile_root(st), strlen(store_sendfile_root(st))), 0);
	struct stat sb;
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0644);
	char got[64] = "";
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(got, sizeof(got), f));
	fclose(f);
	ck_assert_str_eq(got, "hello blob\n");
	ck_assert_uint_eq(count_dir("tmp"), 0);
}
END_TEST

START_TEST(test_store_blob_written_once)
{
	char src[256], hash[HASH_HEX_LEN + 1], path[STORE_PATH_MAX];
	struct error err;
	write_src("a.txt", "same bytes", src);
	hash_buffer("same bytes", 10, hash);
	ck_assert_int_eq(store_blob_put(st, hash, src, NULL, &err), 0);
	ck_assert_int_eq(store_blob_path(st, hash, path, &err), 0);
	struct stat before, after;
	ck_assert_int_eq(stat(path, &before), 0);
	ck_assert_int_eq(store_blob_put(st, hash, src, NULL, &err), 0);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	ck_assert_uint_eq(count_dir("tmp"), 0);
}
END_TEST

START_TEST(test_store_blob_hash_mismatch_rejected)
{
	char src[256], hash[HASH_HEX_LEN + 1];
	struct error err;
	write_src("a.txt", "actual content", src);
	hash_buffer("other content", 13, hash);
	ck_assert_int_eq(store_blob_put(st, hash, src, NULL, &err), SKIFF_ESTORE);
	ck_assert_int_eq(store_blob_exists(st, hash, &err), 0);
	ck_assert_uint_eq(count_dir("tmp"), 0); /* the temp file is gone too */
}
END_TEST

START_TEST(test_store_blob_invalid_hash)
{
	static const char *const bad[] = {
		"", "abc", "../../../../etc/passwd",
		"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
		"../23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	};
	char src[256], path[STORE_PATH_MAX];
	write_src("a.txt", "x", src);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct error err;
		ck_assert_int_eq(store_hash_valid(bad[i]), 0);
		ck_assert_int_eq(store_blob_exists(st, bad[i], &err), SKIFF_EINVALID);
		ck_assert_int_eq(store_blob_put(st, bad[i], src, NULL, &err), SKIFF_EINVALID);
		ck_assert_int_eq(store_blob_path(st, bad[i], path, &err), SKIFF_EINVALID);
		ck_assert_int_eq(store_blob_delete(st, bad[i], &err), SKIFF_EINVALID);
	}
	ck_assert_int_eq(store_hash_valid(NULL), 0);
	ck_assert_int_eq(
		store_hash_valid("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), 1);
}
END_TEST

START_TEST(test_store_blob_delete)
{
	char src[256], hash[HASH_HEX_LEN + 1];
	struct error err;
	write_src("a.txt", "to delete", src);
	hash_buffer("to delete", 9, hash);
	ck_assert_int_eq(store_blob_put(st, hash, src, NULL, &err), 0);
	ck_assert_int_eq(store_blob_delete(st, hash, &err), 0);
	ck_assert_int_eq(store_blob_exists(st, hash, &err), 0);
	ck_assert_int_eq(store_blob_delete(st, hash, &err), SKIFF_ENOTFOUND);
}
END_TEST

START_TEST(test_store_object_roundtrip)
{
	struct error err;
	struct buf b = BUF_INIT(1 << 20);
	const char *doc = "{\"version\":1}";
	ck_assert_int_eq(store_object_get(st, "manifests/abc.json", &b, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(store_object_put(st, "manifests/abc.json", doc, strlen(doc),
					  "application/json", &err), 0);
	ck_assert_int_eq(store_object_get(st, "manifests/abc.json", &b, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), doc);
	/* overwrite is atomic and complete */
	buf_reset(&b);
	ck_assert_int_eq(store_object_put(st, "manifests/abc.json", "{}", 2, NULL, &err), 0);
	ck_assert_int_eq(store_object_get(st, "manifests/abc.json", &b, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), "{}");
	/* nested keys get their directories */
	ck_assert_int_eq(store_object_put(st, "logs/2024/x.log", "log\n", 4, "text/plain", &err), 0);
	ck_assert_int_eq(store_object_delete(st, "manifests/abc.json", &err), 0);
	buf_reset(&b);
	ck_assert_int_eq(store_object_get(st, "manifests/abc.json", &b, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(store_object_delete(st, "manifests/abc.json", &err), SKIFF_ENOTFOUND);
	ck_assert_uint_eq(count_dir("tmp"), 0);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_store_object_get_limit)
{
	struct error err;
	struct buf b = BUF_INIT(4);
	ck_assert_int_eq(store_object_put(st, "logs/big.log", "0123456789", 10, NULL, &err), 0);
	ck_assert_int_eq(store_object_get(st, "logs/big.log", &b, &err), SKIFF_ELIMIT);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_store_object_bad_keys)
{
	static const char *const bad[] = {
		"", "..", "../x", "manifests/../x", "manifests/../../etc/passwd", "/etc/passwd",
		"a//b", "manifests/", ".hidden", "manifests/.x", "blobs/aa/bb", "tmp/x",
		"manifests/a b", "manifests/a\nb", "manifests\\x",
	};
	struct buf b = BUF_INIT(1024);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct error err;
		ck_assert_msg(store_object_put(st, bad[i], "x", 1, NULL, &err) == SKIFF_EINVALID,
			      "put accepted '%s'", bad[i]);
		ck_assert_int_eq(store_object_get(st, bad[i], &b, &err), SKIFF_EINVALID);
		ck_assert_int_eq(store_object_delete(st, bad[i], &err), SKIFF_EINVALID);
	}
	/* nothing was written: the store still holds only its own directories, all empty */
	ck_assert_uint_eq(count_dir(""), 4);
	ck_assert_uint_eq(count_dir("manifests"), 0);
	ck_assert_uint_eq(count_dir("tmp"), 0);
	buf_dispose(&b);
}
END_TEST

struct seen {
	int blobs, manifests, other;
	int stop_after;
	int calls;
};

static int on_key(const char *key, long long age_s, void *ctx)
{
	struct seen *s = ctx;
	s->calls++;
	ck_assert_int_ge(age_s, 0);
	if (!strncmp(key, "blobs/", 6)) {
		/* blobs/ab/ab...: 6 + 3 + 64 */
		ck_assert_uint_eq(strlen(key), 6 + 3 + HASH_HEX_LEN);
		s->blobs++;
	} else if (!strncmp(key, "manifests/", 10)) {
		s->manifests++;
	} else {
		s->other++;
	}
	return s->stop_after && s->calls >= s->stop_after;
}

START_TEST(test_store_list)
{
	struct error err;
	char src[256], hash[HASH_HEX_LEN + 1];
	const char *contents[] = { "one", "two", "three" };
	for (int i = 0; i < 3; i++) {
		write_src("f", contents[i], src);
		hash_buffer(contents[i], strlen(contents[i]), hash);
		ck_assert_int_eq(store_blob_put(st, hash, src, NULL, &err), 0);
	}
	ck_assert_int_eq(store_object_put(st, "manifests/a.json", "{}", 2, NULL, &err), 0);
	ck_assert_int_eq(store_object_put(st, "manifests/b.json", "{}", 2, NULL, &err), 0);
	struct seen s = { 0 };
	ck_assert_int_eq(store_list(st, "blobs/", on_key, &s, &err), 0);
	ck_assert_int_eq(s.blobs, 3);
	ck_assert_int_eq(s.manifests + s.other, 0);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_list(st, "manifests/", on_key, &s, &err), 0);
	ck_assert_int_eq(s.manifests, 2);
	ck_assert_int_eq(s.blobs + s.other, 0);
	/* the callback stops the walk */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	ck_assert_int_eq(store_list(st, "blobs", on_key, &s, &err), 0);
	ck_assert_int_eq(s.calls, 1);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_list(st, "../", on_key, &s, &err), SKIFF_EINVALID);
	ck_assert_int_eq(store_list(st, "nothing-here/", on_key, &s, &err), 0);
	ck_assert_int_eq(s.calls, 0);
}
END_TEST

START_TEST(test_store_check_and_bad_root)
{
	struct error err;
	ck_assert_int_eq(store_check(st, &err), 0);
	struct store *other = NULL;
	struct config c3 = cfg;
	snprintf(c3.store_path, sizeof(c3.store_path), "relative/path");
	ck_assert_int_eq(store_open(&other, &c3, &err), SKIFF_EINVALID);
	ck_assert_ptr_null(other);
	struct config c4 = cfg;
	snprintf(c4.store, sizeof(c4.store), "ftp");
	ck_assert_int_eq(store_open(&other, &c4, &err), SKIFF_EINVALID);
	ck_assert_ptr_null(other);
	store_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_blob_put_exists_path);
	tcase_add_test(tc, test_store_blob_serve_path);
	tcase_add_test(tc, test_store_blob_written_once);
	tcase_add_test(tc, test_store_blob_hash_mismatch_rejected);
	tcase_add_test(tc, test_store_blob_invalid_hash);
	tcase_add_test(tc, test_store_blob_delete);
	tcase_add_test(tc, test_store_object_roundtrip);
	tcase_add_test(tc, test_store_object_get_limit);
	tcase_add_test(tc, test_store_object_bad_keys);
	tcase_add_test(tc, test_store_list);
	tcase_add_test(tc, test_store_check_and_bad_root);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
