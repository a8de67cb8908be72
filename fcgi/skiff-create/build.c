/* build.c — a remote builder's own calls: start hands it what to build and marks the
 * deployment building (phase clone), as skiff-build does for a local build; progress records
 * its phases and the commit its clone found, and is its heartbeat (every call with its build
 * token renews the lease, and during the upload the pin of the blobs it relies on) and how it
 * learns of a cancel. */
#include "build.h"
#include "deploy.h"
#include "fields.h"
#include "app.h"
#include "clock.h"
#include "gc.h"
#include "hex.h"
#include "env.h"
#include "log.h"
#include "model.h"
#include "model_env.h"
#include "model_gc.h"
#include "model_repo.h"
#include "gitauth.h"
#include "secret.h"
#include "sshkey.h"
#include "validate.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Only the deployment's own build token calls these. */
static int build_only(const struct create_who *who, const struct deployment *d, struct error *err)
{
	if (who->build)
		return 0;
	return error_set(err, SKIFF_EFORBIDDEN, "token_scope",
			 "only the build token of deployment %s calls this", d->id);
}

/* The production deployment of slug and its commit, as {"deploymentId", "commit"}, or null. */
static json_t *build_production(struct app *app, const char *slug)
{
	char cur[ID_LEN + 1];
	json_t *out = json_null();
	struct deployment *p = malloc(sizeof(*p)); /* some KiB: not on the stack */
	if (!p)
		abort();
	if (model_project_current(app->redis, slug, cur, NULL) == 0 && cur[0] &&
	    model_deployment_get(app->redis, cur, p, NULL) == 0)
		out = json_pack("{ssss}", "deploymentId", cur, "commit", p->commit);
	free(p);
	return out;
}

static int build_start_act(struct http_request *req, struct http_response *resp, json_t *body,
			   const struct deployment *d, const struct create_who *who,
			   struct error *err)
{
	struct app *app = req->app;
	struct project p;
	(void)body;
	if (build_only(who, d, err) < 0 || model_project_get(app->redis, d->project, &p, err) < 0)
		return err->code;
	if (d->state == DEPLOYMENT_QUEUED) {
		struct deployment change;
		model_deployment_init(&change);
		change.started = clock_wall_ms();
		if (model_deployment_state(app->redis, d->id, DEPLOYMENT_BUILDING, "clone", &change,
					   MODEL_SET(STARTED), err) < 0)
			return err->code;
		log_info("remote build started deployment=%s project=%s", d->id, d->project);
	}
	/* the project's variables as the API shows them: a secret's value never here (the
	 * credentials call hands those over, when "credentials" says there are some) */
	struct env_list *vars = NULL;
	struct repo_access *repo = malloc(sizeof(*repo));
	if (!repo)
		abort();
	int rc = model_env_get(app->redis, d->project, &vars, err);
	if (rc == 0)
		rc = model_repo_get(app->redis, d->project, repo, err);
	bool secrets = false;
	unsigned bit = env_context_bit(d->context);
	for (size_t i = 0; rc == 0 && i < vars->n; i++)
		secrets = secrets || (vars->vars[i].secret && (vars->vars[i].contexts & bit));
	/* a fork's pull request gets none: neither its secrets nor the repository's */
	bool credentials = !d->fork && (secrets || repo->token[0] || repo->key[0] || repo->host_key[0]);
	OPENSSL_cleanse(repo, sizeof(*repo));
	free(repo);
	if (rc < 0) {
		env_list_free(vars);
		return rc;
	}
	json_t *variables = env_list_api(vars);
	env_list_free(vars);
	/* what the deployment names wins over the project (a redeploy of a given commit) */
	json_t *answer = json_pack(
		"{sssssssssssssssssssssssoss}", "deploymentId", d->id, "project", d->project,
		"gitUrl", d->git_url[0] ? d->git_url : p.git_url, "branch",
		d->branch[0] ? d->branch : p.branch, "ref", d->ref[0] ? d->ref : d->commit,
		"pushedCommit", d->pushed_commit, "buildCommand", p.build_command,
		"installCommand", p.install_command, "outputDirectory", p.output_dir, "trigger",
		d->trigger, "state", "building", "production", build_production(app, d->project),
		"phase", d->state == DEPLOYMENT_QUEUED ? "clone" : d->phase);
	json_object_set_new(answer, "context", json_string(d->context));
	json_object_set_new(answer, "variables", variables);
	json_object_set_new(answer, "fork", json_boolean(d->fork));
	json_object_set_new(answer, "credentials", json_boolean(credentials));
	return response_json(resp, 200, answer);
}

