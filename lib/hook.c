/* hook.c — what skiff needs to trust and route a webhook of GitHub, GitLab or Gitea: URL
 * normalisation, signature and token checks, push classification and the repository →
 * projects index. */
#include "hook.h"
#include "hash.h"
#include "hex.h"
#include "id.h"
#include "model_hook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOOK_SHA256_LEN 32

static char hook_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* "file:///srv/git/site.git/" → "file:///srv/git/site": local repositories (allow_local_git
 * setups and tests). The path keeps its case. */
static int hook_file_url_normalize(const char *url, char *out, size_t outlen)
{
	size_t n = strlen(url);
	if (n >= outlen || n > HOOK_URL_MAX || strncmp(url, "file:///", 8))
		return SKIFF_EINVALID;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '\\')
			return SKIFF_EINVALID;
	}
	memcpy(out, url, n + 1);
	for (size_t before = 0; before != n;) {   /* until stable, as for https below */
		before = n;
		while (n > 8 && out[n - 1] == '/')
			out[--n] = '\0';
		if (n > 12 && !memcmp(out + n - 4, ".git", 4))
			out[n -= 4] = '\0';
	}
	return n > 8 ? 0 : SKIFF_EINVALID;
}

/* An ssh URL (ssh://[user@]host[:port]/path or user@host:path) as the https URL of the same
 * repository: the forge's payload names that one (clone_url), and the ssh port says nothing
 * of the https one. */
static int hook_ssh_url_as_https(const char *url, char *out, size_t outlen)
{
	const char *host, *path;
	size_t hl;
	if (!strncasecmp(url, "ssh://", 6)) {
		host = url + 6;
		size_t auth = strcspn(host, "/");
		const char *at = memchr(host, '@', auth);
		if (at) {
			auth -= (size_t)(at + 1 - host);
			host = at + 1;
		}
		const char *colon = host[0] == '[' ? NULL : memchr(host, ':', auth);
		hl = colon ? (size_t)(colon - host) : auth;
		path = host + auth;
	} else {
		size_t n = strcspn(url, "/:");
		const char *at = memchr(url, '@', n);
		if (url[n] != ':' || !at || url[n + 1] == '/' || url[n + 1] == ':')
			return SKIFF_EINVALID;
		host = at + 1;
		hl = (size_t)(url + n - host);
		path = url + n + 1;
	}
	if (hl == 0 || memchr(host, '@', hl))
		return SKIFF_EINVALID;
	int w = snprintf(out, outlen, "https://%.*s%s%s", (int)hl, host, *path == '/' ? "" : "/",
			 path);
	return w > 0 && (size_t)w < outlen ? 0 : SKIFF_EINVALID;
}

int hook_url_normalize(const char *url, char *out, size_t outlen)
{
	size_t skip;
	char ssh[HOOK_URL_MAX + 16];
	if (!url || outlen < 16)
		return SKIFF_EINVALID;
	if (!strncasecmp(url, "file://", 7))
		return hook_file_url_normalize(url, out, outlen);
	if (strncasecmp(url, "https://", 8) && strncasecmp(url, "http://", 7)) {
		if (hook_ssh_url_as_https(url, ssh, sizeof(ssh)) < 0)
			return SKIFF_EINVALID;
		url = ssh;
	}
	if (!strncasecmp(url, "https://", 8))
		skip = 8;
	else if (!strncasecmp(url, "http://", 7))
		skip = 7;
	else
		return SKIFF_EINVALID;
	const char *rest = url + skip;
	size_t n = strlen(rest);
	if (n == 0 || n > HOOK_URL_MAX - 8 || n > outlen - 9)
		return SKIFF_EINVALID;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)rest[i];
		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '\\')
			return SKIFF_EINVALID;
	}
	size_t hostlen = strcspn(rest, "/");
	if (hostlen == 0 || memchr(rest, '@', hostlen))
		return SKIFF_EINVALID;
	memcpy(out, "https://", 8);
	size_t o = 8;
	for (size_t i = 0; i < n; i++)
		out[o++] = hook_lower(rest[i]);
	out[o] = '\0';
	/* the default port says nothing */
	char *host = out + 8, *slash = strchr(host, '/');
	size_t hl = slash ? (size_t)(slash - host) : strlen(host);
	if (memchr(host, ':', hl) != memrchr(host, ':', hl))
		return SKIFF_EINVALID;   /* one port at most */
	if (hl > 4 && !memcmp(host + hl - 4, ":443", 4)) {
		memmove(host + hl - 4, host + hl, strlen(host + hl) + 1);
		hl -= 4;
	} else if (hl > 3 && !memcmp(host + hl - 3, ":80", 3)) {
		memmove(host + hl - 3, host + hl, strlen(host + hl) + 1);
		hl -= 3;
	}
	/* trailing slashes and ".git" suffixes, until none is left: normalising a normalised URL
	 * changes nothing (GitHub names never end in ".git") */
	o = strlen(out);
	for (size_t before = 0; before != o;) {
		before = o;
		while (o > 8 + hl && out[o - 1] == '/')
			out[--o] = '\0';
		if (o >= 8 + hl + 4 && !memcmp(out + o - 4, ".git", 4)) {
			o -= 4;
			out[o] = '\0';
		}
	}
	/* a repository, not a bare host */
	if (o <= 8 + hl + 1 || host[hl] != '/')
		return SKIFF_EINVALID;
	return 0;
}

