/* skiff-hook — webhooks of GitHub, GitLab and Gitea/Forgejo: a delivery verified the way its
 * host signs and deduplicated by its id queues a deployment of a pushed branch's head
 * (production, or a preview), or builds or removes a pull request's preview. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "build.h"
#include "clock.h"
#include "hook.h"
#include "endpoint.h"
#include "act.h"
#include "log.h"
#include "model.h"
#include "rate.h"
#include "validate.h"

#define HOOK_EVENT_MAX 64

enum hook_event { HOOK_EVENT_OTHER, HOOK_EVENT_PUSH, HOOK_EVENT_PULL, HOOK_EVENT_PING };

/* How one host calls its headers and events. Each header is a CGI variable; a second name is
 * tried when the first is missing. */
struct hook_host_def {
	enum hook_host host;
	const char *name;
	const char *path;
	const char *event[2], *delivery[2], *signature[2];
	const char *delivery_prefix;   /* delivery ids of GitLab and Gitea live beside GitHub's */
	const char *push, *pull[2], *ping;
	const char *missing_signature;
};

static const struct hook_host_def hook_hosts[] = {
	{ HOOK_GITHUB, "GitHub", "/api/hooks/github",
	  { "HTTP_X_GITHUB_EVENT", NULL }, { "HTTP_X_GITHUB_DELIVERY", NULL },
	  { "HTTP_X_HUB_SIGNATURE_256", NULL }, "", "push", { "pull_request", NULL }, "ping",
	  "X-Hub-Signature-256 is required: set a secret on the webhook" },
	/* GitLab 17.4 and later send Idempotency-Key, the same on every retry of one event;
	 * X-Gitlab-Event-UUID before that */
	{ HOOK_GITLAB, "GitLab", "/api/hooks/gitlab",
	  { "HTTP_X_GITLAB_EVENT", NULL }, { "HTTP_IDEMPOTENCY_KEY", "HTTP_X_GITLAB_EVENT_UUID" },
	  { "HTTP_X_GITLAB_TOKEN", NULL }, "gitlab-", "Push Hook", { "Merge Request Hook", NULL },
	  NULL, "X-Gitlab-Token is required: set a secret token on the webhook" },
	/* Forgejo sends X-Forgejo-* beside the X-Gitea-* headers it inherited */
	{ HOOK_GITEA, "Gitea", "/api/hooks/gitea",
	  { "HTTP_X_GITEA_EVENT", "HTTP_X_FORGEJO_EVENT" },
	  { "HTTP_X_GITEA_DELIVERY", "HTTP_X_FORGEJO_DELIVERY" },
	  { "HTTP_X_GITEA_SIGNATURE", "HTTP_X_FORGEJO_SIGNATURE" }, "gitea-", "push",
	  { "pull_request", "pull_request_sync" }, NULL,
	  "X-Gitea-Signature is required: set a secret on the webhook" },
};

static const char *hook_header(struct http_request *req, const char *const names[2])
{
	const char *v = request_param(req, names[0]);
	if ((!v || !*v) && names[1])
		v = request_param(req, names[1]);
	return v;
}

static enum hook_event hook_event_kind(const struct hook_host_def *h, const char *event)
{
	if (!strcmp(event, h->push))
		return HOOK_EVENT_PUSH;
	if (!strcmp(event, h->pull[0]) || (h->pull[1] && !strcmp(event, h->pull[1])))
		return HOOK_EVENT_PULL;
	if (h->ping && !strcmp(event, h->ping))
		return HOOK_EVENT_PING;
	return HOOK_EVENT_OTHER;
}

/* The payload as JSON: the body itself, or the form field "payload" (GitHub's and Gitea's
 * application/x-www-form-urlencoded content type). */
static int hook_parse(struct hook_ctx *c, struct error *err)
{
	const char *ctype = c->req->content_type;
	const char *text = buf_cstr(&c->body);
	size_t len = c->body.len;
	json_t *form = NULL;
	if (c->host != HOOK_GITLAB && !strncasecmp(ctype, "application/x-www-form-urlencoded", 33)) {
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
				 c->host == HOOK_GITLAB ? "GitLab sends application/json"
				 : "the webhook sends application/json or application/x-www-form-urlencoded");
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

/* The signature (or GitLab's token) checked against the project's secret, as its host signs. */
static bool hook_signed(const struct hook_ctx *c, const char *secret, const char *signature)
{
	switch (c->host) {
	case HOOK_GITHUB:
		return hook_signature_verify(secret, buf_cstr(&c->body), c->body.len, signature);
	case HOOK_GITEA:
		return hook_signature_hex_verify(secret, buf_cstr(&c->body), c->body.len, signature);
	case HOOK_GITLAB:
		return hook_token_verify(secret, signature);
	}
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
		if (validate_slug(slug, NULL) < 0)
			continue;
		struct hook_target *t = &c->targets[c->ntargets];
		int exists = model_hook_project(c->app->redis, slug, &t->project, err);
		if (exists < 0)
			return exists;
		if (!exists) {
			for (size_t u = 0; !by_query && u < c->nurls; u++)
				hook_index_remove(c->app->redis, c->urls[u], slug, NULL);
			continue;
		}
		snprintf(t->slug, sizeof(t->slug), "%s", slug);
		if (!by_query && !hook_repo_matches(c, t->project.git_url)) {
			for (size_t u = 0; u < c->nurls; u++)
				hook_index_remove(c->app->redis, c->urls[u], slug, NULL);
			continue;
		}
		if (!hook_secret_valid(t->project.secret))
			continue;
		c->known = true;
		if (hook_signed(c, t->project.secret, signature))
			c->ntargets++;
	}
	return 0;
}

