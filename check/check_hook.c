/* check_hook.c — webhooks of GitHub, GitLab and Gitea: signature verification, repository URL
 * normalisation, push and pull request classification. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"
#include "hook_pr.h"

/* GitHub's documented example ("Validating webhook deliveries"). */
#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY "Hello, World!"
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

START_TEST(test_hook_signature_github_vector)
{
	char sig[HOOK_SIGNATURE_LEN + 1];
	hook_signature(GH_SECRET, GH_BODY, strlen(GH_BODY), sig);
	ck_assert_str_eq(sig, GH_SIG);
	ck_assert_int_eq(hook_signature_verify(GH_SECRET, GH_BODY, strlen(GH_BODY), GH_SIG), 1);
	/* hex case does not matter to GitHub's tooling; it does not to us either */
	char upper[] = GH_SIG;
	for (char *p = upper + 7; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(hook_signature_verify(GH_SECRET, GH_BODY, strlen(GH_BODY), upper), 1);
}
END_TEST

START_TEST(test_hook_signature_refuses)
{
	const char *body = GH_BODY;
	size_t n = strlen(body);
	ck_assert_int_eq(hook_signature_verify("another secret!!", body, n, GH_SIG), 0);
	ck_assert_int_eq(hook_signature_verify(GH_SECRET, "Hello, World?", n, GH_SIG), 0);
	ck_assert_int_eq(hook_signature_verify(GH_SECRET, body, n, NULL), 0);
	ck_assert_int_eq(hook_signature_verify(GH_SECRET, body, n, ""), 0);
	ck_assert_int_eq(hook_signature_verify("", body, n, GH_SIG), 0);
	ck_assert_int_eq(hook_signature_verify(NULL, body, n, GH_SIG), 0);
	/* the SHA-1 header GitHub also sends is not accepted in its place */
	ck_assert_int_eq(hook_signature_verify(GH_SECRET, body, n,
					       "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"),
			 0);
	/* no prefix, short, long, non-hex */
	ck_assert_int_eq(hook_signature_verify(GH_SECRET, body, n, GH_SIG + 7), 0);
	char sig[96];
	memcpy(sig, GH_SIG, sizeof(GH_SIG));
	sig[sizeof(GH_SIG) - 2] = '\0';
	ck_assert_int_eq(hook_signature_verify(GH_SECRET, body, n, sig), 0);
	snprintf(sig, sizeof(sig), "%s0", GH_SIG);
	ck_assert_int_eq(hook_signature_verify(GH_SECRET, body, n, sig), 0);
	memcpy(sig, GH_SIG, sizeof(GH_SIG));
	sig[10] = 'g';
	ck_assert_int_eq(hook_signature_verify(GH_SECRET, body, n, sig), 0);
	/* every flipped bit of the signature fails */
	for (size_t i = 7; i < HOOK_SIGNATURE_LEN; i++) {
		memcpy(sig, GH_SIG, sizeof(GH_SIG));
		sig[i] = sig[i] == '0' ? '1' : '0';
		ck_assert_msg(!hook_signature_verify(GH_SECRET, body, n, sig), "position %zu", i);
	}
}
END_TEST

START_TEST(test_hook_signature_every_prefix_of_body)
{
	/* the signature covers every byte: each truncation and each extension fails */
	const char *body = "{\"ref\":\"refs/heads/main\",\"after\":\"0123\"}";
	size_t n = strlen(body);
	char sig[HOOK_SIGNATURE_LEN + 1];
	hook_signature("s3cret-s3cret-s3cret", body, n, sig);
	ck_assert_int_eq(hook_signature_verify("s3cret-s3cret-s3cret", body, n, sig), 1);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(!hook_signature_verify("s3cret-s3cret-s3cret", body, i, sig), "len %zu", i);
	char longer[128];
	snprintf(longer, sizeof(longer), "%s ", body);
	ck_assert_int_eq(hook_signature_verify("s3cret-s3cret-s3cret", longer, n + 1, sig), 0);
}
END_TEST

START_TEST(test_hook_url_normalize)
{
	static const char *const same[] = {
		"https://github.com/acme/site",       "https://github.com/acme/site.git",
		"https://GitHub.com/Acme/Site.git",   "https://github.com/acme/site/",
		"https://github.com/acme/site.git/",  "http://github.com/acme/site",
		"HTTPS://GITHUB.COM/ACME/SITE",       "https://github.com:443/acme/site.git",
		"https://github.com/acme/site//",
		/* the ssh forms of the same repository (a project with a deploy key) */
		"git@github.com:acme/site.git",       "git@GitHub.com:Acme/Site",
		"ssh://git@github.com/acme/site.git", "ssh://git@github.com:22/acme/site.git",
		"ssh://github.com/acme/site",
	};
	char out[HOOK_URL_MAX + 1];
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		ck_assert_msg(hook_url_normalize(same[i], out, sizeof(out)) == 0, "%s", same[i]);
		ck_assert_str_eq(out, "https://github.com/acme/site");
	}
	ck_assert_int_eq(hook_url_normalize("https://git.example.org:8443/a/b.git", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "https://git.example.org:8443/a/b");
	/* every trailing ".git" and '/' goes, so that normalising a normalised URL (an index key,
	 * hook_index_remove) changes nothing; found by fuzz_hook */
	static const char *const suffixed[] = { "https://github.com/a/x.git.git",
						"https://github.com/a/x.git/.git//" };
	for (size_t i = 0; i < 2; i++) {
		char again[HOOK_URL_MAX + 1];
		ck_assert_int_eq(hook_url_normalize(suffixed[i], out, sizeof(out)), 0);
		ck_assert_str_eq(out, "https://github.com/a/x");
		ck_assert_int_eq(hook_url_normalize(out, again, sizeof(again)), 0);
		ck_assert_str_eq(again, out);
	}
	/* two ports are no URL */
	ck_assert_int_eq(hook_url_normalize("https://github.com:80:443/a/x", out, sizeof(out)),
			 SKIFF_EINVALID);
	static const char *const bad[] = {
		"",
		"github.com/acme/site",
		"github.com:acme/site.git",
		"git@github.com:",
		"git@:acme/site",
		"ssh://git@/acme/site",
		"ssh://a@b@github.com/acme/site",
		"git://github.com/acme/site.git",
		"file://host/srv/site.git",
		"file:///",
		"https://github.com",
		"https://github.com/",
		"https://github.com/.git",
		"https://user:pw@github.com/acme/site",
		"https://github.com/acme/site?x=1",
		"https://github.com/acme/site#main",
		"https://github.com/acme/si te",
		"https://github.com/acme/site\n",
		"https:///acme/site",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(hook_url_normalize(bad[i], out, sizeof(out)) < 0, "accepted '%s'", bad[i]);
	ck_assert_int_lt(hook_url_normalize(NULL, out, sizeof(out)), 0);
	/* local repositories keep the case of their path */
	ck_assert_int_eq(hook_url_normalize("file:///srv/Git/Site.git/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "file:///srv/Git/Site");
	ck_assert_int_eq(hook_url_normalize("FILE:///srv/Git/Site.git/", out, sizeof(out)), SKIFF_EINVALID);
	/* a small output buffer is refused, never overrun */
	char small[20];
	ck_assert_int_lt(hook_url_normalize("https://github.com/acme/website", small, sizeof(small)), 0);
}
END_TEST

START_TEST(test_hook_payload_urls)
{
	json_t *p = json_pack("{s:{s:s,s:s,s:s,s:s}}", "repository", "clone_url",
			      "https://github.com/Acme/Site.git", "html_url", "https://github.com/Acme/Site",
			      "url", "https://api.github.com/repos/Acme/Site", "ssh_url",
			      "git@github.com:Acme/Site.git");
	char urls[3][HOOK_URL_MAX + 1];
	ck_assert_uint_eq(hook_payload_urls(p, urls, 3), 2);
	ck_assert_str_eq(urls[0], "https://github.com/acme/site");
	ck_assert_str_eq(urls[1], "https://api.github.com/repos/acme/site");
	json_decref(p);
	p = json_pack("{s:s}", "zen", "Design for failure.");
	ck_assert_uint_eq(hook_payload_urls(p, urls, 3), 0);
	json_decref(p);
	p = json_pack("{s:s}", "repository", "https://github.com/acme/site");
	ck_assert_uint_eq(hook_payload_urls(p, urls, 3), 0);
	json_decref(p);
}
END_TEST

static json_t *push_payload(const char *ref, const char *after, int deleted, const char *message)
{
	return json_pack("{s:s,s:s,s:s,s:b,s:{s:s,s:s},s:{s:s,s:s}}", "ref", ref, "before",
			 "1111111111111111111111111111111111111111", "after", after, "deleted",
			 deleted, "repository", "clone_url", "https://github.com/acme/site.git",
			 "default_branch", "main", "head_commit", "id", after, "message", message);
}

#define C1 "2b9d1e0f3c4a5b6c7d8e9f00112233445566778a"
#define ZERO "0000000000000000000000000000000000000000"

START_TEST(test_hook_push_to_branch_deploys)
{
	struct hook_push push;
	json_t *p = push_payload("refs/heads/main", C1, 0, "Fix the header\n\nLonger text.");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_DEPLOY);
	ck_assert_str_eq(push.commit, C1);
	ck_assert_str_eq(push.branch, "main");
	ck_assert_str_eq(push.message, "Fix the header");
	ck_assert_ptr_null(push.reason);
	/* an empty project branch follows the repository's default branch */
	hook_push_classify(p, "", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_DEPLOY);
	hook_push_classify(p, NULL, &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_DEPLOY);
	json_decref(p);
	/* a branch with slashes */
	p = push_payload("refs/heads/release/v2", C1, 0, "x");
	hook_push_classify(p, "release/v2", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_DEPLOY);
	ck_assert_str_eq(push.branch, "release/v2");
	json_decref(p);
	/* a SHA-256 repository's 64-digit ids */
	const char *c64 = "aa" C1 "0123456789abcdef0123456789ab";
	ck_assert_uint_eq(strlen(c64), 64 + 6);
	char id64[65];
	memcpy(id64, c64, 64);
	id64[64] = '\0';
	p = push_payload("refs/heads/main", id64, 0, "x");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_DEPLOY);
	ck_assert_str_eq(push.commit, id64);
	json_decref(p);
}
END_TEST

START_TEST(test_hook_push_ignored)
{
	struct hook_push push;
	json_t *p = push_payload("refs/heads/feature", C1, 0, "x");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_IGNORE);
	ck_assert_ptr_nonnull(strstr(push.reason, "another branch"));
	hook_push_classify(p, "", &push); /* default branch is main */
	ck_assert_int_eq(push.action, HOOK_PUSH_IGNORE);
	json_decref(p);

	p = push_payload("refs/tags/v1.0", C1, 0, "x");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_IGNORE);
	ck_assert_ptr_nonnull(strstr(push.reason, "tag"));
	json_decref(p);

	p = push_payload("refs/heads/main", ZERO, 1, "x");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_IGNORE);
	ck_assert_ptr_nonnull(strstr(push.reason, "deletion"));
	json_decref(p);
	/* a deletion says so either way */
	p = push_payload("refs/heads/main", ZERO, 0, "x");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_IGNORE);
	json_decref(p);
	p = push_payload("refs/heads/main", C1, 1, "x");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_IGNORE);
	json_decref(p);

	p = push_payload("refs/notes/commits", C1, 0, "x");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_IGNORE);
	json_decref(p);
	/* a branch name git would refuse never reaches a deployment */
	p = push_payload("refs/heads/a..b", C1, 0, "x");
	hook_push_classify(p, "a..b", &push);
	ck_assert_int_ne(push.action, HOOK_PUSH_DEPLOY);
	json_decref(p);
}
END_TEST

