/* hooks.c — a project's build hooks (secret URLs that queue a build), notification hooks
 * (receivers of deploy events) and commit status token: created with their secret shown once
 * (the token never), and removed. JSON clients get JSON; the dashboard's forms get a page (the
 * secret) or 303 to the hooks page. */
#include "hooks.h"
#include "api.h"
#include "app.h"
#include "fields.h"
#include "clock.h"
#include "hook.h"
#include "html.h"
#include "log.h"
#include "model.h"
#include "model_buildhook.h"
#include "model_notify.h"
#include "commit_status.h"
#include "notify.h"
#include "secret.h"
#include "tokens.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rest of a hooks route, on its body: the status it answered, or a negative code. */
typedef int (*hooks_act)(struct http_request *req, struct http_response *resp, json_t *body,
			 bool is_form, struct error *err);

/* What every hooks route shares: the body, admin credentials, the slug, the failure answer
 * (a form gets a page with a link back to the hooks page). */
static int hooks_route(struct http_request *req, struct http_response *resp, hooks_act act)
{
	struct error err;
	error_clear(&err);
	json_t *body = NULL;
	bool is_form = false;
	struct create_who who;
	int status;
	if (request_body_object(req, &body, &is_form, &err) < 0 ||
	    create_who_get(req, &who, &err) < 0 || create_who_admin(&who, &err) < 0 ||
	    validate_slug(req->params[0], &err) < 0 ||
	    (status = act(req, resp, body, is_form, &err)) < 0) {
		char back[96];
		snprintf(back, sizeof(back), "/projects/%s/hooks",
			 validate_slug(req->params[0], NULL) == 0 ? req->params[0] : "");
		if (is_form && err.code != SKIFF_EFORBIDDEN && err.code != SKIFF_EAUTH)
			status = html_error(req, resp, &err, back, "Back to the hooks");
		else
			status = response_error(req, resp, &err);
	}
	json_decref(body);
	return status;
}

/* A string field: NULL when absent, null or (in a form) empty; SKIFF_EINVALID when not a
 * string, with a NUL, or longer than max. */
static int hooks_field(json_t *body, const char *name, bool is_form, size_t max,
		       const char **out, struct error *err)
{
	json_t *v = json_object_get(body, name);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    json_string_length(v) > max)
		return error_set(err, SKIFF_EINVALID, "invalid_field",
				 "%s must be a string of at most %zu bytes", name, max);
	if (*json_string_value(v) || !is_form)
		*out = json_string_value(v);
	return 0;
}

/* A form's answer that shows a secret once: what was created, and the way back. */
static int hooks_secret_page(struct http_request *req, struct http_response *resp,
			     const char *title, const char *what, const char *label,
			     const char *secret)
{
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	html_head(&b, title, 0);
	buf_puts(&b, "<main class=\"page\">\n<h1>");
	buf_put_html(&b, title);
	buf_puts(&b, "</h1>\n<p>");
	buf_put_html(&b, what);
	buf_puts(&b, "</p>\n<p><strong>Copy it now: it is not shown again.</strong></p>\n<dl "
		     "class=\"meta\"><dt>");
	buf_put_html(&b, label);
	buf_puts(&b, "</dt><dd><code id=\"secret\">");
	buf_put_html(&b, secret);
	buf_puts(&b, "</code></dd></dl>\n<p><a href=\"/projects/");
	buf_put_html(&b, req->params[0]);
	buf_puts(&b, "/hooks\">Back to the hooks</a></p>\n</main>\n</body>\n</html>\n");
	response_header(resp, "Cache-Control", "no-store");
	html_send(resp, &b, 201);
	return 201;
}