int create_build_start(struct http_request *req, struct http_response *resp)
{
	return create_deploy_route(req, resp, build_start_act);
}

/* The optional string field name of body into out (at most max bytes), or an error. */
static int build_field(json_t *body, const char *name, size_t max, const char **out,
		       struct error *err)
{
	json_t *v = json_object_get(body, name);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return error_set(err, SKIFF_EINVALID, "invalid_field",
				 "%s must be a string of at most %zu bytes", name, max);
	*out = json_string_value(v);
	return 0;
}

/* The commit the clone found: {commit, commitMessage, descendsFrom}. */
static int build_commit(struct http_request *req, const struct deployment *d, const char *commit,
			const char *message, const char *descends, struct error *err)
{
	struct app *app = req->app;
	size_t n = strlen(commit);
	if ((n != 40 && n != 64) || hex_span(commit) != n)
		return error_set(err, SKIFF_EINVALID, "invalid_commit",
				 "commit must be 40 or 64 hex digits");
	if (descends && descends[0] && !id_valid(descends))
		return error_set(err, SKIFF_EINVALID, "invalid_deployment_id",
				 "descendsFrom must be \"\" or a deployment id");
	struct deployment change;
	model_deployment_init(&change);
	snprintf(change.commit, sizeof(change.commit), "%s", commit);
	snprintf(change.commit_message, sizeof(change.commit_message), "%s", message ? message : "");
	for (char *c = change.commit_message; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	snprintf(change.descends_from, sizeof(change.descends_from), "%s", descends ? descends : "");
	change.cloned = clock_wall_ms();
	return model_deployment_update(app->redis, d->id, &change,
				       MODEL_SET(COMMIT) | MODEL_SET(COMMIT_MESSAGE) |
					       MODEL_SET(CLONED) | MODEL_SET(DESCENDS_FROM), err);
}

/* 1 when s is printable ASCII of the characters of an SSH key type or a SHA-256 fingerprint
 * ("ssh-ed25519", "SHA256:" and base64). */
static int build_host_key_text(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("-@.:+/=", *s)))
			return 0;
	return 1;
}

/* The SSH host key the clone saw on first use {hostKeyType, hostKey}, pinned for the host of
 * the deployment's URL as a local build pins it: only while the build is in its clone phase
 * (before any of the repository's code ran), never for a fork's pull request. *pinned: pinned
 * now. 409 host_key_changed when another key is pinned for that host. */
static int build_host_key(struct http_request *req, const struct deployment *d, const char *type,
			  const char *fingerprint, bool *pinned, struct error *err)
{
	struct app *app = req->app;
	*pinned = false;
	if (!type || !fingerprint || !*type || strncmp(fingerprint, "SHA256:", 7) ||
	    !build_host_key_text(type) || !build_host_key_text(fingerprint))
		return error_set(err, SKIFF_EINVALID, "invalid_host_key",
				 "hostKeyType and hostKey must both be given: a key type and its "
				 "SHA256: fingerprint");
	if (strcmp(d->phase, "clone"))
		return error_set(err, SKIFF_ECONFLICT, "not_cloning",
				 "a host key is recorded only during the clone (phase %s)", d->phase);
	if (d->fork)
		return 0;
	struct project *p = malloc(sizeof(*p));
	if (!p)
		abort();
	int rc = model_project_get(app->redis, d->project, p, err);
	const char *url = d->git_url[0] ? d->git_url : p->git_url;
	if (rc == 0 && !validate_git_url_ssh(url))
		rc = error_set(err, SKIFF_EINVALID, "invalid_host_key",
			       "the deployment's repository URL is not an ssh URL");
	if (rc == 0)
		rc = gitauth_pin(app->redis, d->project, url, type, fingerprint, err);
	free(p);
	if (rc < 0)
		return rc;
	*pinned = rc == 1;
	if (*pinned)
		log_info("host key pinned deployment=%s project=%s type=%s fingerprint=%s", d->id,
			 d->project, type, fingerprint);
	return 0;
}

