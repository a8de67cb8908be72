/* skiff-hook — GitHub webhooks: a push to a project's branch, verified by its secret and
 * deduplicated by delivery id, queues a deployment of that branch's head; and build hooks
 * (build.c). */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "build.h"
#include "clock.h"
#include "hook.h"
#include "endpoint.h"
#include "id.h"
#include "log.h"
#include "model.h"
#include "model_hook.h"
#include "model_lifecycle.h"
#include "rate.h"
#include "validate.h"

#define HOOK_EVENT_MAX 64
#define HOOK_URLS_MAX 3

/* One project a delivery is for: its record fields, borrowed from the candidate's reply. */
struct hook_target {
	char slug[SLUG_MAX + 1];
	char git_url[GIT_URL_MAX + 1];
	char branch[BRANCH_MAX + 1];
	struct hook_push push;
};

struct hook_ctx {
	struct http_request *req;
	struct app *app;
	struct buf body;
	json_t *payload;
	char urls[HOOK_URLS_MAX][HOOK_URL_MAX + 1];
	size_t nurls;
	struct hook_target targets[HOOK_CANDIDATES_MAX];
	size_t ntargets;
	bool known;               /* some candidate project exists and has a secret */
};

/* The payload as JSON: the body itself, or the form field "payload" (GitHub's
 * application/x-www-form-urlencoded content type). */
static int hook_parse(struct hook_ctx *c, struct error *err)
{
	const char *ctype = c->req->content_type;
	const char *text = buf_cstr(&c->body);
	size_t len = c->body.len;
	json_t *form = NULL;
	if (!strncasecmp(ctype, "application/x-www-form-urlencoded", 33)) {
		if (request_form_parse(text, len, &form, err) < 0)
			return err->code;
		json_t *p = json_object_get(form, "payload");
		if (!json_is_string(p)) {
			json_decref(form);
			return error_set(err, SKIFF_EINVALID, "invalid_payload",
					 "the form has no payload field");
		}
		text = json_string_value(p);
		len = json_string_length(p);
	} else if (*ctype && strncasecmp(ctype, "application/json", 16)) {
		return error_set(err, SKIFF_ETYPE, "unsupported_media_type",
				 "GitHub sends application/json or application/x-www-form-urlencoded");
	}
	json_error_t jerr;
	c->payload = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	json_decref(form);
	if (!c->payload)
		return error_set(err, SKIFF_EINVALID, "invalid_json",
				 "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
				 jerr.text);
	if (!json_is_object(c->payload))
		return error_set(err, SKIFF_EINVALID, "invalid_json", "the payload is not an object");
	c->nurls = hook_payload_urls(c->payload, c->urls, HOOK_URLS_MAX);
	return 0;
}

/* Candidate slugs: the one named by ?project=, else every project registered for one of the
 * payload's repository URLs. */
static int hook_candidates(struct hook_ctx *c, const char *project, json_t **out,
			   struct error *err)
{
	json_t *all = json_array();
	*out = all;
	if (project) {
		if (validate_slug(project, err) < 0)
			return SKIFF_EINVALID;
		json_array_append_new(all, json_string(project));
		return 0;
	}
	for (size_t i = 0; i < c->nurls; i++) {
		json_t *slugs = NULL, *v;
		size_t j;
		int rc = hook_index_lookup(c->app->redis, c->urls[i], &slugs, err);
		if (rc < 0)
			return rc;
		json_array_foreach(slugs, j, v) {
			bool dup = false;
			size_t k;
			json_t *w;
			json_array_foreach(all, k, w)
				dup |= json_equal(v, w);
			if (!dup && json_array_size(all) < HOOK_CANDIDATES_MAX)
				json_array_append(all, v);
		}
		json_decref(slugs);
	}
	return 0;
}

/* 1 when the project's normalised git URL is one the payload names. */
static bool hook_repo_matches(const struct hook_ctx *c, const char *git_url)
{
	char norm[HOOK_URL_MAX + 1];
	if (hook_url_normalize(git_url, norm, sizeof(norm)) < 0)
		return false;
	for (size_t i = 0; i < c->nurls; i++)
		if (!strcmp(norm, c->urls[i]))
			return true;
	return false;
}

/* Checks the signature with each candidate's secret; those that match become targets. An
 * index entry whose project is gone or moved to another repository is dropped. */
