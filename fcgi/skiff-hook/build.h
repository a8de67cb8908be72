/* build.h — build hooks: POST /api/hooks/build/{secret} queues a build of the hook's branch. */
#ifndef SKIFF_HOOK_BUILD_H
#define SKIFF_HOOK_BUILD_H

#include "endpoint.h"

#define HOOK_BUILD_BODY_MAX 65536   /* a body is allowed (and ignored), up to this */

int hook_build(struct http_request *req, struct http_response *resp);

#endif
