/* skiff-create — mutations of the API: create a project and queue its first deployment. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "clock.h"
#include "app.h"
#include "build.h"
#include "deploy.h"
#include "fields.h"
#include "finish.h"
#include "settings.h"
#include "tokens.h"
#include "repo.h"
#include "hooks.h"
#include "hook.h"
#include "auth.h"
#include "endpoint.h"
#include "env.h"
#include "fastpath_switch.h"
#include "html.h"
#include "html_form.h"
#include "id.h"
#include "log.h"
#include "model.h"
#include "model_domain.h"
#include "model_lifecycle.h"
#include "model_repo.h"
#include "preview.h"
#include "rate.h"
#include "validate.h"
#include "watch.h"

#define SLUG_ATTEMPTS 5
/* The blob route's own limit is max_file_mb (413 blob_too_large); this only lets it through. */
#define CREATE_BLOB_BODY_MAX ((size_t)1 << 40)
#define CREATE_LOG_BODY_MAX ((size_t)8 << 20)   /* 1,000 lines of up to 4 KiB, JSON-escaped */
#define CREATE_FILES_BODY_MAX ((size_t)32 << 20) /* a file list of max_files paths */
#define CREATE_CANCEL_WAIT_MS 3000   /* a cancel waits this long for the build to stop */
#define CREATE_CANCEL_POLL_MS 50

/* A form post that failed gets a page that says why (JSON clients get JSON). */
static int create_fail(struct http_request *req, struct http_response *resp, bool is_form,
		       const struct error *err)
{
	/* refusals of who is asking stay plain refusals */
	if (!is_form || err->code == SKIFF_EFORBIDDEN || err->code == SKIFF_EAUTH)
		return response_error(req, resp, err);
	return html_error(req, resp, err, "/", "Back to the form");
}

static const char *const create_known_fields[] = {
	"gitURL", "slug", "branch", "buildCommand", "installCommand", "outputDirectory",
	"webhookSecret", "watch", "env", "previews", "previewForks", "repositoryToken",
	"repositoryUsername", "deployKey", NULL,
};

