/* hooks.h — the routes that create and remove a project's build hooks, notification hooks and
 * commit status token (admin credentials only; JSON, or the dashboard's forms). */
#ifndef SKIFF_CREATE_HOOKS_H
#define SKIFF_CREATE_HOOKS_H

#include "endpoint.h"

int create_buildhooks_new(struct http_request *req, struct http_response *resp);
int create_buildhooks_delete(struct http_request *req, struct http_response *resp);
int create_notify_new(struct http_request *req, struct http_response *resp);
int create_notify_delete(struct http_request *req, struct http_response *resp);
int create_status_set(struct http_request *req, struct http_response *resp);
int create_status_delete(struct http_request *req, struct http_response *resp);

#endif