static int hook_verify(struct hook_ctx *c, json_t *candidates, const char *signature,
		       bool by_query, struct error *err)
{
	size_t i;
	json_t *v;
	json_array_foreach(candidates, i, v) {
		const char *slug = json_string_value(v);
		char secret[HOOK_SECRET_MAX + 1];
		if (validate_slug(slug, NULL) < 0)
			continue;
		struct hook_target *t = &c->targets[c->ntargets];
		int exists = model_hook_project(c->app->redis, slug, t->git_url, sizeof(t->git_url),
						t->branch, sizeof(t->branch), secret, sizeof(secret),
						err);
		if (exists < 0)
			return exists;
		if (!exists) {
			for (size_t u = 0; !by_query && u < c->nurls; u++)
				hook_index_remove(c->app->redis, c->urls[u], slug, NULL);
			continue;
		}
		snprintf(t->slug, sizeof(t->slug), "%s", slug);
		if (!by_query && !hook_repo_matches(c, t->git_url)) {
			for (size_t u = 0; u < c->nurls; u++)
				hook_index_remove(c->app->redis, c->urls[u], slug, NULL);
			continue;
		}
		if (!hook_secret_valid(secret))
			continue;
		c->known = true;
		if (hook_signature_verify(secret, buf_cstr(&c->body), c->body.len, signature))
			c->ntargets++;
	}
	return 0;
}

/* Queues a deployment of the branch, not of the payload's commit: the delivery id is not
 * covered by the signature, so a captured push can be sent again, and the clone deploys the
 * branch's head as it finds it (the pushed commit is kept to say so in the log when they
 * differ). A replay of an old push therefore rebuilds the current head, never the old commit. */
static int hook_deploy(struct hook_ctx *c, struct hook_target *t, const char *delivery,
		       json_t *results, struct error *err)
{
	char superseded[ID_LEN + 1];
	struct deployment dep;
	model_deployment_init(&dep);
	id_new(dep.id);
	snprintf(dep.project, sizeof(dep.project), "%s", t->slug);
	snprintf(dep.git_url, sizeof(dep.git_url), "%s", t->git_url);
	snprintf(dep.ref, sizeof(dep.ref), "%s", t->push.branch);
	snprintf(dep.pushed_commit, sizeof(dep.pushed_commit), "%s", t->push.commit);
	snprintf(dep.branch, sizeof(dep.branch), "%s", t->push.branch);
	snprintf(dep.trigger, sizeof(dep.trigger), "webhook");
	snprintf(dep.delivery, sizeof(dep.delivery), "%s", delivery);
	snprintf(dep.commit_message, sizeof(dep.commit_message), "%s", t->push.message);
	dep.created = clock_wall_ms();
	const char *id = dep.id;
	int rc = model_lifecycle_redeploy(c->app->redis, t->slug, &dep, superseded, err);
	if (rc < 0)
		return rc;
	log_info("webhook queued project=%s deployment=%s commit=%s branch=%s delivery=%s "
		 "superseded=%s",
		 t->slug, id, t->push.commit, t->push.branch, delivery,
		 superseded[0] ? superseded : "-");
	json_array_append_new(results,
			      json_pack("{s:s,s:s,s:s,s:s,s:s?}", "project", t->slug, "action", "queued",
					"deploymentId", id, "commit", t->push.commit, "superseded",
					superseded[0] ? superseded : NULL));
	return 0;
}

static int hook_push(struct hook_ctx *c, struct http_response *resp, const char *delivery,
		     struct error *err)
{
	for (size_t i = 0; i < c->ntargets; i++) {
		struct hook_target *t = &c->targets[i];
		hook_push_classify(c->payload, t->branch, &t->push);
		if (t->push.action == HOOK_PUSH_INVALID)
			return error_set(err, SKIFF_EINVALID, "invalid_payload", "%s", t->push.reason);
	}
	for (size_t i = 0; i < c->ntargets; i++) {
		struct hook_target *t = &c->targets[i];
		if (t->push.action == HOOK_PUSH_DEPLOY &&
		    rate_request(c->req, resp, c->app->redis, RATE_HOOK, t->slug, err) < 0)
			return err->code;
	}
	int fresh = model_hook_delivery_claim(c->app->redis, delivery, HOOK_DELIVERY_TTL, err);
	if (fresh < 0)
		return fresh;
	if (!fresh)
		return response_json(resp, 200, json_pack("{s:s,s:s}", "status", "duplicate", "message",
						      "duplicate delivery"));
	json_t *results = json_array();
	const char *reason = NULL;
	size_t queued = 0;
	for (size_t i = 0; i < c->ntargets; i++) {
		struct hook_target *t = &c->targets[i];
		if (t->push.action == HOOK_PUSH_DEPLOY) {
			if (hook_deploy(c, t, delivery, results, err) < 0) {
				model_hook_delivery_forget(c->app->redis, delivery); /* GitHub's redelivery may try again */
				json_decref(results);
				return err->code;
			}
			queued++;
			continue;
		}
		if (!reason)
			reason = t->push.reason;
		log_info("webhook ignored project=%s delivery=%s reason=\"%s\"", t->slug, delivery,
			 t->push.reason);
		json_array_append_new(results, json_pack("{s:s,s:s,s:s}", "project", t->slug,
							 "action", "ignored", "reason",
							 t->push.reason));
	}
	if (queued)
		return response_json(resp, 202, json_pack("{s:s,s:{s:o}}", "status", "queued", "data",
						      "deployments", results));
	return response_json(resp, 202, json_pack("{s:s,s:s,s:{s:o}}", "status", "ignored", "reason",
					      reason, "data", "deployments", results));
}