static void hook_hmac(const char *secret, const void *body, size_t len,
		      unsigned char md[HOOK_SHA256_LEN])
{
	unsigned int mdlen = 0;
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, md, &mdlen) ||
	    mdlen != HOOK_SHA256_LEN)
		abort();
}

void hook_signature(const char *secret, const void *body, size_t len,
		    char out[HOOK_SIGNATURE_LEN + 1])
{
	unsigned char md[HOOK_SHA256_LEN];
	hook_hmac(secret, body, len, md);
	memcpy(out, "sha256=", 7);
	hex_encode(md, HOOK_SHA256_LEN, out + 7);
}

int hook_signature_verify(const char *secret, const void *body, size_t len, const char *header)
{
	unsigned char want[HOOK_SHA256_LEN], got[HOOK_SHA256_LEN];
	if (!secret || !*secret || !header || strlen(header) != HOOK_SIGNATURE_LEN ||
	    strncmp(header, "sha256=", 7))
		return 0;
	if (hex_decode(header + 7, HOOK_SHA256_LEN, got) < 0)
		return 0;
	hook_hmac(secret, body, len, want);
	return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

int hook_signature_hex_verify(const char *secret, const void *body, size_t len,
			      const char *header)
{
	unsigned char want[HOOK_SHA256_LEN], got[HOOK_SHA256_LEN];
	if (!secret || !*secret || !header || strlen(header) != 2 * HOOK_SHA256_LEN ||
	    hex_decode(header, HOOK_SHA256_LEN, got) < 0)
		return 0;
	hook_hmac(secret, body, len, want);
	return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

int hook_token_verify(const char *secret, const char *header)
{
	char want[HASH_HEX_LEN + 1], got[HASH_HEX_LEN + 1];
	if (!secret || !*secret || !header || strlen(header) > HOOK_SECRET_MAX)
		return 0;
	/* digests of equal length: the comparison says nothing about the secret's length */
	hash_buffer(secret, strlen(secret), want);
	hash_buffer(header, strlen(header), got);
	return CRYPTO_memcmp(want, got, HASH_HEX_LEN) == 0;
}

int hook_secret_valid(const char *secret)
{
	if (!secret)
		return 0;
	size_t n = strlen(secret);
	if (n < HOOK_SECRET_MIN || n > HOOK_SECRET_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)secret[i] < 0x21 || (unsigned char)secret[i] > 0x7e)
			return 0;
	return 1;
}

void hook_secret_new(char out[2 * HOOK_SECRET_GEN_BYTES + 1])
{
	id_hex(out, HOOK_SECRET_GEN_BYTES);
}

int hook_delivery_valid(const char *id)
{
	if (!id)
		return 0;
	size_t n = strlen(id);
	if (n == 0 || n > HOOK_DELIVERY_MAX)
		return 0;
	return strspn(id, "0123456789abcdefABCDEFghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ-") == n;
}

size_t hook_payload_urls(json_t *payload, char (*urls)[HOOK_URL_MAX + 1], size_t max)
{
	/* GitHub and Gitea: repository.{clone_url,html_url,url}; GitLab: project.{git_http_url,
	 * web_url} and repository.{git_http_url,homepage} */
	static const char *const fields[][2] = {
		{ "repository", "clone_url" }, { "repository", "html_url" }, { "repository", "url" },
		{ "project", "git_http_url" }, { "project", "web_url" },
		{ "repository", "git_http_url" }, { "repository", "homepage" },
	};
	size_t count = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && count < max; i++) {
		json_t *obj = json_object_get(payload, fields[i][0]);
		const char *u = json_string_value(json_object_get(obj, fields[i][1]));
		if (!u || hook_url_normalize(u, urls[count], HOOK_URL_MAX + 1) < 0)
			continue;
		bool dup = false;
		for (size_t j = 0; j < count; j++)
			dup |= !strcmp(urls[j], urls[count]);
		if (!dup)
			count++;
	}
	return count;
}