static int create_project(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	const struct config *cfg = req->cfg;
	struct error err;
	error_clear(&err);
	json_t *body = NULL;
	struct project project;
	struct deployment deployment;
	bool is_form = false;
	int status;
	const char *git_url, *slug, *branch, *build_cmd, *install_cmd, *out_dir;
	char secret[HOOK_SECRET_MAX + 1], previews[PREVIEW_SETTING_MAX + 1];
	bool watch = false, secret_generated = false, preview_forks = false;
	json_t *env_given = NULL;
	struct env_list *env = NULL;
	struct create_repo_given given;
	struct repo_access *repo = calloc(1, sizeof(*repo));
	if (!repo)
		abort();

	struct create_who who;
	if (request_body_object(req, &body, &is_form, &err) < 0 ||
	    create_who_get(req, &who, &err) < 0 || create_who_admin(&who, &err) < 0 ||
	    rate_request(req, resp, app->redis, RATE_CREATE, NULL, &err) < 0 ||
	    (!is_form && create_fields_known(body, create_known_fields, &err) < 0) ||
	    create_field(body, "gitURL", is_form, &git_url, &err) < 0 ||
	    create_field(body, "slug", is_form, &slug, &err) < 0 ||
	    create_field(body, "branch", is_form, &branch, &err) < 0 ||
	    create_field(body, "buildCommand", is_form, &build_cmd, &err) < 0 ||
	    create_field(body, "installCommand", is_form, &install_cmd, &err) < 0 ||
	    create_field(body, "outputDirectory", is_form, &out_dir, &err) < 0 ||
	    create_flag(body, "watch", is_form, &watch, &err) < 0 ||
	    create_flag(body, "previewForks", is_form, &preview_forks, &err) < 0 ||
	    preview_setting_parse(json_object_get(body, "previews"), is_form, previews, &err) < 0 ||
	    create_secret(body, is_form, secret, &secret_generated, &err) < 0)
		goto fail;
	if (!git_url) {
		error_set(&err, SKIFF_EINVALID, "invalid_git_url", "gitURL is required");
		goto fail;
	}
	if (validate_git_url(git_url, cfg->allow_local_git, &err) < 0 ||
	    (slug && validate_slug(slug, &err) < 0) || (branch && validate_branch(branch, &err) < 0) ||
	    (build_cmd && validate_command(build_cmd, "buildCommand", &err) < 0) ||
	    (install_cmd && validate_command(install_cmd, "installCommand", &err) < 0) ||
	    (out_dir && validate_output_dir(out_dir, &err) < 0))
		goto fail;
	/* the variables (JSON only), checked now; sealed below for the slug they belong to */
	env_given = is_form ? NULL : json_object_get(body, "env");
	if (env_given && json_is_null(env_given))
		env_given = NULL;
	if (env_given) {
		if (env_list_from_json(env_given, &env, &err) < 0 ||
		    env_list_merge_kept(env, NULL, &err) < 0)
			goto fail;
		env_list_free(env);
		env = NULL;
	}
	/* the repository credential, checked now; sealed below for the slug it belongs to */
	if (create_repo_given_read(body, is_form, git_url, &given, &err) < 0)
		goto fail;
	/* last, being the slow one: a name resolving to this machine or a private network */
	if (validate_git_url_resolved(git_url, cfg->allow_local_git, NULL, &err) < 0)
		goto fail;

	char derived[SLUG_MAX + 1];
	bool slug_given = slug != NULL;
	if (!slug_given) {
		if (validate_slug_from_url(git_url, derived, sizeof(derived) - 5) < 0)
			memcpy(derived, "site", 5);
		slug = derived;
	}
	char id[ID_LEN + 1], trial[SLUG_MAX + 1];
	long long now = clock_wall_ms();
	id_new(id);
	snprintf(trial, sizeof(trial), "%s", slug);
	for (int attempt = 0; attempt < SLUG_ATTEMPTS; attempt++) {
		/* every string was validated against its field's limit above */
		model_project_init(&project);
		snprintf(project.slug, sizeof(project.slug), "%s", trial);
		snprintf(project.git_url, sizeof(project.git_url), "%s", git_url);
		snprintf(project.branch, sizeof(project.branch), "%s", branch ? branch : "");
		snprintf(project.build_command, sizeof(project.build_command), "%s",
			 build_cmd ? build_cmd : "");
		snprintf(project.install_command, sizeof(project.install_command), "%s",
			 install_cmd ? install_cmd : "");
		snprintf(project.output_dir, sizeof(project.output_dir), "%s", out_dir ? out_dir : "");
		snprintf(project.webhook_secret, sizeof(project.webhook_secret), "%s", secret);
		memcpy(project.latest, id, sizeof(project.latest));
		memcpy(project.queued, id, sizeof(project.queued));
		project.created = now;
		project.watch = watch;
		memcpy(project.previews, previews, sizeof(project.previews));
		project.preview_forks = preview_forks;
		model_deployment_init(&deployment);
		memcpy(deployment.id, id, sizeof(deployment.id));
		memcpy(deployment.project, trial, sizeof(deployment.project));
		snprintf(deployment.git_url, sizeof(deployment.git_url), "%s", git_url);
		snprintf(deployment.ref, sizeof(deployment.ref), "%s", branch ? branch : "");
		snprintf(deployment.trigger, sizeof(deployment.trigger), "%s", is_form ? "form" : "api");
		deployment.created = now;
		/* secrets are bound to the slug: sealed again for each one tried */
		env_list_free(env);
		env = NULL;
		if (env_given && (env_list_from_json(env_given, &env, &err) < 0 ||
				  env_list_seal(env, trial, cfg->secret_key_file, &err) < 0))
			goto fail;
		bool credential = given.token || given.deploy_key;
		if (credential && create_repo_given_seal(req, &given, trial, repo, &err) < 0)
			goto fail;
		int rc = model_project_create_full(app->redis, &project, &deployment, env,
						   credential ? repo : NULL, &err);
		if (rc == 0)
			break;
		if (rc != SKIFF_ECONFLICT || slug_given || attempt == SLUG_ATTEMPTS - 1)
			goto fail;
		/* a derived slug that is taken gets a short random suffix, as hosted platforms do */
		char suffix[5];
		id_new(id); /* fresh randomness; also a fresh deployment id */
		memcpy(suffix, id + ID_LEN - 4, 4);
		suffix[4] = '\0';
		snprintf(trial, sizeof(trial), "%.*s-%s", SLUG_MAX - 5, slug, suffix);
		error_clear(&err);
	}
	log_info("project created project=%s deployment=%s git_url=%s trigger=%s repository=%s",
		 trial, id, git_url, is_form ? "form" : "api",
		 given.token && given.deploy_key ? "token+deploy-key" : given.token ? "token"
		 : given.deploy_key ? "deploy-key" : "none");
	/* Not in the creation script: a failure here costs the repository-URL route of webhooks
	 * (?project= still works) or polling; the project itself is fine. */
	struct error e2;
	if (secret[0] && hook_index_add(app->redis, git_url, trial, &e2) < 0 && e2.code != SKIFF_EINVALID)
		log_warn("webhook index not updated project=%s error=\"%s\"", trial, e2.message);
	if (watch && watch_project_add(app->redis, trial, &e2) < 0)
		log_warn("polling not scheduled project=%s error=\"%s\"", trial, e2.message);

	if (is_form) {
		char loc[64];
		snprintf(loc, sizeof(loc), "/deployments/%s", id);
		status = response_see_other(resp, loc);
		goto out;
	}
	char url[1024], durl[1024], surl[1024], eurl[1024];
	api_site_url(cfg, trial, NULL, url, sizeof(url));
	api_site_url(cfg, trial, id, durl, sizeof(durl));
	api_dashboard_url(cfg, surl, sizeof(surl), "/api/deployments/%s", id);
	api_dashboard_url(cfg, eurl, sizeof(eurl), "/events/%s", id);
	response_header(resp, "Location", "/api/deployments/%s", id);
	json_t *answer = json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:b}}", "status", "queued", "data",
				   "projectSlug", trial, "url", url, "deploymentId", id,
				   "deploymentUrl", durl, "statusUrl", surl, "eventsUrl", eurl, "watch",
				   watch);
	if (given.token || given.deploy_key) /* never the token; a key's public half */
		json_object_set_new(json_object_get(answer, "data"), "repository", api_repository(repo));
	if (secret[0]) {
		/* the secret is shown here once (when generated) and never by a read */
		char hurl[1024], lurl[1024], turl[1024];
		api_dashboard_url(cfg, hurl, sizeof(hurl), "/api/hooks/github?project=%s", trial);
		api_dashboard_url(cfg, lurl, sizeof(lurl), "/api/hooks/gitlab?project=%s", trial);
		api_dashboard_url(cfg, turl, sizeof(turl), "/api/hooks/gitea?project=%s", trial);
		json_t *hook = json_pack("{s:s,s:s,s:s,s:s}", "url", hurl, "gitlabUrl", lurl, "giteaUrl",
					 turl, "contentType", "application/json");
		if (secret_generated)
			json_object_set_new(hook, "secret", json_string(secret));
		json_object_set_new(json_object_get(answer, "data"), "webhook", hook);
	}
	status = response_json(resp, 202, answer);
	goto out;
