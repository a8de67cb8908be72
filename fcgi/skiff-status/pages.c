/* pages.c — the dashboard's server-rendered pages (work without JavaScript; htdocs/app.js
 * enhances them). Layout and class names: doc/dashboard.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "auth.h"
#include "html.h"
#include "html_form.h"
#include "model_domain.h"
#include "id.h"
#include "model.h"
#include "model_preview.h"
#include "model_log.h"
#include "model_repo.h"
#include "model_token.h"
#include "pages.h"
#include "status.h"
#include "validate.h"

#define PAGES_PROJECTS_MAX 500
#define PAGES_DEPLOYMENTS_MAX 50
#define PAGES_LOG_LINES_MAX 20000   /* stream entries rendered into one page */

/* The state's wire string, "" when the record has none. */
static const char *pages_state(const struct deployment *d)
{
	return d->state == DEPLOYMENT_UNKNOWN ? "" : model_state_name(d->state);
}

static void pages_time(struct buf *b, long long ms)
{
	if (ms == MODEL_NONE) {
		buf_puts(b, "—");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char iso[40], human[40];
	gmtime_r(&t, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(human, sizeof(human), "%Y-%m-%d %H:%M:%S UTC", &tm);
	buf_printf(b, "<time datetime=\"%s\">%s</time>", iso, human);
}

/* An error page for browsers (the API answers the same errors as JSON). */
static int pages_error(struct http_request *req, struct http_response *resp, const struct error *err)
{
	return html_error(req, resp, err, "/", "Back to the dashboard");
}

/* A site's address as a link (with an element id when given), or "not live yet". */
static void pages_site_link(struct buf *b, const char *id, const char *url)
{
	if (!url) {
		buf_puts(b, "<span class=\"muted\">not live yet</span>");
		return;
	}
	buf_puts(b, "<a ");
	if (id)
		buf_printf(b, "id=\"%s\" ", id);
	buf_puts(b, "href=\"");
	buf_put_html(b, url);
	buf_puts(b, "\">");
	buf_put_html(b, url);
	buf_puts(b, "</a>");
}

static void pages_badge(struct buf *b, const char *state)
{
	buf_puts(b, "<span class=\"badge state-");
	buf_put_html(b, state);
	buf_puts(b, "\">");
	buf_put_html(b, state);
	buf_puts(b, "</span>");
}

/* The newest deployment's state as a badge linking to it, when it is not the current one
 * (a project that failed shows "error", not "not live yet"). */
static void pages_latest(struct app *app, struct buf *b, const struct project *p)
{
	struct deployment d;
	if (!*p->latest || !strcmp(p->latest, p->current) ||
	    model_deployment_get(app->redis, p->latest, &d, NULL) < 0)
		return;
	buf_puts(b, " <a class=\"latest\" href=\"/deployments/");
	buf_put_html(b, d.id);
	buf_puts(b, "\" title=\"the newest deployment\">");
	pages_badge(b, pages_state(&d));
	buf_puts(b, "</a>");
}

/* The form that chooses the project's primary domain among its serving domains (list), and
 * whether {slug}.{domain} redirects there too; shown once there is something to choose. */
static void pages_primary_form(struct http_request *req, struct buf *b, const char *slug,
			       const struct project *p, json_t *list)
{
	size_t i, choices = 0;
	json_t *d;
	json_array_foreach(list, i, d)
		choices += model_domain_serves(json_string_value(json_object_get(d, "state")));
	if (!choices && !p->primary_domain[0])
		return;
	char url[1024];
	api_site_url(req->cfg, slug, NULL, url, sizeof(url));
	buf_puts(b, "<form method=\"post\" class=\"card form\" id=\"primary-form\" "
		 "action=\"/api/projects/");
	buf_put_html(b, slug);
	buf_puts(b, "/domains/primary\">\n<div class=\"field\"><label for=\"primary-domain\">"
		 "Primary domain</label>\n<select id=\"primary-domain\" name=\"primaryDomain\">\n"
		 "<option value=\"\">None: every domain serves the site</option>\n");
	json_array_foreach(list, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));
		if (!name || !model_domain_serves(json_string_value(json_object_get(d, "state"))))
			continue;
		buf_puts(b, "<option value=\"");
		buf_put_html(b, name);
		buf_puts(b, strcmp(name, p->primary_domain) ? "\">" : "\" selected>");
		buf_put_html(b, name);
		buf_puts(b, "</option>\n");
	}
	buf_puts(b, "</select>\n<span class=\"hint\">The project's other verified domains answer "
		 "with a permanent redirect (308) to the same path on it.</span></div>\n"
		 "<div class=\"field\"><label><input id=\"redirect-project\" "
		 "name=\"redirectProjectAddress\" type=\"checkbox\" value=\"on\"");
	buf_puts(b, p->redirect_project ? " checked" : "");
	buf_puts(b, "> Also redirect <code>");
	buf_put_html(b, url);
	buf_puts(b, "</code></label></div>\n<div class=\"form-actions\"><button type=\"submit\">"
		 "Save primary domain</button></div>\n</form>\n");
}

/* The project's custom domains with their state and the last check's reason (or which is the
 * primary, and which redirect to it), each with a remove button, the form that chooses the
 * primary and the form that adds one. */
