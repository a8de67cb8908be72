/* build.h — the routes only a remote builder calls with its build token: start (the build's
 * description, state building) and progress (phase, the commit the clone found, heartbeat). */
#ifndef SKIFF_CREATE_BUILD_H
#define SKIFF_CREATE_BUILD_H

#include "endpoint.h"

/* POST /api/deployments/{id}/start */
int create_build_start(struct http_request *req, struct http_response *resp);
/* POST /api/deployments/{id}/progress */
int create_build_progress(struct http_request *req, struct http_response *resp);
/* POST /api/deployments/{id}/credentials: the secret variables and the repository credential
 * of a building deployment, in clear, to its own build token only, over TLS or loopback. */
int create_build_credentials(struct http_request *req, struct http_response *resp);

#endif
