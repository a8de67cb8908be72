/* check_fastpath.c — what a repository's file names and _headers values may put into a fast
 * path tree (lib/fastpath.c): entries only for the paths the web server's script serves, and
 * none whose header would break the tab-separated line the script splits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fastpath.h"
#include "manifest.h"
#include "rules.h"
#include "rules_match.h"
#include "store.h"
#include "testfs.h"

#define DEP "abcdefgh2345"
#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char root[64];
static struct config cfg;
static struct store *st;

static void setup(void)
{
	testfs_tmpdir(root, sizeof(root), "check_fastpath");
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

/* A manifest of the given paths (NULL-terminated), all of one blob, with headers_text as the
 * deployment's _headers. */
static struct manifest *fx_manifest(const char *const *paths, const char *headers_text)
{
	json_t *files = json_object(), *headers = NULL;
	for (const char *const *p = paths; *p; p++)
		json_object_set_new(files, *p, json_pack("{s:s,s:i}", "hash", HASH, "size", 5));
	ck_assert_int_eq(rules_headers_parse(headers_text, strlen(headers_text), &headers, NULL,
					     NULL), 0);
	json_t *doc = json_pack("{s:i,s:s,s:I,s:o,s:{s:o}}", "version", 1, "deployment", DEP,
				"created", (json_int_t)1732270000000LL, "files", files, "config",
				"headers", headers);
	char *text = json_dumps(doc, JSON_COMPACT);
	struct manifest *m = NULL;
	struct error err;
	ck_assert_msg(manifest_parse(text, strlen(text), &m, &err) == 0, "%s", err.message);
	ck_assert_int_eq(rules_compile(m->config, &m->rules, NULL), 0);
	free(text);
	json_decref(doc);
	return m;
}

