/* check_store.c — the store through its backend table: the file backend's blobs written once
 * and atomically, manifests and logs by deployment id in the layout existing stores have,
 * listing by hash and id, no temp files left behind; bad hashes and ids refused before any
 * backend sees them, by the file and the s3 backend alike. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
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
#include "teststore.h"

static char root[64];
static struct config cfg;
static struct store *st;

static void setup(void)
{
	teststore_open(root, sizeof(root), "check_store", &cfg, &st);
}

static void teardown(void)
{
	teststore_close(&st, root);
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
	ck_assert_int_eq(store_blob_serve_path(st, hash, -1, path, &err), 0);
	snprintf(want, sizeof(want), "%s/store/blobs/%.2s/%s", root, hash, hash);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(store_blob_serve_path(st, "../../etc/passwd", -1, path, &err), SKIFF_EINVALID);
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

/* What is not a SHA-256 in lowercase hex never reaches a backend. */
static void assert_hashes_refused(struct store *s, const char *src)
{
	static const char *const bad[] = {
		"", "abc", "../../../../etc/passwd",
		"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
		"../23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	};
	char path[STORE_PATH_MAX];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct error err;
		ck_assert_int_eq(store_hash_valid(bad[i]), 0);
		ck_assert_int_eq(store_blob_exists(s, bad[i], &err), SKIFF_EINVALID);
		ck_assert_int_eq(store_blob_put(s, bad[i], src, NULL, &err), SKIFF_EINVALID);
		ck_assert_int_eq(store_blob_path(s, bad[i], path, &err), SKIFF_EINVALID);
		ck_assert_int_eq(store_blob_serve_path(s, bad[i], -1, path, &err), SKIFF_EINVALID);
		ck_assert_int_eq(store_blob_delete(s, bad[i], &err), SKIFF_EINVALID);
		struct store_upload u[2] = {
			{ .hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			  .path = src },
			{ .hash = bad[i], .path = src },
		};
		ck_assert_int_eq(store_blobs_put(s, u, 2, &err), SKIFF_EINVALID);
		ck_assert(!u[0].uploaded && !u[1].uploaded);
	}
}

