/* skiff-status — the API's reads: projects, deployments, logs and health, as JSON (and the
 * dashboard's server-rendered pages, see pages.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "model_repo.h"
#include "auth.h"
#include "env.h"
#include "html.h"
#include "html_settings.h"
#include "id.h"
#include "log.h"
#include "model.h"
#include "model_env.h"
#include "model_domain.h"
#include "model_preview.h"
#include "model_log.h"
#include "model_token.h"
#include "pages.h"
#include "hooks.h"
#include "status.h"
#include "validate.h"

#define STATUS_LIST_DEFAULT 20
#define STATUS_LIST_MAX 100
#define STATUS_PROJECTS_MAX 1000

static int status_projects(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	json_t *slugs = NULL;
	if (request_wants_html(req))
		return pages_projects(req, resp);
	if (model_project_list(app->redis, STATUS_PROJECTS_MAX, &slugs, &err) < 0)
		return response_error(req, resp, &err);
	json_t *data = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(slugs, i, s) {
		struct project rec;
		if (model_project_get(app->redis, json_string_value(s), &rec, NULL) == 0)
			json_array_append_new(data, api_project(req->cfg, &rec));
	}
	json_decref(slugs);
	return response_json(resp, 200, json_pack("{s:o}", "data", data));
}

static int status_project(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	const char *slug = req->params[0];
	struct project rec;
	if (validate_slug(slug, &err) < 0)
		return response_error(req, resp, &err);
	if (request_wants_html(req))
		return pages_project(req, resp);
	if (model_project_get(app->redis, slug, &rec, &err) < 0)
		return response_error(req, resp, &err);
	json_t *p = api_project(req->cfg, &rec);
	const char *cur = rec.current;
	struct deployment dep;
	if (id_valid(cur) && model_deployment_get(app->redis, cur, &dep, NULL) == 0)
		json_object_set_new(p, "currentDeployment", api_deployment(req->cfg, &dep, cur));
	/* the variables (never a secret's value) and the last settings changes */
	struct env_list *env = NULL;
	json_t *changes = NULL;
	if (model_env_get(app->redis, slug, &env, &err) < 0 ||
	    model_project_changes(app->redis, slug, &changes, &err) < 0) {
		env_list_free(env);
		json_decref(p);
		return response_error(req, resp, &err);
	}
	json_object_set_new(p, "env", env_list_api(env));
	json_object_set_new(p, "changes", changes);
	env_list_free(env);
	json_t *keys = NULL, *list = json_array();
	if (model_preview_list(app->redis, slug, STATUS_PREVIEWS_MAX, &keys, &err) < 0) {
		json_decref(p);
		json_decref(list);
		return response_error(req, resp, &err);
	}
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k) {
		struct preview pv;
		if (model_preview_get(app->redis, slug, json_string_value(k), &pv, NULL) == 0)
			json_array_append_new(list, api_preview(req->cfg, slug, &pv));
	}
	json_decref(keys);
	json_object_set_new(p, "activePreviews", list);
	return response_json(resp, 200, json_pack("{s:o}", "data", p));
}

/* GET /api/projects/{slug}/env: the variables, secrets as set/unset only. */
static int status_project_env(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	const char *slug = req->params[0];
	struct project rec;
	struct env_list *env = NULL;
	if (validate_slug(slug, &err) < 0 || model_project_get(app->redis, slug, &rec, &err) < 0 ||
	    model_env_get(app->redis, slug, &env, &err) < 0)
		return response_error(req, resp, &err);
	json_t *data = env_list_api(env);
	env_list_free(env);
	return response_json(resp, 200, json_pack("{s:o}", "data", data));
}

/* GET /projects/{slug}/settings: the settings page (?saved=1 after a form post). */
static int status_settings_page(struct http_request *req, struct http_response *resp)
{
	struct error err;
	const char *slug = req->params[0];
	if (validate_slug(slug, &err) < 0)
		return html_error(req, resp, &err, "/projects", "Back to the projects");
	const char *saved = request_query_get(req, "saved");
	return html_settings_render(req, resp, slug, NULL, NULL, NULL, saved && *saved);
}

/* A history cursor, "{score}.{id}": the place of the last deployment of the page before.
 * Opaque to clients; stable while deployments are created between two pages. */
static int status_cursor_parse(const char *s, struct model_cursor *c)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end != '.' || !id_valid(end + 1))
		return -1;
	c->score = v;
	memcpy(c->id, end + 1, ID_LEN + 1);
	return 0;
}

