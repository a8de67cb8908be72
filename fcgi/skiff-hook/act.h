/* act.h (skiff-hook) — what the receiving half (main.c) hands the acting half (act.c): a
 * verified delivery and the projects it is for. */
#ifndef SKIFF_HOOK_ACT_H
#define SKIFF_HOOK_ACT_H

#include <stdbool.h>
#include "app.h"
#include "buf.h"
#include "hook.h"
#include "hook_pr.h"
#include "model_hook.h"
#include "request.h"
#include "response.h"

#define HOOK_URLS_MAX 4

/* One project a delivery is for. */
struct hook_target {
	char slug[SLUG_MAX + 1];
	struct model_hook_project project;
	struct hook_push push;
};

struct hook_ctx {
	struct http_request *req;
	struct app *app;
	enum hook_host host;
	struct buf body;
	json_t *payload;
	char urls[HOOK_URLS_MAX][HOOK_URL_MAX + 1];
	size_t nurls;
	struct hook_target targets[HOOK_CANDIDATES_MAX];
	size_t ntargets;
	bool known;               /* some candidate project exists and has a secret */
	char delivery[HOOK_DELIVERY_MAX + 1];   /* as remembered: GitLab's and Gitea's prefixed */
};

/* A push: production of the project's branch, a preview of another branch the project
 * previews (or its removal when the branch was deleted). */
int hook_act_push(struct hook_ctx *c, struct http_response *resp, struct error *err);
/* A pull or merge request: its preview built or removed. */
int hook_act_pull(struct hook_ctx *c, struct http_response *resp, struct error *err);

#endif
