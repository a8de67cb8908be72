/* repo.h — the routes of a project's private repository access (token, deploy key, pinned
 * host key). */
#ifndef SKIFF_CREATE_REPO_H
#define SKIFF_CREATE_REPO_H

#include <jansson.h>
#include <stdbool.h>
#include "endpoint.h"
#include "model_repo.h"

/* The repository credential a create body gives: repositoryToken (and repositoryUsername), or
 * deployKey: true for a key skiff generates; both may be given. */
struct create_repo_given {
	const char *token;      /* borrowed from the body; NULL when none */
	const char *username;   /* NULL: the default */
	bool deploy_key;
	char host[REPO_HOST_MAX + 1];   /* gitURL's host: the only one they are sent to */
};

/* Reads and checks them as the repository routes check theirs (invalid_repository_token,
 * invalid_repository_username, invalid_git_url for a URL with no host); nothing is written. */
int create_repo_given_read(json_t *body, bool is_form, const char *git_url,
			   struct create_repo_given *g, struct error *err);
/* The record they make for project slug (sealed for it; a deploy key generated), into *a. */
int create_repo_given_seal(struct http_request *req, const struct create_repo_given *g,
			   const char *slug, struct repo_access *a, struct error *err);

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