START_TEST(test_store_blob_invalid_hash)
{
	char src[256];
	write_src("a.txt", "x", src);
	assert_hashes_refused(st, src);
	ck_assert_int_eq(store_hash_valid(NULL), 0);
	ck_assert_int_eq(
		store_hash_valid("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), 1);
	ck_assert_uint_eq(count_dir("blobs"), 0);
}
END_TEST

START_TEST(test_store_blobs_put_batch)
{
	struct error err;
	char src[2][256], hash[2][HASH_HEX_LEN + 1];
	write_src("a.txt", "batch one", src[0]);
	write_src("b.txt", "batch two!", src[1]);
	hash_buffer("batch one", 9, hash[0]);
	hash_buffer("batch two!", 10, hash[1]);
	ck_assert_int_eq(store_blob_put(st, hash[0], src[0], NULL, &err), 0);
	struct store_upload u[2] = { { .hash = hash[0], .path = src[0] },
				     { .hash = hash[1], .path = src[1] } };
	ck_assert_int_eq(store_blobs_put(st, u, 2, &err), 0);
	/* only what the store lacked was stored, and counted */
	ck_assert(!u[0].uploaded && u[1].uploaded);
	ck_assert_uint_eq(u[0].bytes, 0);
	ck_assert_uint_eq(u[1].bytes, 10);
	ck_assert_int_eq(store_blob_exists(st, hash[1], &err), 1);
	ck_assert_int_eq(store_blobs_put(st, u, 2, &err), 0);
	ck_assert(!u[0].uploaded && !u[1].uploaded);
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

#define ID_A "abcdefghijkl"
#define ID_B "mnopqrstuv23"

START_TEST(test_store_manifest_roundtrip)
{
	struct error err;
	struct buf b = BUF_INIT(1 << 20);
	const char *doc = "{\"version\":1}";
	ck_assert_int_eq(store_manifest_get(st, ID_A, &b, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(store_manifest_put(st, ID_A, doc, strlen(doc), &err), 0);
	ck_assert_int_eq(store_manifest_get(st, ID_A, &b, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), doc);
	/* the layout existing stores have: manifests/{id}.json */
	char path[256];
	snprintf(path, sizeof(path), "%s/store/manifests/" ID_A ".json", root);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* overwrite is atomic and complete */
	buf_reset(&b);
	ck_assert_int_eq(store_manifest_put(st, ID_A, "{}", 2, &err), 0);
	ck_assert_int_eq(store_manifest_get(st, ID_A, &b, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), "{}");
	/* a log of the same id is another object */
	buf_reset(&b);
	ck_assert_int_eq(store_log_get(st, ID_A, &b, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(store_manifest_delete(st, ID_A, &err), 0);
	ck_assert_int_eq(store_manifest_get(st, ID_A, &b, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(store_manifest_delete(st, ID_A, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_uint_eq(count_dir("tmp"), 0);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_store_log_roundtrip_and_limit)
{
	struct error err;
	struct buf b = BUF_INIT(4);
	ck_assert_int_eq(store_log_put(st, ID_B, "0123456789", 10, &err), 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/store/logs/" ID_B ".log", root);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(store_log_get(st, ID_B, &b, &err), SKIFF_ELIMIT);
	buf_dispose(&b);
	b = (struct buf)BUF_INIT(64);
	ck_assert_int_eq(store_log_get(st, ID_B, &b, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), "0123456789");
	ck_assert_int_eq(store_log_delete(st, ID_B, &err), 0);
	ck_assert_int_eq(store_log_delete(st, ID_B, &err), SKIFF_ENOTFOUND);
	buf_dispose(&b);
}
END_TEST

/* What is not a deployment id never reaches a backend. */
static void assert_ids_refused(struct store *s)
{
	static const char *const bad[] = {
		"", "..", "../x", "../abcdefghi", "abcdefghijk", "abcdefghijklm", "ABCDEFGHIJKL",
		"abcdefghij/l", "abcdefghij.l", "abcdefghij1l", "/etc/passwd", "abcdef\nhijkl",
	};
	struct buf b = BUF_INIT(1024);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct error err;
		ck_assert_msg(store_manifest_put(s, bad[i], "x", 1, &err) == SKIFF_EINVALID,
			      "manifest put accepted '%s'", bad[i]);
		ck_assert_int_eq(store_manifest_get(s, bad[i], &b, &err), SKIFF_EINVALID);
		ck_assert_int_eq(store_manifest_delete(s, bad[i], &err), SKIFF_EINVALID);
		ck_assert_msg(store_log_put(s, bad[i], "x", 1, &err) == SKIFF_EINVALID,
			      "log put accepted '%s'", bad[i]);
		ck_assert_int_eq(store_log_get(s, bad[i], &b, &err), SKIFF_EINVALID);
		ck_assert_int_eq(store_log_delete(s, bad[i], &err), SKIFF_EINVALID);
	}
	struct error err;
	ck_assert_int_eq(store_manifest_get(s, NULL, &b, &err), SKIFF_EINVALID);
	buf_dispose(&b);
}

START_TEST(test_store_bad_ids)
{
	assert_ids_refused(st);
	/* nothing was written: the store still holds only its own directories, all empty */
	ck_assert_uint_eq(count_dir(""), 4);
	ck_assert_uint_eq(count_dir("manifests"), 0);
	ck_assert_uint_eq(count_dir("logs"), 0);
	ck_assert_uint_eq(count_dir("tmp"), 0);
}
END_TEST

struct seen {
	int calls, stop_after;
	char names[8][HASH_HEX_LEN + 1];
};

static int on_name(const char *name, long long age_s, void *ctx)
{
	struct seen *s = ctx;
	ck_assert_int_ge(age_s, 0);
	ck_assert_int_lt(s->calls, 8);
	snprintf(s->names[s->calls++], sizeof(s->names[0]), "%s", name);
	return s->stop_after && s->calls >= s->stop_after;
}

static bool seen_has(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->calls; i++)
		if (!strcmp(s->names[i], name))
			return true;
	return false;
}

/* Writes a file that the store did not write at path (under the store) */
static void write_foreign(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/store/%s", root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	mkdir(path, 0755);
	*slash = '/';
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
}

START_TEST(test_store_list)
{
	struct error err;
	char src[256], hash[3][HASH_HEX_LEN + 1];
	const char *contents[] = { "one", "two", "three" };
	for (int i = 0; i < 3; i++) {
		write_src("f", contents[i], src);
		hash_buffer(contents[i], strlen(contents[i]), hash[i]);
		ck_assert_int_eq(store_blob_put(st, hash[i], src, NULL, &err), 0);
	}
	ck_assert_int_eq(store_manifest_put(st, ID_A, "{}", 2, &err), 0);
	ck_assert_int_eq(store_manifest_put(st, ID_B, "{}", 2, &err), 0);
	ck_assert_int_eq(store_log_put(st, ID_B, "log\n", 4, &err), 0);
	/* files the store did not write are not blobs, manifests or logs */
	write_foreign("manifests/notes.txt");
	write_foreign("manifests/abcdefghijkl.json.bak");
	write_foreign("logs/ABCDEFGHIJKL.log");
	write_foreign("blobs/00/short");
	char misplaced[128];
	snprintf(misplaced, sizeof(misplaced), "blobs/00/%s", hash[0]);
	write_foreign(misplaced);
	struct seen s = { 0 };
	ck_assert_int_eq(store_blob_list(st, on_name, &s, &err), 0);
	ck_assert_int_eq(s.calls, 3);
	for (int i = 0; i < 3; i++)
		ck_assert(seen_has(&s, hash[i]));
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_manifest_list(st, on_name, &s, &err), 0);
	ck_assert_int_eq(s.calls, 2);
	ck_assert(seen_has(&s, ID_A) && seen_has(&s, ID_B));
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_log_list(st, on_name, &s, &err), 0);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_str_eq(s.names[0], ID_B);
	/* the callback stops the walk */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	ck_assert_int_eq(store_blob_list(st, on_name, &s, &err), 0);
	ck_assert_int_eq(s.calls, 1);
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

/* ---- the s3 backend through the same table, against a bucket nobody answers for ---- */

static struct config s3cfg;

static void s3_setup(void)
{
	testfs_tmpdir(root, sizeof(root), "check_store_s3");
	config_defaults(&s3cfg);
	snprintf(s3cfg.store, sizeof(s3cfg.store), "s3");
	snprintf(s3cfg.s3_endpoint, sizeof(s3cfg.s3_endpoint), "http://127.0.0.1:1");
	snprintf(s3cfg.s3_bucket, sizeof(s3cfg.s3_bucket), "sites");
	snprintf(s3cfg.s3_access_key, sizeof(s3cfg.s3_access_key), "AKIATEST");
	snprintf(s3cfg.s3_secret_key, sizeof(s3cfg.s3_secret_key), "test-secret");
	s3cfg.s3_retries = 0;
	s3cfg.s3_timeout = 2;
	snprintf(s3cfg.cache_path, sizeof(s3cfg.cache_path), "%s/cache///", root);
	struct error err;
	ck_assert_msg(store_open(&st, &s3cfg, &err) == 0, "%s", err.message);
}

START_TEST(test_store_s3_refuses_bad_names_before_asking)
{
	char src[256];
	write_src("a.txt", "x", src);
	assert_hashes_refused(st, src);
	assert_ids_refused(st);
	/* the same calls with good names do reach the (absent) bucket */
	struct error err;
	struct buf b = BUF_INIT(64);
	int rc = store_manifest_get(st, ID_A, &b, &err);
	ck_assert_msg(rc < 0 && rc != SKIFF_EINVALID && rc != SKIFF_ENOTFOUND, "rc %d", rc);
	rc = store_blob_exists(st, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			       &err);
	ck_assert_msg(rc < 0 && rc != SKIFF_EINVALID, "rc %d", rc);
	ck_assert_int_lt(store_check(st, &err), 0);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_store_s3_sendfile_root_and_config)
{
	char want[128];
	snprintf(want, sizeof(want), "%s/cache", root);
	ck_assert_str_eq(store_sendfile_root(st), want);
	struct store *other = NULL;
	struct error err;
	struct config c = s3cfg;
	snprintf(c.cache_path, sizeof(c.cache_path), "cache");
	ck_assert_int_eq(store_open(&other, &c, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_config");
	ck_assert_ptr_null(other);
	c = s3cfg;
	c.s3_bucket[0] = '\0';
	ck_assert_int_eq(store_open(&other, &c, &err), SKIFF_EINVALID);
	ck_assert_ptr_null(other);
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
	tcase_add_test(tc, test_store_blobs_put_batch);
	tcase_add_test(tc, test_store_manifest_roundtrip);
	tcase_add_test(tc, test_store_log_roundtrip_and_limit);
	tcase_add_test(tc, test_store_bad_ids);
	tcase_add_test(tc, test_store_list);
	tcase_add_test(tc, test_store_check_and_bad_root);
	suite_add_tcase(s, tc);
	TCase *t3 = tcase_create("s3");
	tcase_add_checked_fixture(t3, s3_setup, teardown);
	tcase_add_test(t3, test_store_s3_refuses_bad_names_before_asking);
	tcase_add_test(t3, test_store_s3_sendfile_root_and_config);
	suite_add_tcase(s, t3);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
