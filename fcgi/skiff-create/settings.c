/* settings.c — changes of a project's settings: PATCH /api/projects/{slug} (and the settings
 * form), and one environment variable at a time (PUT/DELETE /api/projects/{slug}/env/{NAME}).
 * Every field is validated by the code creation uses, with the same error names; a change
 * takes effect at the next build. */
#include "settings.h"
#include "fields.h"
#include "tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "env.h"
#include "fastpath_switch.h"
#include "hook.h"
#include "host.h"
#include "html.h"
#include "html_settings.h"
#include "log.h"
#include "model.h"
#include "model_domain.h"
#include "model_env.h"
#include "validate.h"
#include "preview.h"
#include "watch.h"

/* The settings a PATCH may name: its API name and the project field. */
struct settings_field {
	const char *name;
	enum project_field field;
};

static const struct settings_field settings_strings[] = {
	{ "gitURL", PROJECT_FIELD_GIT_URL },
	{ "branch", PROJECT_FIELD_BRANCH },
	{ "buildCommand", PROJECT_FIELD_BUILD_COMMAND },
	{ "installCommand", PROJECT_FIELD_INSTALL_COMMAND },
	{ "outputDirectory", PROJECT_FIELD_OUTPUT_DIR },
};
#define SETTINGS_NSTRINGS (sizeof(settings_strings) / sizeof(settings_strings[0]))

static const char *const settings_known[] = {
	"gitURL", "branch", "buildCommand", "installCommand", "outputDirectory", "webhookSecret",
	"watch", "env", "previews", "previewForks", "hsts", "primaryDomain",
	"redirectProjectAddress", NULL,
};

/* The user that asked, for the history. */
static const char *settings_who(struct http_request *req)
{
	const char *u = request_param(req, "REMOTE_USER");
	return u && *u ? u : "api";
}

/* The project field a string setting lives in. */
static char *settings_slot(struct project *p, enum project_field f, size_t *size)
{
	switch (f) {
	case PROJECT_FIELD_GIT_URL: *size = sizeof(p->git_url); return p->git_url;
	case PROJECT_FIELD_BRANCH: *size = sizeof(p->branch); return p->branch;
	case PROJECT_FIELD_BUILD_COMMAND: *size = sizeof(p->build_command); return p->build_command;
	case PROJECT_FIELD_INSTALL_COMMAND:
		*size = sizeof(p->install_command);
		return p->install_command;
	case PROJECT_FIELD_OUTPUT_DIR: *size = sizeof(p->output_dir); return p->output_dir;
	default: abort();
	}
}

/* Validates one string setting exactly as creation does ("" clears an optional one). */
static int settings_validate(const struct config *cfg, const char *name, const char *v,
			     struct error *err)
{
	if (!strcmp(name, "gitURL")) {
		if (!*v)
			return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL is required");
		return validate_git_url(v, cfg->allow_local_git, err);
	}
	if (!*v)
		return 0;
	if (!strcmp(name, "branch"))
		return validate_branch(v, err);
	if (!strcmp(name, "outputDirectory"))
		return validate_output_dir(v, err);
	return validate_command(v, name, err);
}

/* The env rows of the settings form (env.N.name, .value, .secret, .context, .remove) as the
 * "env" array of the API (new reference): empty and removed rows left out; a secret row with
 * an empty value keeps the stored value. */
static json_t *settings_form_env(json_t *body)
{
	json_t *arr = json_array();
	for (int i = 0; i < ENV_COUNT_MAX + HTML_SETTINGS_NEW_ROWS; i++) {
		char k[32];
		const char *name, *value, *secret, *context, *remove;
#define ROW(var, field) (snprintf(k, sizeof(k), "env.%d." field, i), \
			 var = json_string_value(json_object_get(body, k)))
		ROW(name, "name");
		ROW(value, "value");
		ROW(secret, "secret");
		ROW(context, "context");
		ROW(remove, "remove");
#undef ROW
		if (!name && !value)
			continue;
		if ((remove && *remove) || ((!name || !*name) && (!value || !*value)))
			continue;
		bool is_secret = secret && *secret;
		json_t *row = json_pack("{s:s,s:b}", "name", name ? name : "", "secret", is_secret);
		if (!is_secret || (value && *value))
			json_object_set_new(row, "value", json_string(value ? value : ""));
		if (context && !strcmp(context, "production"))
			json_object_set_new(row, "contexts", json_pack("[s]", "production"));
		else if (context && !strcmp(context, "preview"))
			json_object_set_new(row, "contexts", json_pack("[s]", "preview"));
		json_array_append_new(arr, row);
	}
	return arr;
}

