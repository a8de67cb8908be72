/* tokens.c — who is asking (admin credentials or a project deploy token), and the routes that
 * create and revoke deploy tokens (admin credentials only). */
#include "tokens.h"
#include "fields.h"
#include "html.h"
#include "clock.h"
#include "log.h"
#include "model_token.h"
#include "validate.h"
#include "app.h"
#include "auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The bearer token of the request when it names a deploy token, else NULL. */
static const char *create_bearer_token(struct http_request *req)
{
	const char *auth = request_param(req, "HTTP_AUTHORIZATION");
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	auth += 7;
	return strncmp(auth, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1) == 0 ? auth : NULL;
}

/* A build token of the request (its bearer), checked against Redis. */
static int create_who_build_get(struct http_request *req, const char *secret,
				struct create_who *who, struct error *err)
{
	struct app *app = req->app;
	int rc = model_buildtoken_secret_valid(secret)
			 ? model_buildtoken_lookup(app->redis, secret, req->cfg->lease_ttl, &who->bt, err)
			 : SKIFF_ENOTFOUND;
	if (rc == SKIFF_ENOTFOUND)
		return error_set(err, SKIFF_EAUTH, "invalid_token",
				 "the build token is not valid (never issued, replaced by a later "
				 "launch, or its deployment was removed)");
	if (rc < 0)
		return rc;
	who->token = true;
	who->build = true;
	memcpy(who->project, who->bt.project, sizeof(who->project));
	return 0;
}

int create_who_get(struct http_request *req, struct create_who *who, struct error *err)
{
	struct app *app = req->app;
	memset(who, 0, sizeof(*who));
	const char *auth = request_param(req, "HTTP_AUTHORIZATION");
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0 &&
	    strncmp(auth + 7, BUILD_TOKEN_PREFIX, sizeof(BUILD_TOKEN_PREFIX) - 1) == 0)
		return create_who_build_get(req, auth + 7, who, err);
	const char *secret = create_bearer_token(req);
	if (!secret)
		return auth_mutation(req, err);
	struct token t;
	int rc = model_token_secret_valid(secret) ? model_token_lookup(app->redis, secret, &t, err)
						  : SKIFF_ENOTFOUND;
	if (rc == SKIFF_ENOTFOUND)
		return error_set(err, SKIFF_EAUTH, "invalid_token",
				 "the deploy token is not valid (revoked, or never issued)");
	if (rc < 0)
		return rc;
	who->token = true;
	who->preview = !strcmp(t.scope, "preview");
	memcpy(who->project, t.project, sizeof(who->project));
	return 0;
}

int create_who_may(const struct create_who *who, const char *slug, struct error *err)
{
	if (who->build)
		return error_set(err, SKIFF_EFORBIDDEN, "token_scope",
				 "a build token only uploads, logs, finishes or fails its own "
				 "deployment");
	if (!who->token || !strcmp(who->project, slug))
		return 0;
	return error_set(err, SKIFF_EFORBIDDEN, "token_scope",
			 "this deploy token is for another project");
}

int create_who_admin(const struct create_who *who, struct error *err)
{
	if (!who->token)
		return 0;
	if (who->build)
		return create_who_may(who, "", err);
	return error_set(err, SKIFF_EFORBIDDEN, "token_scope",
			 "a deploy token cannot do this; use the admin credentials");
}

int create_who_build(const struct create_who *who, const char *id, bool replay_ready,
		     struct error *err)
{
	const struct build_token *bt = &who->bt;
	if (!who->build || strcmp(bt->deployment, id))
		return error_set(err, SKIFF_EFORBIDDEN, "token_scope",
				 "this build token is for another deployment");
	if (model_state_final(bt->state) && !(replay_ready && bt->state == DEPLOYMENT_READY))
		return error_set(err, SKIFF_EFORBIDDEN, "build_ended",
				 "deployment %s has ended (%s): its build token is spent", id,
				 model_state_name(bt->state));
	if (!model_state_final(bt->state) && !bt->lease_alive)
		return error_set(err, SKIFF_EAUTH, "build_token_expired",
				 "the lease of deployment %s's build expired: its build token no "
				 "longer works", id);
	return 0;
}

/* Admin credentials and a body: JSON from API clients, a form from the dashboard's project
 * page (same-origin only, as every form: auth_mutation). */
static int create_tokens_begin(struct http_request *req, json_t **body, bool *is_form,
			       struct error *err)
{
	struct create_who who;
	if (request_body_object(req, body, is_form, err) < 0 ||
	    create_who_get(req, &who, err) < 0 || create_who_admin(&who, err) < 0 ||
	    validate_slug(req->params[0], err) < 0)
		return err->code;
	return 0;
}

/* The rest of a token route, on its body: the status it answered, or a negative code with err
 * set. */
typedef int (*tokens_act)(struct http_request *req, struct http_response *resp, json_t *body,
			  bool is_form, struct error *err);

/* What the token routes share: the checks of create_tokens_begin, the failure answer (a form
 * gets a page that links back to its project; refusals of who is asking stay plain). */
static int tokens_route(struct http_request *req, struct http_response *resp, tokens_act act)
{
	struct error err;
	error_clear(&err);
	json_t *body = NULL;
	bool is_form = false;
	int status;
	if (create_tokens_begin(req, &body, &is_form, &err) < 0 ||
	    (status = act(req, resp, body, is_form, &err)) < 0) {
		if (is_form && err.code != SKIFF_EFORBIDDEN && err.code != SKIFF_EAUTH &&
		    validate_slug(req->params[0], NULL) == 0) {
			char back[96];
			snprintf(back, sizeof(back), "/projects/%s#tokens", req->params[0]);
			status = html_error(req, resp, &err, back, "Back to the project");
		} else {
			status = response_error(req, resp, &err);
		}
	}
	json_decref(body);
	return status;
}

