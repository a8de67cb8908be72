/* repo.c — the routes of a project's private repository access: its access token, its deploy
 * key (generated here; only the public half is ever shown) and its pinned SSH host key.
 * Admin credentials only; JSON or a dashboard form. */
#include "repo.h"
#include "tokens.h"
#include "app.h"
#include "fields.h"
#include "clock.h"
#include "html.h"
#include "log.h"
#include "api.h"
#include "model_repo.h"
#include "secret.h"
#include "sshkey.h"
#include "validate.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a repository route does once the caller may: the status it answered, or a negative
 * code with err set. */
typedef int (*repo_act)(struct http_request *req, struct http_response *resp, json_t *body,
			struct repo_access *a, struct error *err);

/* Admin credentials, a valid slug, the body (JSON or form), then act; the answer is the
 * project's repository access (JSON) or 303 back to the project's page (form). */
static int repo_route(struct http_request *req, struct http_response *resp, repo_act act)
{
	struct app *app = req->app;
	struct error err;
	struct create_who who;
	const char *slug = req->params[0];
	json_t *body = NULL;
	bool is_form = false;
	struct repo_access *a = calloc(1, sizeof(*a));
	int status;
	char back[96];
	error_clear(&err);
	if (!a)
		abort();
	snprintf(back, sizeof(back), "/projects/%s", validate_slug(slug, NULL) == 0 ? slug : "");
	if (request_body_object(req, &body, &is_form, &err) < 0 ||
	    create_who_get(req, &who, &err) < 0 || create_who_admin(&who, &err) < 0 ||
	    validate_slug(slug, &err) < 0 || model_repo_get(app->redis, slug, a, &err) < 0 ||
	    (status = act(req, resp, body, a, &err)) < 0) {
		if (is_form && err.code != SKIFF_EFORBIDDEN && err.code != SKIFF_EAUTH)
			status = html_error(req, resp, &err, back, "Back to the project");
		else
			status = response_error(req, resp, &err);
		goto out;
	}
	if (is_form) {
		status = response_see_other(resp, back);
		goto out;
	}
	/* the record as it is now: what the action wrote */
	if (model_repo_get(app->redis, slug, a, &err) < 0) {
		status = response_error(req, resp, &err);
		goto out;
	}
	response_header(resp, "Cache-Control", "no-store");
	status = response_json(resp, status, json_pack("{s:s,s:o}", "status", "ok", "data",
						       api_repository(a)));
out:
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
	json_decref(body);
	return status;
}

/* Seals value for field ("token", "key") of slug into out. */
static int repo_seal(struct http_request *req, const char *slug, const char *field,
		     const char *value, char *out, size_t outlen, struct error *err)
{
	struct secret_key key;
	char aad[SLUG_MAX + 32], *sealed = NULL;
	snprintf(aad, sizeof(aad), "%s/repo/%s", slug, field);
	int rc = secret_key_load(req->cfg->secret_key_file, &key, err);
	if (rc == 0)
		rc = secret_seal(&key, aad, value, strlen(value), &sealed, err);
	secret_key_dispose(&key);
	if (rc < 0)
		return rc;
	if (strlen(sealed) >= outlen)
		rc = error_set(err, SKIFF_EINTERNAL, NULL, "the sealed value does not fit");
	else
		memcpy(out, sealed, strlen(sealed) + 1);
	free(sealed);
	return rc;
}

static bool repo_username_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > REPO_USERNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._-@+", c)))
			return false;
	}
	return true;
}

/* A string field of the body into *out: NULL when absent, null or empty. */
static int repo_field(json_t *body, const char *name, const char **out, struct error *err)
{
	json_t *v = json_object_get(body, name);
	const char *s = json_string_value(v);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!s || strlen(s) != json_string_length(v))
		return error_set(err, SKIFF_EINVALID, "invalid_field",
				 "%s must be a string without NUL", name);
	*out = *s ? s : NULL;
	return 0;
}