fail:
	/* a form gets the form again, with what was typed and the error by its field's label */
	if (is_form && body && err.code != SKIFF_EFORBIDDEN && err.code != SKIFF_EAUTH)
		status = html_form_error(req, resp, body, &err);
	else
		status = create_fail(req, resp, is_form, &err);
out:
	OPENSSL_cleanse(repo, sizeof(*repo));
	free(repo);
	env_list_free(env);
	json_decref(body);
	return status;
}

/* The user that asked, for the record. */
static const char *create_who(struct http_request *req)
{
	const char *u = request_param(req, "REMOTE_USER");
	return u && *u ? arena_strdup(req->arena, u) : "api";
}

/* A JSON answer, or for a form post 303 to the page that shows the result. */
static int create_done(struct http_response *resp, bool is_form, const char *location, int status,
		       json_t *data)
{
	if (is_form) {
		json_decref(data);
		return response_see_other(resp, location);
	}
	return response_json(resp, status, data);
}

/* One change to an existing project or deployment: returns the status it answered, or a
 * negative code with err set. */
typedef int (*create_action)(struct http_request *req, struct http_response *resp, json_t *body,
			     bool is_form, const struct create_who *who, struct error *err);

/* Who may ask for a mutation: the admin credentials only, or also a deploy token of the
 * project named by the route's first {} (a slug, or a deployment's id). */