static int hook_github(struct http_request *req, struct http_response *resp)
{
	struct hook_ctx *c = arena_alloc(req->arena, sizeof(*c));
	struct error err;
	error_clear(&err);
	json_t *candidates = NULL;
	int status;
	c->req = req;
	c->app = req->app;
	buf_init(&c->body, HOOK_BODY_MAX);
	const char *event = request_param(req, "HTTP_X_GITHUB_EVENT");
	const char *signature = request_param(req, "HTTP_X_HUB_SIGNATURE_256");
	const char *delivery = request_param(req, "HTTP_X_GITHUB_DELIVERY");
	const char *project = request_query_get(req, "project");
	bool by_query = project && *project;

	/* per address before any work; per project only for verified deliveries (hook_push), so
	 * unsigned requests cannot use up a project's allowance */
	if (rate_request(req, resp, c->app->redis, RATE_HOOK, NULL, &err) < 0 ||
	    request_body(req, &c->body, &err) < 0)
		goto fail;
	if (!event || !*event || strlen(event) > HOOK_EVENT_MAX ||
	    strspn(event, "abcdefghijklmnopqrstuvwxyz_") != strlen(event)) {
		error_set(&err, SKIFF_EINVALID, "invalid_event", "X-GitHub-Event is missing or invalid");
		goto fail;
	}
	if (!hook_delivery_valid(delivery)) {
		error_set(&err, SKIFF_EINVALID, "invalid_delivery",
			  "X-GitHub-Delivery is missing or invalid");
		goto fail;
	}
	if (!signature || !*signature) {
		error_set(&err, SKIFF_EAUTH, "missing_signature",
			  "X-Hub-Signature-256 is required: set a secret on the webhook");
		goto fail;
	}
	/* Without ?project= the repository in the payload says which secrets to try, so the
	 * payload is parsed (strictly, bounded) before the signature is known to be good. */
	if (!by_query && hook_parse(c, &err) < 0)
		goto fail;
	if (hook_candidates(c, by_query ? project : NULL, &candidates, &err) < 0 ||
	    hook_verify(c, candidates, signature, by_query, &err) < 0)
		goto fail;
	if (!c->known) {
		error_set(&err, SKIFF_ENOTFOUND, "unknown_repository",
			  "no project with a webhook secret deploys this repository");
		goto fail;
	}
	if (c->ntargets == 0) {
		error_set(&err, SKIFF_EAUTH, "bad_signature",
			  "X-Hub-Signature-256 does not match the project's webhook secret");
		goto fail;
	}
	if (by_query && hook_parse(c, &err) < 0)
		goto fail;
	if (by_query && !hook_repo_matches(c, c->targets[0].git_url)) {
		status = response_json(resp, 202, json_pack("{s:s,s:s}", "status", "ignored", "reason",
							"the payload's repository is not the project's"));
		goto out;
	}

	if (!strcmp(event, "ping")) {
		log_info("webhook ping project=%s delivery=%s", c->targets[0].slug, delivery);
		status = response_json(resp, 200, json_pack("{s:s}", "status", "pong"));
	} else if (!strcmp(event, "push")) {
		status = hook_push(c, resp, delivery, &err);
		if (status < 0)
			goto fail;
	} else {
		log_info("webhook ignored event=%s delivery=%s", event, delivery);
		status = response_json(resp, 202, json_pack("{s:s,s:s}", "status", "ignored", "reason",
							"only push and ping events are handled"));
	}
	goto out;
fail:
	status = response_error(req, resp, &err);
out:
	json_decref(candidates);
	json_decref(c->payload);
	buf_dispose(&c->body);
	return status;
}

static const struct http_route hook_routes[] = {
	{ "POST", "/api/hooks/github", hook_github, HOOK_BODY_MAX, ENDPOINT_PUBLIC },
	{ "POST", "/api/hooks/build/{}", hook_build, HOOK_BUILD_BODY_MAX, ENDPOINT_CAPABILITY },
};

int main(int argc, char **argv)
{
	static const struct http_program prog = {
		.name = "skiff-hook",
		.summary = "skiff's GitHub webhook endpoint as a FastCGI (or CGI) program: a verified "
			   "push to a project's branch queues a deployment of the branch's head.",
		.routes = hook_routes,
		.nroutes = sizeof(hook_routes) / sizeof(hook_routes[0]),
		.init = app_init,
		.fini = app_fini,
	};
	return endpoint_main(argc, argv, &prog);
}