/* 1 when the tree of DEP has an entry file named rel. */
static int fx_entry(const char *rel)
{
	char p[512];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/fp/deployments/" DEP "/%s", root, rel);
	return lstat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The file's whole content, "" when there is none. */
static const char *fx_read(const char *path)
{
	static char buf[1024];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The host suffix lighttpd's script reads: the port only when it is not 0 or 80, replaced when
 * the settings change, and a link planted in its place is replaced, not written through. */
START_TEST(test_fastpath_suffix)
{
	char dir[128], path[160], outside[160];
	snprintf(dir, sizeof(dir), "%s/fp", root);
	snprintf(path, sizeof(path), "%s/suffix", dir);
	struct error err;
	ck_assert_msg(fastpath_suffix(dir, "example.com", 0, &err) == 0, "%s", err.message);
	ck_assert_str_eq(fx_read(path), ".example.com\n");
	ck_assert_int_eq(fastpath_suffix(dir, "example.com", 80, &err), 0);
	ck_assert_str_eq(fx_read(path), ".example.com\n");
	ck_assert_int_eq(fastpath_suffix(dir, "sites.test", 8080, &err), 0);
	ck_assert_str_eq(fx_read(path), ".sites.test:8080\n");
	snprintf(outside, sizeof(outside), "%s/outside", root);
	FILE *f = fopen(outside, "w");
	ck_assert_ptr_nonnull(f);
	fputs("keep\n", f);
	fclose(f);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(outside, path), 0);
	ck_assert_int_eq(fastpath_suffix(dir, "example.com", 0, &err), 0);
	ck_assert_str_eq(fx_read(outside), "keep\n");
	struct stat sb;
	ck_assert_int_eq(lstat(path, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_str_eq(fx_read(path), ".example.com\n");
}
END_TEST

/* The tree's entry file rel, "" when there is none. */
static const char *fx_line(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/fp/deployments/" DEP "/%s", root, rel);
	return fx_read(p);
}

/* Only [A-Za-z0-9._~/-] paths without "//" or a segment starting with '.'. */
START_TEST(test_fastpath_path_ok)
{
	static const char *const good[] = { "/", "/a.html", "/docs/", "/a-b_c~d.E9/x.js", NULL };
	static const char *const bad[] = {
		"", "a.html", "//a", "/a//b", "/.env", "/a/.git/config", "/a/../b", "/..", "/a b",
		"/a%2fb", "/a\tb", "/a\nb", "/a\"b", "/a'b", "/a;b", "/a?b", "/a#b", "/a@", "/a\\b",
		"/\xc3\xa9", "/a:b", "/$(id)", NULL,
	};
	for (const char *const *p = good; *p; p++)
		ck_assert_msg(fastpath_path_ok(*p), "refused '%s'", *p);
	for (const char *const *p = bad; *p; p++)
		ck_assert_msg(!fastpath_path_ok(*p), "accepted '%s'", *p);
	char longp[4200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	ck_assert(!fastpath_path_ok(longp));
}
END_TEST

/* A hostile repository's file names and _headers values get no entry; its plain files do. */
START_TEST(test_fastpath_hostile_entries)
{
	static const char *const paths[] = {
		"/ok.txt", "/a b.txt", "/.well-known/x.txt", "/semi;colon.txt", "/tab.txt",
		"/quote.txt", NULL,
	};
	struct manifest *m = fx_manifest(
		paths,
		/* a tab in a value would add fields (a header of its own) to the entry's line */
		"/tab.txt\n  X-Evil: a\tContent-Type\ttext/x-evil\n"
		"/quote.txt\n  X-Quoted: \"]] os.execute('id') --[[\n");
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/fp", root);
	struct error err;
	ck_assert_msg(fastpath_build(dir, m, st, &err) == 0, "%s", err.message);
	ck_assert(fx_entry("ok.txt@"));
	ck_assert(!fx_entry("a b.txt@"));
	ck_assert(!fx_entry(".well-known/x.txt@"));
	ck_assert(!fx_entry("semi;colon.txt@"));
	ck_assert_msg(!fx_entry("tab.txt@"), "an entry for a header value with a tab");
	/* a value the line can carry: it is data to the script, sent as it is */
	ck_assert(fx_entry("quote.txt@"));
	manifest_free(m);
}
END_TEST

/* Apache's entries ({path}@a): the answer in fixed fields, then only the headers its
 * configuration sets by name; a path with any other header has none. */
START_TEST(test_fastpath_apache_entries)
{
	static const char *const paths[] = {
		"/plain.txt", "/framed.txt", "/custom.txt", "/lower.txt", NULL,
	};
	struct manifest *m = fx_manifest(
		paths,
		"/framed.txt\n  X-Frame-Options: DENY\n"
		"/custom.txt\n  X-Custom: 1\n"
		"/lower.txt\n  content-security-policy: default-src 'self'\n");
	char dir[128], want[1024];
	snprintf(dir, sizeof(dir), "%s/fp", root);
	struct error err;
	ck_assert_msg(fastpath_build(dir, m, st, &err) == 0, "%s", err.message);
	snprintf(want, sizeof(want),
		 "0\ttext/plain; charset=utf-8\t" HASH "\t%s/store/blobs/01/" HASH
		 "\t5\t-\t-\t-\t-\t-\t-\tpublic, max-age=0, must-revalidate"
		 "\tFri, 22 Nov 2024 10:06:40 GMT\n",
		 root);
	ck_assert_str_eq(fx_line("plain.txt@a"), want);
	/* lighttpd's: the format, then each blob with its size, which the script compares with
	 * the file's before it sends it */
	char lead[512];
	snprintf(lead, sizeof(lead),
		 "2\t0\ttext/plain; charset=utf-8\t" HASH "\t%s/store/blobs/01/" HASH
		 "\t5\t-\t-\t-\t-\t-\t-\t", root);
	ck_assert_msg(!strncmp(fx_line("plain.txt@"), lead, strlen(lead)), "%s", fx_line("plain.txt@"));
	want[strlen(want) - 1] = '\0';
	ck_assert_str_eq(fx_line("framed.txt@a"), strcat(want, "\tX-Frame-Options\tDENY\n"));
	ck_assert_msg(strstr(fx_line("lower.txt@a"),
			     "\tContent-Security-Policy\tdefault-src 'self'\n"),
		      "the name as the configuration spells it: %s", fx_line("lower.txt@a"));
	/* skiff-serve's entries stay: lighttpd serves these */
	ck_assert(fx_entry("custom.txt@"));
	ck_assert_msg(!fx_entry("custom.txt@a"), "a header Apache's configuration cannot set");
	manifest_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fastpath");
	TCase *tc = tcase_create("fastpath");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fastpath_path_ok);
	tcase_add_test(tc, test_fastpath_hostile_entries);
	tcase_add_test(tc, test_fastpath_suffix);
	tcase_add_test(tc, test_fastpath_apache_entries);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