enum create_scope { CREATE_ADMIN, CREATE_PROJECT, CREATE_DEPLOYMENT };

static int create_allowed(struct http_request *req, enum create_scope scope,
			  struct create_who *who, struct error *err)
{
	struct deployment d;
	if (create_who_get(req, who, err) < 0)
		return err->code;
	if (!who->token)
		return 0;
	if (who->build) /* not even its own deployment's cancel */
		return create_who_may(who, "", err);
	if (scope == CREATE_ADMIN)
		return create_who_admin(who, err);
	if (scope == CREATE_DEPLOYMENT)
		return create_deploy_load(req, who, &d, err);
	return create_who_may(who, req->params[0], err);
}

/* What every lifecycle mutation shares: the body, the authentication, the failure answer. */
static int create_mutation(struct http_request *req, struct http_response *resp,
			   create_action act, enum create_scope scope)
{
	struct error err;
	error_clear(&err);
	json_t *body = NULL;
	bool is_form = false;
	struct create_who who;
	int status;
	if (request_body_object(req, &body, &is_form, &err) < 0 ||
	    create_allowed(req, scope, &who, &err) < 0 ||
	    (status = act(req, resp, body, is_form, &who, &err)) < 0)
		status = create_fail(req, resp, is_form, &err);
	json_decref(body);
	return status;
}

static int create_valid_id(const char *id, const char *what, struct error *err)
{
	if (id && id_valid(id))
		return 0;
	return error_set(err, SKIFF_EINVALID, "invalid_deployment_id",
			 "%s must be a deployment id (12 characters of a-z and 2-7)", what);
}

static int create_redeploy_act(struct http_request *req, struct http_response *resp, json_t *body,
			       bool is_form, const struct create_who *who, struct error *err)
{
	struct app *app = req->app;
	const char *slug = req->params[0], *ref = NULL;
	struct project project;
	struct deployment dep;
	bool clear_cache = false;
	if (validate_slug(slug, err) < 0 ||
	    rate_request(req, resp, app->redis, RATE_DEPLOY, NULL, err) < 0 ||
	    rate_request(req, resp, app->redis, RATE_DEPLOY, slug, err) < 0 ||
	    create_field(body, "ref", is_form, &ref, err) < 0 ||
	    create_flag(body, "clearCache", is_form, &clear_cache, err) < 0 ||
	    (ref && validate_branch(ref, err) < 0) ||
	    model_project_get(app->redis, slug, &project, err) < 0)
		return err->code;
	char id[ID_LEN + 1], superseded[ID_LEN + 1];
	id_new(id);
	model_deployment_init(&dep);
	memcpy(dep.id, id, sizeof(dep.id));
	snprintf(dep.project, sizeof(dep.project), "%s", slug);
	memcpy(dep.git_url, project.git_url, sizeof(dep.git_url));
	snprintf(dep.ref, sizeof(dep.ref), "%s", ref ? ref : project.branch);
	snprintf(dep.trigger, sizeof(dep.trigger), "redeploy");
	dep.created = clock_wall_ms();
	dep.clear_cache = clear_cache;
	int rc = model_lifecycle_redeploy(app->redis, slug, &dep, superseded, err);
	if (rc < 0)
		return rc;
	log_info("redeploy queued project=%s deployment=%s superseded=%s clear_cache=%d", slug, id,
		 superseded[0] ? superseded : "-", clear_cache);
	char loc[64];
	snprintf(loc, sizeof(loc), "/deployments/%s", id);
	if (!is_form) /* a form gets its own Location: two make browsers refuse the answer */
		response_header(resp, "Location", "/api/deployments/%s", id);
	return create_done(resp, is_form, loc, 202,
			   json_pack("{s:s,s:{s:s,s:s,s:s?}}", "status", "queued", "data",
				     "projectSlug", slug, "deploymentId", id, "superseded",
				     superseded[0] ? superseded : NULL));
}

