/* body.h — the body of the routes that speak JSON only (the deploy protocol, deploy tokens). */
#ifndef SKIFF_CREATE_BODY_H
#define SKIFF_CREATE_BODY_H

#include <jansson.h>
#include "endpoint.h"
#include "error.h"

/* Reads the body as a JSON object (*body is the caller's); a form is 415
 * unsupported_media_type, its message "<why> (application/json)". */
int create_body_json(struct http_request *req, json_t **body, const char *why, struct error *err);

#endif