static int hook_receive(struct http_request *req, struct http_response *resp,
			const struct hook_host_def *h)
{
	struct hook_ctx *c = arena_alloc(req->arena, sizeof(*c));
	struct error err;
	error_clear(&err);
	json_t *candidates = NULL;
	int status;
	c->req = req;
	c->app = req->app;
	c->host = h->host;
	buf_init(&c->body, HOOK_BODY_MAX);
	const char *event = hook_header(req, h->event);
	const char *signature = hook_header(req, h->signature);
	const char *delivery = hook_header(req, h->delivery);
	const char *project = request_query_get(req, "project");
	bool by_query = project && *project;

	/* per address before any work; per project only for verified deliveries (act.c), so
	 * unsigned requests cannot use up a project's allowance */
	if (rate_request(req, resp, c->app->redis, RATE_HOOK, NULL, &err) < 0 ||
	    request_body(req, &c->body, &err) < 0)
		goto fail;
	if (!event || !*event || strlen(event) > HOOK_EVENT_MAX ||
	    strspn(event, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_ ") != strlen(event)) {
		error_set(&err, SKIFF_EINVALID, "invalid_event", "the %s event header is missing or "
			  "invalid", h->name);
		goto fail;
	}
	if (!delivery || strlen(h->delivery_prefix) + strlen(delivery) > HOOK_DELIVERY_MAX ||
	    !hook_delivery_valid(delivery)) {
		error_set(&err, SKIFF_EINVALID, "invalid_delivery",
			  "the %s delivery id header is missing or invalid", h->name);
		goto fail;
	}
	snprintf(c->delivery, sizeof(c->delivery), "%s%s", h->delivery_prefix, delivery);
	if (!signature || !*signature) {
		error_set(&err, SKIFF_EAUTH, "missing_signature", "%s", h->missing_signature);
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
			  "the %s signature does not match the project's webhook secret", h->name);
		goto fail;
	}
	if (by_query && hook_parse(c, &err) < 0)
		goto fail;
	if (by_query && !hook_repo_matches(c, c->targets[0].project.git_url)) {
		status = response_json(resp, 202, json_pack("{s:s,s:s}", "status", "ignored", "reason",
							"the payload's repository is not the project's"));
		goto out;
	}

	switch (hook_event_kind(h, event)) {
	case HOOK_EVENT_PING:
		log_info("webhook ping project=%s delivery=%s", c->targets[0].slug, c->delivery);
		status = response_json(resp, 200, json_pack("{s:s}", "status", "pong"));
		break;
	case HOOK_EVENT_PUSH:
		status = hook_act_push(c, resp, &err);
		break;
	case HOOK_EVENT_PULL:
		status = hook_act_pull(c, resp, &err);
		break;
	default:
		log_info("webhook ignored host=%s event=\"%s\" delivery=%s", h->name, event,
			 c->delivery);
		status = response_json(resp, 202, json_pack("{s:s,s:s}", "status", "ignored", "reason",
							"only push and pull request events are handled"));
		break;
	}
	if (status < 0)
		goto fail;
	goto out;
fail:
	status = response_error(req, resp, &err);
out:
	json_decref(candidates);
	json_decref(c->payload);
	buf_dispose(&c->body);
	return status;
}

static int hook_github(struct http_request *req, struct http_response *resp)
{
	return hook_receive(req, resp, &hook_hosts[HOOK_GITHUB]);
}

static int hook_gitlab(struct http_request *req, struct http_response *resp)
{
	return hook_receive(req, resp, &hook_hosts[HOOK_GITLAB]);
}

static int hook_gitea(struct http_request *req, struct http_response *resp)
{
	return hook_receive(req, resp, &hook_hosts[HOOK_GITEA]);
}

static const struct http_route hook_routes[] = {
	{ "POST", "/api/hooks/github", hook_github, HOOK_BODY_MAX, ENDPOINT_PUBLIC },
	{ "POST", "/api/hooks/build/{}", hook_build, HOOK_BUILD_BODY_MAX, ENDPOINT_CAPABILITY },
	{ "POST", "/api/hooks/gitlab", hook_gitlab, HOOK_BODY_MAX, ENDPOINT_PUBLIC },
	{ "POST", "/api/hooks/gitea", hook_gitea, HOOK_BODY_MAX, ENDPOINT_PUBLIC },
};

int main(int argc, char **argv)
{
	static const struct http_program prog = {
		.name = "skiff-hook",
		.summary = "skiff's webhook endpoint for GitHub, GitLab and Gitea/Forgejo as a FastCGI "
			   "(or CGI) program: a verified push queues a deployment of the branch's "
			   "head (production or a preview); pull requests get previews.",
		.routes = hook_routes,
		.nroutes = sizeof(hook_routes) / sizeof(hook_routes[0]),
		.init = app_init,
		.fini = app_fini,
	};
	return endpoint_main(argc, argv, &prog);
}