START_TEST(test_hook_push_invalid)
{
	struct hook_push push;
	json_t *p = json_pack("{s:s}", "zen", "Keep it logically awesome.");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_INVALID);
	json_decref(p);
	p = push_payload("refs/heads/main", "not-a-commit", 0, "x");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_INVALID);
	json_decref(p);
	p = push_payload("refs/heads/main", "2B9D1E0F3C4A5B6C7D8E9F00112233445566778A", 0, "x");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_INVALID);
	json_decref(p);
	p = push_payload("main", C1, 0, "x");
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_INVALID);
	json_decref(p);
	p = json_pack("{s:i,s:s}", "ref", 5, "after", C1);
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_INVALID);
	json_decref(p);
	hook_push_classify(NULL, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_INVALID);
}
END_TEST

START_TEST(test_hook_push_message_bounded)
{
	/* a long first line is cut on a character boundary; control characters become spaces */
	char msg[2000];
	memcpy(msg, "a\x01", 2);
	size_t n = 2;
	while (n + 2 < sizeof(msg)) {
		memcpy(msg + n, "\xc3\xa9", 2); /* é */
		n += 2;
	}
	msg[n] = '\0';
	json_t *p = push_payload("refs/heads/main", C1, 0, msg);
	ck_assert_ptr_nonnull(p);
	struct hook_push push;
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_DEPLOY);
	size_t len = strlen(push.message);
	ck_assert_uint_le(len, HOOK_MESSAGE_MAX);
	ck_assert_uint_ge(len, HOOK_MESSAGE_MAX - 1);
	ck_assert_int_eq(push.message[1], ' ');
	json_t *valid = json_string(push.message); /* NULL when not UTF-8 */
	ck_assert_ptr_nonnull(valid);
	json_decref(valid);
	json_decref(p);
	/* no head_commit (a force push to an empty branch): no message, still deployable */
	p = json_pack("{s:s,s:s}", "ref", "refs/heads/main", "after", C1);
	hook_push_classify(p, "main", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_DEPLOY);
	ck_assert_str_eq(push.message, "");
	json_decref(p);
}
END_TEST