static int create_rollback_act(struct http_request *req, struct http_response *resp, json_t *body,
			       bool is_form, const struct create_who *who, struct error *err)
{
	struct app *app = req->app;
	const char *slug = req->params[0], *id = NULL, *pin_s = NULL;
	if (validate_slug(slug, err) < 0)
		return err->code;
	json_t *pin_v = json_object_get(body, "pin");
	bool pin = json_is_true(pin_v);
	if (is_form) {
		if (create_field(body, "pin", true, &pin_s, err) < 0)
			return err->code;
		pin = pin_s && (!strcmp(pin_s, "1") || !strcmp(pin_s, "on") || !strcmp(pin_s, "true"));
	} else if (pin_v && !json_is_boolean(pin_v)) {
		return error_set(err, SKIFF_EINVALID, "invalid_field", "pin must be true or false");
	}
	if (create_field(body, "deploymentId", is_form, &id, err) < 0 ||
	    create_valid_id(id, "deploymentId", err) < 0 ||
	    model_lifecycle_rollback(app->redis, slug, id, pin, create_who(req), err) < 0)
		return err->code;
	fastpath_switch_announce(app->redis, req->cfg, slug);   /* after the write */
	log_info("rollback project=%s deployment=%s pinned=%d by=%s", slug, id, pin, create_who(req));
	char loc[96];
	snprintf(loc, sizeof(loc), "/projects/%s", slug);
	return create_done(resp, is_form, loc, 200,
			   json_pack("{s:s,s:{s:s,s:s,s:b}}", "status", "ok", "data", "projectSlug",
				     slug, "current", id, "pinned", pin));
}

static int create_unpin_act(struct http_request *req, struct http_response *resp, json_t *body,
			    bool is_form, const struct create_who *who, struct error *err)
{
	struct app *app = req->app;
	const char *slug = req->params[0];
	(void)body;
	if (validate_slug(slug, err) < 0 || model_lifecycle_unpin(app->redis, slug, err) < 0)
		return err->code;
	char loc[96];
	snprintf(loc, sizeof(loc), "/projects/%s", slug);
	return create_done(resp, is_form, loc, 200,
			   json_pack("{s:s,s:{s:s,s:b}}", "status", "ok", "data", "projectSlug",
				     slug, "pinned", 0));
}