static void pages_domains(struct http_request *req, struct buf *b, const char *slug,
			  const struct project *p)
{
	struct app *app = req->app;
	json_t *list = NULL;
	buf_puts(b, "<h2>Domains</h2>\n");
	if (model_domain_list(app->redis, slug, &list, NULL) == 0 && json_array_size(list)) {
		buf_puts(b, "<div class=\"table-wrap\"><table class=\"list\" id=\"domains\">\n"
			 "<thead><tr><th>Domain</th><th>State</th><th>Last check</th><th></th></tr>"
			 "</thead>\n<tbody>\n");
		size_t i;
		json_t *d;
		json_array_foreach(list, i, d) {
			const char *name = json_string_value(json_object_get(d, "name"));
			const char *state = json_string_value(json_object_get(d, "state"));
			const char *reason = json_string_value(json_object_get(d, "reason"));
			if (!name || !state)
				continue;
			bool serves = model_domain_serves(state);
			buf_puts(b, "<tr data-domain=\"");
			buf_put_html(b, name);
			buf_puts(b, "\"><td data-label=\"Domain\" class=\"domain\"><code>");
			buf_put_html(b, name);
			buf_puts(b, "</code>");
			if (!strcmp(name, p->primary_domain)) {
				buf_puts(b, " <span class=\"tag current\" data-primary>primary</span>");
			} else if (serves && p->primary_domain[0]) {
				buf_puts(b, " <span class=\"redirects\" data-redirects>&rarr; ");
				buf_put_html(b, p->primary_domain);
				buf_puts(b, "</span>");
			}
			json_t *txt = json_object_get(d, "verificationTxt");
			const char *txt_name = json_string_value(json_object_get(txt, "name"));
			const char *txt_value = json_string_value(json_object_get(txt, "value"));
			if (!serves && txt_name && txt_value) {
				/* the DNS alternative to pointing the name here first */
				buf_puts(b, "<div class=\"domain-txt\">or a TXT record <code>");
				buf_put_html(b, txt_name);
				buf_puts(b, "</code> <code>");
				buf_put_html(b, txt_value);
				buf_puts(b, "</code></div>");
			}
			buf_puts(b, "</td><td data-label=\"State\">");
			pages_badge(b, state);
			buf_puts(b, "</td><td data-label=\"Last check\" class=\"msg\">");
			json_t *lost = json_object_get(d, "lostSince");
			if (json_is_integer(lost)) {
				/* a live domain keeps serving while it does not point here */
				buf_puts(b, "<span class=\"domain-lost\">Stopped pointing here at ");
				pages_time(b, json_integer_value(lost));
				buf_puts(b, "; still served, checked again with backoff:</span> ");
			}
			buf_put_html(b, reason ? reason : serves ? "points here" : "");
			buf_puts(b, "</td><td class=\"row-actions\"><form method=\"post\" class=\"inline\" "
				 "action=\"/api/projects/");
			buf_put_html(b, slug);
			buf_puts(b, "/domains/");
			buf_put_html(b, name);
			buf_puts(b, "/delete\"><button type=\"submit\">Remove</button></form></td></tr>\n");
		}
		buf_puts(b, "</tbody></table></div>\n");
	}
	pages_primary_form(req, b, slug, p, list);
	json_decref(list);
	buf_puts(b, "<form method=\"post\" class=\"card form\" id=\"domain-form\" "
		 "action=\"/api/projects/");
	buf_put_html(b, slug);
	buf_puts(b, "/domains\">\n<div class=\"field\"><label for=\"domain-name\">Add a domain "
		 "(point its DNS at this server; it goes live once skiff has verified it)</label>\n"
		 "<input id=\"domain-name\" name=\"name\" type=\"text\" class=\"mono\" "
		 "placeholder=\"www.example.org\" autocomplete=\"off\" required maxlength=\"253\">"
		 "</div>\n<div class=\"form-actions\"><button type=\"submit\">Add domain</button>"
		 "</div>\n</form>\n");
}

/* The deploy form, rendered with this server's rules (htdocs/index.html is the same form). */
int pages_deploy(struct http_request *req, struct http_response *resp)
{
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	html_form_page(&b, req->cfg, NULL, NULL);
	html_send(resp, &b, 200);
	return 200;
}

int pages_projects(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	json_t *slugs = NULL;
	if (model_project_list(app->redis, PAGES_PROJECTS_MAX, &slugs, &err) < 0)
		return pages_error(req, resp, &err);
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	html_head(&b, "Projects", 0);
	buf_puts(&b, "<main id=\"projects-page\" class=\"page\">\n<h1>Projects</h1>\n");
	if (json_array_size(slugs) == 0)
		buf_puts(&b, "<p class=\"empty-state\">No projects yet. <a href=\"/\">Deploy one</a>.</p>\n");
	else
		buf_puts(&b, "<div class=\"table-wrap\"><table class=\"list\">\n<thead><tr><th>Project</th>"
			     "<th>Repository</th><th>Status</th><th>Created</th></tr></thead>\n<tbody>\n");
	size_t i;
	json_t *s;
	json_array_foreach(slugs, i, s) {
		struct project p;
		if (model_project_get(app->redis, json_string_value(s), &p, NULL) < 0)
			continue;
		const char *slug = p.slug, *cur = p.current;
		char url[1024];
		api_site_url(req->cfg, slug, NULL, url, sizeof(url));
		buf_puts(&b, "<tr data-project=\"");
		buf_put_html(&b, slug);
		buf_puts(&b, "\"><td><a href=\"/projects/");
		buf_put_html(&b, slug);
		buf_puts(&b, "\">");
		buf_put_html(&b, slug);
		buf_puts(&b, "</a></td><td><code>");
		buf_put_html(&b, p.git_url);
		buf_puts(&b, "</code></td><td class=\"status\">");
		if (*cur || !*p.latest)
			pages_site_link(&b, NULL, *cur ? url : NULL);
		pages_latest(app, &b, &p);
		buf_puts(&b, "</td><td>");
		pages_time(&b, p.created);
		buf_puts(&b, "</td></tr>\n");
	}
	if (json_array_size(slugs))
		buf_puts(&b, "</tbody></table></div>\n");
	buf_puts(&b, "</main>\n</body>\n</html>\n");
	json_decref(slugs);
	html_send(resp, &b, 200);
	return 200;
}

