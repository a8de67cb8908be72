/* auth.h — who may read and who may change: a bearer token, a user the web server
 * authenticated (REMOTE_USER), or auth_disabled; and the same-origin rule for every change
 * that rides on such ambient credentials (doc/security.md). */
#ifndef SKIFF_AUTH_H
#define SKIFF_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "error.h"
#include "request.h"

/* value (an Authorization header's, len bytes) is "Bearer ..." */
bool auth_bearer_is(const char *value, size_t len);
/* value is "Bearer {api_token}" and an api_token is configured (constant-time compare). */
bool auth_bearer_valid(const struct config *cfg, const char *value, size_t len);

/* Mutations: a valid bearer token (api_token) passes alone; otherwise REMOTE_USER or
 * auth_disabled, and the request must come from the dashboard's own origin (Origin, else
 * Sec-Fetch-Site: same-origin, else refused). 401 unauthorized or invalid_token, 403
 * cross_origin. */
int auth_mutation(struct http_request *req, struct error *err);
/* Reads: open when public_reads; otherwise the same credentials as a mutation (no origin
 * rule: a read changes nothing). 401 unauthorized or invalid_token. */
int auth_read(struct http_request *req, struct error *err);
/* Reads of what only an administrator sees (hooks and their URLs): the credentials of a
 * mutation whatever public_reads says, without the origin rule. */
int auth_admin_read(struct http_request *req, struct error *err);

/* The request carries the operator's credentials (a valid api_token, REMOTE_USER, or
 * auth_disabled): what a page needs to show what public_reads must not open (deploy tokens). */
bool auth_admin_present(const struct http_request *req);

#endif