START_TEST(test_hook_secret_and_delivery)
{
	char s[2 * HOOK_SECRET_GEN_BYTES + 1], t[2 * HOOK_SECRET_GEN_BYTES + 1];
	hook_secret_new(s);
	hook_secret_new(t);
	ck_assert_uint_eq(strlen(s), 2 * HOOK_SECRET_GEN_BYTES);
	ck_assert_str_ne(s, t);
	ck_assert(hook_secret_valid(s));
	ck_assert(!hook_secret_valid("short"));
	ck_assert(!hook_secret_valid("sixteen chars ok")); /* a space */
	ck_assert(hook_secret_valid("sixteen-chars-ok"));
	ck_assert(!hook_secret_valid(NULL));
	ck_assert(hook_delivery_valid("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
	ck_assert(!hook_delivery_valid(""));
	ck_assert(!hook_delivery_valid(NULL));
	ck_assert(!hook_delivery_valid("72d3162e cc78"));
	ck_assert(!hook_delivery_valid("../../etc"));
	ck_assert(!hook_delivery_valid("a:b"));
	char longid[HOOK_DELIVERY_MAX + 2];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ck_assert(!hook_delivery_valid(longid));
}
END_TEST

/* Gitea signs with the bare hex HMAC (X-Gitea-Signature); the vector is GitHub's, same HMAC. */
START_TEST(test_hook_signature_gitea)
{
	const char *hex = GH_SIG + 7;
	ck_assert_int_eq(hook_signature_hex_verify(GH_SECRET, GH_BODY, strlen(GH_BODY), hex), 1);
	ck_assert_int_eq(hook_signature_hex_verify(GH_SECRET, GH_BODY, strlen(GH_BODY), GH_SIG), 0);
	ck_assert_int_eq(hook_signature_hex_verify("another secret!!", GH_BODY, strlen(GH_BODY), hex), 0);
	ck_assert_int_eq(hook_signature_hex_verify(GH_SECRET, "Hello, World?", 13, hex), 0);
	ck_assert_int_eq(hook_signature_hex_verify(GH_SECRET, GH_BODY, strlen(GH_BODY), ""), 0);
	ck_assert_int_eq(hook_signature_hex_verify(GH_SECRET, GH_BODY, strlen(GH_BODY), NULL), 0);
	ck_assert_int_eq(hook_signature_hex_verify("", GH_BODY, strlen(GH_BODY), hex), 0);
}
END_TEST

/* GitLab sends the secret itself (X-Gitlab-Token). */
START_TEST(test_hook_token_gitlab)
{
	ck_assert_int_eq(hook_token_verify("gitlab-secret-token-01", "gitlab-secret-token-01"), 1);
	ck_assert_int_eq(hook_token_verify("gitlab-secret-token-01", "gitlab-secret-token-02"), 0);
	ck_assert_int_eq(hook_token_verify("gitlab-secret-token-01", "gitlab-secret-token-0"), 0);
	ck_assert_int_eq(hook_token_verify("gitlab-secret-token-01", "gitlab-secret-token-011"), 0);
	ck_assert_int_eq(hook_token_verify("gitlab-secret-token-01", ""), 0);
	ck_assert_int_eq(hook_token_verify("gitlab-secret-token-01", NULL), 0);
	ck_assert_int_eq(hook_token_verify("", ""), 0);
}
END_TEST

/* GitLab's push: the default branch in project, the message in commits[]. */
START_TEST(test_hook_push_gitlab)
{
	const char *after = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
	json_t *p = json_pack("{s:s,s:s,s:s,s:{s:s,s:s},s:[{s:s,s:s},{s:s,s:s}]}",
			      "object_kind", "push", "ref", "refs/heads/main", "after", after,
			      "project", "default_branch", "main", "git_http_url",
			      "https://gitlab.example.com/acme/web.git", "commits",
			      "id", "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "message", "older",
			      "id", after, "message", "fixed readme\n\nbody");
	struct hook_push push;
	hook_push_classify(p, "", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_DEPLOY);
	ck_assert_str_eq(push.message, "fixed readme");
	char urls[4][HOOK_URL_MAX + 1];
	ck_assert_uint_eq(hook_payload_urls(p, urls, 4), 1);
	ck_assert_str_eq(urls[0], "https://gitlab.example.com/acme/web");
	/* another branch: ignored, but named for a preview */
	json_object_set_new(p, "ref", json_string("refs/heads/feature/x"));
	hook_push_classify(p, "", &push);
	ck_assert_int_eq(push.action, HOOK_PUSH_IGNORE);
	ck_assert(push.other_branch);
	ck_assert_str_eq(push.branch, "feature/x");
	ck_assert(!push.deleted);
	/* its deletion */
	json_object_set_new(p, "after", json_string("0000000000000000000000000000000000000000"));
	hook_push_classify(p, "main", &push);
	ck_assert(push.deleted && push.other_branch);
	ck_assert_str_eq(push.branch, "feature/x");
	json_decref(p);
}
END_TEST

static json_t *gh_pr(const char *action, json_int_t head_id, json_int_t base_id)
{
	return json_pack("{s:s,s:i,s:{s:s,s:{s:s,s:s,s:{s:I,s:s}},s:{s:s,s:{s:I}}}}", "action", action,
			 "number", 7, "pull_request", "title", "Fix\tthe typo\nbody", "head", "ref",
			 "feature/typo", "sha", "6dcb09b5b57875f334f61aebed695e2e4193db5e", "repo", "id",
			 head_id, "clone_url", "https://github.com/eve/site.git", "base", "ref", "main",
			 "repo", "id", base_id);
}

START_TEST(test_hook_pr_github)
{
	struct hook_pr pr;
	json_t *p = gh_pr("opened", 1, 1);
	hook_pr_classify(HOOK_GITHUB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_BUILD);
	ck_assert_int_eq(pr.number, 7);
	ck_assert_str_eq(pr.branch, "feature/typo");
	ck_assert_str_eq(pr.commit, "6dcb09b5b57875f334f61aebed695e2e4193db5e");
	ck_assert_str_eq(pr.title, "Fix the typo");
	ck_assert(!pr.fork);
	json_decref(p);
	p = gh_pr("synchronize", 2, 1);
	hook_pr_classify(HOOK_GITHUB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_BUILD);
	ck_assert(pr.fork);
	ck_assert_str_eq(pr.git_url, "https://github.com/eve/site.git");
	json_decref(p);
	/* Gitea's word for new commits is not GitHub's */
	p = gh_pr("synchronized", 1, 1);
	hook_pr_classify(HOOK_GITHUB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_IGNORE);
	json_decref(p);
	p = gh_pr("closed", 1, 1);
	hook_pr_classify(HOOK_GITHUB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_CLOSE);
	json_decref(p);
	p = gh_pr("labeled", 1, 1);
	hook_pr_classify(HOOK_GITHUB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_IGNORE);
	ck_assert_ptr_nonnull(pr.reason);
	json_decref(p);
	/* a deleted fork: no head repository */
	p = gh_pr("reopened", 2, 1);
	json_object_del(json_object_get(json_object_get(p, "pull_request"), "head"), "repo");
	hook_pr_classify(HOOK_GITHUB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_BUILD);
	ck_assert(pr.fork);
	ck_assert_str_eq(pr.git_url, "");
	json_decref(p);
	/* malformed */
	p = json_pack("{s:s,s:s,s:{}}", "action", "opened", "number", "7", "pull_request");
	hook_pr_classify(HOOK_GITHUB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_INVALID);
	json_decref(p);
	p = gh_pr("opened", 1, 1);
	json_object_set_new(json_object_get(json_object_get(p, "pull_request"), "head"), "ref",
			    json_string("a..b"));
	hook_pr_classify(HOOK_GITHUB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_INVALID);
	json_decref(p);
	hook_pr_classify(HOOK_GITHUB, NULL, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_INVALID);
}
END_TEST

START_TEST(test_hook_pr_gitea)
{
	struct hook_pr pr;
	json_t *p = gh_pr("synchronized", 140, 140);
	json_t *pull = json_object_get(p, "pull_request");
	json_object_set_new(json_object_get(pull, "head"), "repo_id", json_integer(141));
	json_object_set_new(json_object_get(pull, "base"), "repo_id", json_integer(140));
	hook_pr_classify(HOOK_GITEA, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_BUILD);
	ck_assert(pr.fork);   /* repo_id says so, whatever repo.id says */
	json_object_set_new(json_object_get(pull, "head"), "repo_id", json_integer(140));
	hook_pr_classify(HOOK_GITEA, p, &pr);
	ck_assert(!pr.fork);
	json_object_set_new(p, "action", json_string("synchronize"));
	hook_pr_classify(HOOK_GITEA, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_IGNORE);
	json_decref(p);
}
END_TEST

START_TEST(test_hook_pr_gitlab)
{
	struct hook_pr pr;
	json_t *p = json_pack("{s:s,s:{s:i,s:s,s:s,s:i,s:i,s:s,s:{s:s},s:{s:s}}}",
			      "object_kind", "merge_request", "object_attributes", "iid", 1, "action",
			      "open", "source_branch", "ms-viewport", "source_project_id", 14,
			      "target_project_id", 14, "title", "MS-Viewport", "last_commit", "id",
			      "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "source", "git_http_url",
			      "https://gitlab.example.com/awesome_space/awesome_project.git");
	json_t *a = json_object_get(p, "object_attributes");
	hook_pr_classify(HOOK_GITLAB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_BUILD);
	ck_assert_int_eq(pr.number, 1);
	ck_assert_str_eq(pr.branch, "ms-viewport");
	ck_assert_str_eq(pr.commit, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
	ck_assert(!pr.fork);
	/* an update without oldrev (a title change) is not new commits */
	json_object_set_new(a, "action", json_string("update"));
	hook_pr_classify(HOOK_GITLAB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_IGNORE);
	json_object_set_new(a, "oldrev", json_string("ad0d9d8b4d2e3bd6d1a56ac8fd2c6e4bb00e0e23"));
	hook_pr_classify(HOOK_GITLAB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_BUILD);
	json_object_set_new(a, "action", json_string("merge"));
	hook_pr_classify(HOOK_GITLAB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_CLOSE);
	json_object_set_new(a, "action", json_string("close"));
	hook_pr_classify(HOOK_GITLAB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_CLOSE);
	json_object_set_new(a, "action", json_string("approved"));
	hook_pr_classify(HOOK_GITLAB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_IGNORE);
	json_object_set_new(a, "source_project_id", json_integer(15));
	json_object_set_new(a, "action", json_string("reopen"));
	hook_pr_classify(HOOK_GITLAB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_BUILD);
	ck_assert(pr.fork);
	json_object_set_new(p, "object_kind", json_string("push"));
	hook_pr_classify(HOOK_GITLAB, p, &pr);
	ck_assert_int_eq(pr.action, HOOK_PR_INVALID);
	json_decref(p);
}
END_TEST

static Suite *hook_suite(void)
{
	Suite *s = suite_create("hook");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_hook_signature_github_vector);
	tcase_add_test(tc, test_hook_signature_refuses);
	tcase_add_test(tc, test_hook_signature_every_prefix_of_body);
	tcase_add_test(tc, test_hook_url_normalize);
	tcase_add_test(tc, test_hook_payload_urls);
	tcase_add_test(tc, test_hook_signature_gitea);
	tcase_add_test(tc, test_hook_token_gitlab);
	tcase_add_test(tc, test_hook_push_gitlab);
	tcase_add_test(tc, test_hook_pr_github);
	tcase_add_test(tc, test_hook_pr_gitea);
	tcase_add_test(tc, test_hook_pr_gitlab);
	tcase_add_test(tc, test_hook_push_to_branch_deploys);
	tcase_add_test(tc, test_hook_push_ignored);
	tcase_add_test(tc, test_hook_push_invalid);
	tcase_add_test(tc, test_hook_push_message_bounded);
	tcase_add_test(tc, test_hook_secret_and_delivery);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hook_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
