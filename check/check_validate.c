/* check_validate.c — edge validation: slugs, git URLs of every scheme, branch names, output
 * directories, build commands and slugs derived from URLs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "validate.h"

#include <arpa/inet.h>
#include <netdb.h>

/* Runs f on every case; reports all that disagree at once so one run shows every gap. */
#define CHECK_CASES(cases, call)                                                             \
	do {                                                                                 \
		char bad[4096] = "";                                                         \
		size_t used = 0;                                                             \
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {             \
			struct error err;                                                    \
			error_clear(&err);                                                   \
			const char *s = cases[i].s;                                          \
			int rc = call;                                                       \
			int ok = cases[i].ok ? rc == 0 : rc == SKIFF_EINVALID;               \
			if (!cases[i].ok && rc < 0 && !err.message[0])                       \
				ok = 0; /* a refusal always says why */                      \
			if (!ok && used < sizeof(bad) - 200)                                 \
				used += (size_t)snprintf(bad + used, sizeof(bad) - used,     \
							 "\n  '%.80s' %s (rc=%d %s)", s,     \
							 cases[i].ok ? "refused" : "accepted", \
							 rc, err.message);                   \
		}                                                                            \
		ck_assert_msg(used == 0, "wrong answers:%s", bad);                           \
	} while (0)

struct vcase {
	const char *s;
	int ok;
};

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- slugs ---------------------------------------------------------------- */

START_TEST(test_validate_slug_cases)
{
	static const struct vcase cases[] = {
		{ "a", 1 },
		{ "my-site", 1 },
		{ "site2", 1 },
		{ "0", 1 },
		{ "a-b-c", 1 },
		{ "", 0 },
		{ "My-site", 0 },
		{ "MYSITE", 0 },
		{ "-site", 0 },
		{ "site-", 0 },
		{ "-", 0 },
		{ "my--site", 0 },
		{ "my_site", 0 },
		{ "my.site", 0 },
		{ "my site", 0 },
		{ "my/site", 0 },
		{ "../x", 0 },
		{ "s\xc3\xbc" "d", 0 },      /* "süd" */
		{ "\xe2\x80\x8bsite", 0 },   /* zero-width space */
		{ "site\n", 0 },
	};
	CHECK_CASES(cases, validate_slug(s, &err));
}
END_TEST

