/* testfs.h — temporary directories and files for Check tests: one private tree per test,
 * removed whole afterwards. Header-only, included by the test files that need it. */
#ifndef SKIFF_TESTFS_H
#define SKIFF_TESTFS_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int testfs_rm_entry(const char *p, const struct stat *s, int t, struct FTW *f)
{
	(void)s;
	(void)t;
	(void)f;
	return remove(p);
}

/* A fresh directory /tmp/{name}.XXXXXX into out. */
static __attribute__((unused)) void testfs_tmpdir(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "/tmp/%s.XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(out));
}

/* Removes dir and everything below it, never following a symlink. */
static __attribute__((unused)) void testfs_rmtree(const char *dir)
{
	nftw(dir, testfs_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes text to dir/rel. */
static __attribute__((unused)) void testfs_put(const char *dir, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Creates the directory dir/rel. */
static __attribute__((unused)) void testfs_mkdir(const char *dir, const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

#endif