/* The new variables of a PATCH (or NULL when it does not name env), validated, kept secrets
 * filled in from storage and new secrets sealed. In the form, a stored secret whose box was
 * unchecked with its (never shown) value left empty is refused rather than emptied. */
static int settings_env(struct http_request *req, const char *slug, json_t *given, bool is_form,
			struct env_list **out, struct error *err)
{
	struct app *app = req->app;
	struct env_list *old = NULL, *l = NULL;
	*out = NULL;
	int rc = env_list_from_json(given, &l, err);
	if (rc == 0)
		rc = model_env_get(app->redis, slug, &old, err);
	for (size_t i = 0; rc == 0 && is_form && i < l->n; i++) {
		const struct env_var *v = &l->vars[i], *o = env_list_find(old, v->name);
		if (!v->secret && v->value && !v->value[0] && o && o->secret)
			rc = error_set(err, SKIFF_EINVALID, "invalid_env_value",
				       "%s is a secret: type its value to make it a plain variable, or "
				       "check Remove", v->name);
	}
	if (rc == 0)
		rc = env_list_merge_kept(l, old, err);
	if (rc == 0) /* kept secrets are sealed already: only the ones typed now */
		rc = env_list_seal(l, slug, req->cfg->secret_key_file, err);
	env_list_free(old);
	if (rc < 0) {
		env_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* The project as the API shows it, with its variables and recent changes (new reference). */
static json_t *settings_answer(struct http_request *req, const char *slug)
{
	struct app *app = req->app;
	struct project p;
	struct env_list *env = NULL;
	json_t *changes = NULL;
	struct error e;
	if (model_project_get(app->redis, slug, &p, &e) < 0)
		return json_pack("{s:s}", "slug", slug);
	json_t *o = api_project(req->cfg, &p);
	if (model_env_get(app->redis, slug, &env, &e) == 0)
		json_object_set_new(o, "env", env_list_api(env));
	if (model_project_changes(app->redis, slug, &changes, &e) == 0)
		json_object_set_new(o, "changes", changes);
	env_list_free(env);
	return o;
}

/* One boolean setting: read when the body names it, or always from a form (an unchecked
 * box is absent from the body); a new value marks its bit in *set and its name in changed. */
static int settings_flag(json_t *body, const char *name, bool is_form, bool *value, bool old,
			 unsigned bit, unsigned *set, json_t *changed, struct error *err)
{
	int rc;
	if (!is_form && !json_object_get(body, name))
		return 0;
	if ((rc = create_flag(body, name, is_form, value, err)) < 0)
		return rc;
	if (*value != old) {
		*set |= bit;
		json_array_append_new(changed, json_string(name));
	}
	return 0;
}

/* The project's primary domain: name must be one of its verified or active custom domains
 * (the write checks it again in the same step, model_project_settings). */
static int settings_primary_check(struct http_request *req, const char *slug, const char *name,
				  struct error *err)
{
	struct app *app = req->app;
	struct domain d;
	int rc = host_domain_check(name, req->cfg->domain, err);
	if (rc < 0)
		return rc;
	rc = model_domain_get(app->redis, name, &d, err);
	if (rc == SKIFF_ENOTFOUND || (rc == 0 && strcmp(d.project, slug) != 0))
		return error_set(err, SKIFF_ECONFLICT, "domain_not_in_project",
				 rc == 0 ? "%s belongs to another project"
					 : "%s is not a domain of this project: add it first", name);
	if (rc < 0)
		return rc;
	if (!model_domain_serves(d.state))
		return error_set(err, SKIFF_ECONFLICT, "domain_not_serving",
				 "%s is %s: it can be the primary domain once skiff has verified it",
				 name, d.state);
	return 0;
}

/* primaryDomain (a name, or null or "" for none) and redirectProjectAddress, into change:
 * from a form both (an unchecked box is absent), from JSON what the body names. */
static int settings_primary(struct http_request *req, const char *slug, json_t *body,
			    bool is_form, const struct project *old, struct project *change,
			    unsigned *set, json_t *changed, struct error *err)
{
	const char *name = NULL;
	json_t *v = json_object_get(body, "primaryDomain");
	int rc;
	if (v || is_form) {
		if (v && !json_is_null(v) && (rc = create_field(body, "primaryDomain", is_form,
								&name, err)) < 0)
			return rc;
		if (!name)
			name = "";
		if (*name && strcmp(name, old->primary_domain) &&
		    (rc = settings_primary_check(req, slug, name, err)) < 0)
			return rc;
		if (strcmp(name, old->primary_domain)) {
			snprintf(change->primary_domain, sizeof(change->primary_domain), "%s", name);
			*set |= PROJECT_SET(PRIMARY_DOMAIN);
			json_array_append_new(changed, json_string("primaryDomain"));
		}
	}
	return settings_flag(body, "redirectProjectAddress", is_form, &change->redirect_project,
			     old->redirect_project, PROJECT_SET(REDIRECT_PROJECT), set, changed, err);
}

/* Reads, validates and writes a settings change; *rotated receives a generated webhook secret
 * ("" when none). Nothing is written unless every field is valid. */
static int settings_apply(struct http_request *req, const char *slug, json_t *body, bool is_form,
			  json_t *changed, char rotated[HOOK_SECRET_MAX + 1], struct error *err)
{
	struct app *app = req->app;
	const struct config *cfg = req->cfg;
	struct project old, change;
	struct env_list *env = NULL;
	unsigned set = 0;
	int rc;
	rotated[0] = '\0';
	if ((rc = validate_slug(slug, err)) < 0 ||
	    (rc = model_project_get(app->redis, slug, &old, err)) < 0)
		return rc;
	if (!is_form && (rc = create_fields_known(body, settings_known, err)) < 0)
		return rc;
	change = old;
	for (size_t i = 0; i < SETTINGS_NSTRINGS; i++) {
		const char *name = settings_strings[i].name, *v = NULL;
		json_t *jv = json_object_get(body, name);
		if (!jv)
			continue;
		if (!json_is_null(jv) && (rc = create_field(body, name, false, &v, err)) < 0)
			return rc;
		if (!v)
			v = "";
		if ((rc = settings_validate(cfg, name, v, err)) < 0)
			return rc;
		size_t size;
		char *slot = settings_slot(&change, settings_strings[i].field, &size);
		if (!strcmp(slot, v))
			continue;
		snprintf(slot, size, "%s", v);
		set |= 1u << settings_strings[i].field;
		json_array_append_new(changed, json_string(name));
	}
	/* the form always carries its checkboxes' state (an unchecked one is absent); JSON only
	 * what it names */
	if ((rc = settings_flag(body, "watch", is_form, &change.watch, old.watch, PROJECT_SET(WATCH),
				&set, changed, err)) < 0)
		return rc;
	/* which branches get previews: the form's text ("none", "all" or patterns separated by
	 * commas, spaces or lines) or the API's "none", "all" or array */
	json_t *pv = json_object_get(body, "previews");
	if (pv) {
		if ((rc = preview_setting_parse(pv, is_form, change.previews, err)) < 0)
			return rc;
		if (strcmp(change.previews, old.previews)) {
			set |= PROJECT_SET(PREVIEWS);
			json_array_append_new(changed, json_string("previews"));
		}
	}
	/* forks' pull requests built as previews; HSTS on the project's custom domains */
	if ((rc = settings_flag(body, "previewForks", is_form, &change.preview_forks,
				old.preview_forks, PROJECT_SET(PREVIEW_FORKS), &set, changed, err)) < 0 ||
	    (rc = settings_flag(body, "hsts", is_form, &change.hsts, old.hsts, PROJECT_SET(HSTS),
				&set, changed, err)) < 0)
		return rc;
	/* the primary domain has a form of its own (create_primary) */
	if (!is_form && (rc = settings_primary(req, slug, body, false, &old, &change, &set, changed,
					       err)) < 0)
		return rc;
	json_t *ws = json_object_get(body, is_form ? "rotateWebhookSecret" : "webhookSecret");
	/* null, or an unchecked box, leaves the secret as it is */
	if (ws && !json_is_null(ws) && !(is_form && json_is_string(ws) && !*json_string_value(ws))) {
		bool generated = false;
		char secret[HOOK_SECRET_MAX + 1];
		json_t *probe = is_form ? json_pack("{s:b}", "webhookSecret", 1)
					: json_pack("{s:O}", "webhookSecret", ws);
		rc = create_secret(probe, false, secret, &generated, err);
		json_decref(probe);
		if (rc < 0)
			return rc;
		snprintf(change.webhook_secret, sizeof(change.webhook_secret), "%s", secret);
		set |= PROJECT_SET(WEBHOOK_SECRET);
		json_array_append_new(changed, json_string("webhookSecret"));
		if (generated)
			snprintf(rotated, HOOK_SECRET_MAX + 1, "%s", secret);
	}
	json_t *given_env = is_form ? settings_form_env(body) : json_incref(json_object_get(body, "env"));
	if (given_env && (rc = settings_env(req, slug, given_env, is_form, &env, err)) < 0) {
		json_decref(given_env);
		return rc;
	}
	json_decref(given_env);
	if (env)
		json_array_append_new(changed, json_string("env"));
	/* last, being the slow one, as at creation */
	if ((set & PROJECT_SET(GIT_URL)) &&
	    (rc = validate_git_url_resolved(change.git_url, cfg->allow_local_git, NULL, err)) < 0)
		goto out;
	if (!json_array_size(changed))
		goto out; /* nothing differs: nothing is recorded */
	if ((rc = model_project_settings(app->redis, slug, &change, set, env, changed,
					 settings_who(req), err)) < 0)
		goto out;
	log_info("project settings changed project=%s fields=%zu by=%s", slug,
		 json_array_size(changed), settings_who(req));
	/* a redirected {slug}.{domain} is never answered from the fast path's tree */
	if (set & (PROJECT_SET(PRIMARY_DOMAIN) | PROJECT_SET(REDIRECT_PROJECT)))
		fastpath_switch_announce(app->redis, cfg, slug);   /* after the write */
	/* the indexes beside the record, as creation keeps them */
	struct error e2;
	bool had_hook = old.webhook_secret[0], has_hook = change.webhook_secret[0];
	if (had_hook && (!has_hook || (set & PROJECT_SET(GIT_URL))))
		hook_index_remove(app->redis, old.git_url, slug, &e2);
	if (has_hook && (!had_hook || (set & PROJECT_SET(GIT_URL))) &&
	    hook_index_add(app->redis, change.git_url, slug, &e2) < 0 && e2.code != SKIFF_EINVALID)
		log_warn("webhook index not updated project=%s error=\"%s\"", slug, e2.message);
	if ((set & PROJECT_SET(WATCH)) &&
	    (change.watch ? watch_project_add(app->redis, slug, &e2)
			  : watch_project_remove(app->redis, slug, &e2)) < 0)
		log_warn("polling not updated project=%s error=\"%s\"", slug, e2.message);
out:
	env_list_free(env);
	return rc;
}

int create_settings(struct http_request *req, struct http_response *resp)
{
	struct error err;
	error_clear(&err);
	json_t *body = NULL, *changed = json_array();
	bool is_form = false;
	struct create_who who;
	const char *slug = req->params[0];
	char rotated[HOOK_SECRET_MAX + 1] = "";
	int status;
	if (request_body_object(req, &body, &is_form, &err) < 0 ||
	    create_who_get(req, &who, &err) < 0 || create_who_admin(&who, &err) < 0 ||
	    settings_apply(req, slug, body, is_form, changed, rotated, &err) < 0) {
		if (is_form && body && err.code != SKIFF_EFORBIDDEN && err.code != SKIFF_EAUTH &&
		    err.code != SKIFF_ENOTFOUND)
			status = html_settings_render(req, resp, slug, body, &err, NULL, false);
		else if (is_form && err.code != SKIFF_EFORBIDDEN && err.code != SKIFF_EAUTH)
			status = html_error(req, resp, &err, "/projects", "Back to the projects");
		else
			status = response_error(req, resp, &err);
		goto out;
	}
	if (is_form && rotated[0]) {
		/* the one time the new secret is shown: a page, not a redirect */
		status = html_settings_render(req, resp, slug, NULL, NULL, rotated, true);
		goto out;
	}
	if (is_form) {
		char loc[128];
		snprintf(loc, sizeof(loc), "/projects/%s/settings?saved=1", slug);
		status = response_see_other(resp, loc);
		goto out;
	}
	json_t *data = settings_answer(req, slug);
	json_object_set_new(data, "changed", json_incref(changed));
	if (rotated[0]) {
		json_object_set_new(data, "webhook", json_pack("{s:s}", "secret", rotated));
		response_header(resp, "Cache-Control", "no-store");
	}
	status = response_json(resp, 200, json_pack("{s:s,s:o}", "status", "ok", "data", data));
out:
	json_decref(changed);
	json_decref(body);
	return status;
}

int create_primary(struct http_request *req, struct http_response *resp)
{
	static const char *const known[] = { "primaryDomain", "redirectProjectAddress", NULL };
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	json_t *body = NULL, *changed = json_array();
	bool is_form = false;
	struct create_who who;
	struct project old, change;
	unsigned set = 0;
	const char *slug = req->params[0];
	int status;
	if (request_body_object(req, &body, &is_form, &err) < 0 ||
	    create_who_get(req, &who, &err) < 0 || create_who_admin(&who, &err) < 0 ||
	    validate_slug(slug, &err) < 0 || model_project_get(app->redis, slug, &old, &err) < 0 ||
	    (!is_form && create_fields_known(body, known, &err) < 0))
		goto fail;
	change = old;
	if (settings_primary(req, slug, body, is_form, &old, &change, &set, changed, &err) < 0 ||
	    (set && model_project_settings(app->redis, slug, &change, set, NULL, changed,
					   settings_who(req), &err) < 0))
		goto fail;
	if (set) {
		fastpath_switch_announce(app->redis, req->cfg, slug);   /* after the write */
		log_info("primary domain set project=%s domain=%s redirect_project=%d by=%s", slug,
			 change.primary_domain[0] ? change.primary_domain : "-",
			 change.redirect_project, settings_who(req));
	}
	if (is_form) {
		char loc[128];
		snprintf(loc, sizeof(loc), "/projects/%s#primary-form", slug);
		status = response_see_other(resp, loc);
		goto out;
	}
	json_t *data = settings_answer(req, slug);
	json_object_set_new(data, "changed", json_incref(changed));
	status = response_json(resp, 200, json_pack("{s:s,s:o}", "status", "ok", "data", data));
	goto out;
fail:
	if (is_form && err.code != SKIFF_EFORBIDDEN && err.code != SKIFF_EAUTH) {
		char back[128];
		snprintf(back, sizeof(back), "/projects/%s", validate_slug(slug, NULL) ? "" : slug);
		status = html_error(req, resp, &err, back, "Back to the project");
	} else {
		status = response_error(req, resp, &err);
	}
out:
	json_decref(changed);
	json_decref(body);
	return status;
}

/* PUT /api/projects/{slug}/env/{NAME}: {"value", "secret"?, "contexts"?}. */
int create_env_put(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	json_t *body = NULL, *item = NULL;
	struct env_list *l = NULL, *old = NULL;
	struct create_who who;
	const char *slug = req->params[0], *name = req->params[1];
	int status;
	bool is_form = false;
	if (request_body_object(req, &body, &is_form, &err) < 0 ||
	    create_who_get(req, &who, &err) < 0 || create_who_admin(&who, &err) < 0 ||
	    validate_slug(slug, &err) < 0 || env_name_check(name, &err) < 0)
		goto fail;
	if (json_object_get(body, "name")) {
		error_set(&err, SKIFF_EINVALID, "invalid_env", "the name is in the path, not the body");
		goto fail;
	}
	item = json_deep_copy(body);
	json_object_set_new(item, "name", json_string(name));
	l = env_list_new();
	if (env_list_put_json(l, item, &err) < 0 ||
	    model_env_get(app->redis, slug, &old, &err) < 0)
		goto fail;
	/* the whole set stays within its limits */
	struct env_var *v = &l->vars[0];
	size_t total = 0;
	for (size_t i = 0; i < old->n; i++)
		if (strcmp(old->vars[i].name, name))
			total += strlen(old->vars[i].name) + strlen(old->vars[i].value);
	if (v->value && total + strlen(name) + strlen(v->value) > ENV_TOTAL_MAX) {
		error_set(&err, SKIFF_ELIMIT, "env_too_large",
			  "the variables of a project take at most %d bytes", ENV_TOTAL_MAX);
		goto fail;
	}
	if (env_list_merge_kept(l, old, &err) < 0 ||
	    env_list_seal(l, slug, req->cfg->secret_key_file, &err) < 0 ||
	    model_env_put(app->redis, slug, v, settings_who(req), &err) < 0)
		goto fail;
	log_info("variable set project=%s name=%s secret=%d", slug, name, v->secret);
	status = response_json(resp, 200, json_pack("{s:s,s:o}", "status", "ok", "data",
						    settings_answer(req, slug)));
	goto out;
fail:
	status = response_error(req, resp, &err);
out:
	env_list_free(l);
	env_list_free(old);
	json_decref(item);
	json_decref(body);
	return status;
}

/* DELETE /api/projects/{slug}/env/{NAME}. */
int create_env_delete(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	json_t *body = NULL;
	bool is_form = false;
	struct create_who who;
	const char *slug = req->params[0], *name = req->params[1];
	int status;
	if (request_body_object(req, &body, &is_form, &err) < 0 ||
	    create_who_get(req, &who, &err) < 0 || create_who_admin(&who, &err) < 0 ||
	    validate_slug(slug, &err) < 0 || env_name_check(name, &err) < 0 ||
	    model_env_delete(app->redis, slug, name, settings_who(req), &err) < 0) {
		status = response_error(req, resp, &err);
	} else {
		log_info("variable deleted project=%s name=%s", slug, name);
		status = response_json(resp, 200, json_pack("{s:s,s:o}", "status", "ok", "data",
							    settings_answer(req, slug)));
	}
	json_decref(body);
	return status;
}