bool hook_commit_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return (n == 40 || n == 64) && hex_span(s) == n;
}

void hook_first_line(const char *msg, char *out, size_t size)
{
	size_t n = msg ? strcspn(msg, "\r\n") : 0;
	if (n > size - 1) {
		n = size - 1;
		while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)msg[i] < 0x20 || msg[i] == 0x7f ? ' ' : msg[i];
	out[n] = '\0';
}

/* The pushed head commit's message: GitHub and Gitea send head_commit, GitLab only commits[]
 * (the one whose id is after). */
static const char *hook_push_message(json_t *payload, const char *after)
{
	json_t *head = json_object_get(payload, "head_commit"), *c;
	const char *msg = json_string_value(json_object_get(head, "message"));
	size_t i;
	if (msg)
		return msg;
	json_array_foreach(json_object_get(payload, "commits"), i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		if (id && !strcmp(id, after))
			return json_string_value(json_object_get(c, "message"));
	}
	return NULL;
}

void hook_push_classify(json_t *payload, const char *branch, struct hook_push *out)
{
	memset(out, 0, sizeof(*out));
	out->action = HOOK_PUSH_INVALID;
	const char *ref = json_string_value(json_object_get(payload, "ref"));
	const char *after = json_string_value(json_object_get(payload, "after"));
	if (!ref || strncmp(ref, "refs/", 5)) {
		out->reason = "the payload has no ref";
		return;
	}
	if (!after || !hook_commit_valid(after)) {
		out->reason = "the payload has no commit id in 'after'";
		return;
	}
	memcpy(out->commit, after, strlen(after) + 1);
	out->action = HOOK_PUSH_IGNORE;
	if (!strncmp(ref, "refs/heads/", 11) && validate_branch(ref + 11, NULL) == 0)
		snprintf(out->branch, sizeof(out->branch), "%s", ref + 11);
	out->deleted = json_is_true(json_object_get(payload, "deleted")) ||
		       strspn(after, "0") == strlen(after);
	if (!branch || !*branch) {
		json_t *repo = json_object_get(payload, "repository");
		branch = json_string_value(json_object_get(repo, "default_branch"));
		if (!branch)
			branch = json_string_value(json_object_get(repo, "master_branch"));
		if (!branch)   /* GitLab */
			branch = json_string_value(json_object_get(json_object_get(payload, "project"),
								   "default_branch"));
	}
	out->other_branch = out->branch[0] && branch && *branch && strcmp(out->branch, branch);
	if (out->deleted) {
		out->reason = "a deletion: nothing to deploy";
		return;
	}
	if (!strncmp(ref, "refs/tags/", 10)) {
		out->reason = "a tag push: only branch pushes deploy";
		return;
	}
	if (!out->branch[0]) {
		out->reason = "not a branch push";
		return;
	}
	if (!branch || !*branch) {
		out->reason = "the project follows the default branch, which the payload does not name";
		return;
	}
	if (out->other_branch) {
		out->reason = "a push to another branch than the project's";
		return;
	}
	hook_first_line(hook_push_message(payload, after), out->message, sizeof(out->message));
	out->action = HOOK_PUSH_DEPLOY;
	out->reason = NULL;
}

static int hook_index_change(struct redis *r, bool add, const char *url, const char *slug,
			     struct error *err)
{
	char norm[HOOK_URL_MAX + 1], h[HASH_HEX_LEN + 1];
	if (hook_url_normalize(url, norm, sizeof(norm)) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "webhooks need an https repository URL");
	if (validate_slug(slug, err) < 0)
		return SKIFF_EINVALID;
	hash_buffer(norm, strlen(norm), h);
	return model_hook_index_change(r, h, slug, add, err);
}

int hook_index_add(struct redis *r, const char *url, const char *slug, struct error *err)
{
	return hook_index_change(r, true, url, slug, err);
}

int hook_index_remove(struct redis *r, const char *url, const char *slug, struct error *err)
{
	return hook_index_change(r, false, url, slug, err);
}

int hook_index_lookup(struct redis *r, const char *normalized, json_t **slugs, struct error *err)
{
	char h[HASH_HEX_LEN + 1];
	hash_buffer(normalized, strlen(normalized), h);
	return model_hook_index_members(r, h, HOOK_CANDIDATES_MAX, slugs, err);
}
