/* act.c — what a verified delivery does: queue production or a preview, or remove a preview;
 * once per delivery id, within each project's rate limit. */
#include "act.h"

#include <stdio.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "id.h"
#include "log.h"
#include "model.h"
#include "model_lifecycle.h"
#include "preview.h"
#include "rate.h"
#include "validate.h"

enum hook_todo { HOOK_TODO_IGNORE, HOOK_TODO_DEPLOY, HOOK_TODO_PREVIEW, HOOK_TODO_CLOSE };

/* What one target is to do with the delivery. */
struct hook_plan {
	enum hook_todo todo;
	const char *reason;                  /* why ignored */
	struct preview preview;              /* TODO_PREVIEW, TODO_CLOSE: key, kind, branch, … */
	char commit[HOOK_COMMIT_MAX + 1];    /* the pushed (or pull request head) commit */
	char message[MODEL_MESSAGE_MAX + 1];
};

static void hook_ignored(json_t *results, const char *slug, const char *delivery,
			 const char *reason)
{
	log_info("webhook ignored project=%s delivery=%s reason=\"%s\"", slug, delivery, reason);
	json_array_append_new(results, json_pack("{s:s,s:s,s:s}", "project", slug, "action",
						 "ignored", "reason", reason));
}

/* Queues a deployment of the branch (0; 1 when it turns out there is nothing to queue), not
 * of the payload's commit: the delivery id is not
 * covered by the signature, so a captured push can be sent again, and the clone deploys the
 * branch's head as it finds it (the pushed commit is kept to say so in the log when they
 * differ). A replay of an old push therefore rebuilds the current head, never the old commit.
 * A preview is built the same way, from its own repository (a fork's) and never touching
 * production. */
static int hook_queue(struct hook_ctx *c, struct hook_target *t, struct hook_plan *plan,
		      json_t *results, struct error *err)
{
	char superseded[ID_LEN + 1], url[1024];
	struct deployment dep;
	bool preview = plan->todo == HOOK_TODO_PREVIEW;
	model_deployment_init(&dep);
	id_new(dep.id);
	snprintf(dep.project, sizeof(dep.project), "%s", t->slug);
	snprintf(dep.git_url, sizeof(dep.git_url), "%s",
		 preview ? plan->preview.git_url : t->project.git_url);
	snprintf(dep.ref, sizeof(dep.ref), "%s", preview ? plan->preview.branch : t->push.branch);
	snprintf(dep.branch, sizeof(dep.branch), "%s", dep.ref);
	snprintf(dep.pushed_commit, sizeof(dep.pushed_commit), "%s", plan->commit);
	snprintf(dep.trigger, sizeof(dep.trigger), "webhook");
	snprintf(dep.delivery, sizeof(dep.delivery), "%s", c->delivery);
	snprintf(dep.commit_message, sizeof(dep.commit_message), "%s", plan->message);
	dep.created = clock_wall_ms();
	int rc;
	if (preview) {
		snprintf(dep.context, sizeof(dep.context), "preview");
		snprintf(dep.preview, sizeof(dep.preview), "%s", plan->preview.key);
		dep.fork = plan->preview.fork;
		rc = model_lifecycle_preview_deploy(c->app->redis, t->slug, &dep, &plan->preview,
						    superseded, err);
		if (rc == SKIFF_ECONFLICT || rc == SKIFF_ELIMIT) {   /* nothing to do here */
			plan->reason = rc == SKIFF_ELIMIT
					       ? "the project has as many previews as it may: close some"
					       : "the preview address belongs to another branch";
			hook_ignored(results, t->slug, c->delivery, plan->reason);
			return 1;
		}
	} else {
		rc = model_lifecycle_redeploy(c->app->redis, t->slug, &dep, superseded, err);
	}
	if (rc < 0)
		return rc;
	log_info("webhook queued project=%s deployment=%s commit=%s branch=%s context=%s "
		 "preview=%s delivery=%s superseded=%s",
		 t->slug, dep.id, plan->commit[0] ? plan->commit : "-", dep.branch,
		 preview ? "preview" : "production", preview ? dep.preview : "-", c->delivery,
		 superseded[0] ? superseded : "-");
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?}", "project", t->slug, "action", "queued",
			      "deploymentId", dep.id, "context", preview ? "preview" : "production",
			      "branch", dep.branch, "superseded", superseded[0] ? superseded : NULL);
	if (plan->commit[0])
		json_object_set_new(o, "commit", json_string(plan->commit));
	if (preview) {
		api_site_url(c->req->cfg, t->slug, dep.preview, url, sizeof(url));
		json_object_set_new(o, "preview", json_string(dep.preview));
		json_object_set_new(o, "previewUrl", json_string(url));
		json_object_set_new(o, "fork", json_boolean(dep.fork));
	}
	json_array_append_new(results, o);
	return 0;
}

