/* pages.h — the dashboard's server-rendered pages, handlers of skiff-status's route table. */
#ifndef SKIFF_PAGES_H
#define SKIFF_PAGES_H

#include "endpoint.h"

int pages_deploy(struct http_request *req, struct http_response *resp);
int pages_projects(struct http_request *req, struct http_response *resp);
int pages_project(struct http_request *req, struct http_response *resp);
int pages_deployment(struct http_request *req, struct http_response *resp);

#endif
