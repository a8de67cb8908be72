/* deploy.h — the deploy protocol's routes and what finish.c shares with them. */
#ifndef SKIFF_CREATE_DEPLOY_H
#define SKIFF_CREATE_DEPLOY_H

#include <jansson.h>
#include "endpoint.h"
#include "error.h"
#include "model.h"
#include "store.h"
#include "tokens.h"

/* What finish shares with the other protocol routes. The hashes of files (a checked
 * path → hash object) the store lacks, each once, into *out (the caller's). */
int create_deploy_missing(struct store *s, json_t *files, json_t **out, struct error *err);
/* The route's deployment {id}, which who may change. */
int create_deploy_load(struct http_request *req, struct create_who *who, struct deployment *d,
		       struct error *err);
/* A JSON body (*body is the caller's) and the route's deployment, which who may change (with
 * replay, a build token's deployment may be ready already: a finish sent again). */
int create_deploy_begin(struct http_request *req, json_t **body, struct deployment *d,
			struct create_who *who, bool replay, struct error *err);
/* The rest of a deploy protocol route, on its body and deployment: the status it answered, or
 * a negative code with err set. */
typedef int (*deploy_act)(struct http_request *req, struct http_response *resp, json_t *body,
			  const struct deployment *d, const struct create_who *who,
			  struct error *err);
/* A route of the protocol on one deployment: the body, the deployment, act, the failure
 * answer. */
int create_deploy_route(struct http_request *req, struct http_response *resp, deploy_act act);
/* 409 not_uploading unless d is building in phase upload. */
int create_deploy_uploading(const struct deployment *d, struct error *err);
/* POST /api/projects/{slug}/deployments with a file list. */
int create_deploy_files(struct http_request *req, struct http_response *resp, json_t *body,
			const struct create_who *who, struct error *err);
int create_deploy_blob(struct http_request *req, struct http_response *resp);
int create_deploy_fail(struct http_request *req, struct http_response *resp);
int create_deploy_log(struct http_request *req, struct http_response *resp);
/* POST /api/deployments/{id}/files: a build token's file list for its deployment. */
int create_deploy_attach(struct http_request *req, struct http_response *resp);

#endif