static int status_project_deployments(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	const char *slug = req->params[0];
	json_t *ids = NULL;
	struct project rec;
	struct model_cursor after, positions[STATUS_LIST_MAX + 1];
	if (validate_slug(slug, &err) < 0)
		return response_error(req, resp, &err);
	size_t limit = STATUS_LIST_DEFAULT;
	const char *ls = request_query_get(req, "limit"), *cs = request_query_get(req, "cursor");
	char *end;
	if (ls) {
		unsigned long long v = strtoull(ls, &end, 10);
		if (*end || !*ls || v == 0 || v > STATUS_LIST_MAX)
			return response_fail(req, resp, SKIFF_EINVALID, "invalid_limit",
					 "limit must be 1 to %d", STATUS_LIST_MAX);
		limit = (size_t)v;
	}
	if (cs && status_cursor_parse(cs, &after) < 0)
		return response_fail(req, resp, SKIFF_EINVALID, "invalid_cursor",
				 "cursor is not one this API returned");
	if (model_project_get(app->redis, slug, &rec, &err) < 0)
		return response_error(req, resp, &err);
	const char *cur = rec.current;
	/* one more than asked tells whether a next page exists */
	if (model_deployment_page(app->redis, slug, cs ? &after : NULL, limit + 1, &ids, positions,
				  &err) < 0)
		return response_error(req, resp, &err);
	json_t *data = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(ids, i, s) {
		if (i >= limit)
			break;
		struct deployment dep;
		if (model_deployment_get(app->redis, json_string_value(s), &dep, NULL) == 0)
			json_array_append_new(data, api_deployment(req->cfg, &dep, cur));
	}
	json_t *next = json_null();
	if (json_array_size(ids) > limit) {
		char c[48];
		snprintf(c, sizeof(c), "%lld.%s", positions[limit - 1].score, positions[limit - 1].id);
		next = json_string(c);
	}
	json_decref(ids);
	return response_json(resp, 200, json_pack("{s:o,s:o}", "data", data, "nextCursor", next));
}

static int status_deployment(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	struct deployment dep;
	struct project project;
	if (request_wants_html(req))
		return pages_deployment(req, resp);
	if (status_deployment_load(app, req->params[0], &dep, &project, &err) < 0)
		return response_error(req, resp, &err);
	json_t *d = api_deployment(req->cfg, &dep, project.current);
	return response_json(resp, 200, json_pack("{s:o}", "data", d));
}

static int status_deployment_log(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	struct deployment dep;
	struct project project;
	if (status_deployment_load(app, req->params[0], &dep, &project, &err) < 0)
		return response_error(req, resp, &err);
	struct buf log = BUF_INIT(STATUS_LOG_MAX);
	if (status_log_text(app, req->params[0], &log, &err) < 0) {
		buf_dispose(&log);
		return response_error(req, resp, &err);
	}
	resp->status = 200;
	resp->content_type = "text/plain; charset=utf-8";
	response_header(resp, "Cache-Control", "no-cache");
	buf_append(&resp->body, buf_cstr(&log), log.len);
	buf_dispose(&log);
	return 200;
}

static int status_health(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error rerr, serr;
	error_clear(&rerr);
	error_clear(&serr);
	struct store *store = NULL;
	int redis_ok = redis_ping(app->redis, &rerr) == 0;
	int store_ok = app_store(app, &store, &serr) == 0 && store_check(store, &serr) == 0;
	json_t *o = json_pack("{s:s,s:s,s:s}", "status", redis_ok && store_ok ? "ok" : "unavailable",
			      "redis", redis_ok ? "ok" : rerr.message, "store",
			      store_ok ? "ok" : serr.message);
	response_header(resp, "Cache-Control", "no-store");
	if (!redis_ok || !store_ok)
		log_error("health check failed redis=%s store=%s", redis_ok ? "ok" : "down",
			  store_ok ? "ok" : "down");
	return response_json(resp, redis_ok && store_ok ? 200 : 503, o);
}

/* A project's deploy tokens, without their secrets: the admin credentials as for a change
 * (public_reads does not open it; a deploy token, even of this project, answers 403
 * token_scope). */
static int status_tokens(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	const char *slug = req->params[0], *auth = request_param(req, "HTTP_AUTHORIZATION");
	struct project project;
	json_t *list = NULL;
	if (auth && strncasecmp(auth, "Bearer " TOKEN_PREFIX, 7 + sizeof(TOKEN_PREFIX) - 1) == 0)
		error_set(&err, SKIFF_EFORBIDDEN, "token_scope",
			  "a deploy token cannot list tokens; use the admin credentials");
	else if (auth_mutation(req, &err) == 0 && validate_slug(slug, &err) == 0 &&
		 model_project_get(app->redis, slug, &project, &err) == 0)
		model_token_list(app->redis, slug, &list, &err);
	if (!list)
		return response_error(req, resp, &err);
	response_header(resp, "Cache-Control", "no-store");
	return response_json(resp, 200, json_pack("{so}", "data", list));
}

/* How skiff reaches the project's repository: never a secret, only what is set. */
static int status_repository(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	const char *slug = req->params[0];
	struct repo_access *a = malloc(sizeof(*a));
	if (!a)
		abort();
	int status;
	if (validate_slug(slug, &err) < 0 || model_repo_get(app->redis, slug, a, &err) < 0) {
		status = response_error(req, resp, &err);
	} else {
		response_header(resp, "Cache-Control", "no-store");
		status = response_json(resp, 200, json_pack("{s:o}", "data", api_repository(a)));
	}
	free(a);
	return status;
}

