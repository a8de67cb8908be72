/* tokens.h — who is asking (admin credentials or a project deploy token), and the token routes. */
#ifndef SKIFF_CREATE_TOKENS_H
#define SKIFF_CREATE_TOKENS_H

#include <stdbool.h>
#include "endpoint.h"
#include "error.h"
#include "model.h"
#include "model_buildtoken.h"

/* Who asked: the admin credentials (api_token, REMOTE_USER, auth_disabled), a deploy token
 * of project (preview: a token of scope "preview"), or a build token (build: one deployment's
 * remote builder, described by bt). */
struct create_who {
	bool token;
	bool preview;
	bool build;
	char project[SLUG_MAX + 1];
	struct build_token bt;
};

/* Resolves the request's credentials: a bearer token that starts with "skiff_" is a deploy
 * token, one that starts with "skiffbuild_" a build token (401 invalid_token when no live token
 * has it; a build token's lookup renews its build's lease), anything else goes through
 * auth_mutation. */
int create_who_get(struct http_request *req, struct create_who *who, struct error *err);
/* 0 when who may act on project slug: admin credentials, or a deploy token of that project;
 * 403 token_scope otherwise (always for a build token). */
int create_who_may(const struct create_who *who, const char *slug, struct error *err);
/* 0 for admin credentials only; a deploy token gets 403 token_scope. */
int create_who_admin(const struct create_who *who, struct error *err);
/* 0 when who is the build token of deployment id and its build goes on: 403 token_scope for
 * another deployment, 403 build_ended once the deployment is final (with replay_ready, a
 * deployment that is ready passes: a finish sent again), 401 build_token_expired once the
 * build's lease expired. */
int create_who_build(const struct create_who *who, const char *id, bool replay_ready,
		     struct error *err);

/* POST /api/projects/{slug}/tokens: JSON answers the secret once as JSON, the dashboard's form
 * as a page. */
int create_tokens_new(struct http_request *req, struct http_response *resp);
/* DELETE /api/projects/{slug}/tokens/{id}, and POST …/{id}/revoke for the dashboard's form
 * (303 back to the project page). */
int create_tokens_delete(struct http_request *req, struct http_response *resp);

#endif
