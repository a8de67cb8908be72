/* skiff-create — mutations of the API: create a project and queue its first deployment. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "http.h"
#include "id.h"
#include "log.h"
#include "model.h"
#include "validate.h"

#define SLUG_ATTEMPTS 5

/* A form post that failed goes back to the form with the reason; JSON gets JSON. */
static int create_fail(struct http_request *req, struct http_response *resp, bool is_form,
		       const struct error *err)
{
	if (!is_form)
		return http_error(req, resp, err);
	http_error(req, resp, err); /* logs the reason and fills the JSON body */
	struct buf loc = BUF_INIT(2048);
	buf_printf(&loc, "/?error=%s&message=", err->name);
	for (const unsigned char *p = (const unsigned char *)err->message; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.')
			buf_putc(&loc, (char)*p);
		else
			buf_printf(&loc, "%%%02X", *p);
	}
	int status = http_see_other(resp, buf_cstr(&loc));
	buf_dispose(&loc);
	return status;
}

/* Reads an optional string field: absent, null or (in forms) empty means not given. */
static int create_field(json_t *body, const char *name, bool is_form, const char **out,
			struct error *err)
{
	json_t *v = json_object_get(body, name);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return error_set(err, SKIFF_EINVALID, "invalid_field", "%s must be a string", name);
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return error_set(err, SKIFF_EINVALID, "invalid_field", "%s must not contain NUL", name);
	if (*s || !is_form)
		*out = s;
	return 0;
}

static const char *const create_known_fields[] = {
	"gitURL", "slug", "branch", "buildCommand", "installCommand", "outputDirectory", NULL,
};

static int create_check_fields(json_t *body, struct error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v) {
		int known = 0;
		for (int i = 0; create_known_fields[i]; i++)
			known |= !strcmp(key, create_known_fields[i]);
		if (!known)
			return error_set(err, SKIFF_EINVALID, "unknown_field", "unknown field '%.64s'", key);
	}
	return 0;
}

static int create_project(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	const struct config *cfg = req->cfg;
	struct error err;
	error_clear(&err);
	json_t *body = NULL, *project = NULL, *deployment = NULL;
	bool is_form = false;
	int status;
	const char *git_url, *slug, *branch, *build_cmd, *install_cmd, *out_dir;

	if (http_body_object(req, &body, &is_form, &err) < 0 ||
	    http_auth_mutation(req, is_form, &err) < 0 || (!is_form && create_check_fields(body, &err) < 0) ||
	    create_field(body, "gitURL", is_form, &git_url, &err) < 0 ||
	    create_field(body, "slug", is_form, &slug, &err) < 0 ||
	    create_field(body, "branch", is_form, &branch, &err) < 0 ||
	    create_field(body, "buildCommand", is_form, &build_cmd, &err) < 0 ||
	    create_field(body, "installCommand", is_form, &install_cmd, &err) < 0 ||
	    create_field(body, "outputDirectory", is_form, &out_dir, &err) < 0)
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

	char derived[SLUG_MAX + 1];
	bool slug_given = slug != NULL;
	if (!slug_given) {
		if (validate_slug_from_url(git_url, derived, sizeof(derived) - 5) < 0)
			memcpy(derived, "site", 5);
		slug = derived;
	}
	char id[ID_LEN + 1], now[24], trial[SLUG_MAX + 1];
	id_new(id);
	snprintf(now, sizeof(now), "%lld", model_now_ms());
	snprintf(trial, sizeof(trial), "%s", slug);
	for (int attempt = 0; attempt < SLUG_ATTEMPTS; attempt++) {
		json_decref(project);
		json_decref(deployment);
		project = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "slug", trial, "git_url", git_url,
				    "branch", branch ? branch : "", "created", now, "latest", id,
				    "current", "");
		if (build_cmd)
			json_object_set_new(project, "build_command", json_string(build_cmd));
		if (install_cmd)
			json_object_set_new(project, "install_command", json_string(install_cmd));
		if (out_dir)
			json_object_set_new(project, "output_dir", json_string(out_dir));
		deployment = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "project", trial,
				       "git_url", git_url, "ref", branch ? branch : "", "state",
				       STATE_QUEUED, "trigger", is_form ? "form" : "api", "created", now);
		int rc = model_project_create(app->redis, project, deployment, &err);
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
	log_info("project created project=%s deployment=%s git_url=%s trigger=%s", trial, id,
		 git_url, is_form ? "form" : "api");

	if (is_form) {
		char loc[64];
		snprintf(loc, sizeof(loc), "/deployments/%s", id);
		status = http_see_other(resp, loc);
		goto out;
	}
	char url[1024], durl[1024], surl[1024], eurl[64];
	api_site_url(cfg, trial, NULL, url, sizeof(url));
	api_site_url(cfg, trial, id, durl, sizeof(durl));
	snprintf(surl, sizeof(surl), "%s/api/deployments/%s", cfg->dashboard_url, id);
	snprintf(eurl, sizeof(eurl), "/events/%s", id);
	http_header(resp, "Location", "/api/deployments/%s", id);
	status = http_json(resp, 202,
			   json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "status", "queued", "data",
				     "projectSlug", trial, "url", url, "deploymentId", id,
				     "deploymentUrl", durl, "statusUrl", surl, "eventsUrl", eurl));
	goto out;
fail:
	status = create_fail(req, resp, is_form, &err);
out:
	json_decref(body);
	json_decref(project);
	json_decref(deployment);
	return status;
}

static const struct http_route create_routes[] = {
	{ "POST", "/api/projects", create_project, 0 },
	{ "POST", "/project", create_project, 0 },
};

int main(int argc, char **argv)
{
	static const struct http_program prog = {
		.name = "skiff-create",
		.summary = "skiff's API mutations as a FastCGI (or CGI) program: create projects and "
			   "deployments.",
		.routes = create_routes,
		.nroutes = sizeof(create_routes) / sizeof(create_routes[0]),
		.init = app_init,
		.fini = app_fini,
	};
	return http_main(argc, argv, &prog);
}
