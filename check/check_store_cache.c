/* check_store_cache.c — the local blob cache of the s3 backend: LRU eviction down to 80% of
 * the bound, entries in use kept, foreign files never counted or removed; an entry of the
 * wrong size is a miss unless its bytes are the blob's, which are hashed once per file. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_cache.h"
#include "testfs.h"

static char cache[64];

static void cache_setup(void)
{
	testfs_tmpdir(cache, sizeof(cache), "check_store_cache");
}

static void cache_teardown(void)
{
	testfs_rmtree(cache);
}

/* a cache entry of size bytes named after i, last used age_s seconds ago */
static void cache_entry(int i, size_t size, long age_s, char path[256])
{
	char dir[128], hash[65];
	snprintf(hash, sizeof(hash), "%02x%062d", i, i);
	snprintf(dir, sizeof(dir), "%s/%.2s", cache, hash);
	mkdir(dir, 0755);
	snprintf(path, 256, "%s/%s", dir, hash);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t k = 0; k < size; k++)
		fputc('x', f);
	fclose(f);
	struct timespec ts[2] = { { time(NULL) - age_s, 0 }, { 0, UTIME_OMIT } };
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(test_store_cache_evicts_least_recently_used)
{
	char p[10][256];
	for (int i = 0; i < 10; i++)
		cache_entry(i, 1000, 1000 - i * 10, p[i]); /* 0 is the oldest */
	struct error err;
	/* 10,000 bytes over a 9,000 byte bound: down to 80% (7,200) = 3 oldest out */
	ck_assert_int_eq(store_cache_account(cache, 10000, 9000, 5, &err), 0);
	for (int i = 0; i < 10; i++)
		ck_assert_msg((access(p[i], F_OK) == 0) == (i >= 3), "entry %d", i);
	/* the usage counter now holds what is left */
	char usage[128], text[32] = "";
	snprintf(usage, sizeof(usage), "%s/.usage", cache);
	FILE *f = fopen(usage, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
	fclose(f);
	ck_assert_str_eq(text, "7000\n");
}
END_TEST

START_TEST(test_store_cache_keeps_entries_in_use)
{
	char p[4][256];
	for (int i = 0; i < 4; i++)
		cache_entry(i, 1000, 1, p[i]); /* all used a second ago */
	/* over the bound, but every entry is within the grace period: nothing goes */
	ck_assert_int_eq(store_cache_evict(cache, 1000, 30), 4000);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(access(p[i], F_OK), 0);
	/* with no grace, the bound wins */
	ck_assert_int_eq(store_cache_evict(cache, 2000, 0), 2000);
}
END_TEST

START_TEST(test_store_cache_under_bound_untouched)
{
	char p[256];
	cache_entry(1, 500, 5000, p);
	struct error err;
	ck_assert_int_eq(store_cache_account(cache, 500, 1000, 0, &err), 0);
	ck_assert_int_eq(access(p, F_OK), 0);
	/* foreign files in the cache directory are never counted or removed */
	char other[256];
	snprintf(other, sizeof(other), "%s/01/not-a-blob", cache);
	mkdir(other, 0755);
	ck_assert_int_eq(store_cache_evict(cache, 0, 0), 0);
	ck_assert_int_eq(access(other, F_OK), 0);
}
END_TEST

/* writes text as the cache entry of hash; its path into path */
static void cache_put(const char *hash, const char *text, char path[256])
{
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/%.2s", cache, hash);
	mkdir(dir, 0755);
	snprintf(path, 256, "%s/%s", dir, hash);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_store_cache_lookup_checks_size)
{
	static const char abc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	struct store_cache *c;
	char path[256], out[STORE_PATH_MAX];
	struct error err;
	store_cache_new(&c, cache, 1 << 20);
	cache_put(abc, "abc", path);
	ck_assert_int_eq(store_cache_lookup(c, abc, 3, out, &err), 1);
	ck_assert_str_eq(out, path);
	/* the right bytes under a wrong size (the manifest's error): still a hit, kept */
	ck_assert_int_eq(store_cache_lookup(c, abc, 4, out, &err), 1);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* hashed once, not on every request: while it is the same file (inode, size, mtime) a
	 * second lookup reads nothing, even when its bytes changed in place */
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	int fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "abd", 3, 0), 3);
	close(fd);
	struct timespec same[2] = { { 0, UTIME_OMIT }, st.st_mtim };
	ck_assert_int_eq(utimensat(AT_FDCWD, path, same, 0), 0);
	ck_assert_int_eq(store_cache_lookup(c, abc, 4, out, &err), 1);
	/* ... and once it is another file (a new mtime) it is hashed again: a miss, removed */
	struct timespec later[2] = { { 0, UTIME_OMIT }, { st.st_mtim.tv_sec + 5, 0 } };
	ck_assert_int_eq(utimensat(AT_FDCWD, path, later, 0), 0);
	ck_assert_int_eq(store_cache_lookup(c, abc, 4, out, &err), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	/* cut short on disk: a miss, and the file is gone (the fill puts the blob back) */
	cache_put(abc, "ab", path);
	ck_assert_int_eq(store_cache_lookup(c, abc, 3, out, &err), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	/* as long as the size is right, nothing is read: same-size damage is not looked for */
	cache_put(abc, "abd", path);
	ck_assert_int_eq(store_cache_lookup(c, abc, 3, out, &err), 1);
	store_cache_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_cache");
	TCase *tc = tcase_create("lru");
	tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
	tcase_add_test(tc, test_store_cache_evicts_least_recently_used);
	tcase_add_test(tc, test_store_cache_keeps_entries_in_use);
	tcase_add_test(tc, test_store_cache_under_bound_untouched);
	tcase_add_test(tc, test_store_cache_lookup_checks_size);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