/* Removes a preview (0), or says there was none (1, ignored). */
static int hook_close(struct hook_ctx *c, struct hook_target *t, struct hook_plan *plan,
		      json_t *results, struct error *err)
{
	char canceled[ID_LEN + 1];
	int rc = model_lifecycle_preview_close(c->app->redis, t->slug, plan->preview.key, canceled,
					       err);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		plan->reason = "no preview to remove";
		hook_ignored(results, t->slug, c->delivery, plan->reason);
		return 1;
	}
	log_info("webhook preview removed project=%s preview=%s canceled=%s delivery=%s", t->slug,
		 plan->preview.key, canceled[0] ? canceled : "-", c->delivery);
	json_array_append_new(results, json_pack("{s:s,s:s,s:s,s:s?}", "project", t->slug,
						 "action", "removed", "preview", plan->preview.key,
						 "canceled", canceled[0] ? canceled : NULL));
	return 0;
}

/* Runs the plans of the targets: rate limits first (a refusal changes nothing), then the
 * delivery claimed once (a replay of the same id is a duplicate), then each plan. */
static int hook_run(struct hook_ctx *c, struct http_response *resp, struct hook_plan *plans,
		    struct error *err)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (plans[i].todo != HOOK_TODO_IGNORE &&
		    rate_request(c->req, resp, c->app->redis, RATE_HOOK, c->targets[i].slug, err) < 0)
			return err->code;
	int fresh = model_hook_delivery_claim(c->app->redis, c->delivery, HOOK_DELIVERY_TTL, err);
	if (fresh < 0)
		return fresh;
	if (!fresh)
		return response_json(resp, 200, json_pack("{s:s,s:s}", "status", "duplicate", "message",
						      "duplicate delivery"));
	json_t *results = json_array();
	const char *reason = NULL;
	size_t done = 0;
	for (size_t i = 0; i < c->ntargets; i++) {
		struct hook_target *t = &c->targets[i];
		struct hook_plan *plan = &plans[i];
		int rc = 0;
		switch (plan->todo) {
		case HOOK_TODO_IGNORE:
			if (!reason)
				reason = plan->reason;
			hook_ignored(results, t->slug, c->delivery, plan->reason);
			continue;
		case HOOK_TODO_DEPLOY:
		case HOOK_TODO_PREVIEW:
			rc = hook_queue(c, t, plan, results, err);
			break;
		case HOOK_TODO_CLOSE:
			rc = hook_close(c, t, plan, results, err);
			break;
		}
		if (rc < 0) {
			model_hook_delivery_forget(c->app->redis, c->delivery); /* a redelivery may try again */
			json_decref(results);
			return rc;
		}
		if (rc == 1 && !reason)   /* ignored after all */
			reason = plan->reason;
		done += rc == 0;
	}
	if (done)
		return response_json(resp, 202, json_pack("{s:s,s:{s:o}}", "status", "queued", "data",
						      "deployments", results));
	return response_json(resp, 202, json_pack("{s:s,s:s,s:{s:o}}", "status", "ignored", "reason",
					      reason, "data", "deployments", results));
}

/* The preview a plan builds or removes. */
static void hook_plan_preview(struct hook_plan *plan, const char *key, const char *kind,
			      const char *branch, const char *git_url, bool fork)
{
	model_preview_init(&plan->preview);
	snprintf(plan->preview.key, sizeof(plan->preview.key), "%s", key);
	snprintf(plan->preview.kind, sizeof(plan->preview.kind), "%s", kind);
	snprintf(plan->preview.branch, sizeof(plan->preview.branch), "%s", branch);
	snprintf(plan->preview.git_url, sizeof(plan->preview.git_url), "%s", git_url);
	plan->preview.fork = fork;
}

