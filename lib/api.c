/* api.c — the JSON shapes of records as API clients see them. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_site_url(const struct config *cfg, const char *slug, const char *id, char *out,
		  size_t outlen)
{
	char port[16] = "";
	long dflt = strcmp(cfg->site_scheme, "https") ? 80 : 443;
	if (cfg->site_port && cfg->site_port != dflt)
		snprintf(port, sizeof(port), ":%ld", cfg->site_port);
	snprintf(out, outlen, "%s://%s%s%s.%s%s/", cfg->site_scheme, slug, id ? "--" : "",
		 id ? id : "", cfg->domain, port);
}

int api_state_final(const char *state)
{
	return state && (!strcmp(state, "ready") || !strcmp(state, "error") ||
			 !strcmp(state, "canceled") || !strcmp(state, "expired"));
}

static const char *api_str(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));
	return s && *s ? s : NULL;
}

/* Copies a field as a string, or null when absent. */
static void api_copy_str(json_t *out, const char *name, json_t *rec, const char *key)
{
	const char *s = api_str(rec, key);
	json_object_set_new(out, name, s ? json_string(s) : json_null());
}

/* Copies a numeric field (stored as decimal text) as a number, or null. */
static void api_copy_num(json_t *out, const char *name, json_t *rec, const char *key)
{
	const char *s = api_str(rec, key);
	if (s) {
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (!errno && *end == '\0') {
			json_object_set_new(out, name, json_integer(v));
			return;
		}
	}
	json_object_set_new(out, name, json_null());
}

json_t *api_deployment(const struct config *cfg, json_t *rec, const char *current_id)
{
	json_t *o = json_object();
	const char *id = api_str(rec, "id");
	const char *slug = api_str(rec, "project");
	api_copy_str(o, "id", rec, "id");
	api_copy_str(o, "project", rec, "project");
	api_copy_str(o, "state", rec, "state");
	api_copy_str(o, "phase", rec, "phase");
	api_copy_str(o, "trigger", rec, "trigger");
	api_copy_str(o, "gitUrl", rec, "git_url");
	api_copy_str(o, "ref", rec, "ref");
	api_copy_str(o, "commit", rec, "commit");
	api_copy_str(o, "commitMessage", rec, "commit_message");
	api_copy_num(o, "created", rec, "created");
	api_copy_num(o, "started", rec, "started");
	api_copy_num(o, "finished", rec, "finished");
	api_copy_str(o, "error", rec, "error");
	api_copy_num(o, "exitCode", rec, "exit_code");
	api_copy_num(o, "files", rec, "files");
	api_copy_num(o, "bytes", rec, "bytes");
	api_copy_num(o, "bytesUploaded", rec, "bytes_uploaded");
	api_copy_str(o, "rolledBackFrom", rec, "rolled_back_from");
	json_object_set_new(o, "current",
			    json_boolean(id && current_id && !strcmp(id, current_id)));
	if (id && slug) {
		char url[1024];
		api_site_url(cfg, slug, id, url, sizeof(url));
		json_object_set_new(o, "url", json_string(url));
		api_site_url(cfg, slug, NULL, url, sizeof(url));
		json_object_set_new(o, "projectUrl", json_string(url));
		char path[128];
		snprintf(path, sizeof(path), "/api/deployments/%s/log", id);
		json_object_set_new(o, "logUrl", json_string(path));
		snprintf(path, sizeof(path), "/events/%s", id);
		json_object_set_new(o, "eventsUrl", json_string(path));
	}
	return o;
}

json_t *api_project(const struct config *cfg, json_t *rec)
{
	json_t *o = json_object();
	const char *slug = api_str(rec, "slug");
	api_copy_str(o, "slug", rec, "slug");
	api_copy_str(o, "gitUrl", rec, "git_url");
	api_copy_str(o, "branch", rec, "branch");
	api_copy_str(o, "buildCommand", rec, "build_command");
	api_copy_str(o, "installCommand", rec, "install_command");
	api_copy_str(o, "outputDirectory", rec, "output_dir");
	api_copy_str(o, "current", rec, "current");
	api_copy_str(o, "latest", rec, "latest");
	api_copy_num(o, "created", rec, "created");
	/* the rollback that made current live, until a build goes live again */
	api_copy_str(o, "rolledBackFrom", rec, "rolled_back_from");
	api_copy_str(o, "rolledBackBy", rec, "rolled_back_by");
	api_copy_num(o, "rolledBackAt", rec, "rolled_back_at");
	json_object_set_new(o, "pinned", json_boolean(api_str(rec, "pinned") &&
						      !strcmp(api_str(rec, "pinned"), "1")));
	json_object_set_new(o, "watch", json_boolean(api_str(rec, "watch") &&
						     !strcmp(api_str(rec, "watch"), "1")));
	if (slug) {
		char url[1024];
		api_site_url(cfg, slug, NULL, url, sizeof(url));
		json_object_set_new(o, "url", json_string(url));
	}
	return o;
}
