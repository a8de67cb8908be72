/* repo.h — the routes of a project's private repository access (token, deploy key, pinned
 * host key). */
#ifndef SKIFF_CREATE_REPO_H
#define SKIFF_CREATE_REPO_H

#include "endpoint.h"

/* POST /api/projects/{slug}/repository/token {token, username?}: set or replace. */
int create_repo_token_set(struct http_request *req, struct http_response *resp);
/* DELETE …/repository/token (forms: POST …/repository/token/delete). */
int create_repo_token_delete(struct http_request *req, struct http_response *resp);
/* POST …/repository/deploy-key: a new key (the old one, if any, stops working): 201. */
int create_repo_key_new(struct http_request *req, struct http_response *resp);
/* DELETE …/repository/deploy-key (forms: POST …/repository/deploy-key/delete). */
int create_repo_key_delete(struct http_request *req, struct http_response *resp);
/* DELETE …/repository/host-key (forms: POST …/repository/host-key/delete): the next clone
 * pins what it sees. */
int create_repo_host_key_delete(struct http_request *req, struct http_response *resp);

#endif