/* The host (and port) of the project's gitURL now: the only one a token or key is sent to. */
static int repo_host(struct http_request *req, const char *slug, char out[REPO_HOST_MAX + 1],
		     struct error *err)
{
	struct project *p = malloc(sizeof(*p));
	if (!p)
		abort();
	int rc = model_project_get(((struct app *)req->app)->redis, slug, p, err);
	if (rc == 0 && validate_git_url_host(p->git_url, out, REPO_HOST_MAX + 1) < 0)
		rc = error_set(err, SKIFF_EINVALID, "invalid_git_url",
			       "the project's gitURL has no host to send a credential to");
	free(p);
	return rc;
}

/* A token and its user name as given (user may be NULL), named as the body names them. */
static int repo_token_check(const char *token, const char *user, const char *token_field,
			    const char *user_field, struct error *err)
{
	size_t n = token ? strlen(token) : 0;
	if (n == 0 || n > REPO_TOKEN_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_repository_token",
				 "%s must be 1 to %d characters", token_field, REPO_TOKEN_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
			return error_set(err, SKIFF_EINVALID, "invalid_repository_token",
					 "%s must be printable ASCII without spaces", token_field);
	if (user && !repo_username_valid(user))
		return error_set(err, SKIFF_EINVALID, "invalid_repository_username",
				 "%s must be 1 to %d characters of a-z, A-Z, 0-9 and . _ - @ +",
				 user_field, REPO_USERNAME_MAX);
	return 0;
}

/* The token part of a (its host already there): user, time, the sealed token. */
static int repo_token_seal(struct http_request *req, const char *slug, const char *token,
			   const char *user, struct repo_access *a, struct error *err)
{
	snprintf(a->token_user, sizeof(a->token_user), "%s", user ? user : "");
	a->token_set = clock_wall_ms();
	return repo_seal(req, slug, "token", token, a->token, sizeof(a->token), err);
}

/* The key part of a (its host already there): a new ed25519 key, its private half sealed. */
static int repo_key_make(struct http_request *req, const char *slug, struct repo_access *a,
			 struct error *err)
{
	char priv[SSHKEY_PRIVATE_MAX + 1], comment[SSHKEY_COMMENT_MAX + 1];
	snprintf(comment, sizeof(comment), "skiff-%s", slug);
	int rc = sshkey_generate(comment, priv, a->key_public, a->key_fingerprint, err);
	if (rc == 0) {
		a->key_created = clock_wall_ms();
		rc = repo_seal(req, slug, "key", priv, a->key, sizeof(a->key), err);
	}
	OPENSSL_cleanse(priv, sizeof(priv));
	return rc;
}

int create_repo_given_read(json_t *body, bool is_form, const char *git_url,
			   struct create_repo_given *g, struct error *err)
{
	memset(g, 0, sizeof(*g));
	if (create_field(body, "repositoryToken", is_form, &g->token, err) < 0 ||
	    create_field(body, "repositoryUsername", is_form, &g->username, err) < 0 ||
	    create_flag(body, "deployKey", is_form, &g->deploy_key, err) < 0)
		return err->code;
	if (is_form && g->username && !g->token)
		g->username = NULL;   /* the form's user name field alone says nothing */
	if (g->username && !g->token)
		return error_set(err, SKIFF_EINVALID, "invalid_repository_username",
				 "repositoryUsername goes with a repositoryToken");
	if (g->token && repo_token_check(g->token, g->username, "repositoryToken",
					 "repositoryUsername", err) < 0)
		return err->code;
	if ((g->token || g->deploy_key) &&
	    validate_git_url_host(git_url, g->host, sizeof(g->host)) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL has no host to send a repository credential to");
	return 0;
}

int create_repo_given_seal(struct http_request *req, const struct create_repo_given *g,
			   const char *slug, struct repo_access *a, struct error *err)
{
	memset(a, 0, sizeof(*a));
	if (g->token) {
		memcpy(a->token_host, g->host, sizeof(a->token_host));
		if (repo_token_seal(req, slug, g->token, g->username, a, err) < 0)
			return err->code;
	}
	if (g->deploy_key) {
		memcpy(a->key_host, g->host, sizeof(a->key_host));
		if (repo_key_make(req, slug, a, err) < 0)
			return err->code;
	}
	return 0;
}

static int repo_token_set_act(struct http_request *req, struct http_response *resp, json_t *body,
			      struct repo_access *a, struct error *err)
{
	static const char *const known[] = { "token", "username", NULL };
	const char *slug = req->params[0];
	(void)resp;
	const char *token, *user;
	if (create_fields_known(body, known, err) < 0 || repo_field(body, "token", &token, err) < 0 ||
	    repo_field(body, "username", &user, err) < 0)
		return err->code;
	if (repo_token_check(token, user, "token", "username", err) < 0)
		return err->code;
	/* the token is for the project's host as it is now, and is sent nowhere else */
	if (repo_host(req, slug, a->token_host, err) < 0 ||
	    repo_token_seal(req, slug, token, user, a, err) < 0 ||
	    model_repo_set(((struct app *)req->app)->redis, slug, REPO_TOKEN, a, false, err) < 0)
		return err->code;
	log_info("repository token set project=%s username=%s", slug,
		 user ? user : "x-access-token");
	return 200;
}

static int repo_key_new_act(struct http_request *req, struct http_response *resp, json_t *body,
			    struct repo_access *a, struct error *err)
{
	static const char *const known[] = { NULL };
	const char *slug = req->params[0];
	(void)resp;
	if (create_fields_known(body, known, err) < 0 || repo_host(req, slug, a->key_host, err) < 0 ||
	    repo_key_make(req, slug, a, err) < 0 ||
	    model_repo_set(((struct app *)req->app)->redis, slug, REPO_KEY, a, false, err) < 0)
		return err->code;
	log_info("deploy key generated project=%s fingerprint=%s", slug, a->key_fingerprint);
	return 201;
}

/* Removes one part of the record: the token, the deploy key, or the host key pin. */
static int repo_clear(struct http_request *req, json_t *body, struct repo_access *a,
		      enum repo_part part, const char *what, struct error *err)
{
	static const char *const known[] = { NULL };
	if (create_fields_known(body, known, err) < 0 ||
	    model_repo_set(((struct app *)req->app)->redis, req->params[0], part, a, true, err) < 0)
		return err->code;
	log_info("%s removed project=%s", what, req->params[0]);
	return 200;
}

static int repo_token_delete_act(struct http_request *req, struct http_response *resp,
				 json_t *body, struct repo_access *a, struct error *err)
{
	(void)resp;
	return repo_clear(req, body, a, REPO_TOKEN, "repository token", err);
}

static int repo_key_delete_act(struct http_request *req, struct http_response *resp,
			       json_t *body, struct repo_access *a, struct error *err)
{
	(void)resp;
	return repo_clear(req, body, a, REPO_KEY, "deploy key", err);
}

static int repo_host_key_delete_act(struct http_request *req, struct http_response *resp,
				    json_t *body, struct repo_access *a, struct error *err)
{
	(void)resp;
	return repo_clear(req, body, a, REPO_HOST_KEY, "pinned host key", err);
}

int create_repo_token_set(struct http_request *req, struct http_response *resp)
{
	return repo_route(req, resp, repo_token_set_act);
}

int create_repo_token_delete(struct http_request *req, struct http_response *resp)
{
	return repo_route(req, resp, repo_token_delete_act);
}

int create_repo_key_new(struct http_request *req, struct http_response *resp)
{
	return repo_route(req, resp, repo_key_new_act);
}

int create_repo_key_delete(struct http_request *req, struct http_response *resp)
{
	return repo_route(req, resp, repo_key_delete_act);
}

int create_repo_host_key_delete(struct http_request *req, struct http_response *resp)
{
	return repo_route(req, resp, repo_host_key_delete_act);
}
