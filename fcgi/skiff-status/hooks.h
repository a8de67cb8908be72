/* hooks.h — reads of a project's build hooks and notification hooks (admin credentials only):
 * the JSON lists and the dashboard's hooks page with its forms. */
#ifndef SKIFF_STATUS_HOOKS_H
#define SKIFF_STATUS_HOOKS_H

#include "endpoint.h"

int hooks_buildhooks(struct http_request *req, struct http_response *resp);
int hooks_notifications(struct http_request *req, struct http_response *resp);
int hooks_page(struct http_request *req, struct http_response *resp);

#endif