START_TEST(test_validate_slug_length)
{
	struct error err;
	char *s63 = repeat('a', 63), *s64 = repeat('a', 64);
	ck_assert_int_eq(validate_slug(s63, &err), 0);
	ck_assert_int_eq(validate_slug(s64, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_slug");
	ck_assert_int_eq(validate_slug(NULL, &err), SKIFF_EINVALID);
	free(s63);
	free(s64);
}
END_TEST

START_TEST(test_validate_slug_error_name)
{
	struct error err;
	ck_assert_int_eq(validate_slug("a--b", &err), SKIFF_EINVALID);
	ck_assert_int_eq(err.code, SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_slug");
	ck_assert_ptr_nonnull(strstr(err.message, "--"));
}
END_TEST

/* ---- git URLs ------------------------------------------------------------- */

START_TEST(test_validate_git_url_production)
{
	static const struct vcase cases[] = {
		{ "https://github.com/owner/repo.git", 1 },
		{ "https://github.com/owner/repo", 1 },
		{ "https://gitlab.com/group/sub/repo.git", 1 },
		{ "https://git.example.com:8443/owner/repo.git", 1 },
		{ "https://codeberg.org/o/r", 1 },
		/* ssh, for deploy keys */
		{ "ssh://git@github.com/owner/repo.git", 1 },
		{ "ssh://github.com/owner/repo.git", 1 },
		{ "ssh://git@git.example.com:2222/owner/repo.git", 1 },
		{ "git@github.com:owner/repo.git", 1 },
		{ "org-123@ssh.dev.azure.com:v3/org/p/r", 1 },
		{ "git@github.com:/srv/repo.git", 1 },
		/* schemes other than https and ssh */
		{ "http://example.com/owner/repo.git", 0 },
		{ "git://github.com/owner/repo.git", 0 },
		{ "github.com:owner/repo.git", 0 },
		{ "file:///srv/git/repo", 0 },
		{ "file://localhost/srv/git/repo", 0 },
		{ "/srv/git/repo", 0 },
		{ "../repo", 0 },
		{ "ext::sh -c touch% /tmp/pwned", 0 },
		{ "ext::ssh", 0 },
		{ "fd::17", 0 },
		{ "ftp://example.com/repo.git", 0 },
		{ "https:/github.com/o/r", 0 },
		{ "httpsx://github.com/o/r", 0 },
		/* options smuggled as URLs */
		{ "-u", 0 },
		{ "-uhttps://github.com/o/r", 0 },
		{ "--upload-pack=touch /tmp/x", 0 },
		{ "--config=core.sshCommand=x", 0 },
		/* credentials */
		{ "https://user:pass@github.com/o/r.git", 0 },
		{ "https://ghp_abcdef0123456789@github.com/o/r.git", 0 },
		{ "https://x-access-token:tok@github.com/o/r.git", 0 },
		{ "https://@github.com/o/r.git", 0 },
		{ "https://user%40x:p@github.com/o/r", 0 },
		/* whitespace and control characters */
		{ "https://github.com/o/r .git", 0 },
		{ " https://github.com/o/r", 0 },
		{ "https://github.com/o/r\n", 0 },
		{ "https://github.com/o/r\r", 0 },
		{ "https://github.com/o/r\t", 0 },
		{ "https://github.com/o/\x01r", 0 },
		{ "https://github.com/o/r\x7f", 0 },
		{ "https://github.com\\o\\r", 0 },
		/* query, fragment, no host, no path */
		{ "https://github.com/o/r?x=1", 0 },
		{ "https://github.com/o/r#main", 0 },
		{ "https://github.com?x", 0 },
		{ "https://github.com", 0 },
		{ "https://github.com/", 0 },
		{ "https:///o/r", 0 },
		{ "https://", 0 },
		{ "", 0 },
		/* hosts and ports */
		{ "https://-github.com/o/r", 0 },
		{ "https://.github.com/o/r", 0 },
		{ "https://git hub.com/o/r", 0 },
		{ "https://github.com:/o/r", 0 },
		{ "https://github.com:abc/o/r", 0 },
		{ "https://github.com:123456/o/r", 0 },
		{ "https://github.com:443x/o/r", 0 },
		{ "https://[::1/o/r", 0 },
		/* this machine */
		{ "https://localhost/o/r", 0 },
		{ "https://LOCALHOST/o/r", 0 },
		{ "https://127.0.0.1/o/r", 0 },
		{ "https://127.0.0.1:3000/o/r", 0 },
		{ "https://[::1]/o/r", 0 },
		{ "http://localhost/o/r", 0 },
		{ "http://127.0.0.1:8080/o/r", 0 },
	};
	CHECK_CASES(cases, validate_git_url(s, false, &err));
}
END_TEST

START_TEST(test_validate_git_url_local)
{
	static const struct vcase cases[] = {
		{ "https://github.com/owner/repo.git", 1 },
		{ "file:///srv/git/repo", 1 },
		{ "file:///tmp/skiff-test.abc/site.git", 1 },
		{ "http://localhost/repo.git", 1 },
		{ "http://localhost:8080/repo.git", 1 },
		{ "http://127.0.0.1:9000/repo.git", 1 },
		{ "https://localhost/repo.git", 1 },
		{ "http://[::1]:8080/repo.git", 1 },
		/* still refused with allow_local */
		{ "http://example.com/repo.git", 0 },
		{ "git://localhost/repo.git", 0 },
		{ "file://otherhost/srv/repo", 0 },
		{ "file:repo", 0 },
		{ "file:///srv/../etc", 0 },
		{ "file:///srv/repo/..", 0 },
		{ "file:///srv/git/repo\n", 0 },
		{ "file:///srv/git/r po", 0 },
		{ "/srv/git/repo", 0 },
		{ "ext::sh -c id", 0 },
		{ "-uhttps://localhost/x", 0 },
		{ "http://user:pw@localhost/repo.git", 0 },
		{ "http://localhost/repo.git?x", 0 },
		/* ssh to loopback: the tests' sshd */
		{ "ssh://localhost/repo.git", 1 },
		{ "ssh://git@127.0.0.1:2222/srv/repo.git", 1 },
		{ "git@localhost:repo.git", 1 },
		{ "git@[::1]:repo.git", 1 },
		{ "ssh://git@[::1]:22/repo.git", 1 },
		{ "ssh://git@10.0.0.1/repo.git", 0 },
	};
	CHECK_CASES(cases, validate_git_url(s, true, &err));
}
END_TEST

START_TEST(test_validate_git_url_ssh)
{
	static const struct vcase cases[] = {
		/* a user, never a password */
		{ "ssh://git:secret@github.com/o/r.git", 0 },
		{ "git:secret@github.com:o/r.git", 0 },
		{ "ssh://-oProxyCommand=x@github.com/o/r", 0 },
		{ "-oProxyCommand=x@github.com:o/r", 0 },
		{ "ssh://git@@github.com/o/r", 0 },
		{ "ssh://a@b@github.com/o/r", 0 },
		{ "ssh://@github.com/o/r", 0 },
		{ "ssh://g%69t@github.com/o/r", 0 },
		/* paths */
		{ "git@github.com:", 0 },
		{ "git@github.com:-oProxyCommand=x", 0 },
		{ "git@github.com::x", 0 },
		{ "ssh://git@github.com", 0 },
		{ "ssh://git@github.com/", 0 },
		{ "ssh://git@github.com/o/r?x", 0 },
		{ "ssh://git@github.com/o/r#x", 0 },
		/* hosts and ports */
		{ "git@github.com:22:o/r", 1 },
		{ "git@-github.com:o/r", 0 },
		{ "ssh://git@github.com:0/o/r", 0 },
		{ "ssh://git@github.com:65536/o/r", 0 },
		{ "ssh://git@github.com:x/o/r", 0 },
		{ "git@[::1:o/r", 0 },
		/* this machine and private networks, in any spelling */
		{ "git@localhost:o/r", 0 },
		{ "git@127.0.0.1:o/r", 0 },
		{ "ssh://git@127.0.0.1:22/o/r", 0 },
		{ "ssh://git@10.1.2.3/o/r", 0 },
		{ "ssh://git@169.254.169.254/o/r", 0 },
		{ "git@2130706433:o/r", 0 },
		{ "git@[::1]:o/r", 0 },
		{ "ssh://git@[::1]/o/r", 0 },
	};
	CHECK_CASES(cases, validate_git_url(s, false, &err));
	ck_assert(validate_git_url_ssh("git@github.com:o/r.git"));
	ck_assert(validate_git_url_ssh("ssh://git@127.0.0.1:2222/srv/r.git"));
	ck_assert(!validate_git_url_ssh("https://github.com/o/r.git"));
	ck_assert(!validate_git_url_ssh("file:///srv/r.git"));
	ck_assert(!validate_git_url_ssh("git@github.com:"));
	/* the host a pinned key is for: with its port when the URL names one */
	char h[64];
	ck_assert_int_eq(validate_git_url_host("git@GitHub.com:o/r.git", h, sizeof(h)), 0);
	ck_assert_str_eq(h, "github.com");
	ck_assert_int_eq(validate_git_url_host("git@github.com:22/o/r.git", h, sizeof(h)), 0);
	ck_assert_str_eq(h, "github.com");  /* scp-like: "22/o/r.git" is the path */
	ck_assert_int_eq(validate_git_url_host("ssh://git@git.example.com:2222/o/r", h, sizeof(h)), 0);
	ck_assert_str_eq(h, "git.example.com:2222");
	ck_assert_int_eq(validate_git_url_host("ssh://git@[::1]:2222/o/r", h, sizeof(h)), 0);
	ck_assert_str_eq(h, "[::1]:2222");
	ck_assert_int_eq(validate_git_url_host("https://github.com/o/r", h, sizeof(h)), 0);
	ck_assert_str_eq(h, "github.com");
	ck_assert_int_eq(validate_git_url_host("file:///srv/r", h, sizeof(h)), SKIFF_EINVALID);
	ck_assert_int_eq(validate_git_url_host("ssh://git@git.example.com/o/r", h, 8), SKIFF_EINVALID);
}
END_TEST

/* Other spellings of this machine reach the same services as localhost: without allow_local
 * a build must not clone from them either. */
START_TEST(test_validate_git_url_loopback_aliases)
{
	static const struct vcase cases[] = {
		{ "https://127.0.0.2/o/r", 0 },
		{ "https://127.1.2.3/o/r", 0 },
		{ "https://127.1/o/r", 0 },
		{ "https://0.0.0.0/o/r", 0 },
		{ "https://localhost./o/r", 0 },
		{ "https://2130706433/o/r", 0 },
		{ "https://0x7f000001/o/r", 0 },
		{ "https://[0:0:0:0:0:0:0:1]/o/r", 0 },
		{ "https://[::ffff:127.0.0.1]/o/r", 0 },
	};
	CHECK_CASES(cases, validate_git_url(s, false, &err));
}
END_TEST

START_TEST(test_validate_git_url_port_range)
{
	static const struct vcase cases[] = {
		{ "https://git.example.com:1/o/r", 1 },
		{ "https://git.example.com:65535/o/r", 1 },
		{ "https://git.example.com:65536/o/r", 0 },
		{ "https://git.example.com:99999/o/r", 0 },
	};
	CHECK_CASES(cases, validate_git_url(s, false, &err));
}
END_TEST

START_TEST(test_validate_git_url_length)
{
	struct error err;
	const char *prefix = "https://github.com/o/";
	size_t pl = strlen(prefix);
	char *url = repeat('r', GIT_URL_MAX + 1);
	memcpy(url, prefix, pl);
	ck_assert_uint_eq(strlen(url), 2049);
	ck_assert_int_eq(validate_git_url(url, false, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_git_url");
	ck_assert_ptr_nonnull(strstr(err.message, "2048"));
	url[GIT_URL_MAX] = '\0'; /* exactly 2048 bytes is fine */
	ck_assert_int_eq(validate_git_url(url, false, &err), 0);
	ck_assert_int_eq(validate_git_url(NULL, false, &err), SKIFF_EINVALID);
	free(url);
}
END_TEST

START_TEST(test_validate_git_url_messages)
{
	struct error err;
	validate_git_url("http://example.com/o/r", false, &err);
	ck_assert_str_eq(err.name, "invalid_git_url");
	ck_assert_ptr_nonnull(strstr(err.message, "https://"));
	validate_git_url("https://u:p@github.com/o/r", false, &err);
	ck_assert_ptr_nonnull(strstr(err.message, "credentials"));
	/* the secret itself is never echoed back into a response or a log */
	validate_git_url("https://u:hunter2@github.com/o/r", false, &err);
	ck_assert_ptr_null(strstr(err.message, "hunter2"));
}
END_TEST

/* Every prefix of a URL, in a buffer of exactly its size: nothing reads past the end (the
 * sanitizer build catches it) and every answer is "valid" or a reasoned refusal. */
START_TEST(test_validate_git_url_prefixes)
{
	static const char *urls[] = {
		"https://git.example.com:8443/o/r.git", "http://[::1]:8080/r.git",
		"file:///srv/git/repo", "https://u:p@h/x",
	};
	for (size_t u = 0; u < sizeof(urls) / sizeof(urls[0]); u++) {
		size_t n = strlen(urls[u]);
		for (size_t len = 0; len <= n; len++) {
			char *p = malloc(len + 1);
			memcpy(p, urls[u], len);
			p[len] = '\0';
			for (int local = 0; local < 2; local++) {
				struct error err;
				error_clear(&err);
				int rc = validate_git_url(p, local, &err);
				ck_assert(rc == 0 || (rc == SKIFF_EINVALID && err.message[0]));
			}
			free(p);
		}
	}
	struct error err;
	ck_assert_int_eq(validate_git_url("https://git.example.com:8443/o/r", false, &err), 0);
	ck_assert_int_eq(validate_git_url("https://git.example.com:8443/", false, &err),
			 SKIFF_EINVALID);
}
END_TEST

/* ---- branches ------------------------------------------------------------- */

START_TEST(test_validate_branch_cases)
{
	static const struct vcase cases[] = {
		{ "main", 1 },
		{ "feature/login", 1 },
		{ "release-1.0", 1 },
		{ "v1.2.3", 1 },
		{ "user@host", 1 },
		{ "fix_42", 1 },
		{ "caf\xc3\xa9", 1 },
		{ "", 0 },
		{ "a..b", 0 },
		{ "..", 0 },
		{ "a@{1}", 0 },
		{ "@{-1}", 0 },
		{ "@", 0 },
		{ "topic.lock", 0 },
		{ "-delete", 0 },
		{ "--force", 0 },
		{ "topic/", 0 },
		{ "/topic", 0 },
		{ "a//b", 0 },
		{ ".hidden", 0 },
		{ "a/.hidden", 0 },
		{ "topic.", 0 },
		{ "a b", 0 },
		{ "a~1", 0 },
		{ "a^2", 0 },
		{ "a:b", 0 },
		{ "a?", 0 },
		{ "a*", 0 },
		{ "a[b", 0 },
		{ "a\\b", 0 },
		{ "a\tb", 0 },
		{ "a\nb", 0 },
		{ "a\x01", 0 },
		{ "a\x7f", 0 },
	};
	CHECK_CASES(cases, validate_branch(s, &err));
}
END_TEST

/* git check-ref-format: no slash-separated component may end in ".lock". */
START_TEST(test_validate_branch_lock_component)
{
	static const struct vcase cases[] = {
		{ "topic.lock/x", 0 },
		{ "a/b.lock/c", 0 },
	};
	CHECK_CASES(cases, validate_branch(s, &err));
}
END_TEST

START_TEST(test_validate_branch_length)
{
	struct error err;
	char *b255 = repeat('b', 255), *b256 = repeat('b', 256);
	ck_assert_int_eq(validate_branch(b255, &err), 0);
	ck_assert_int_eq(validate_branch(b256, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_branch");
	ck_assert_int_eq(validate_branch(NULL, &err), SKIFF_EINVALID);
	free(b255);
	free(b256);
}
END_TEST

/* ---- output directories and commands --------------------------------------- */

START_TEST(test_validate_output_dir_cases)
{
	static const struct vcase cases[] = {
		{ "dist", 1 },
		{ "build/out", 1 },
		{ "public/", 1 },
		{ ".", 1 },
		{ ".output/public", 1 },
		{ "a..b", 1 },
		{ "../x", 0 },
		{ "..", 0 },
		{ "/abs", 0 },
		{ "/", 0 },
		{ "a/../b", 0 },
		{ "a/..", 0 },
		{ "a/../../etc", 0 },
		{ "a\\..\\b", 0 },
		{ "a\nb", 0 },
		{ "a\x01", 0 },
	};
	CHECK_CASES(cases, validate_output_dir(s, &err));
	struct error err;
	char *d255 = repeat('d', 255), *d256 = repeat('d', 256);
	ck_assert_int_eq(validate_output_dir(d255, &err), 0);
	ck_assert_int_eq(validate_output_dir(d256, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_output_directory");
	free(d255);
	free(d256);
}
END_TEST

START_TEST(test_validate_command_cases)
{
	static const struct vcase cases[] = {
		{ "npm run build", 1 },
		{ "make -j2 && cp -r out dist", 1 },
		{ "echo 'a b'\t| tr a b", 1 },
		{ "", 1 },
		{ "npm ci\nrm -rf /", 0 },
		{ "npm ci\rx", 0 },
		{ "a\x1b[31m", 0 },
	};
	CHECK_CASES(cases, validate_command(s, "buildCommand", &err));
}
END_TEST

START_TEST(test_validate_command_length)
{
	struct error err;
	char *c4096 = repeat('c', COMMAND_MAX), *c4097 = repeat('c', COMMAND_MAX + 1);
	ck_assert_int_eq(validate_command(c4096, "buildCommand", &err), 0);
	ck_assert_int_eq(validate_command(c4097, "installCommand", &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_command");
	/* the message names the field the user filled in */
	ck_assert_ptr_nonnull(strstr(err.message, "installCommand"));
	validate_command("a\nb", "buildCommand", &err);
	ck_assert_ptr_nonnull(strstr(err.message, "buildCommand"));
	free(c4096);
	free(c4097);
}
END_TEST

/* ---- slugs derived from URLs ------------------------------------------------ */

START_TEST(test_validate_slug_from_url_cases)
{
	static const struct {
		const char *url, *slug;
	} cases[] = {
		{ "https://github.com/o/My_Site.git", "my-site" },
		{ "https://github.com/o/repo", "repo" },
		{ "https://github.com/o/repo/", "repo" },
		{ "https://github.com/o/repo.git/", "repo" },
		{ "git@github.com:o/Hello.World.git", "hello-world" },
		{ "https://github.com/o/--x--", "x" },
		{ "https://github.com/o/a__b..c", "a-b-c" },
		{ "file:///tmp/skiff-test.x/Static Site", "static-site" },
		{ "https://github.com/o/caf\xc3\xa9-app", "caf-app" },
		{ "https://github.com/o/2048", "2048" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[SLUG_MAX + 1];
		ck_assert_int_eq(validate_slug_from_url(cases[i].url, out, sizeof(out)), 0);
		ck_assert_str_eq(out, cases[i].slug);
	}
}
END_TEST

START_TEST(test_validate_slug_from_url_nothing_usable)
{
	char out[SLUG_MAX + 1];
	ck_assert_int_eq(validate_slug_from_url("https://github.com/o/___.git", out, sizeof(out)),
			 SKIFF_EINVALID);
	ck_assert_int_eq(validate_slug_from_url("https://github.com/o/\xc3\xa9", out, sizeof(out)),
			 SKIFF_EINVALID);
	ck_assert_int_eq(validate_slug_from_url("", out, sizeof(out)), SKIFF_EINVALID);
}
END_TEST

START_TEST(test_validate_slug_from_url_long)
{
	char url[300] = "https://github.com/o/";
	size_t n = strlen(url);
	for (int i = 0; i < 200; i++)
		url[n++] = (i % 10 == 9) ? '_' : 'a';
	url[n] = '\0';
	char out[SLUG_MAX + 1];
	struct error err;
	ck_assert_int_eq(validate_slug_from_url(url, out, sizeof(out)), 0);
	ck_assert_uint_le(strlen(out), SLUG_MAX);
	ck_assert_int_eq(validate_slug(out, &err), 0);
	/* a smaller output buffer (room for a suffix later) is respected, no trailing '-' */
	char small[11];
	memset(small, 'X', sizeof(small));
	ck_assert_int_eq(validate_slug_from_url(url, small, sizeof(small)), 0);
	ck_assert_uint_le(strlen(small), 10);
	ck_assert_int_eq(validate_slug(small, &err), 0);
}
END_TEST

/* Whatever the URL, a derived slug is one validate_slug accepts. */
START_TEST(test_validate_slug_from_url_always_valid)
{
	unsigned seed = 12345;
	for (int round = 0; round < 20000; round++) {
		char url[80];
		size_t n = 1 + (seed >> 16) % 70;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			static const char pool[] = "aZ9-_./:@ .gitGIT\xc3\xa9~";
			url[i] = pool[(seed >> 16) % (sizeof(pool) - 1)];
		}
		url[n] = '\0';
		char out[SLUG_MAX + 1];
		struct error err;
		if (validate_slug_from_url(url, out, sizeof(out)) == 0)
			ck_assert_msg(validate_slug(out, &err) == 0, "'%s' derived '%s': %s", url, out,
				      err.message);
		seed = seed * 1103515245u + 12345u;
	}
}
END_TEST

/* ---- names resolved to their addresses (SSRF): a resolver the test controls ---------------- */
struct fake_name {
	const char *host;
	const char *addrs[3];
};
static const struct fake_name fake_names[] = {
	{ "169.254.169.254.nip.io", { "169.254.169.254" } },
	{ "metadata.example", { "fd00:ec2::254" } },
	{ "mapped.example", { "::ffff:10.1.2.3" } },
	{ "nat64.example", { "64:ff9b::7f00:1" } },
	{ "cgnat.example", { "100.64.0.1" } },
	{ "multicast.example", { "224.0.0.251" } },
	{ "mcast6.example", { "ff02::1" } },
	{ "linklocal6.example", { "fe80::1" } },
	{ "unspecified.example", { "0.0.0.0" } },
	{ "unspecified6.example", { "::" } },
	{ "loop6.example", { "::1" } },
	{ "rfc1918.example", { "192.168.1.10" } },
	{ "mixed.example", { "140.82.112.3", "10.0.0.1" } },
	{ "github.com", { "140.82.112.3", "2606:50c0:8000::153" } },
	{ "gitlab.com", { "172.65.251.78" } },
};

static int fake_resolve(const char *host, const char *service, const struct addrinfo *hints,
			struct addrinfo **out)
{
	(void)service;
	(void)hints;
	*out = NULL;
	for (size_t i = 0; i < sizeof(fake_names) / sizeof(fake_names[0]); i++) {
		if (strcmp(fake_names[i].host, host))
			continue;
		struct addrinfo **tail = out;
		for (size_t j = 0; j < 3 && fake_names[i].addrs[j]; j++) {
			struct addrinfo *ai = calloc(1, sizeof(*ai));
			struct sockaddr_in6 *sa = calloc(1, sizeof(*sa));
			ck_assert(ai && sa);
			const char *a = fake_names[i].addrs[j];
			if (strchr(a, ':')) {
				sa->sin6_family = AF_INET6;
				ck_assert_int_eq(inet_pton(AF_INET6, a, &sa->sin6_addr), 1);
				ai->ai_addrlen = sizeof(struct sockaddr_in6);
			} else {
				struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)sa;
				s4->sin_family = AF_INET;
				ck_assert_int_eq(inet_pton(AF_INET, a, &s4->sin_addr), 1);
				ai->ai_addrlen = sizeof(struct sockaddr_in);
			}
			ai->ai_family = ((struct sockaddr *)(void *)sa)->sa_family;
			ai->ai_addr = (struct sockaddr *)(void *)sa;
			*tail = ai;
			tail = &ai->ai_next;
		}
		return 0;
	}
	return EAI_NONAME;
}

static void fake_free(struct addrinfo *ai)
{
	while (ai) {
		struct addrinfo *next = ai->ai_next;
		free(ai->ai_addr);
		free(ai);
		ai = next;
	}
}

static const struct addr_resolver fake_resolver = { fake_resolve, fake_free };

START_TEST(test_validate_git_url_resolved_refuses_internal)
{
	static const char *const refused[] = {
		"https://169.254.169.254.nip.io/x.git", "https://metadata.example/x.git",
		"https://mapped.example/x.git",         "https://nat64.example/x.git",
		"https://cgnat.example/x.git",          "https://multicast.example/x.git",
		"https://mcast6.example/x.git",         "https://linklocal6.example/x.git",
		"https://unspecified.example/x.git",    "https://unspecified6.example/x.git",
		"https://loop6.example:8443/x.git",     "https://rfc1918.example/a/b.git",
		"https://mixed.example/x.git",
		/* the host of an ssh URL is checked the same way */
		"git@169.254.169.254.nip.io:x.git",     "ssh://git@loop6.example:2222/x.git",
		"ssh://rfc1918.example/a/b.git",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct error err;
		error_clear(&err);
		ck_assert_msg(validate_git_url_resolved(refused[i], false, &fake_resolver, &err) ==
				      SKIFF_EINVALID, "%s was accepted", refused[i]);
		ck_assert_str_eq(err.name, "invalid_git_url");
		ck_assert_msg(strstr(err.message, "private network"), "%s: %s", refused[i],
			      err.message);
	}
	struct error err;
	validate_git_url_resolved("https://169.254.169.254.nip.io/x.git", false, &fake_resolver,
				  &err);
	ck_assert_msg(strstr(err.message, "169.254.169.254.nip.io resolves to an address"),
		      "the message names the name: %s", err.message);
	/* and not what the resolver answered: the caller may not learn internal addresses */
	ck_assert_msg(!strstr(err.message, "resolves to 169.254"), "%s", err.message);
}
END_TEST

START_TEST(test_validate_git_url_resolved_accepts_public)
{
	struct error err;
	ck_assert_int_eq(validate_git_url_resolved("https://github.com/acme/site.git", false,
						   &fake_resolver, &err), 0);
	ck_assert_int_eq(validate_git_url_resolved("https://gitlab.com:443/acme/site", false,
						   &fake_resolver, &err), 0);
	ck_assert_int_eq(validate_git_url_resolved("git@github.com:acme/site.git", false,
						   &fake_resolver, &err), 0);
	ck_assert_int_eq(validate_git_url_resolved("ssh://git@gitlab.com:22/acme/site", false,
						   &fake_resolver, &err), 0);
	/* an unresolvable name is refused with the reason */
	ck_assert_int_eq(validate_git_url_resolved("https://nowhere.example/x.git", false,
						   &fake_resolver, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_git_url");
	ck_assert_msg(strstr(err.message, "does not resolve"), "%s", err.message);
	/* allow_local_git: no resolution at all (the resolver would refuse these) */
	ck_assert_int_eq(validate_git_url_resolved("https://169.254.169.254.nip.io/x.git", true,
						   &fake_resolver, &err), 0);
	ck_assert_int_eq(validate_git_url_resolved("file:///srv/git/site", true, &fake_resolver,
						   &err), 0);
	/* the literal checks still come first */
	ck_assert_int_eq(validate_git_url_resolved("http://github.com/acme/site.git", false,
						   &fake_resolver, &err), SKIFF_EINVALID);
	ck_assert_msg(strstr(err.message, "https"), "%s", err.message);
}
END_TEST

/* the system resolver: "localhost" resolves without a network, through /etc/hosts */
START_TEST(test_validate_addr_host_check_system_resolver)
{
	struct error err;
	ck_assert_int_eq(addr_host_check("localhost", NULL, "invalid_git_url", &err),
			 SKIFF_EINVALID);
	ck_assert_msg(strstr(err.message, "resolves to"), "%s", err.message);
	ck_assert_int_eq(addr_host_check("[::1]", NULL, "invalid_git_url", &err), SKIFF_EINVALID);
	ck_assert_int_eq(addr_host_check("127.0.0.2", NULL, "invalid_git_url", &err),
			 SKIFF_EINVALID);
	ck_assert_int_eq(addr_host_check("8.8.8.8", NULL, "invalid_git_url", &err), 0);
	ck_assert_int_eq(addr_host_check("2001:4860:4860::8888", NULL, "invalid_git_url", &err), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("validate");
	tcase_add_test(tc, test_validate_slug_cases);
	tcase_add_test(tc, test_validate_slug_length);
	tcase_add_test(tc, test_validate_slug_error_name);
	tcase_add_test(tc, test_validate_git_url_production);
	tcase_add_test(tc, test_validate_git_url_ssh);
	tcase_add_test(tc, test_validate_git_url_local);
	tcase_add_test(tc, test_validate_git_url_loopback_aliases);
	tcase_add_test(tc, test_validate_git_url_port_range);
	tcase_add_test(tc, test_validate_git_url_length);
	tcase_add_test(tc, test_validate_git_url_messages);
	tcase_add_test(tc, test_validate_git_url_prefixes);
	tcase_add_test(tc, test_validate_branch_cases);
	tcase_add_test(tc, test_validate_branch_lock_component);
	tcase_add_test(tc, test_validate_branch_length);
	tcase_add_test(tc, test_validate_output_dir_cases);
	tcase_add_test(tc, test_validate_command_cases);
	tcase_add_test(tc, test_validate_command_length);
	tcase_add_test(tc, test_validate_slug_from_url_cases);
	tcase_add_test(tc, test_validate_slug_from_url_nothing_usable);
	tcase_add_test(tc, test_validate_slug_from_url_long);
	tcase_add_test(tc, test_validate_slug_from_url_always_valid);
	tcase_add_test(tc, test_validate_git_url_resolved_refuses_internal);
	tcase_add_test(tc, test_validate_git_url_resolved_accepts_public);
	tcase_add_test(tc, test_validate_addr_host_check_system_resolver);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
