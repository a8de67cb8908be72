/* api.c — the JSON shapes of records as API clients see them. */
#include "api.h"
#include "model_repo.h"

#include <stdarg.h>
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

void api_dashboard_url(const struct config *cfg, char *out, size_t outlen, const char *fmt, ...)
{
	int n = snprintf(out, outlen, "%s", cfg->dashboard_url);
	if (n < 0 || (size_t)n >= outlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + n, outlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* A string field, or null when empty (as when the record never had it). */
static void api_set_str(json_t *out, const char *name, const char *s)
{
	json_object_set_new(out, name, s[0] ? json_string(s) : json_null());
}

/* A number field, or null when the record does not have one. */
static void api_set_num(json_t *out, const char *name, long long v)
{
	json_object_set_new(out, name, v != MODEL_NONE ? json_integer(v) : json_null());
}

json_t *api_deployment(const struct config *cfg, const struct deployment *d,
		       const char *current_id)
{
	json_t *o = json_object();
	api_set_str(o, "id", d->id);
	api_set_str(o, "project", d->project);
	json_object_set_new(o, "state", d->state != DEPLOYMENT_UNKNOWN
					       ? json_string(model_state_name(d->state))
					       : json_null());
	api_set_str(o, "phase", d->phase);
	api_set_str(o, "trigger", d->trigger);
	api_set_str(o, "gitUrl", d->git_url);
	api_set_str(o, "ref", d->ref);
	api_set_str(o, "commit", d->commit);
	api_set_str(o, "commitMessage", d->commit_message);
	api_set_num(o, "created", d->created);
	api_set_num(o, "started", d->started);
	api_set_num(o, "finished", d->finished);
	api_set_str(o, "error", d->error);
	api_set_num(o, "exitCode", d->exit_code);
	api_set_num(o, "files", d->files);
	api_set_num(o, "bytes", d->bytes);
	api_set_num(o, "bytesUploaded", d->bytes_uploaded);
	api_set_str(o, "rolledBackFrom", d->rolled_back_from);
	json_object_set_new(o, "context", json_string(d->context[0] ? d->context
								     : d->preview[0] ? "preview" : "production"));
	api_set_str(o, "branch", d->branch);
	api_set_str(o, "preview", d->preview);
	json_object_set_new(o, "fork", json_boolean(d->fork));
	json_object_set_new(o, "current", json_boolean(d->id[0] && current_id &&
						       !strcmp(d->id, current_id)));
	if (d->id[0] && d->project[0]) {
		char url[1024];
		api_site_url(cfg, d->project, d->id, url, sizeof(url));
		json_object_set_new(o, "url", json_string(url));
		api_site_url(cfg, d->project, NULL, url, sizeof(url));
		json_object_set_new(o, "projectUrl", json_string(url));
		if (d->preview[0]) {
			api_site_url(cfg, d->project, d->preview, url, sizeof(url));
			json_object_set_new(o, "previewUrl", json_string(url));
		}
		api_dashboard_url(cfg, url, sizeof(url), "/api/deployments/%s/log", d->id);
		json_object_set_new(o, "logUrl", json_string(url));
		api_dashboard_url(cfg, url, sizeof(url), "/events/%s", d->id);
		json_object_set_new(o, "eventsUrl", json_string(url));
	}
	return o;
}

json_t *api_project(const struct config *cfg, const struct project *p)
{
	json_t *o = json_object();
	api_set_str(o, "slug", p->slug);
	api_set_str(o, "gitUrl", p->git_url);
	api_set_str(o, "branch", p->branch);
	api_set_str(o, "buildCommand", p->build_command);
	api_set_str(o, "installCommand", p->install_command);
	api_set_str(o, "outputDirectory", p->output_dir);
	api_set_str(o, "current", p->current);
	api_set_str(o, "latest", p->latest);
	api_set_num(o, "created", p->created);
	api_set_num(o, "updatedAt", p->updated);
	/* the rollback that made current live, until a build goes live again */
	api_set_str(o, "rolledBackFrom", p->rolled_back_from);
	api_set_str(o, "rolledBackBy", p->rolled_back_by);
	api_set_num(o, "rolledBackAt", p->rolled_back_at);
	json_object_set_new(o, "pinned", json_boolean(p->pinned));
	json_object_set_new(o, "watch", json_boolean(p->watch));
	json_object_set_new(o, "previews", preview_setting_json(p->previews));
	json_object_set_new(o, "previewForks", json_boolean(p->preview_forks));
	json_object_set_new(o, "hsts", json_boolean(p->hsts));
	json_object_set_new(o, "primaryDomain",
			    p->primary_domain[0] ? json_string(p->primary_domain) : json_null());
	json_object_set_new(o, "redirectProjectAddress", json_boolean(p->redirect_project));
	if (p->slug[0]) {
		char url[1024];
		api_site_url(cfg, p->slug, NULL, url, sizeof(url));
		json_object_set_new(o, "url", json_string(url));
	}
	return o;
}

json_t *api_repository(const struct repo_access *a)
{
	json_t *token = json_pack("{s:b}", "set", a->token[0] != '\0');
	if (a->token[0]) {
		json_object_set_new(token, "username", json_string(a->token_user[0] ? a->token_user
										    : "x-access-token"));
		json_object_set_new(token, "updatedAt", json_integer(a->token_set));
		json_object_set_new(token, "host", json_string(a->token_host));
	}
	json_t *key = json_null(), *host = json_null();
	if (a->key[0])
		key = json_pack("{s:s,s:s,s:I,s:s}", "publicKey", a->key_public, "fingerprint",
				a->key_fingerprint, "createdAt", (json_int_t)a->key_created, "host",
				a->key_host);
	if (a->host_key[0])
		host = json_pack("{s:s,s:s,s:s,s:I}", "host", a->host, "type", a->host_key_type,
				 "fingerprint", a->host_key, "pinnedAt", (json_int_t)a->host_key_pinned);
	return json_pack("{s:o,s:o,s:o}", "token", token, "deployKey", key, "hostKey", host);
}

json_t *api_preview(const struct config *cfg, const char *slug, const struct preview *pv)
{
	json_t *o = json_object();
	char url[1024];
	api_set_str(o, "key", pv->key);
	api_set_str(o, "kind", pv->kind);
	api_set_str(o, "branch", pv->branch);
	api_set_num(o, "pullRequest", pv->pr);
	api_set_str(o, "title", pv->title);
	json_object_set_new(o, "fork", json_boolean(pv->fork));
	api_set_str(o, "current", pv->current);
	api_set_str(o, "queued", pv->queued);
	api_set_num(o, "created", pv->created);
	api_set_num(o, "updated", pv->updated);
	api_site_url(cfg, slug, pv->key, url, sizeof(url));
	json_object_set_new(o, "url", json_string(url));
	return o;
}
