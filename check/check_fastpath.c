/* check_fastpath.c — what a repository's file names and _headers values may put into a fast
 * path tree (lib/fastpath.c): entries only for the paths the web server's script serves, and
 * none whose header would break the tab-separated line the script splits; and several processes
 * linking and dropping one site at once leave a link that always reaches a whole tree. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fastpath.h"
#include "fastpath_match.h"
#include "manifest.h"
#include "rules.h"
#include "rules_match.h"
#include "store.h"
#include "testfs.h"
#include "teststore.h"

#define DEP "abcdefgh2345"
#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char root[64];
static struct config cfg;
static struct store *st;

static void setup(void)
{
	teststore_open(root, sizeof(root), "check_fastpath", &cfg, &st);
}

static void teardown(void)
{
	teststore_close(&st, root);
}

/* The manifest doc (which this takes) stands for, its rules compiled. */
static struct manifest *fx_parse(json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	struct manifest *m = NULL;
	struct error err;
	ck_assert_msg(manifest_parse(text, strlen(text), &m, &err) == 0, "%s", err.message);
	ck_assert_int_eq(rules_compile(m->config, &m->rules, NULL), 0);
	free(text);
	json_decref(doc);
	return m;
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
	return fx_parse(doc);
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
START_TEST(test_fastpath_match_path)
{
	static const char *const good[] = { "/", "/a.html", "/docs/", "/a-b_c~d.E9/x.js", NULL };
	static const char *const bad[] = {
		"", "a.html", "//a", "/a//b", "/.env", "/a/.git/config", "/a/../b", "/..", "/a b",
		"/a%2fb", "/a\tb", "/a\nb", "/a\"b", "/a'b", "/a;b", "/a?b", "/a#b", "/a@", "/a\\b",
		"/\xc3\xa9", "/a:b", "/$(id)", NULL,
	};
	for (const char *const *p = good; *p; p++)
		ck_assert_msg(fastpath_match_path(*p, strlen(*p)), "refused '%s'", *p);
	for (const char *const *p = bad; *p; p++)
		ck_assert_msg(!fastpath_match_path(*p, strlen(*p)), "accepted '%s'", *p);
	char longp[4200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	ck_assert(!fastpath_match_path(longp, strlen(longp)));
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

/* ---- several processes linking and dropping one site at once --------------------------- */

#define RACE_DEPS 3             /* deployments the linkers switch between */
#define RACE_FILES 16           /* files of each, besides /which.txt */
#define RACE_LINKERS 4
#define RACE_ROUNDS 100         /* switches (or drops) per linker */

/* What the reader saw, shared with the processes of the test. */
struct race_log {
	int failed;
	char why[256];
	long trees, retired, nolink, gone;
};

static struct race_log *race_log;

__attribute__((format(printf, 1, 2)))
static void race_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (__atomic_exchange_n(&race_log->failed, 1, __ATOMIC_SEQ_CST) == 0)
		vsnprintf(race_log->why, sizeof(race_log->why), fmt, ap);
	va_end(ap);
}

/* The hash of deployment k's /which.txt: how a reader tells the trees apart. */
static void race_hash(int k, char out[65])
{
	memset(out, 'a' + k, 64);
	out[64] = '\0';
}

static const char *race_id(int k)
{
	static const char *const ids[RACE_DEPS] = { "racea2345672", "raceb2345672", "racec2345672" };
	return ids[k];
}

/* Deployment k: /which.txt naming k, and RACE_FILES files of its own under /k{k}/. */
static struct manifest *race_manifest(int k)
{
	char which[65], path[64];
	race_hash(k, which);
	json_t *files = json_object();
	json_object_set_new(files, "/which.txt", json_pack("{s:s,s:i}", "hash", which, "size", 5));
	for (int j = 0; j < RACE_FILES; j++) {
		snprintf(path, sizeof(path), "/k%d/f%02d.txt", k, j);
		json_object_set_new(files, path, json_pack("{s:s,s:i}", "hash", HASH, "size", 5));
	}
	json_t *doc = json_pack("{s:i,s:s,s:I,s:o}", "version", 1, "deployment", race_id(k),
				"created", (json_int_t)1732270000000LL, "files", files);
	return fx_parse(doc);
}

/* Whether the directory open as fd has been retired: moved aside or removed by a switch. */
static bool race_retired(int fd)
{
	char proc[64], where[1024];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, where, sizeof(where) - 1);
	if (n < 0)
		return false;
	where[n] = '\0';
	return strstr(where, "/.gone.") || strstr(where, " (deleted)");
}

/* Whether the tree open as fd is one deployment's, whole: every file of the deployment
 * /which.txt names. Else what is missing into why. */
static bool race_whole(int fd, char *why, size_t size)
{
	char line[256], which[65], name[64];
	int efd = openat(fd, "which.txt@", O_RDONLY | O_CLOEXEC);
	ssize_t n = efd < 0 ? -1 : read(efd, line, sizeof(line) - 1);
	int e = errno;
	if (efd >= 0)
		close(efd);
	if (n <= 0) {
		snprintf(why, size, "which.txt@: %s", n < 0 ? strerror(e) : "empty");
		return false;
	}
	line[n] = '\0';
	int k = -1;
	for (int i = 0; i < RACE_DEPS; i++) {
		race_hash(i, which);
		if (strstr(line, which))
			k = i;
	}
	if (k < 0) {
		snprintf(why, size, "an entry of no deployment: %s", line);
		return false;
	}
	for (int j = 0; j < RACE_FILES; j++) {
		struct stat sb;
		snprintf(name, sizeof(name), "k%d/f%02d.txt@", k, j);
		if (fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			snprintf(why, size, "%s of %s: %s", name, race_id(k), strerror(errno));
			return false;
		}
	}
	return true;
}

/* One look through the site's link, as the web server's script takes it: the tree it reaches
 * is one deployment's and whole, or it was retired by a switch after the link was followed
 * (its files then go as the tree is removed). With no drops, the link is always there. Every
 * fourth look holds the links' lock (lib/fastpath.h), shared: between switches the link names
 * a tree, and that tree is whole. */
static void race_look(const char *dir, bool drops, long round)
{
	char link[300], sites[256], why[600];
	struct stat sb;
	snprintf(sites, sizeof(sites), "%s/sites", dir);
	snprintf(link, sizeof(link), "%s/site", sites);
	int lock = -1;
	if (round % 4 == 0) {
		lock = open(sites, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lock < 0 || flock(lock, LOCK_SH) < 0) {
			race_fail("the links' lock: %s", strerror(errno));
			if (lock >= 0)
				close(lock);
			return;
		}
	}
	int fd = open(link, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (lstat(link, &sb) < 0 && !drops)
			race_fail("no link at a moment: %s", strerror(e));
		else if (lstat(link, &sb) < 0)
			race_log->nolink++;
		else if (lock >= 0)
			race_fail("the link names a tree that is gone (%s)", strerror(e));
		else
			race_log->gone++;      /* followed just as it was switched */
	} else if (race_whole(fd, why, sizeof(why))) {
		race_log->trees++;
	} else if (lock < 0 && race_retired(fd)) {
		race_log->retired++;
	} else {
		race_fail("a live tree without %s", why);
	}
	if (fd >= 0)
		close(fd);
	if (lock >= 0)
		close(lock);
}

/* Linker w: RACE_ROUNDS times, builds a deployment's tree and links the site to it, as
 * skiff-serve does, each linker toward other deployments; with drops, every fourth round
 * drops the site instead, as a promote or rollback does. */
static int race_linker(const char *dir, struct manifest *const *m, int w, bool drops)
{
	struct error err;
	for (int i = 0; i < RACE_ROUNDS; i++) {
		int k = (w + i) % RACE_DEPS;
		if (drops && (i + w) % 4 == 0) {
			fastpath_drop(dir, "site");
			continue;
		}
		if (fastpath_publish(dir, "site", m[k], st, &err) < 0) {
			race_fail("linker failed: %s", err.message);
			return 1;
		}
	}
	return 0;
}

/* Runs RACE_LINKERS linkers and a reader at once, then checks what is left: the link names a
 * whole tree, and it is the only tree (none left behind, no temporary link or tree). */
static void race_run(bool drops)
{
	char dir[128], sites[160], deps[160], link[200], want[128];
	struct manifest *m[RACE_DEPS];
	struct error err;
	snprintf(dir, sizeof(dir), "%s/fp", root);
	for (int k = 0; k < RACE_DEPS; k++)
		m[k] = race_manifest(k);
	race_log = mmap(NULL, sizeof(*race_log), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	ck_assert(race_log != MAP_FAILED);
	ck_assert_msg(fastpath_build(dir, m[0], st, &err) == 0, "%s", err.message);
	ck_assert_msg(fastpath_link(dir, "site", race_id(0), &err) == 0, "%s", err.message);
	pid_t reader = fork();
	ck_assert_int_ge(reader, 0);
	if (reader == 0) {
		long round = 0;
		while (!__atomic_load_n(&race_log->failed, __ATOMIC_SEQ_CST) &&
		       getppid() != 1 && access(root, F_OK) == 0) {
			char stop[128];
			snprintf(stop, sizeof(stop), "%s/stop", root);
			if (access(stop, F_OK) == 0)
				_exit(0);
			race_look(dir, drops, round++);
		}
		_exit(0);
	}
	pid_t linkers[RACE_LINKERS];
	for (int w = 0; w < RACE_LINKERS; w++) {
		linkers[w] = fork();
		ck_assert_int_ge(linkers[w], 0);
		if (linkers[w] == 0)
			_exit(race_linker(dir, m, w, drops));
	}
	for (int w = 0; w < RACE_LINKERS; w++) {
		int status;
		ck_assert_int_eq(waitpid(linkers[w], &status, 0), linkers[w]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "linker %d: %s", w,
			      race_log->why);
	}
	char stop[128];
	snprintf(stop, sizeof(stop), "%s/stop", root);
	FILE *f = fopen(stop, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(waitpid(reader, NULL, 0), reader);
	ck_assert_msg(!race_log->failed, "%s", race_log->why);
	ck_assert_msg(race_log->trees > 100, "the reader looked %ld times", race_log->trees);
	/* what is left: the link (if any) and the one tree it names */
	snprintf(sites, sizeof(sites), "%s/sites", dir);
	snprintf(deps, sizeof(deps), "%s/deployments", dir);
	snprintf(link, sizeof(link), "%s/site", sites);
	want[0] = '\0';
	char target[128];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n >= 0) {
		target[n] = '\0';
		const char *id = strrchr(target, '/');
		snprintf(want, sizeof(want), "%s", id ? id + 1 : target);
		struct stat sb;
		ck_assert_msg(stat(link, &sb) == 0 && S_ISDIR(sb.st_mode),
			      "the link names %s, which is gone", target);
	} else {
		ck_assert_msg(drops, "no link left, with no drops");
	}
	DIR *d = opendir(deps);
	ck_assert_ptr_nonnull(d);
	struct dirent *de;
	int trees = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ck_assert_msg(!strcmp(de->d_name, want), "left behind: deployments/%s (linked: %s)",
			      de->d_name, want[0] ? want : "none");
		trees++;
	}
	closedir(d);
	ck_assert_int_eq(trees, want[0] ? 1 : 0);
	d = opendir(sites);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		ck_assert_msg(!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
			      !strcmp(de->d_name, "site"), "left behind: sites/%s", de->d_name);
	closedir(d);
	for (int k = 0; k < RACE_DEPS; k++)
		manifest_free(m[k]);
	munmap(race_log, sizeof(*race_log));
}

/* A tree removed between its build and its link (by another process's switch) is never
 * linked: fastpath_link refuses it, fastpath_publish builds it again. */
START_TEST(test_fastpath_link_gone)
{
	char dir[128], tree[192], link[192];
	struct manifest *m = race_manifest(0);
	struct error err;
	struct stat sb;
	snprintf(dir, sizeof(dir), "%s/fp", root);
	snprintf(tree, sizeof(tree), "%s/deployments/%s", dir, race_id(0));
	snprintf(link, sizeof(link), "%s/sites/site", dir);
	ck_assert_msg(fastpath_build(dir, m, st, &err) == 0, "%s", err.message);
	testfs_rmtree(tree);
	ck_assert_int_eq(fastpath_link(dir, "site", race_id(0), &err), SKIFF_EGONE);
	ck_assert_msg(lstat(link, &sb) < 0, "a link to a removed tree");
	ck_assert_msg(fastpath_publish(dir, "site", m, st, &err) == 0, "%s", err.message);
	ck_assert_msg(stat(link, &sb) == 0 && S_ISDIR(sb.st_mode), "no tree behind the link");
	ck_assert_int_eq(fastpath_linked(dir, "site", race_id(0)), 1);
	manifest_free(m);
}
END_TEST

/* Skiff-serve processes link the site at once, each toward another deployment (a promote
 * seen by some before others): the link is always there and reaches a whole tree. */
START_TEST(test_fastpath_race_links)
{
	race_run(false);
}
END_TEST

/* ... while promotes and rollbacks drop the link meanwhile. */
START_TEST(test_fastpath_race_drops)
{
	race_run(true);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fastpath");
	TCase *tc = tcase_create("fastpath");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fastpath_match_path);
	tcase_add_test(tc, test_fastpath_hostile_entries);
	tcase_add_test(tc, test_fastpath_suffix);
	tcase_add_test(tc, test_fastpath_apache_entries);
	tcase_add_test(tc, test_fastpath_link_gone);
	tcase_add_test(tc, test_fastpath_race_links);
	tcase_add_test(tc, test_fastpath_race_drops);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
