/* status.h — skiff-status's handlers: JSON reads (main.c) and server-rendered pages (pages.c). */
#ifndef SKIFF_STATUS_H
#define SKIFF_STATUS_H

#include <jansson.h>
#include "app.h"
#include "endpoint.h"
#include "model.h"

#define STATUS_LOG_MAX (16u << 20)   /* largest log served or rendered */

/* Loads a deployment and its project (empty when the project was deleted); 0 or an error
 * code with err set. */
int status_deployment_load(struct app *app, const char *id, struct deployment *dep,
			   struct project *project, struct error *err);
/* The whole log of a deployment: the Redis stream, else its archived copy in the store. */
int status_log_text(struct app *app, const char *id, struct buf *out, struct error *err);

int pages_deploy(struct http_request *req, struct http_response *resp);
int pages_projects(struct http_request *req, struct http_response *resp);
int pages_project(struct http_request *req, struct http_response *resp);
int pages_deployment(struct http_request *req, struct http_response *resp);

#endif