/* The answer to the dashboard's form: the secret, once, ready to copy. */
static int tokens_created_page(struct http_response *resp, const struct token *t,
			       const char *secret)
{
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	html_head(&b, "Deploy token created", 0);
	buf_puts(&b, "<main id=\"token-created\" class=\"page\">\n<p class=\"crumbs\"><a "
		     "href=\"/projects\">Projects</a> / <a href=\"/projects/");
	buf_put_html(&b, t->project);
	buf_puts(&b, "\">");
	buf_put_html(&b, t->project);
	buf_puts(&b, "</a></p>\n<h1>Deploy token created</h1>\n<dl class=\"meta\">\n<dt>Name</dt><dd "
		     "id=\"token-name\">");
	buf_put_html(&b, t->name);
	buf_puts(&b, "</dd>\n<dt>Scope</dt><dd id=\"token-scope\">");
	buf_put_html(&b, t->scope);
	buf_puts(&b, "</dd>\n</dl>\n<div class=\"notice\" role=\"status\">Copy this token now: skiff "
		     "stores only its hash and will never show it again.</div>\n<div class=\"field\">"
		     "<label for=\"token-secret\">Token (select it and copy, or use the button)"
		     "</label>\n<div class=\"copy-row\"><input id=\"token-secret\" class=\"mono\" type=\"text\" readonly "
		     "autocomplete=\"off\" spellcheck=\"false\" value=\"");
	buf_put_html(&b, secret);
	buf_puts(&b, "\"> <button type=\"button\" id=\"token-copy\" data-copy=\"token-secret\" "
		     "hidden>Copy</button></div></div>\n<p>Use it as <code>SKIFF_TOKEN</code> in CI, or with "
		     "<code>skiff login</code>.</p>\n<p><a id=\"token-back\" href=\"/projects/");
	buf_put_html(&b, t->project);
	buf_puts(&b, "#tokens\">Back to the project</a></p>\n</main>\n</body>\n</html>\n");
	html_send(resp, &b, 201);
	/* the page holds a secret: no cache keeps it */
	response_header(resp, "Cache-Control", "no-store");
	return 201;
}

static int tokens_new_act(struct http_request *req, struct http_response *resp, json_t *body,
			  bool is_form, struct error *err)
{
	struct app *app = req->app;
	const char *slug = req->params[0];
	static const char *const known[] = { "name", "scope", NULL };
	if (create_fields_known(body, known, err) < 0)
		return err->code;
	json_t *jn = json_object_get(body, "name"), *js = json_object_get(body, "scope");
	const char *name = json_string_value(jn);
	const char *scope = js ? json_string_value(js) : "deploy";
	if (is_form && scope && !*scope)
		scope = "deploy";
	if (!name || strlen(name) != json_string_length(jn) || !model_token_name_valid(name))
		return error_set(err, SKIFF_EINVALID, "invalid_token_name",
				 "name must be 1 to %d characters without control characters",
				 TOKEN_NAME_MAX);
	if (!model_token_scope_valid(scope))
		return error_set(err, SKIFF_EINVALID, "invalid_scope",
				 "scope must be \"deploy\" or \"preview\"");
	struct token t;
	char secret[TOKEN_LEN + 1];
	memset(&t, 0, sizeof(t));
	id_new(t.id);
	snprintf(t.project, sizeof(t.project), "%s", slug);
	snprintf(t.name, sizeof(t.name), "%s", name);
	snprintf(t.scope, sizeof(t.scope), "%s", scope);
	t.created = clock_wall_ms();
	model_token_secret_new(secret);
	if (model_token_create(app->redis, &t, secret, err) < 0)
		return err->code;
	log_info("token created project=%s token=%s scope=%s", slug, t.id, t.scope);
	/* the secret is shown here once; Redis holds only its SHA-256 */
	if (is_form)
		return tokens_created_page(resp, &t, secret);
	response_header(resp, "Cache-Control", "no-store");
	return response_json(resp, 201, json_pack("{sssssssssI}", "token", secret, "id", t.id, "name",
						  t.name, "scope", t.scope, "created",
						  (json_int_t)t.created));
}

int create_tokens_new(struct http_request *req, struct http_response *resp)
{
	return tokens_route(req, resp, tokens_new_act);
}

static int tokens_delete_act(struct http_request *req, struct http_response *resp, json_t *body,
			     bool is_form, struct error *err)
{
	struct app *app = req->app;
	const char *id = req->params[1];
	(void)body;
	if (!id_valid(id))
		return error_set(err, SKIFF_ENOTFOUND, "unknown_token", "no such token");
	if (model_token_delete(app->redis, req->params[0], id, err) < 0)
		return err->code;
	log_info("token revoked project=%s token=%s", req->params[0], id);
	if (is_form) {
		char loc[96];
		snprintf(loc, sizeof(loc), "/projects/%s#tokens", req->params[0]);
		return response_see_other(resp, loc);
	}
	return response_json(resp, 200, json_pack("{ssss}", "status", "revoked", "id", id));
}

int create_tokens_delete(struct http_request *req, struct http_response *resp)
{
	return tokens_route(req, resp, tokens_delete_act);
}
