/* build.c — build hooks: a POST to a hook's secret URL queues a build of the head of the hook's
 * branch (the project's own when it names none), counted against the webhook rate limits. */
#include "build.h"
#include "app.h"
#include "clock.h"
#include "id.h"
#include "log.h"
#include "model.h"
#include "model_buildhook.h"
#include "model_lifecycle.h"
#include "rate.h"

#include <stdio.h>
#include <string.h>

/* The body, if any, is not read: a build hook takes no parameters, and a replayed request can
 * only build the branch's head again (the clone decides the commit, as for pushes). */
int hook_build(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	const char *secret = req->params[0];
	struct buildhook h;
	struct project project;
	struct deployment dep;
	char superseded[ID_LEN + 1];
	/* per address before the lookup; per project once the hook is known */
	if (rate_request(req, resp, app->redis, RATE_HOOK, NULL, &err) < 0)
		goto fail;
	if (!model_buildhook_secret_valid(secret)) {
		error_set(&err, SKIFF_ENOTFOUND, "unknown_build_hook",
			  "no such build hook (revoked, or never issued)");
		goto fail;
	}
	if (model_buildhook_lookup(app->redis, secret, &h, &err) < 0 ||
	    rate_request(req, resp, app->redis, RATE_HOOK, h.project, &err) < 0 ||
	    model_project_get(app->redis, h.project, &project, &err) < 0)
		goto fail;
	model_deployment_init(&dep);
	id_new(dep.id);
	snprintf(dep.project, sizeof(dep.project), "%s", h.project);
	memcpy(dep.git_url, project.git_url, sizeof(dep.git_url));
	snprintf(dep.ref, sizeof(dep.ref), "%s", h.branch[0] ? h.branch : project.branch);
	snprintf(dep.branch, sizeof(dep.branch), "%s", dep.ref);
	snprintf(dep.trigger, sizeof(dep.trigger), "build_hook");
	dep.created = clock_wall_ms();
	if (model_lifecycle_redeploy(app->redis, h.project, &dep, superseded, &err) < 0)
		goto fail;
	log_info("build hook queued project=%s hook=%s deployment=%s branch=%s superseded=%s",
		 h.project, h.id, dep.id, dep.ref[0] ? dep.ref : "-", superseded[0] ? superseded : "-");
	response_header(resp, "Location", "/api/deployments/%s", dep.id);
	return response_json(resp, 202,
			     json_pack("{s:s,s:{s:s,s:s,s:s,s:s?,s:s?}}", "status", "queued", "data",
				       "projectSlug", h.project, "deploymentId", dep.id, "hook", h.id,
				       "branch", dep.ref[0] ? dep.ref : NULL, "superseded",
				       superseded[0] ? superseded : NULL));
fail:
	return response_error(req, resp, &err);
}
