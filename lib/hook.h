/* hook.h — push webhooks of GitHub, GitLab and Gitea/Forgejo: repository URL normalisation,
 * each host's signature (X-Hub-Signature-256, X-Gitlab-Token, X-Gitea-Signature), push
 * classification, and the Redis index from repository to projects. */
#ifndef SKIFF_HOOK_H
#define SKIFF_HOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "redis.h"
#include "validate.h"

#define HOOK_BODY_MAX (25u << 20)         /* GitHub caps payloads at 25 MB; above: 413 */
#define HOOK_DELIVERY_TTL 259200          /* seconds a delivery id is remembered (3 days) */
#define HOOK_DELIVERY_MAX 64              /* X-GitHub-Delivery: a GUID */
#define HOOK_URL_MAX GIT_URL_MAX          /* a normalised repository URL */
#define HOOK_SECRET_MIN 16
#define HOOK_SECRET_MAX 256
#define HOOK_SECRET_GEN_BYTES 24          /* a generated secret: 48 hex characters */
#define HOOK_COMMIT_MAX 64                /* SHA-1 (40) or SHA-256 (64) object ids in hex */
#define HOOK_MESSAGE_MAX 512              /* bytes of the head commit's first line kept */
#define HOOK_CANDIDATES_MAX 16            /* projects tried for one repository */
#define HOOK_SIGNATURE_LEN 71             /* "sha256=" + 64 hex */

/* "https://GitHub.com/Acme/Site.git/" → "https://github.com/acme/site": scheme http or
 * https (both become https), no credentials, query or fragment; the default port, trailing
 * slashes and one ".git" are dropped; everything is lowercased (GitHub's owner and repository
 * names are case-insensitive). An ssh URL (ssh://git@host[:port]/path, git@host:path) is the
 * https URL of the same host and path. "file:///path(.git)" (local setups) keeps its case.
 * SKIFF_EINVALID for anything else (git:// forms included). */
int hook_url_normalize(const char *url, char *out, size_t outlen);

/* Writes "sha256=<hex>" of HMAC-SHA256(secret, body) into out[HOOK_SIGNATURE_LEN + 1]. */
void hook_signature(const char *secret, const void *body, size_t len,
		    char out[HOOK_SIGNATURE_LEN + 1]);
/* 1 when header is "sha256=<64 hex>" and equals the HMAC of body under secret (constant-time
 * comparison); 0 otherwise, also for a missing or malformed header or an empty secret. */
int hook_signature_verify(const char *secret, const void *body, size_t len, const char *header);

/* Gitea and Forgejo: 1 when header is the 64 hex digits of HMAC-SHA256(secret, body) (no
 * prefix), compared in constant time; 0 otherwise. */
int hook_signature_hex_verify(const char *secret, const void *body, size_t len,
			      const char *header);
/* GitLab: 1 when header (X-Gitlab-Token) is the secret itself, compared in constant time
 * (as SHA-256 digests, so not even the length shows); 0 otherwise. */
int hook_token_verify(const char *secret, const char *header);

/* 1 for a usable webhook secret: HOOK_SECRET_MIN..HOOK_SECRET_MAX printable ASCII bytes. */
int hook_secret_valid(const char *secret);
/* A fresh random secret (hex) into out[2 * HOOK_SECRET_GEN_BYTES + 1]. */
void hook_secret_new(char out[2 * HOOK_SECRET_GEN_BYTES + 1]);
/* 1 for an X-GitHub-Delivery id skiff accepts: 1..HOOK_DELIVERY_MAX of [0-9A-Za-z-]. */
int hook_delivery_valid(const char *id);

/* The repository URLs a payload names (repository.clone_url, html_url, url; GitLab's
 * project.git_http_url, web_url, repository.git_http_url, homepage), normalised and
 * without duplicates, into urls[max][HOOK_URL_MAX + 1]. Returns how many (0 when none). */
size_t hook_payload_urls(json_t *payload, char (*urls)[HOOK_URL_MAX + 1], size_t max);

/* 1 for a commit id: 40 (SHA-1) or 64 (SHA-256) hex digits. */
bool hook_commit_valid(const char *s);
/* The first line of msg (NULL: "") into out (size bytes, at least 1), cut on a UTF-8
 * character boundary, control characters as spaces. */
void hook_first_line(const char *msg, char *out, size_t size);

enum hook_push_action {
	HOOK_PUSH_DEPLOY,     /* a push to the project's branch: deploy commit */
	HOOK_PUSH_IGNORE,     /* acknowledged, nothing to do: reason says why */
	HOOK_PUSH_INVALID,    /* not a push payload GitHub would send: reason says why */
};

struct hook_push {
	enum hook_push_action action;
	const char *reason;                  /* static text; NULL for HOOK_PUSH_DEPLOY */
	char branch[BRANCH_MAX + 1];         /* the pushed branch ("" for tags, deletions) */
	char commit[HOOK_COMMIT_MAX + 1];    /* payload.after */
	char message[HOOK_MESSAGE_MAX + 1];  /* first line of head_commit.message, "" if none */
	bool deleted;                        /* the push deleted the branch */
	bool other_branch;                   /* a branch (branch) that is not the project's */
};

/* Classifies a push payload (GitHub's, Gitea's or GitLab's: they share ref, after and the
 * head commit's message) for a project that deploys branch (empty: the repository's default
 * branch, payload.repository.default_branch or GitLab's project.default_branch). Tags,
 * deletions (deleted: true or an all-zero after) and other branches are HOOK_PUSH_IGNORE;
 * branch, deleted and other_branch say which (a preview may want them). */
void hook_push_classify(json_t *payload, const char *branch, struct hook_push *out);

/* The index from normalised repository URL to the slugs of projects with a webhook secret:
 * one set per URL, key hookrepo:{sha256 of the URL}. add/remove take any URL form
 * (normalised inside; SKIFF_EINVALID when it cannot be). */
int hook_index_add(struct redis *r, const char *url, const char *slug, struct error *err);
int hook_index_remove(struct redis *r, const char *url, const char *slug, struct error *err);
/* Slugs registered for a normalised URL, at most HOOK_CANDIDATES_MAX, into *slugs (a new JSON
 * array of strings, the caller's). */
int hook_index_lookup(struct redis *r, const char *normalized, json_t **slugs, struct error *err);

#endif