static int buildhooks_new_act(struct http_request *req, struct http_response *resp,
			      json_t *body, bool is_form, struct error *err)
{
	static const char *const known[] = { "name", "branch", NULL };
	struct app *app = req->app;
	const char *slug = req->params[0], *name = NULL, *branch = NULL;
	if ((!is_form && create_fields_known(body, known, err) < 0) ||
	    hooks_field(body, "name", is_form, BUILDHOOK_NAME_MAX, &name, err) < 0 ||
	    hooks_field(body, "branch", is_form, BRANCH_MAX, &branch, err) < 0)
		return err->code;
	if (!model_buildhook_name_valid(name))
		return error_set(err, SKIFF_EINVALID, "invalid_build_hook_name",
				 "name must be 1 to %d characters without control characters",
				 BUILDHOOK_NAME_MAX);
	if (branch && validate_branch(branch, err) < 0)
		return err->code;
	struct buildhook h;
	char secret[BUILDHOOK_SECRET_LEN + 1], url[1024];
	memset(&h, 0, sizeof(h));
	id_new(h.id);
	snprintf(h.project, sizeof(h.project), "%s", slug);
	snprintf(h.name, sizeof(h.name), "%s", name);
	snprintf(h.branch, sizeof(h.branch), "%s", branch ? branch : "");
	h.created = clock_wall_ms();
	model_buildhook_secret_new(secret);
	if (model_buildhook_create(app->redis, &h, secret, err) < 0)
		return err->code;
	log_info("build hook created project=%s hook=%s branch=%s", slug, h.id,
		 h.branch[0] ? h.branch : "-");
	/* the URL is shown here once; Redis holds only the SHA-256 of its secret */
	api_dashboard_url(req->cfg, url, sizeof(url), "/api/hooks/build/%s", secret);
	if (is_form)
		return hooks_secret_page(req, resp, "Build hook created",
					 "POST to this URL (no body needed) to build the branch's "
					 "head.", "URL", url);
	response_header(resp, "Cache-Control", "no-store");
	return response_json(resp, 201,
			     json_pack("{s:{s:s,s:s,s:s?,s:s,s:I}}", "data", "id", h.id, "name", h.name,
				       "branch", h.branch[0] ? h.branch : NULL, "url", url, "created",
				       (json_int_t)h.created));
}

int create_buildhooks_new(struct http_request *req, struct http_response *resp)
{
	return hooks_route(req, resp, buildhooks_new_act);
}

/* The answer of a removal: JSON, or for a form 303 to the hooks page. */
static int hooks_removed(struct http_request *req, struct http_response *resp, bool is_form)
{
	if (is_form) {
		char loc[96];
		snprintf(loc, sizeof(loc), "/projects/%s/hooks", req->params[0]);
		return response_see_other(resp, loc);
	}
	return response_json(resp, 200, json_pack("{ssss}", "status", "removed", "id",
						  req->params[1]));
}

static int buildhooks_delete_act(struct http_request *req, struct http_response *resp,
				 json_t *body, bool is_form, struct error *err)
{
	struct app *app = req->app;
	const char *id = req->params[1];
	(void)body;
	if (!id_valid(id))
		return error_set(err, SKIFF_ENOTFOUND, "unknown_build_hook", "no such build hook");
	if (model_buildhook_delete(app->redis, req->params[0], id, err) < 0)
		return err->code;
	log_info("build hook revoked project=%s hook=%s", req->params[0], id);
	return hooks_removed(req, resp, is_form);
}

int create_buildhooks_delete(struct http_request *req, struct http_response *resp)
{
	return hooks_route(req, resp, buildhooks_delete_act);
}

/* events: a JSON array of event names, or a form's comma- or space-separated list; absent or
 * empty means all four. Into *out (a new array). */
