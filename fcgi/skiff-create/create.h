/* create.h — what the parts of skiff-create share: who is asking (admin credentials or a
 * project deploy token), and the handlers of the deploy protocol and of tokens. */
#ifndef SKIFF_CREATE_H
#define SKIFF_CREATE_H

#include <stdbool.h>
#include "error.h"
#include "endpoint.h"
#include "model.h"
#include "store.h"

/* Who asked: the admin credentials (api_token, REMOTE_USER, auth_disabled), or a deploy token
 * of project (preview: a token of scope "preview"). */
struct create_who {
	bool token;
	bool preview;
	char project[SLUG_MAX + 1];
};

/* Resolves the request's credentials: a bearer token that starts with "skiff_" is a deploy
 * token (401 invalid_token when no live token has it), anything else goes through
 * auth_mutation. */
int create_who_get(struct http_request *req, struct create_who *who, struct error *err);
/* 0 when who may act on project slug: admin credentials, or a token of that project;
 * 403 token_scope otherwise. */
int create_who_may(const struct create_who *who, const char *slug, struct error *err);
/* 0 for admin credentials only; a deploy token gets 403 token_scope. */
int create_who_admin(const struct create_who *who, struct error *err);

/* tokens.c */
int create_tokens_new(struct http_request *req, struct http_response *resp);
int create_tokens_delete(struct http_request *req, struct http_response *resp);

/* deploy.c: what finish shares with the other protocol routes. The hashes of files (a checked
 * path → hash object) the store lacks, each once, into *out (the caller's). */
int create_deploy_missing(struct store *s, json_t *files, json_t **out, struct error *err);
/* The route's deployment {id}, which who may change. */
int create_deploy_load(struct http_request *req, struct create_who *who, struct deployment *d,
		       struct error *err);
/* A JSON body (*body is the caller's) and the route's deployment. */
int create_deploy_begin(struct http_request *req, json_t **body, struct deployment *d,
			struct error *err);
/* 409 not_uploading unless d is building in phase upload. */
int create_deploy_uploading(const struct deployment *d, struct error *err);
/* deploy.c: POST /api/projects/{slug}/deployments with a file list. */
int create_deploy_files(struct http_request *req, struct http_response *resp, json_t *body,
			const struct create_who *who, struct error *err);
int create_deploy_blob(struct http_request *req, struct http_response *resp);
int create_deploy_finish(struct http_request *req, struct http_response *resp);
int create_deploy_fail(struct http_request *req, struct http_response *resp);
int create_deploy_log(struct http_request *req, struct http_response *resp);

#endif