/* Who the request's credentials are: a deploy token (its project and scope), the operator's
 * api_token, a user the web server authenticated, or nobody at all under auth_disabled. A
 * wrong token is 401 invalid_token, no credentials 401 unauthorized (public_reads does not
 * make anyone somebody). Changes nothing but a deploy token's lastUsed. */
static int status_whoami(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	const char *auth = request_param(req, "HTTP_AUTHORIZATION");
	const char *user = request_param(req, "REMOTE_USER");
	json_t *who = NULL;
	response_header(resp, "Cache-Control", "no-store");
	if (auth && auth_bearer_is(auth, strlen(auth)) &&
	    strncmp(auth + 7, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1) == 0) {
		struct token t;
		int rc = model_token_secret_valid(auth + 7)
				 ? model_token_lookup(app->redis, auth + 7, &t, &err)
				 : SKIFF_ENOTFOUND;
		if (rc == SKIFF_ENOTFOUND)
			error_set(&err, SKIFF_EAUTH, "invalid_token",
				  "the deploy token is not valid (revoked, or never issued)");
		if (rc < 0)
			return response_error(req, resp, &err);
		who = json_pack("{ss ss ss ss ss}", "kind", "deploy_token", "project", t.project,
				"scope", t.scope, "tokenId", t.id, "name", t.name);
	} else if (auth && auth_bearer_is(auth, strlen(auth))) {
		if (!auth_bearer_valid(req->cfg, auth, strlen(auth)))
			return response_fail(req, resp, SKIFF_EAUTH, "invalid_token",
					     "the bearer token is not valid");
		who = json_pack("{ss}", "kind", "operator");
	} else if (user && *user) {
		who = json_pack("{ss ss}", "kind", "user", "user", user);
	} else if (req->cfg->auth_disabled) {
		who = json_pack("{ss}", "kind", "anonymous");
	} else {
		return response_fail(req, resp, SKIFF_EAUTH, "unauthorized",
				     "no credentials: send a bearer token or sign in");
	}
	return response_json(resp, 200, json_pack("{so}", "data", who));
}

/* A project's custom domains with their state (pending, verified, active, failed and why). */
static int status_domains(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	const char *slug = req->params[0];
	struct project project;
	json_t *list = NULL;
	if (validate_slug(slug, &err) == 0 && model_project_get(app->redis, slug, &project, &err) == 0)
		model_domain_list(app->redis, slug, &list, &err);
	if (!list)
		return response_error(req, resp, &err);
	response_header(resp, "Cache-Control", "no-store");
	return response_json(resp, 200, json_pack("{so}", "data", list));
}

static const struct http_route status_routes[] = {
	{ "GET", "/api/projects/{}/domains", status_domains, 0, ENDPOINT_PRIVATE },
	{ "GET", "/api/projects/{}/repository", status_repository, 0, ENDPOINT_PRIVATE },
	{ "GET", "/api/projects/{}/tokens", status_tokens, 0, ENDPOINT_PUBLIC },
	{ "GET", "/api/whoami", status_whoami, 0, ENDPOINT_PUBLIC },
	{ "GET", "/api/projects/{}/build-hooks", hooks_buildhooks, 0, ENDPOINT_PUBLIC },
	{ "GET", "/api/projects/{}/notifications", hooks_notifications, 0, ENDPOINT_PUBLIC },
	{ "GET", "/projects/{}/hooks", hooks_page, 0, ENDPOINT_PUBLIC },
	{ "GET", "/api/projects", status_projects, 0, ENDPOINT_PRIVATE },
	{ "GET", "/api/projects/{}", status_project, 0, ENDPOINT_PRIVATE },
	{ "GET", "/api/projects/{}/deployments", status_project_deployments, 0, ENDPOINT_PRIVATE },
	{ "GET", "/api/projects/{}/env", status_project_env, 0, ENDPOINT_PRIVATE },
	{ "GET", "/api/deployments/{}", status_deployment, 0, ENDPOINT_PRIVATE },
	{ "GET", "/api/deployments/{}/log", status_deployment_log, 0, ENDPOINT_PRIVATE },
	{ "GET", "/healthz", status_health, 0, ENDPOINT_PUBLIC },
	/* the deploy form holds no record, like the static index.html */
	{ "GET", "/project", pages_deploy, 0, ENDPOINT_PUBLIC },
	{ "GET", "/projects", pages_projects, 0, ENDPOINT_PRIVATE },
	{ "GET", "/projects/{}", pages_project, 0, ENDPOINT_PRIVATE },
	{ "GET", "/projects/{}/settings", status_settings_page, 0, ENDPOINT_PRIVATE },
	{ "GET", "/deployments/{}", pages_deployment, 0, ENDPOINT_PRIVATE },
};

int main(int argc, char **argv)
{
	static const struct http_program prog = {
		.name = "skiff-status",
		.summary = "skiff's API reads and dashboard pages as a FastCGI (or CGI) program.",
		.routes = status_routes,
		.nroutes = sizeof(status_routes) / sizeof(status_routes[0]),
		.resources = endpoint_dashboard,
		.init = app_init,
		.fini = app_fini,
	};
	return endpoint_main(argc, argv, &prog);
}