static int build_progress_act(struct http_request *req, struct http_response *resp, json_t *body,
			      const struct deployment *d, const struct create_who *who,
			      struct error *err)
{
	struct app *app = req->app;
	static const char *const known[] = { "phase", "commit", "commitMessage", "descendsFrom",
					     "hostKeyType", "hostKey", NULL };
	const char *phase, *commit, *message, *descends, *hk_type, *hk;
	bool pinned = false;
	if (build_only(who, d, err) < 0 || create_fields_known(body, known, err) < 0 ||
	    build_field(body, "phase", MODEL_PHASE_MAX, &phase, err) < 0 ||
	    build_field(body, "commit", MODEL_COMMIT_MAX, &commit, err) < 0 ||
	    build_field(body, "commitMessage", MODEL_MESSAGE_MAX, &message, err) < 0 ||
	    build_field(body, "descendsFrom", ID_LEN, &descends, err) < 0 ||
	    build_field(body, "hostKeyType", SSHKEY_TYPE_MAX, &hk_type, err) < 0 ||
	    build_field(body, "hostKey", SSHKEY_FINGERPRINT_MAX, &hk, err) < 0)
		return err->code;
	if (d->state != DEPLOYMENT_BUILDING)
		return error_set(err, SKIFF_ECONFLICT, "not_started",
				 "deployment %s is %s: call start first", d->id,
				 model_state_name(d->state));
	if ((hk_type || hk) && build_host_key(req, d, hk_type, hk, &pinned, err) < 0)
		return err->code;
	if (phase && strcmp(phase, "install") && strcmp(phase, "build") && strcmp(phase, "upload"))
		return error_set(err, SKIFF_EINVALID, "invalid_phase",
				 "phase must be \"install\", \"build\" or \"upload\"");
	if (commit && build_commit(req, d, commit, message, descends, err) < 0)
		return err->code;
	if (phase && strcmp(phase, d->phase) &&
	    model_deployment_state(app->redis, d->id, DEPLOYMENT_BUILDING, phase, NULL, 0, err) < 0)
		return err->code;
	/* during the upload, the heartbeat keeps the blobs the files call pinned (lib/gc.h); it
	 * never waits for a sweep */
	if (!phase && !strcmp(d->phase, "upload") &&
	    model_gc_pin_renew(app->redis, d->id, GC_PIN_TTL_MS, err) < 0)
		log_warn("cannot renew the pin of a remote build deployment=%s error=\"%s\"", d->id,
			 err->message);
	return response_json(resp, 200, json_pack("{sssssssbsb}", "deploymentId", d->id, "state",
						  "building", "phase", phase ? phase : d->phase,
						  "cancel", who->bt.cancel_requested, "pinned", pinned));
}

int create_build_progress(struct http_request *req, struct http_response *resp)
{
	return create_deploy_route(req, resp, build_progress_act);
}

/* The secret variables of d's project that apply to its context, opened, as
 * [{"name", "value"}] into *out (wiped by the caller: secret_json_free). */