/* One form of the repository section: a button posting to /api/projects/{slug}/repository/
 * {path}. */
static void pages_repo_button(struct buf *b, const char *slug, const char *path, const char *id,
			      const char *label, const char *cls)
{
	buf_puts(b, "<form method=\"post\" class=\"inline\" action=\"/api/projects/");
	buf_put_html(b, slug);
	buf_printf(b, "/repository/%s\"><button type=\"submit\" id=\"%s\"%s%s%s>%s</button></form>\n",
		   path, id, cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "", label);
}

/* How skiff reaches the repository: the access token (set or not, never shown), the deploy
 * key's public half to copy, the pinned host key; with the forms that change them. */
static void pages_repo_section(struct buf *b, const char *slug, bool ssh,
			       const struct repo_access *a)
{
	buf_puts(b, "<h2 id=\"repository\">Repository access</h2>\n<div class=\"card\" "
		     "id=\"repo-access\">\n<p class=\"hint\">");
	buf_puts(b, ssh ? "The repository URL is an ssh URL: clones use the deploy key."
			: "The repository URL is not an ssh URL: clones over https use the access token, "
			  "if any.");
	buf_puts(b, "</p>\n<h3>Access token</h3>\n<p id=\"repo-token\">");
	if (a->token[0]) {
		buf_puts(b, "A token is set for user <code>");
		buf_put_html(b, a->token_user[0] ? a->token_user : "x-access-token");
		buf_puts(b, "</code> since ");
		pages_time(b, a->token_set);
		buf_puts(b, "; it is never shown again.</p>\n");
		pages_repo_button(b, slug, "token/delete", "repo-token-remove", "Remove token", "danger");
	} else {
		buf_puts(b, "<span class=\"muted\">No token.</span></p>\n");
	}
	buf_puts(b, "<form method=\"post\" class=\"form\" id=\"repo-token-form\" "
		     "action=\"/api/projects/");
	buf_put_html(b, slug);
	buf_puts(b, "/repository/token\">\n<div class=\"field-row\"><div class=\"field\"><label "
		     "for=\"repo-token-value\">Token</label><input id=\"repo-token-value\" name=\"token\" "
		     "type=\"password\" class=\"mono\" autocomplete=\"off\" required><span class=\"hint\">"
		     "A GitHub fine-grained token with read access to contents, a GitLab deploy or "
		     "project token, a Gitea token.</span></div>\n<div class=\"field\"><label "
		     "for=\"repo-token-user\">User name</label><input id=\"repo-token-user\" "
		     "name=\"username\" type=\"text\" class=\"mono\" autocomplete=\"off\" "
		     "placeholder=\"x-access-token\"><span class=\"hint\">GitHub: any; GitLab: "
		     "<code>oauth2</code> or the token's user; Gitea: your user.</span></div></div>\n"
		     "<div class=\"form-actions\"><button type=\"submit\">Save token</button></div>\n"
		     "</form>\n<h3>Deploy key</h3>\n");
	if (a->key[0]) {
		buf_puts(b, "<p>Add this public key to the repository's deploy keys (read access), "
			     "fingerprint <code id=\"deploy-key-fingerprint\">");
		buf_put_html(b, a->key_fingerprint);
		buf_puts(b, "</code>, created ");
		pages_time(b, a->key_created);
		buf_puts(b, ":</p>\n<textarea id=\"deploy-key-public\" class=\"mono\" rows=\"3\" "
			     "readonly>");
		buf_put_html(b, a->key_public);
		buf_puts(b, "</textarea>\n<div class=\"form-actions\">\n");
		pages_repo_button(b, slug, "deploy-key", "deploy-key-rotate", "Rotate key", NULL);
		pages_repo_button(b, slug, "deploy-key/delete", "deploy-key-remove", "Remove key",
				  "danger");
		buf_puts(b, "</div>\n");
	} else {
		buf_puts(b, "<p><span class=\"muted\">No deploy key.</span> skiff generates one "
			     "(ed25519) and shows only its public half.</p>\n");
		pages_repo_button(b, slug, "deploy-key", "deploy-key-generate", "Generate deploy key",
				  NULL);
	}
	buf_puts(b, "<h3>SSH host key</h3>\n<p id=\"host-key\">");
	if (a->host_key[0]) {
		buf_puts(b, "Pinned for <code>");
		buf_put_html(b, a->host);
		buf_puts(b, "</code>: <code>");
		buf_put_html(b, a->host_key_type);
		buf_puts(b, "</code> <code id=\"host-key-fingerprint\">");
		buf_put_html(b, a->host_key);
		buf_puts(b, "</code>, since ");
		pages_time(b, a->host_key_pinned);
		buf_puts(b, ". Every clone and poll checks it.</p>\n");
		pages_repo_button(b, slug, "host-key/delete", "host-key-reset",
				  "Reset pinned host key", "danger");
	} else {
		buf_puts(b, "<span class=\"muted\">None pinned yet: the next ssh clone pins the key "
			     "the server shows.</span></p>\n");
	}
	buf_puts(b, "</div>\n");
}

