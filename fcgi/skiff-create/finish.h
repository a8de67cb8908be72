/* finish.h — the end of an upload: blobs verified, the manifest built, the deployment ready. */
#ifndef SKIFF_CREATE_FINISH_H
#define SKIFF_CREATE_FINISH_H

#include "endpoint.h"

int create_deploy_finish(struct http_request *req, struct http_response *resp);

#endif