static int build_secret_values(struct http_request *req, const struct deployment *d,
			       json_t **out, struct error *err)
{
	struct app *app = req->app;
	struct env_list *vars = NULL;
	struct secret_key key;
	bool loaded = false;
	unsigned bit = env_context_bit(d->context);
	memset(&key, 0, sizeof(key));
	*out = json_array();
	int rc = model_env_get(app->redis, d->project, &vars, err);
	for (size_t i = 0; rc == 0 && i < vars->n; i++) {
		const struct env_var *v = &vars->vars[i];
		char *plain = NULL;
		size_t n = 0;
		if (!v->secret || !(v->contexts & bit))
			continue;
		if (!loaded && (rc = secret_key_load(req->cfg->secret_key_file, &key, err)) < 0)
			break;
		loaded = true;
		if ((rc = env_var_open(&key, d->project, v, &plain, &n, err)) < 0)
			break;
		json_array_append_new(*out, json_pack("{s:s,s:s%}", "name", v->name, "value", plain, n));
		secret_plain_free(plain, n);
	}
	secret_key_dispose(&key);
	env_list_free(vars);
	return rc;
}

/* The repository credential d's clone needs (its URL's token or deploy key, with the pinned
 * host key), as the clone's own credentials JSON, or null when there is nothing to give. */
static int build_repository(struct http_request *req, const struct deployment *d, json_t **out,
			    struct error *err)
{
	struct app *app = req->app;
	struct gitauth auth;
	struct project *p = malloc(sizeof(*p));
	if (!p)
		abort();
	*out = json_null();
	int rc = model_project_get(app->redis, d->project, p, err);
	if (rc == 0)
		rc = gitauth_load(app->redis, req->cfg, d->project, d->git_url[0] ? d->git_url : p->git_url,
				  d->fork, &auth, NULL, err);
	free(p);
	if (rc < 0)
		return rc;
	/* also what was kept back and why, and a pinned host key: the clone's error and check */
	if (auth.token || auth.private_key || auth.token_host[0] || auth.key_host[0] || auth.pin[0]) {
		json_decref(*out);
		*out = gitauth_wire_json(&auth);
	}
	gitauth_dispose(&auth);
	return 0;
}

static int build_credentials_act(struct http_request *req, struct http_response *resp,
				 json_t *body, const struct deployment *d,
				 const struct create_who *who, struct error *err)
{
	json_t *variables = NULL, *repository = NULL;
	(void)body;
	if (build_only(who, d, err) < 0)
		return err->code;
	if (!request_confidential(req))
		return error_set(err, SKIFF_EFORBIDDEN, "insecure_channel",
				 "credentials are sent only over TLS (HTTPS=on from the web server) "
				 "or loopback; this request came over plain HTTP from %s",
				 request_param(req, "REMOTE_ADDR") ? "another host" : "an unknown address");
	if (d->state != DEPLOYMENT_BUILDING)
		return error_set(err, SKIFF_ECONFLICT, "not_started",
				 "deployment %s is %s: call start first", d->id,
				 model_state_name(d->state));
	/* the clone asks for them, before any of the repository's code ran; later, the build's
	 * own commands (which may have read the token from skiff-build's memory where there is
	 * no sandbox) would get the repository credential too */
	if (strcmp(d->phase, "clone"))
		return error_set(err, SKIFF_ECONFLICT, "not_cloning",
				 "credentials are handed out only during the clone (phase %s)", d->phase);
	if (d->fork) /* start said credentials: false; asked all the same, the answer is empty */
		return response_json(resp, 200, json_pack("{s:[],s:n}", "variables", "repository"));
	int rc = build_secret_values(req, d, &variables, err);
	if (rc == 0)
		rc = build_repository(req, d, &repository, err);
	if (rc < 0) {
		secret_json_free(variables);
		secret_json_free(repository);
		return rc;
	}
	log_info("build credentials sent deployment=%s project=%s secrets=%zu repository=%s", d->id,
		 d->project, json_array_size(variables), json_is_null(repository) ? "none" : "yes");
	response_header(resp, "Cache-Control", "no-store");
	json_t *answer = json_pack("{s:o,s:o}", "variables", variables, "repository", repository);
	rc = response_json(resp, 200, json_incref(answer));
	secret_json_free(answer);
	return rc;
}

int create_build_credentials(struct http_request *req, struct http_response *resp)
{
	return create_deploy_route(req, resp, build_credentials_act);
}