/* The project's deploy tokens (name, scope, created, last used, a revoke button) and the form
 * that creates one; only for the operator's credentials (public_reads does not show them). */
static void pages_tokens(struct http_request *req, struct buf *b, const char *slug)
{
	struct app *app = req->app;
	struct error err;
	json_t *list = NULL;
	buf_puts(b, "<h2 id=\"tokens\">Deploy tokens</h2>\n");
	if (!auth_admin_present(req)) {
		buf_puts(b, "<p class=\"muted\" id=\"tokens-locked\">Deploy tokens are managed with the "
			    "operator's credentials.</p>\n");
		return;
	}
	if (model_token_list(app->redis, slug, &list, &err) < 0) {
		buf_puts(b, "<div class=\"notice error\" role=\"alert\">The tokens cannot be listed: ");
		buf_put_html(b, err.message);
		buf_puts(b, "</div>\n");
		return;
	}
	buf_puts(b, "<p class=\"hint\">A deploy token lets <code>skiff deploy</code> (from a laptop or "
		    "CI) upload to this project and nothing else; a preview token never changes "
		    "production.</p>\n");
	if (json_array_size(list) == 0)
		buf_puts(b, "<p class=\"muted\" id=\"no-tokens\">No deploy tokens yet.</p>\n");
	else
		buf_puts(b, "<div class=\"table-wrap\"><table class=\"list\" id=\"token-list\">\n"
			    "<thead><tr><th>Name</th><th>Scope</th><th>Created</th><th>Last used</th>"
			    "<th></th></tr></thead>\n<tbody>\n");
	size_t i;
	json_t *t;
	json_array_foreach(list, i, t) {
		const char *id = json_string_value(json_object_get(t, "id"));
		json_t *used = json_object_get(t, "lastUsed");
		buf_puts(b, "<tr data-token-id=\"");
		buf_put_html(b, id);
		buf_puts(b, "\"><td data-label=\"Name\" class=\"token-name\">");
		buf_put_html(b, json_string_value(json_object_get(t, "name")));
		buf_puts(b, "</td><td data-label=\"Scope\" class=\"token-scope\">");
		buf_put_html(b, json_string_value(json_object_get(t, "scope")));
		buf_puts(b, "</td><td data-label=\"Created\">");
		pages_time(b, json_integer_value(json_object_get(t, "created")));
		buf_puts(b, "</td><td data-label=\"Last used\" class=\"token-used\">");
		if (json_is_integer(used))
			pages_time(b, json_integer_value(used));
		else
			buf_puts(b, "<span class=\"muted\">never</span>");
		buf_puts(b, "</td><td class=\"row-actions\"><form method=\"post\" class=\"inline\" "
			    "action=\"/api/projects/");
		buf_put_html(b, slug);
		buf_puts(b, "/tokens/");
		buf_put_html(b, id);
		buf_puts(b, "/revoke\"><button type=\"submit\" class=\"danger revoke\">Revoke</button>"
			    "</form></td></tr>\n");
	}
	if (json_array_size(list) > 0)
		buf_puts(b, "</tbody></table></div>\n");
	buf_puts(b, "<form method=\"post\" class=\"card form\" id=\"token-form\" action=\"/api/projects/");
	buf_put_html(b, slug);
	buf_printf(b, "/tokens\">\n<div class=\"field-row\"><div class=\"field\"><label "
		      "for=\"token-name\">Name</label>\n<input id=\"token-name\" name=\"name\" "
		      "type=\"text\" maxlength=\"%d\" autocomplete=\"off\" required placeholder=\"ci\">"
		      "</div>\n<div class=\"field\"><label for=\"token-scope\">Scope</label>\n<select "
		      "id=\"token-scope\" name=\"scope\"><option value=\"deploy\">deploy: any deployment, "
		      "production too</option><option value=\"preview\">preview: preview deployments "
		      "only</option></select></div></div>\n<div class=\"form-actions\"><button "
		      "type=\"submit\" id=\"token-create\">Create token</button></div>\n</form>\n",
		      TOKEN_NAME_MAX);
	json_decref(list);
}

/* The table of a project's production deployments (previews false) or of its preview
 * deployments, newest first, from ids. */