/* Adds a custom domain to a project: pending until skiff-dispatch has fetched its token. */
static int create_domain_add_act(struct http_request *req, struct http_response *resp,
				 json_t *body, bool is_form, const struct create_who *who,
				 struct error *err)
{
	struct app *app = req->app;
	const char *slug = req->params[0], *name = NULL;
	static const char *const known[] = { "name", NULL };
	(void)who;
	if (create_fields_known(body, known, err) < 0 || validate_slug(slug, err) < 0 ||
	    create_field(body, "name", is_form, &name, err) < 0)
		return err->code;
	if (!name)
		return error_set(err, SKIFF_EINVALID, "invalid_domain", "name is required");
	if (host_domain_check(name, app->cfg->domain, err) < 0)
		return err->code;
	struct domain d;
	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.project, sizeof(d.project), "%s", slug);
	model_domain_token_new(d.token);
	d.created = clock_wall_ms();
	if (model_domain_add(app->redis, &d, err) < 0)
		return err->code;
	log_info("domain added project=%s domain=%s by=%s", slug, d.name, create_who(req));
	char loc[96], path[sizeof(DOMAIN_WELL_KNOWN) + DOMAIN_TOKEN_LEN];
	snprintf(loc, sizeof(loc), "/projects/%s", slug);
	snprintf(path, sizeof(path), "%s%s", DOMAIN_WELL_KNOWN, d.token);
	return create_done(resp, is_form, loc, 201,
			   json_pack("{s:s,s:{s:s,s:s,s:s,s:s}}", "status", "pending", "data",
				     "projectSlug", slug, "name", d.name, "state", "pending",
				     "verificationPath", path));
}

/* Removes a custom domain: it stops serving at once and leaves the ACME configuration at
 * skiff-dispatch's next pass. */
static int create_domain_remove_act(struct http_request *req, struct http_response *resp,
				    json_t *body, bool is_form, const struct create_who *who,
				    struct error *err)
{
	struct app *app = req->app;
	const char *slug = req->params[0], *name = req->params[1];
	(void)body;
	(void)who;
	struct error ignored;
	if (validate_slug(slug, err) < 0)
		return err->code;
	if (host_domain_check(name, "", &ignored) < 0)
		return error_set(err, SKIFF_ENOTFOUND, "unknown_domain", "no such domain");
	if (model_domain_remove(app->redis, slug, name, err) < 0)
		return err->code;
	log_info("domain removed project=%s domain=%s by=%s", slug, name, create_who(req));
	char loc[96];
	snprintf(loc, sizeof(loc), "/projects/%s", slug);
	return create_done(resp, is_form, loc, 200,
			   json_pack("{s:s,s:s}", "status", "removed", "name", name));
}

/* The state of a deployment whose build was asked to stop, once it is final or after
 * CREATE_CANCEL_WAIT_MS (then DEPLOYMENT_BUILDING): canceled when its processes are gone. */
static enum deployment_state create_cancel_wait(struct redis *r, const char *id)
{
	struct timespec step = { 0, CREATE_CANCEL_POLL_MS * 1000000L };
	enum deployment_state st = DEPLOYMENT_BUILDING;
	for (int waited = 0; waited < CREATE_CANCEL_WAIT_MS; waited += CREATE_CANCEL_POLL_MS) {
		struct error e;
		int exists = model_deployment_status(r, id, &st, NULL, &e);
		if (exists < 0)
			return DEPLOYMENT_BUILDING;
		if (!exists || model_state_final(st))
			return exists ? st : DEPLOYMENT_CANCELED; /* deleted meanwhile */
		nanosleep(&step, NULL);
	}
	return DEPLOYMENT_BUILDING;
}

static int create_cancel_act(struct http_request *req, struct http_response *resp, json_t *body,
			     bool is_form, const struct create_who *who, struct error *err)
{
	struct app *app = req->app;
	const char *id = req->params[0];
	bool stopping = false;
	enum deployment_state state = DEPLOYMENT_CANCELED;
	(void)body;
	if (create_valid_id(id, "the deployment", err) < 0 ||
	    model_lifecycle_cancel(app->redis, id, &stopping, err) < 0)
		return err->code;
	/* answer once the build's processes are gone (it then records canceled itself), or say
	 * canceling when that takes longer */
	if (stopping)
		state = create_cancel_wait(app->redis, id);
	const char *name = state == DEPLOYMENT_BUILDING ? "canceling" : model_state_name(state);
	log_info("cancel deployment=%s stopping=%d state=%s", id, stopping, name);
	if (state != DEPLOYMENT_BUILDING && state != DEPLOYMENT_CANCELED)
		return error_set(err, SKIFF_ECONFLICT, "already_finished",
				 "deployment %s finished (%s) before it could be canceled", id, name);
	char loc[64];
	snprintf(loc, sizeof(loc), "/deployments/%s", id);
	return create_done(resp, is_form, loc, state == DEPLOYMENT_CANCELED ? 200 : 202,
			   json_pack("{s:s,s:{s:s,s:s}}", "status", "ok", "data", "deploymentId", id,
				     "state", name));
}