int hook_act_push(struct hook_ctx *c, struct http_response *resp, struct error *err)
{
	struct hook_plan *plans = arena_alloc(c->req->arena, sizeof(*plans) * HOOK_CANDIDATES_MAX);
	for (size_t i = 0; i < c->ntargets; i++) {
		struct hook_target *t = &c->targets[i];
		struct hook_plan *plan = &plans[i];
		hook_push_classify(c->payload, t->project.branch, &t->push);
		if (t->push.action == HOOK_PUSH_INVALID)
			return error_set(err, SKIFF_EINVALID, "invalid_payload", "%s", t->push.reason);
		memset(plan, 0, sizeof(*plan));
		plan->todo = t->push.action == HOOK_PUSH_DEPLOY ? HOOK_TODO_DEPLOY : HOOK_TODO_IGNORE;
		plan->reason = t->push.reason;
		snprintf(plan->commit, sizeof(plan->commit), "%s", t->push.commit);
		snprintf(plan->message, sizeof(plan->message), "%s", t->push.message);
		char key[PREVIEW_KEY_MAX + 1];
		if (!t->push.other_branch ||
		    !preview_branch_wanted(t->project.previews, t->push.branch))
			continue;
		if (preview_key_branch(t->slug, t->push.branch, key, NULL) < 0) {
			plan->reason = "the slug is too long for a preview address";
			continue;
		}
		/* a deleted branch takes its preview with it */
		plan->todo = t->push.deleted ? HOOK_TODO_CLOSE : HOOK_TODO_PREVIEW;
		hook_plan_preview(plan, key, "branch", t->push.branch, t->project.git_url, false);
	}
	return hook_run(c, resp, plans, err);
}

int hook_act_pull(struct hook_ctx *c, struct http_response *resp, struct error *err)
{
	struct hook_pr pr;
	hook_pr_classify(c->host, c->payload, &pr);
	if (pr.action == HOOK_PR_INVALID)
		return error_set(err, SKIFF_EINVALID, "invalid_payload", "%s", pr.reason);
	struct hook_plan *plans = arena_alloc(c->req->arena, sizeof(*plans) * HOOK_CANDIDATES_MAX);
	for (size_t i = 0; i < c->ntargets; i++) {
		struct hook_target *t = &c->targets[i];
		struct hook_plan *plan = &plans[i];
		char key[PREVIEW_KEY_MAX + 1];
		memset(plan, 0, sizeof(*plan));
		plan->todo = HOOK_TODO_IGNORE;
		plan->reason = pr.reason;
		snprintf(plan->commit, sizeof(plan->commit), "%s", pr.commit);
		snprintf(plan->message, sizeof(plan->message), "%s", pr.title);
		if (pr.action == HOOK_PR_IGNORE)
			continue;
		if (preview_key_pr(t->slug, pr.number, key, NULL) < 0) {
			plan->reason = "the slug is too long for a preview address";
			continue;
		}
		/* a fork's own repository; the project's for a branch of its repository */
		hook_plan_preview(plan, key, "pr", pr.branch, pr.fork ? pr.git_url : t->project.git_url,
				  pr.fork);
		plan->preview.pr = pr.number;
		snprintf(plan->preview.title, sizeof(plan->preview.title), "%s", pr.title);
		if (pr.action == HOOK_PR_CLOSE) {
			plan->todo = HOOK_TODO_CLOSE;   /* whatever the settings are now */
		} else if (!t->project.previews[0]) {
			plan->reason = "previews are off for this project";
		} else if (!preview_branch_wanted(t->project.previews, pr.branch)) {
			plan->reason = "the project has no previews for this branch";
		} else if (pr.fork && !t->project.preview_forks) {
			plan->reason = "pull requests from forks are not built (previewForks is off)";
		} else if (pr.fork && validate_git_url(pr.git_url, c->req->cfg->allow_local_git,
						       NULL) < 0) {
			plan->reason = "the fork's repository URL is missing or not allowed";
		} else {
			plan->todo = HOOK_TODO_PREVIEW;
		}
	}
	return hook_run(c, resp, plans, err);
}