static void pages_deployments(struct http_request *req, struct buf *b, const char *slug,
			      json_t *ids, const char *cur, long long cur_created, bool previews)
{
	struct app *app = req->app;
	size_t i, shown = 0;
	json_t *s;
	json_array_foreach(ids, i, s) {
		struct deployment d;
		const char *id = json_string_value(s);
		if (model_deployment_get(app->redis, id, &d, NULL) < 0 || !d.preview[0] != !previews)
			continue;
		if (shown++ == 0) {
			if (previews)
				buf_puts(b, "<h3>Preview deployments</h3>\n");
			buf_printf(b, "<div class=\"table-wrap\"><table class=\"list\" id=\"%s\">\n"
				   "<thead><tr><th>Deployment</th><th>State</th>%s<th>Commit</th>"
				   "<th>Created</th><th>URL</th><th></th></tr></thead>\n<tbody>\n",
				   previews ? "preview-deployments" : "deployments",
				   previews ? "<th>Branch</th>" : "");
		}
		char durl[1024];
		api_site_url(req->cfg, slug, id, durl, sizeof(durl));
		const char *state = pages_state(&d);
		buf_puts(b, "<tr data-deployment-id=\"");
		buf_put_html(b, id);
		buf_puts(b, "\" data-state=\"");
		buf_put_html(b, state);
		buf_printf(b, "\"%s><td class=\"id\"><a href=\"/deployments/", strcmp(id, cur) ? "" : " class=\"current\"");
		buf_put_html(b, id);
		buf_puts(b, "\"><code>");
		buf_put_html(b, id);
		buf_puts(b, "</code></a>");
		if (!strcmp(id, cur))
			buf_puts(b, " <span class=\"tag\">current</span>");
		/* data-label: the column's name where a phone shows each row as a card */
		buf_puts(b, "</td><td data-label=\"State\">");
		pages_badge(b, state);
		if (previews) {
			buf_puts(b, "</td><td data-label=\"Branch\" class=\"branch\"><code>");
			buf_put_html(b, d.branch);
			buf_puts(b, "</code>");
		}
		buf_puts(b, "</td><td data-label=\"Commit\" class=\"commit\"><code>");
		buf_printf(b, "%.7s", d.commit);
		buf_puts(b, "</code> <span class=\"msg\">");
		buf_put_html(b, d.commit_message);
		buf_puts(b, "</span></td><td data-label=\"Created\">");
		pages_time(b, d.created);
		buf_puts(b, "</td><td data-label=\"URL\">");
		if (d.state == DEPLOYMENT_READY) {
			buf_puts(b, "<a href=\"");
			buf_put_html(b, durl);
			buf_puts(b, "\">visit</a>");
		}
		buf_puts(b, "</td><td class=\"row-actions\">");
		if (!previews && d.state == DEPLOYMENT_READY && cur_created != MODEL_NONE &&
		    d.created < cur_created) {
			buf_puts(b, "<form method=\"post\" class=\"inline\" action=\"/api/projects/");
			buf_put_html(b, slug);
			buf_puts(b, "/rollback\"><input type=\"hidden\" name=\"deploymentId\" value=\"");
			buf_put_html(b, id);
			buf_puts(b, "\"><button type=\"submit\" class=\"rollback\">Roll back to this</button>"
				     "</form>");
		}
		buf_puts(b, "</td></tr>\n");
	}
	if (shown)
		buf_puts(b, "</tbody></table></div>\n");
	else if (!previews)
		buf_puts(b, "<p class=\"empty-state\">No production deployments yet.</p>\n");
}