static int create_delete_act(struct http_request *req, struct http_response *resp, json_t *body,
			     bool is_form, const struct create_who *who, struct error *err)
{
	struct app *app = req->app;
	const char *slug = req->params[0], *confirm = NULL;
	if (validate_slug(slug, err) < 0)
		return err->code;
	/* on every path the caller types the project's name: the form's field, a JSON body's
	 * "confirm", or ?confirm= on a DELETE without a body */
	if (create_field(body, "confirm", is_form, &confirm, err) < 0)
		return err->code;
	if (!confirm)
		confirm = request_query_get(req, "confirm");
	if (!confirm || strcmp(confirm, slug))
		return error_set(err, SKIFF_EINVALID, "confirmation_required",
				 "type the project's name to confirm the deletion (\"confirm\": \"%s\", "
				 "or ?confirm=%s)", slug, slug);
	if (model_lifecycle_delete(app->redis, slug, err) < 0)
		return err->code;
	fastpath_switch_announce(app->redis, req->cfg, slug);
	log_info("project deleted project=%s by=%s", slug, create_who(req));
	return create_done(resp, is_form, "/projects", 200,
			   json_pack("{s:s,s:{s:s}}", "status", "deleted", "data", "projectSlug",
				     slug));
}

/* With a file list, a deployment of the deploy protocol (deploy.c); without, a redeploy of the
 * branch, which a preview token may not ask for (it would go live). */
static int create_redeploy_files_act(struct http_request *req, struct http_response *resp,
				     json_t *body, bool is_form, const struct create_who *who,
				     struct error *err)
{
	if (validate_slug(req->params[0], err) < 0)
		return err->code;
	if (!is_form && json_object_get(body, "files"))
		return create_deploy_files(req, resp, body, who, err);
	if (who->preview)
		return error_set(err, SKIFF_EFORBIDDEN, "token_scope",
				 "a preview token deploys uploaded files only");
	return create_redeploy_act(req, resp, body, is_form, who, err);
}

static int create_redeploy(struct http_request *req, struct http_response *resp)
{
	return create_mutation(req, resp, create_redeploy_files_act, CREATE_PROJECT);
}

static int create_rollback(struct http_request *req, struct http_response *resp)
{
	return create_mutation(req, resp, create_rollback_act, CREATE_ADMIN);
}

static int create_unpin(struct http_request *req, struct http_response *resp)
{
	return create_mutation(req, resp, create_unpin_act, CREATE_ADMIN);
}

static int create_cancel(struct http_request *req, struct http_response *resp)
{
	return create_mutation(req, resp, create_cancel_act, CREATE_DEPLOYMENT);
}

static int create_delete(struct http_request *req, struct http_response *resp)
{
	return create_mutation(req, resp, create_delete_act, CREATE_ADMIN);
}

static int create_domain_add(struct http_request *req, struct http_response *resp)
{
	return create_mutation(req, resp, create_domain_add_act, CREATE_ADMIN);
}

static int create_domain_remove(struct http_request *req, struct http_response *resp)
{
	return create_mutation(req, resp, create_domain_remove_act, CREATE_ADMIN);
}

/* Every route checks its own credentials (create_who_get): a deploy token must reach the
 * handler to be told apart from a wrong api_token. */