static int notify_events_parse(json_t *body, bool is_form, json_t **out, struct error *err)
{
	json_t *v = json_object_get(body, "events"), *list = json_array();
	*out = list;
	if (is_form && json_is_string(v)) {
		char text[128];
		if (json_string_length(v) >= sizeof(text))
			goto bad;
		snprintf(text, sizeof(text), "%s", json_string_value(v));
		for (char *p = text; *p;) {
			size_t n = strcspn(p, ", ");
			char save = p[n];
			p[n] = '\0';
			if (n && !notify_event_valid(p))
				goto bad;
			if (n)
				json_array_append_new(list, json_string(p));
			p += n + (save ? 1 : 0);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
			if (!notify_event_valid(json_string_value(e)))
				goto bad;
		json_array_extend(list, v);
	} else if (v && !json_is_null(v)) {
		goto bad;
	}
	if (json_array_size(list) == 0)
		for (int i = 0; notify_events[i]; i++)
			json_array_append_new(list, json_string(notify_events[i]));
	return 0;
bad:
	return error_set(err, SKIFF_EINVALID, "invalid_events",
			 "events must list some of deploy.started, deploy.ready, deploy.failed, "
			 "deploy.canceled");
}

static int notify_new_act(struct http_request *req, struct http_response *resp, json_t *body,
			  bool is_form, struct error *err)
{
	static const char *const known[] = { "url", "events", NULL };
	struct app *app = req->app;
	const char *slug = req->params[0], *url = NULL;
	json_t *events = NULL, *hook = NULL;
	int status;
	if ((!is_form && create_fields_known(body, known, err) < 0) ||
	    hooks_field(body, "url", is_form, NOTIFY_URL_MAX, &url, err) < 0 ||
	    notify_events_parse(body, is_form, &events, err) < 0 ||
	    notify_url_check(url, req->cfg->allow_local_git, err) < 0) {
		status = err->code;
		goto out;
	}
	char id[ID_LEN + 1], secret[2 * HOOK_SECRET_GEN_BYTES + 1], aad[NOTIFY_AAD_MAX];
	char *sealed = NULL;
	struct secret_key key;
	long long created = clock_wall_ms();
	id_new(id);
	hook_secret_new(secret);
	/* Redis gets the signing secret sealed, bound to this project and hook */
	notify_secret_aad(slug, id, aad);
	if (secret_key_load(req->cfg->secret_key_file, &key, err) < 0) {
		status = err->code;
		goto out;
	}
	int sealed_rc = secret_seal(&key, aad, secret, strlen(secret), &sealed, err);
	secret_key_dispose(&key);
	if (sealed_rc < 0) {
		status = err->code;
		goto out;
	}
	hook = json_pack("{sssOsssI}", "url", url, "events", events, "secret", sealed, "created",
			 (json_int_t)created);
	free(sealed);
	if (model_notify_hook_create(app->redis, slug, id, hook, err) < 0) {
		status = err->code;
		goto out;
	}
	log_info("notification hook created project=%s hook=%s", slug, id);
	/* the signing secret is shown here once */
	if (is_form) {
		status = hooks_secret_page(req, resp, "Notification hook created",
					   "Deploy events are POSTed to the URL with a "
					   "Skiff-Signature header made with this secret.",
					   "Signing secret", secret);
		goto out;
	}
	response_header(resp, "Cache-Control", "no-store");
	status = response_json(resp, 201,
			       json_pack("{s:{s:s,s:s,s:O,s:s,s:I}}", "data", "id", id, "url", url,
					 "events", events, "secret", secret, "created",
					 (json_int_t)created));
out:
	json_decref(events);
	json_decref(hook);
	return status;
}

int create_notify_new(struct http_request *req, struct http_response *resp)
{
	return hooks_route(req, resp, notify_new_act);
}

static int notify_delete_act(struct http_request *req, struct http_response *resp, json_t *body,
			     bool is_form, struct error *err)
{
	struct app *app = req->app;
	const char *id = req->params[1];
	(void)body;
	if (!id_valid(id))
		return error_set(err, SKIFF_ENOTFOUND, "unknown_notification_hook",
				 "no such notification hook");
	if (model_notify_hook_delete(app->redis, req->params[0], id, err) < 0)
		return err->code;
	log_info("notification hook removed project=%s hook=%s", req->params[0], id);
	return hooks_removed(req, resp, is_form);
}

int create_notify_delete(struct http_request *req, struct http_response *resp)
{
	return hooks_route(req, resp, notify_delete_act);
}

static int status_set_act(struct http_request *req, struct http_response *resp, json_t *body,
			  bool is_form, struct error *err)
{
	static const char *const known[] = { "provider", "token", "repository", "apiUrl", NULL };
	struct app *app = req->app;
	const char *slug = req->params[0], *provider = NULL, *token = NULL, *repo = NULL,
		   *api = NULL;
	char derived[COMMIT_STATUS_REPOSITORY_MAX + 1], aad[COMMIT_STATUS_AAD_MAX];
	char *sealed = NULL;
	struct project p;
	struct secret_key key;
	if ((!is_form && create_fields_known(body, known, err) < 0) ||
	    hooks_field(body, "provider", is_form, 16, &provider, err) < 0 ||
	    hooks_field(body, "token", is_form, COMMIT_STATUS_TOKEN_MAX, &token, err) < 0 ||
	    hooks_field(body, "repository", is_form, COMMIT_STATUS_REPOSITORY_MAX, &repo, err) < 0 ||
	    hooks_field(body, "apiUrl", is_form, NOTIFY_URL_MAX, &api, err) < 0 ||
	    model_project_get(app->redis, slug, &p, err) < 0)
		return err->code;
	if (!commit_status_provider_valid(provider))
		return error_set(err, SKIFF_EINVALID, "invalid_provider",
				 "provider must be \"github\" or \"gitlab\"");
	if (!token || !*token || strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789-_.") != strlen(token))
		return error_set(err, SKIFF_EINVALID, "invalid_token",
				 "token must be 1 to %d characters of letters, digits, '-', '_', '.'",
				 COMMIT_STATUS_TOKEN_MAX);
	if (repo && !commit_status_repository_valid(repo))
		return error_set(err, SKIFF_EINVALID, "invalid_repository",
				 "repository must be a path such as owner/name");
	if (!repo) {
		if (commit_status_repository(p.git_url, derived, sizeof(derived)) < 0)
			return error_set(err, SKIFF_EINVALID, "invalid_repository",
					 "the git URL names no repository: give repository "
					 "(owner/name)");
		repo = derived;
	}
	if (!api)
		api = commit_status_api_default(provider);
	struct error uerr;
	if (notify_url_check(api, req->cfg->allow_local_git, &uerr) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_api_url", "apiUrl: %s", uerr.message);
	commit_status_aad(slug, aad);
	if (secret_key_load(req->cfg->secret_key_file, &key, err) < 0)
		return err->code;
	int rc = secret_seal(&key, aad, token, strlen(token), &sealed, err);
	secret_key_dispose(&key);
	if (rc < 0)
		return rc;
	rc = model_notify_status_set(app->redis, slug, provider, api, repo, sealed, err);
	free(sealed);
	if (rc < 0)
		return rc;
	log_info("commit statuses set project=%s provider=%s repository=%s", slug, provider, repo);
	if (is_form) {
		char loc[96];
		snprintf(loc, sizeof(loc), "/projects/%s/hooks", slug);
		return response_see_other(resp, loc);
	}
	return response_json(resp, 200, json_pack("{s:{s:s,s:s,s:s}}", "data", "provider", provider,
						  "repository", repo, "apiUrl", api));
}

int create_status_set(struct http_request *req, struct http_response *resp)
{
	return hooks_route(req, resp, status_set_act);
}

static int status_delete_act(struct http_request *req, struct http_response *resp,
			     json_t *body, bool is_form, struct error *err)
{
	(void)body;
	if (model_notify_status_delete(((struct app *)req->app)->redis, req->params[0], err) < 0)
		return err->code;
	log_info("commit statuses stopped project=%s", req->params[0]);
	if (is_form) {
		char loc[96];
		snprintf(loc, sizeof(loc), "/projects/%s/hooks", req->params[0]);
		return response_see_other(resp, loc);
	}
	return response_json(resp, 200, json_pack("{ss}", "status", "removed"));
}

int create_status_delete(struct http_request *req, struct http_response *resp)
{
	return hooks_route(req, resp, status_delete_act);
}