/* The project's previews: each address with what it serves. */
static void pages_previews(struct http_request *req, struct buf *b, const struct project *p)
{
	struct app *app = req->app;
	json_t *keys = NULL, *k;
	size_t i;
	buf_puts(b, "<h2>Previews</h2>\n<p id=\"previews-setting\" class=\"muted\">");
	if (!p->previews[0]) {
		buf_puts(b, "Previews are off for this project.");
	} else if (!strcmp(p->previews, "*")) {
		buf_puts(b, "Every branch and pull request gets a preview.");
	} else {
		buf_puts(b, "Branches and pull requests from <code>");
		buf_put_html(b, p->previews);
		buf_puts(b, "</code> get previews.");
	}
	if (p->previews[0])
		buf_puts(b, p->preview_forks ? " Pull requests from forks are built." :
			    " Pull requests from forks are not built.");
	buf_puts(b, "</p>\n");
	if (model_preview_list(app->redis, p->slug, STATUS_PREVIEWS_MAX, &keys, NULL) < 0 ||
	    json_array_size(keys) == 0) {
		buf_puts(b, "<p class=\"empty-state\" id=\"previews-empty\">No previews.</p>\n");
		json_decref(keys);
		return;
	}
	buf_puts(b, "<div class=\"table-wrap\"><table class=\"list\" id=\"previews\">\n<thead><tr>"
		     "<th>Preview</th><th>Source</th><th>State</th><th>Updated</th></tr></thead>\n"
		     "<tbody>\n");
	json_array_foreach(keys, i, k) {
		struct preview pv;
		struct deployment d;
		char url[1024];
		if (model_preview_get(app->redis, p->slug, json_string_value(k), &pv, NULL) < 0)
			continue;
		api_site_url(req->cfg, p->slug, pv.key, url, sizeof(url));
		buf_puts(b, "<tr data-preview=\"");
		buf_put_html(b, pv.key);
		buf_puts(b, "\"><td data-label=\"Preview\">");
		pages_site_link(b, NULL, pv.current[0] ? url : NULL);
		buf_puts(b, "</td><td data-label=\"Source\">");
		if (pv.pr != MODEL_NONE) {
			buf_printf(b, "pull request #%lld ", pv.pr);
			buf_put_html(b, pv.title);
			buf_puts(b, " ");
		}
		buf_puts(b, "<code>");
		buf_put_html(b, pv.branch);
		buf_puts(b, "</code>");
		if (pv.fork)
			buf_puts(b, " <span class=\"tag\">fork</span>");
		buf_puts(b, "</td><td data-label=\"State\">");
		const char *show = pv.queued[0] ? pv.queued : pv.current;
		if (show[0] && model_deployment_get(app->redis, show, &d, NULL) == 0) {
			buf_puts(b, "<a href=\"/deployments/");
			buf_put_html(b, d.id);
			buf_puts(b, "\">");
			pages_badge(b, pages_state(&d));
			buf_puts(b, "</a>");
		}
		buf_puts(b, "</td><td data-label=\"Updated\">");
		pages_time(b, pv.updated);
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</tbody></table></div>\n");
	json_decref(keys);
}

int pages_project(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	const char *slug = req->params[0];
	json_t *ids = NULL;
	struct project p;
	if (validate_slug(slug, &err) < 0 || model_project_get(app->redis, slug, &p, &err) < 0)
		return pages_error(req, resp, &err);
	if (model_deployment_list(app->redis, slug, 0, PAGES_DEPLOYMENTS_MAX, &ids, &err) < 0)
		return pages_error(req, resp, &err);
	const char *cur = p.current;
	char url[1024];
	api_site_url(req->cfg, slug, NULL, url, sizeof(url));
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	html_head(&b, slug, 0);
	buf_puts(&b, "<main id=\"project\" class=\"page\" data-project=\"");
	buf_put_html(&b, slug);
	buf_puts(&b, "\">\n<p class=\"crumbs\"><a href=\"/projects\">Projects</a></p>\n<h1>");
	buf_put_html(&b, slug);
	buf_puts(&b, "</h1>\n<dl class=\"meta\">\n<dt>Production</dt><dd>");
	pages_site_link(&b, "project-url", *cur ? url : NULL);
	buf_puts(&b, "</dd>\n<dt>Repository</dt><dd><code>");
	buf_put_html(&b, p.git_url);
	buf_puts(&b, "</code></dd>\n<dt>Branch</dt><dd><code>");
	buf_put_html(&b, *p.branch ? p.branch : "(default)");
	buf_puts(&b, "</code></dd>\n<dt>New commits</dt><dd id=\"triggers\">");
	int webhook = p.webhook_secret[0] != '\0', watch = p.watch;
	if (webhook) {
		/* the same secret verifies each host's deliveries */
		static const char *const hosts[][2] = { { "GitHub", "github" }, { "GitLab", "gitlab" },
							 { "Gitea/Forgejo", "gitea" } };
		buf_puts(&b, "deployed on push: webhook");
		for (size_t h = 0; h < 3; h++) {
			buf_printf(&b, "%s%s <code>", h ? ", " : " (", hosts[h][0]);
			buf_put_html(&b, req->cfg->dashboard_url);
			buf_printf(&b, "/api/hooks/%s?project=", hosts[h][1]);
			buf_put_html(&b, slug);
			buf_puts(&b, "</code>");
		}
		buf_puts(&b, ")");
	}
	if (watch)
		buf_printf(&b, "%sdeployed by polling the branch every %ld s", webhook ? "; " : "",
			   req->cfg->poll_interval);
	if (!webhook && !watch)
		buf_puts(&b, "<span class=\"muted\">deployed when you redeploy</span>");
	buf_puts(&b, "</dd>\n<dt>Hooks</dt><dd><a id=\"hooks-link\" href=\"/projects/");
	buf_put_html(&b, slug);
	buf_puts(&b, "/hooks\">build hooks and deploy notifications</a></dd>\n</dl>\n");
	if (p.pinned) {
		buf_puts(&b, "<div class=\"notice\">Pinned: rolled back");
		if (*p.rolled_back_from) {
			buf_puts(&b, " from <code>");
			buf_put_html(&b, p.rolled_back_from);
			buf_puts(&b, "</code>");
		}
		buf_puts(&b, "; new builds do not go live until you unpin.\n<form method=\"post\" "
			     "class=\"inline\" action=\"/api/projects/");
		buf_put_html(&b, slug);
		buf_puts(&b, "/unpin\"><button type=\"submit\">Unpin</button></form></div>\n");
	}
	buf_puts(&b, "<div class=\"actions\">\n<form method=\"post\" class=\"inline\" action=\"/api/projects/");
	buf_put_html(&b, slug);
	buf_puts(&b, "/deployments\"><button type=\"submit\" id=\"redeploy\">Redeploy</button></form>\n"
		     "<form method=\"post\" class=\"inline\" action=\"/api/projects/");
	buf_put_html(&b, slug);
	buf_puts(&b, "/deployments\"><input type=\"hidden\" name=\"clearCache\" value=\"1\">"
		     "<button type=\"submit\" id=\"redeploy-clear-cache\">Clear cache and deploy"
		     "</button></form>\n"
		     "<a class=\"button secondary\" id=\"settings-link\" href=\"/projects/");
	buf_put_html(&b, slug);
	buf_puts(&b, "/settings\">Settings</a>\n</div>\n<h2>Production</h2>\n");
	/* rollbacks go back in time: only to ready deployments older than the current one */
	struct deployment cd;
	long long cur_created = MODEL_NONE;
	if (*cur && model_deployment_get(app->redis, cur, &cd, NULL) == 0)
		cur_created = cd.created;
	pages_deployments(req, &b, slug, ids, cur, cur_created, false);
	pages_previews(req, &b, &p);
	pages_deployments(req, &b, slug, ids, cur, cur_created, true);
	struct repo_access *ra = malloc(sizeof(*ra));
	if (!ra)
		abort();
	if (model_repo_get(app->redis, slug, ra, NULL) == 0)
		pages_repo_section(&b, slug, validate_git_url_ssh(p.git_url), ra);
	free(ra);
	pages_tokens(req, &b, slug);
	pages_domains(req, &b, slug, &p);
	buf_puts(&b, "<h2>Danger zone</h2>\n<form method=\"post\" "
		     "class=\"card form\" id=\"delete-form\" action=\"/api/projects/");
	buf_put_html(&b, slug);
	buf_puts(&b, "/delete\">\n<div class=\"field\"><label for=\"confirm\">Delete this project: its "
		     "deployments, logs and site. Type <code>");
	buf_put_html(&b, slug);
	buf_puts(&b, "</code> to confirm.</label>\n<input id=\"confirm\" name=\"confirm\" type=\"text\" "
		     "class=\"mono\" autocomplete=\"off\" required></div>\n<div class=\"form-actions\">"
		     "<button type=\"submit\" class=\"danger\">Delete project</button></div>\n</form>\n"
		     "</main>\n</body>\n</html>\n");
	json_decref(ids);
	html_send(resp, &b, 200);
	return 200;
}

/* The log as the page shows it: one span per line, stderr marked, state changes as system.
 * `last` gets the id of the last entry shown, which app.js resumes the stream after. A line
 * that would not fit in b, or one past PAGES_LOG_LINES_MAX, is not shown, and neither is any
 * after it: *cut is set and `last` stays on the last line shown, so nothing is skipped. */
struct pages_log_ctx {
	struct buf *b;
	struct buf line;
	char *last;
	size_t lastlen;
	int *cut;
};

static int pages_log_entry(const struct model_log_entry *e, void *ctx)
{
	struct pages_log_ctx *x = ctx;
	buf_reset(&x->line);
	if (strcmp(e->kind, LOG_KIND_END)) {
		int is_state = !strcmp(e->kind, LOG_KIND_STATE);
		buf_puts(&x->line, "<span class=\"line ");
		buf_put_html(&x->line, is_state ? "system state" : e->source);
		buf_puts(&x->line, "\">");
		if (is_state)
			buf_puts(&x->line, "==> ");
		buf_put_html(&x->line, e->text);
		buf_puts(&x->line, "</span>\n");
	}
	if (x->line.err || x->line.len > x->b->max - x->b->len) {
		*x->cut = 1;
		return 1;
	}
	buf_append(x->b, buf_cstr(&x->line), x->line.len);
	snprintf(x->last, x->lastlen, "%.*s", (int)e->id_len, e->id);
	return 0;
}

static int pages_log(struct app *app, const char *id, struct buf *b, char *last, size_t lastlen,
		     int *cut)
{
	struct error err;
	struct pages_log_ctx x = { .b = b, .line = BUF_INIT(b->max), .last = last,
				   .lastlen = lastlen, .cut = cut };
	int more = 0;
	last[0] = '\0';
	*cut = 0;
	int rc = model_log_each(app->redis, id, PAGES_LOG_LINES_MAX, pages_log_entry, &x, &more,
				&err);
	buf_dispose(&x.line);
	if (rc < 0)
		return err.code;
	if (more)
		*cut = 1;
	return 0;
}

int pages_deployment(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	struct deployment d;
	struct project p;
	const char *id = req->params[0];
	if (status_deployment_load(app, id, &d, &p, &err) < 0)
		return pages_error(req, resp, &err);
	const char *slug = d.project, *state = pages_state(&d);
	const char *cur = p.current;
	int final = model_state_final(d.state);
	char url[1024], purl[1024], last[48];
	int cut = 0;
	api_site_url(req->cfg, slug, id, url, sizeof(url));
	api_site_url(req->cfg, slug, NULL, purl, sizeof(purl));

	struct buf log = BUF_INIT(STATUS_LOG_MAX);
	int lrc = pages_log(app, id, &log, last, sizeof(last), &cut);
	if (lrc < 0) {
		error_set(&err, lrc, NULL, "cannot read the build log");
		buf_dispose(&log);
		return pages_error(req, resp, &err);
	}
	if (log.len == 0 && final) {
		/* trimmed stream: show the archived text */
		struct buf text = BUF_INIT(STATUS_LOG_MAX);
		if (status_log_text(app, id, &text, NULL) == 0) {
			buf_puts(&log, "<span class=\"line stdout\">");
			buf_put_html(&log, buf_cstr(&text));
			buf_puts(&log, "</span>");
		}
		buf_dispose(&text);
	}

	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	char title[128];
	snprintf(title, sizeof(title), "Deployment %s · %s", id, slug);
	html_head(&b, title, !final);
	buf_puts(&b, "<main id=\"deployment\" class=\"page\" data-deployment-id=\"");
	buf_put_html(&b, id);
	buf_puts(&b, "\" data-state=\"");
	buf_put_html(&b, state);
	buf_puts(&b, "\" data-last-event-id=\"");
	buf_put_html(&b, last);
	buf_puts(&b, "\" data-rendered=\"server\">\n<p class=\"crumbs\"><a href=\"/projects\">Projects</a> / "
		     "<a id=\"project-link\" href=\"/projects/");
	buf_put_html(&b, slug);
	buf_puts(&b, "\">");
	buf_put_html(&b, slug);
	buf_puts(&b, "</a></p>\n<h1>Deployment <code id=\"deployment-id\">");
	buf_put_html(&b, id);
	buf_puts(&b, "</code></h1>\n<div class=\"summary\">\n\t<span id=\"state\" class=\"badge state-");
	buf_put_html(&b, state);
	buf_puts(&b, "\">");
	buf_put_html(&b, state);
	buf_puts(&b, "</span>\n\t<span id=\"phase\" class=\"phase\">");
	buf_put_html(&b, d.phase);
	buf_puts(&b, "</span>\n");
	if (!strcmp(id, cur))
		buf_puts(&b, "\t<span class=\"tag\">current</span>\n");
	if (!final) {
		buf_puts(&b, "\t<form method=\"post\" class=\"inline\" id=\"cancel-form\" "
			     "action=\"/api/deployments/");
		buf_put_html(&b, id);
		buf_puts(&b, "/cancel\"><button type=\"submit\">Cancel build</button></form>\n"
			     "\t<span class=\"muted\" id=\"refresh-note\">This page refreshes until the "
			     "build ends.</span>\n");
	}
	/* a build that failed or was stopped can be tried again (app.js shows the form when the
	 * build it follows ends that way) */
	if (*p.slug) {
		int failed = d.state == DEPLOYMENT_ERROR || d.state == DEPLOYMENT_CANCELED;
		buf_puts(&b, "\t<form method=\"post\" class=\"inline\" id=\"redeploy-form\" "
			     "action=\"/api/projects/");
		buf_put_html(&b, slug);
		buf_printf(&b, "/deployments\"%s><button type=\"submit\" id=\"redeploy\">Redeploy"
			   "</button></form>\n", failed ? "" : " hidden");
	}
	/* the project's record of the rollback that made this deployment live (a build going
	 * live clears it; the deployment's own copy guards against records older than that) */
	if (!strcmp(id, cur) && *p.rolled_back_from &&
	    !strcmp(d.rolled_back_from, p.rolled_back_from)) {
		buf_puts(&b, "\t<span class=\"notice\" id=\"rolled-back\">rolled back from <code>");
		buf_put_html(&b, p.rolled_back_from);
		buf_puts(&b, "</code>");
		if (*p.rolled_back_by) {
			buf_puts(&b, " by <span id=\"rolled-back-by\">");
			buf_put_html(&b, p.rolled_back_by);
			buf_puts(&b, "</span>");
		}
		if (p.rolled_back_at != MODEL_NONE) {
			buf_puts(&b, " at ");
			pages_time(&b, p.rolled_back_at);
		}
		buf_puts(&b, "</span>\n");
	}
	buf_puts(&b, "</div>\n<div id=\"site\" class=\"site\"");
	if (d.state != DEPLOYMENT_READY)
		buf_puts(&b, " hidden");
	buf_puts(&b, ">\n\t<a id=\"site-link\" href=\"");
	buf_put_html(&b, url);
	buf_puts(&b, "\">Visit ");
	buf_put_html(&b, url);
	buf_puts(&b, "</a>\n\t<span class=\"alt\">Production: <a id=\"project-url\" href=\"");
	buf_put_html(&b, purl);
	buf_puts(&b, "\">");
	buf_put_html(&b, purl);
	buf_puts(&b, "</a></span>\n</div>\n<div id=\"error\" class=\"error-box\" role=\"alert\"");
	const char *error = d.error;
	if (!*error)
		buf_puts(&b, " hidden>");
	else
		buf_puts(&b, ">");
	buf_put_html(&b, error);
	if (d.exit_code != MODEL_NONE)
		buf_printf(&b, " (exit code %lld)", d.exit_code);
	buf_puts(&b, "</div>\n<dl class=\"meta\">\n\t<dt>Project</dt><dd><a id=\"project-name\" href=\"/projects/");
	buf_put_html(&b, slug);
	buf_puts(&b, "\">");
	buf_put_html(&b, slug);
	buf_puts(&b, "</a></dd>\n\t<dt>Commit</dt><dd><code id=\"commit\">");
	buf_printf(&b, "%.12s", d.commit);
	buf_puts(&b, "</code> <span id=\"commit-message\">");
	buf_put_html(&b, d.commit_message);
	buf_puts(&b, "</span></dd>\n\t<dt>Created</dt><dd id=\"created\">");
	pages_time(&b, d.created);
	buf_puts(&b, "</dd>\n\t<dt>Trigger</dt><dd id=\"trigger\">");
	buf_put_html(&b, d.trigger);
	buf_puts(&b, "</dd>\n\t<dt>Context</dt><dd id=\"context\">");
	buf_puts(&b, d.preview[0] ? "preview" : "production");
	if (d.preview[0]) {
		char pvurl[1024];
		api_site_url(req->cfg, slug, d.preview, pvurl, sizeof(pvurl));
		buf_puts(&b, " at <a id=\"preview-url\" href=\"");
		buf_put_html(&b, pvurl);
		buf_puts(&b, "\">");
		buf_put_html(&b, pvurl);
		buf_puts(&b, "</a>");
		if (d.fork)
			buf_puts(&b, " <span class=\"tag\">fork</span>");
	}
	buf_puts(&b, "</dd>\n\t<dt>Branch</dt><dd><code id=\"branch\">");
	buf_put_html(&b, d.branch[0] ? d.branch : d.ref[0] ? d.ref : "(default)");
	buf_puts(&b, "</code></dd>\n</dl>\n<div class=\"log-head\">\n\t<h2>Build log</h2>\n\t<span class=\"tools\">"
		     "<span id=\"live\" class=\"live\" hidden>live</span><a id=\"raw-log\" "
		     "href=\"/api/deployments/");
	buf_put_html(&b, id);
	buf_puts(&b, "/log\">raw log</a></span>\n</div>\n<pre id=\"log\" class=\"log\" aria-live=\"off\">");
	buf_append(&b, buf_cstr(&log), log.len);
	if (cut)
		buf_printf(&b, "<span class=\"line system log-cut\" id=\"log-cut\">The log is cut here: "
			   "this page shows at most %d lines or %u MiB. With JavaScript the rest follows "
			   "below; without it, open the raw log.</span>\n",
			   PAGES_LOG_LINES_MAX, STATUS_LOG_MAX >> 20);
	buf_puts(&b, "</pre>\n</main>\n</body>\n</html>\n");
	buf_dispose(&log);
	html_send(resp, &b, 200);
	return 200;
}