static const struct http_route create_routes[] = {
	{ "POST", "/api/projects", create_project, 0, ENDPOINT_PUBLIC },
	{ "POST", "/project", create_project, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/deployments", create_redeploy, CREATE_FILES_BODY_MAX,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/rollback", create_rollback, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/unpin", create_unpin, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/delete", create_delete, 0, ENDPOINT_PUBLIC },
	{ "DELETE", "/api/projects/{}", create_delete, 0, ENDPOINT_PUBLIC },
	{ "PATCH", "/api/projects/{}", create_settings, 0, ENDPOINT_PUBLIC },
	{ "POST", "/projects/{}/settings", create_settings, 0, ENDPOINT_PUBLIC },
	{ "PUT", "/api/projects/{}/env/{}", create_env_put, 0, ENDPOINT_PUBLIC },
	{ "DELETE", "/api/projects/{}/env/{}", create_env_delete, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/deployments/{}/cancel", create_cancel, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/tokens", create_tokens_new, 0, ENDPOINT_PUBLIC },
	{ "DELETE", "/api/projects/{}/tokens/{}", create_tokens_delete, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/repository/token", create_repo_token_set, 0, ENDPOINT_PUBLIC },
	{ "DELETE", "/api/projects/{}/repository/token", create_repo_token_delete, 0,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/repository/token/delete", create_repo_token_delete, 0,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/repository/deploy-key", create_repo_key_new, 0, ENDPOINT_PUBLIC },
	{ "DELETE", "/api/projects/{}/repository/deploy-key", create_repo_key_delete, 0,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/repository/deploy-key/delete", create_repo_key_delete, 0,
	  ENDPOINT_PUBLIC },
	{ "DELETE", "/api/projects/{}/repository/host-key", create_repo_host_key_delete, 0,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/repository/host-key/delete", create_repo_host_key_delete, 0,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/tokens/{}/revoke", create_tokens_delete, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/build-hooks", create_buildhooks_new, 0, ENDPOINT_PUBLIC },
	{ "DELETE", "/api/projects/{}/build-hooks/{}", create_buildhooks_delete, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/build-hooks/{}/delete", create_buildhooks_delete, 0,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/notifications", create_notify_new, 0, ENDPOINT_PUBLIC },
	{ "DELETE", "/api/projects/{}/notifications/{}", create_notify_delete, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/notifications/{}/delete", create_notify_delete, 0,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/commit-status", create_status_set, 0, ENDPOINT_PUBLIC },
	{ "DELETE", "/api/projects/{}/commit-status", create_status_delete, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/commit-status/delete", create_status_delete, 0,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/domains", create_domain_add, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/domains/primary", create_primary, 0, ENDPOINT_PUBLIC },
	{ "DELETE", "/api/projects/{}/domains/{}", create_domain_remove, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/projects/{}/domains/{}/delete", create_domain_remove, 0, ENDPOINT_PUBLIC },
	{ "PUT", "/api/deployments/{}/blobs/{}", create_deploy_blob, CREATE_BLOB_BODY_MAX,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/deployments/{}/finish", create_deploy_finish, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/deployments/{}/fail", create_deploy_fail, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/deployments/{}/log", create_deploy_log, CREATE_LOG_BODY_MAX,
	  ENDPOINT_PUBLIC },
	{ "POST", "/api/deployments/{}/start", create_build_start, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/deployments/{}/progress", create_build_progress, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/deployments/{}/credentials", create_build_credentials, 0, ENDPOINT_PUBLIC },
	{ "POST", "/api/deployments/{}/files", create_deploy_attach, CREATE_FILES_BODY_MAX,
	  ENDPOINT_PUBLIC },
};

/* The one route whose body is neither JSON nor a form. */
static const struct endpoint_body create_bodies[] = {
	{ "PUT", "/api/deployments/{}/blobs/{}", "application/octet-stream" },
	{ NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct http_program prog = {
		.name = "skiff-create",
		.summary = "skiff's API mutations as a FastCGI (or CGI) program: create projects and "
			   "deployments.",
		.routes = create_routes,
		.nroutes = sizeof(create_routes) / sizeof(create_routes[0]),
		.resources = endpoint_dashboard,
		.bodies = create_bodies,
		.init = app_init,
		.fini = app_fini,
	};
	return endpoint_main(argc, argv, &prog);
}
