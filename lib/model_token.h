/* model_token.h — project deploy tokens in Redis: a token is shown once
 * at creation and stored only as its SHA-256; it authenticates for one project, as "deploy"
 * (every deployment) or "preview" (deployments that never become production). */
#ifndef SKIFF_MODEL_TOKEN_H
#define SKIFF_MODEL_TOKEN_H

#include <jansson.h>
#include <stdbool.h>
#include "error.h"
#include "hash.h"
#include "id.h"
#include "redis.h"
#include "validate.h"

#define TOKEN_PREFIX "skiff_"
#define TOKEN_RANDOM_LEN 32            /* base32 characters after the prefix */
#define TOKEN_LEN (sizeof(TOKEN_PREFIX) - 1 + TOKEN_RANDOM_LEN)
#define TOKEN_NAME_MAX 64              /* bytes of a token's name */
#define TOKEN_PER_PROJECT_MAX 100      /* live tokens of one project */
#define TOKEN_SCOPE_MAX 7              /* "deploy", "preview" */
#define TOKEN_TOUCH_MS 60000           /* lastUsed is written at most this often */

struct token {
	char id[ID_LEN + 1];
	char project[SLUG_MAX + 1];
	char name[TOKEN_NAME_MAX + 1];
	char scope[TOKEN_SCOPE_MAX + 1];
	long long created;                 /* ms */
	long long last_used;               /* ms, or 0 when never used */
};

/* A fresh token's secret: "skiff_" and 32 characters of base32 from getrandom. */
void model_token_secret_new(char out[TOKEN_LEN + 1]);
/* 1 when s looks like a deploy token (prefix, length, alphabet). */
int model_token_secret_valid(const char *s);
/* 1 when scope is "deploy" or "preview"; 1 when name is 1-64 bytes of printable UTF-8. */
int model_token_scope_valid(const char *scope);
int model_token_name_valid(const char *name);

/* Stores t (id, project, name, scope, created set by the caller) under the SHA-256 of secret.
 * SKIFF_ENOTFOUND when the project does not exist, SKIFF_ELIMIT past TOKEN_PER_PROJECT_MAX. */
int model_token_create(struct redis *r, const struct token *t, const char *secret,
		       struct error *err);
/* The project's tokens, oldest first, as API objects {id, name, scope, created, lastUsed}
 * (never the secret or its hash); *out is the caller's. */
int model_token_list(struct redis *r, const char *slug, json_t **out, struct error *err);
/* Revokes token id of project slug: SKIFF_ENOTFOUND when slug has no such token. */
int model_token_delete(struct redis *r, const char *slug, const char *id, struct error *err);
/* The token whose secret this is, into *out; records lastUsed (at most once a TOKEN_TOUCH_MS).
 * SKIFF_ENOTFOUND when no live token has it: revoked, never issued, or its project was
 * deleted (a project created again under the same slug does not inherit its tokens). */
int model_token_lookup(struct redis *r, const char *secret, struct token *out,
		       struct error *err);

#endif
