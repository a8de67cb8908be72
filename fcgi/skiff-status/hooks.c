/* hooks.c — a project's build hooks, notification hooks with their delivery history and
 * commit status settings, as JSON and as the dashboard's hooks page (forms post to
 * skiff-create). Secrets are never shown: they were shown once when created. */
#include "hooks.h"
#include "app.h"
#include "auth.h"
#include "html.h"
#include "model.h"
#include "model_buildhook.h"
#include "model_notify.h"
#include "commit_status.h"
#include "notify.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define HOOKS_HISTORY_SHOWN 20      /* deliveries on the page; the API gives NOTIFY_HISTORY_MAX */

/* Admin credentials (public_reads does not open hooks: their URLs may be secrets), a valid
 * slug, an existing project. */
static int hooks_begin(struct http_request *req, struct error *err)
{
	struct app *app = req->app;
	struct project p;
	if (auth_admin_read(req, err) < 0 || validate_slug(req->params[0], err) < 0 ||
	    model_project_get(app->redis, req->params[0], &p, err) < 0)
		return err->code;
	return 0;
}

int hooks_buildhooks(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	json_t *list = NULL;
	if (hooks_begin(req, &err) < 0 ||
	    model_buildhook_list(app->redis, req->params[0], &list, &err) < 0)
		return response_error(req, resp, &err);
	response_header(resp, "Cache-Control", "no-store");
	return response_json(resp, 200, json_pack("{so}", "data", list));
}

/* The hooks as an array {id, url, events, created}, oldest first. */
static json_t *hooks_notify_array(json_t *hooks)
{
	json_t *list = json_array(), *h;
	const char *id;
	json_object_foreach(hooks, id, h) {
		json_t *o = json_pack("{ss}", "id", id);
		json_object_update(o, h);
		size_t i = 0;
		json_int_t created = json_integer_value(json_object_get(o, "created"));
		while (i < json_array_size(list) &&
		       json_integer_value(json_object_get(json_array_get(list, i), "created")) <= created)
			i++;
		json_array_insert_new(list, i, o);
	}
	return list;
}

int hooks_notifications(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	json_t *hooks = NULL, *history = NULL, *status = NULL;
	if (hooks_begin(req, &err) < 0 ||
	    model_notify_hooks(app->redis, req->params[0], false, &hooks, &err) < 0 ||
	    model_notify_status_get(app->redis, req->params[0], &status, &err) < 0 ||
	    model_notify_history(app->redis, req->params[0], NOTIFY_HISTORY_MAX, &history, &err) < 0) {
		json_decref(hooks);
		json_decref(status);
		return response_error(req, resp, &err);
	}
	json_object_del(status, "token"); /* never shown, not even sealed */
	response_header(resp, "Cache-Control", "no-store");
	json_t *list = hooks_notify_array(hooks);
	json_decref(hooks);
	return response_json(resp, 200, json_pack("{s:{s:o,s:o,s:o}}", "data", "hooks", list,
						  "deliveries", history, "commitStatus",
						  status ? status : json_null()));
}

static void hooks_time(struct buf *b, json_t *ms)
{
	if (!json_is_integer(ms)) {
		buf_puts(b, "—");
		return;
	}
	time_t t = (time_t)(json_integer_value(ms) / 1000);
	struct tm tm;
	char iso[40];
	gmtime_r(&t, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%d %H:%M:%SZ", &tm);
	buf_printf(b, "<time>%s</time>", iso);
}

static void hooks_cell(struct buf *b, json_t *o, const char *key, const char *label)
{
	const char *s = json_string_value(json_object_get(o, key));
	buf_printf(b, "<td data-label=\"%s\">", label);
	buf_put_html(b, s && *s ? s : "—");
	buf_puts(b, "</td>");
}

/* A row's remove button: a form posting to action (the same-origin rule applies). */
static void hooks_remove(struct buf *b, const char *slug, const char *kind, const char *id,
			 const char *label)
{
	buf_puts(b, "<td class=\"row-actions\"><form method=\"post\" class=\"inline\" "
		     "action=\"/api/projects/");
	buf_put_html(b, slug);
	buf_printf(b, "/%s/", kind);
	buf_put_html(b, id);
	buf_printf(b, "/delete\"><button type=\"submit\" class=\"danger\">%s</button></form></td>",
		   label);
}

static void hooks_page_build(struct buf *b, const char *slug, json_t *list)
{
	size_t i;
	json_t *h;
	buf_puts(b, "<section id=\"build-hooks\">\n<h2>Build hooks</h2>\n<p class=\"muted\">A POST "
		     "to a build hook's URL builds the head of its branch. The URL is shown once, "
		     "when the hook is created.</p>\n");
	if (json_array_size(list)) {
		buf_puts(b, "<div class=\"table-wrap\"><table id=\"build-hook-list\">\n<thead><tr><th>Name"
			     "</th><th>Branch</th><th>Created</th><th>Last used</th><th></th></tr>"
			     "</thead>\n<tbody>\n");
		json_array_foreach(list, i, h) {
			buf_puts(b, "<tr class=\"build-hook\">");
			hooks_cell(b, h, "name", "Name");
			hooks_cell(b, h, "branch", "Branch");
			buf_puts(b, "<td data-label=\"Created\">");
			hooks_time(b, json_object_get(h, "created"));
			buf_puts(b, "</td><td data-label=\"Last used\">");
			hooks_time(b, json_object_get(h, "lastUsed"));
			buf_puts(b, "</td>");
			hooks_remove(b, slug, "build-hooks", json_string_value(json_object_get(h, "id")),
				     "Revoke");
			buf_puts(b, "</tr>\n");
		}
		buf_puts(b, "</tbody>\n</table></div>\n");
	}
	buf_puts(b, "<form method=\"post\" class=\"card form\" id=\"build-hook-form\" "
		     "action=\"/api/projects/");
	buf_put_html(b, slug);
	buf_printf(b, "/build-hooks\">\n<div class=\"field\"><label for=\"bh-name\">Name</label>"
		      "<input id=\"bh-name\" name=\"name\" required maxlength=\"%d\"></div>\n"
		      "<div class=\"field\"><label for=\"bh-branch\">Branch</label><input "
		      "id=\"bh-branch\" name=\"branch\" maxlength=\"%d\" placeholder=\"the "
		      "project's branch\"></div>\n<div class=\"form-actions\"><button "
		      "type=\"submit\">Create build hook</button></div>\n</form>\n</section>\n",
		   BUILDHOOK_NAME_MAX, BRANCH_MAX);
}

static void hooks_page_notify(struct buf *b, const char *slug, json_t *list, json_t *history)
{
	size_t i;
	json_t *h;
	buf_puts(b, "<section id=\"notifications\">\n<h2>Deploy notifications</h2>\n<p "
		     "class=\"muted\">Deploy events are POSTed as JSON to each URL, signed with "
		     "the hook's secret (Skiff-Signature; shown once, when created).</p>\n");
	if (json_array_size(list)) {
		buf_puts(b, "<div class=\"table-wrap\"><table id=\"notification-list\">\n<thead><tr><th>"
			     "URL</th><th>Events</th><th>Created</th><th></th></tr></thead>\n<tbody>\n");
		json_array_foreach(list, i, h) {
			char events[128] = "";
			size_t j, used = 0;
			json_t *e;
			json_array_foreach(json_object_get(h, "events"), j, e) {
				int w = snprintf(events + used, sizeof(events) - used, "%s%s",
						 used ? ", " : "", json_string_value(e));
				if (w > 0 && (size_t)w < sizeof(events) - used)
					used += (size_t)w;
			}
			buf_puts(b, "<tr class=\"notification-hook\">");
			hooks_cell(b, h, "url", "URL");
			buf_puts(b, "<td data-label=\"Events\">");
			buf_put_html(b, events);
			buf_puts(b, "</td><td data-label=\"Created\">");
			hooks_time(b, json_object_get(h, "created"));
			buf_puts(b, "</td>");
			hooks_remove(b, slug, "notifications",
				     json_string_value(json_object_get(h, "id")), "Remove");
			buf_puts(b, "</tr>\n");
		}
		buf_puts(b, "</tbody>\n</table></div>\n");
	}
	buf_puts(b, "<form method=\"post\" class=\"card form\" id=\"notification-form\" "
		     "action=\"/api/projects/");
	buf_put_html(b, slug);
	buf_printf(b, "/notifications\">\n<div class=\"field\"><label for=\"nh-url\">URL</label>"
		      "<input id=\"nh-url\" name=\"url\" type=\"url\" required maxlength=\"%d\" "
		      "placeholder=\"https://example.com/skiff-events\"></div>\n<div "
		      "class=\"field\"><label for=\"nh-events\">Events</label><input "
		      "id=\"nh-events\" name=\"events\" placeholder=\"all: deploy.started "
		      "deploy.ready deploy.failed deploy.canceled\"></div>\n<div "
		      "class=\"form-actions\"><button type=\"submit\">Add notification "
		      "hook</button></div>\n</form>\n",
		   NOTIFY_URL_MAX);
	buf_puts(b, "<h3>Recent deliveries</h3>\n");
	if (!json_array_size(history)) {
		buf_puts(b, "<p class=\"muted\" id=\"no-deliveries\">None yet.</p>\n</section>\n");
		return;
	}
	buf_puts(b, "<div class=\"table-wrap\"><table id=\"deliveries\">\n<thead><tr><th>Event</th>"
		     "<th>Deployment</th><th>State</th><th>Attempts</th><th>Status</th><th>Last "
		     "attempt</th><th>Error</th></tr></thead>\n<tbody>\n");
	json_array_foreach(history, i, h) {
		if (i >= HOOKS_HISTORY_SHOWN)
			break;
		buf_puts(b, "<tr class=\"delivery\">");
		hooks_cell(b, h, "event", "Event");
		buf_puts(b, "<td data-label=\"Deployment\"><a href=\"/deployments/");
		buf_put_html(b, json_string_value(json_object_get(h, "deploymentId")));
		buf_puts(b, "\"><code>");
		buf_put_html(b, json_string_value(json_object_get(h, "deploymentId")));
		buf_puts(b, "</code></a></td>");
		hooks_cell(b, h, "state", "State");
		buf_printf(b, "<td data-label=\"Attempts\">%lld</td><td data-label=\"Status\">",
			   (long long)json_integer_value(json_object_get(h, "attempts")));
		json_t *st = json_object_get(h, "responseStatus");
		if (json_is_integer(st))
			buf_printf(b, "%lld", (long long)json_integer_value(st));
		else
			buf_puts(b, "—");
		buf_puts(b, "</td><td data-label=\"Last attempt\">");
		hooks_time(b, json_object_get(h, "lastAttempt"));
		buf_puts(b, "</td>");
		hooks_cell(b, h, "error", "Error");
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</tbody>\n</table></div>\n</section>\n");
}

static void hooks_page_status(struct buf *b, const char *slug, json_t *status)
{
	buf_puts(b, "<section id=\"commit-status\">\n<h2>Commit statuses</h2>\n");
	if (status) {
		buf_puts(b, "<p id=\"commit-status-on\">Posted to ");
		buf_put_html(b, json_string_value(json_object_get(status, "provider")));
		buf_puts(b, " for <code>");
		buf_put_html(b, json_string_value(json_object_get(status, "repository")));
		buf_puts(b, "</code> through <code>");
		buf_put_html(b, json_string_value(json_object_get(status, "apiUrl")));
		buf_puts(b, "</code>.</p>\n<form method=\"post\" class=\"inline\" action=\"/api/projects/");
		buf_put_html(b, slug);
		buf_puts(b, "/commit-status/delete\"><button type=\"submit\" class=\"danger\">Stop "
			     "commit statuses</button></form>\n");
	} else {
		buf_puts(b, "<p class=\"muted\">With a GitHub or GitLab token, each build's state and "
			     "address are posted on its commit.</p>\n");
	}
	buf_puts(b, "<form method=\"post\" class=\"card form\" id=\"commit-status-form\" "
		     "action=\"/api/projects/");
	buf_put_html(b, slug);
	buf_printf(b, "/commit-status\">\n<div class=\"field\"><label for=\"cs-provider\">"
		      "Provider</label><select id=\"cs-provider\" name=\"provider\"><option>github"
		      "</option><option>gitlab</option></select></div>\n<div class=\"field\"><label "
		      "for=\"cs-token\">Token</label><input id=\"cs-token\" name=\"token\" "
		      "type=\"password\" required maxlength=\"%d\" autocomplete=\"off\"></div>\n"
		      "<div class=\"field\"><label for=\"cs-repo\">Repository</label><input "
		      "id=\"cs-repo\" name=\"repository\" maxlength=\"%d\" placeholder=\"from the "
		      "git URL\"></div>\n<div class=\"field\"><label for=\"cs-api\">API URL</label>"
		      "<input id=\"cs-api\" name=\"apiUrl\" type=\"url\" maxlength=\"%d\" "
		      "placeholder=\"the provider's public API\"></div>\n<div class=\"form-actions\">"
		      "<button type=\"submit\">Save</button></div>\n</form>\n</section>\n",
		   COMMIT_STATUS_TOKEN_MAX, COMMIT_STATUS_REPOSITORY_MAX, NOTIFY_URL_MAX);
}

int hooks_page(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	const char *slug = req->params[0];
	json_t *builds = NULL, *hooks = NULL, *history = NULL, *status = NULL;
	if (hooks_begin(req, &err) < 0 ||
	    model_buildhook_list(app->redis, slug, &builds, &err) < 0 ||
	    model_notify_hooks(app->redis, slug, false, &hooks, &err) < 0 ||
	    model_notify_status_get(app->redis, slug, &status, &err) < 0 ||
	    model_notify_history(app->redis, slug, HOOKS_HISTORY_SHOWN, &history, &err) < 0) {
		json_decref(builds);
		json_decref(hooks);
		json_decref(status);
		return html_error(req, resp, &err, "/", "Back to the dashboard");
	}
	json_t *list = hooks_notify_array(hooks);
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	char title[SLUG_MAX + 16];
	snprintf(title, sizeof(title), "%s: hooks", slug);
	html_head(&b, title, 0);
	buf_puts(&b, "<main id=\"hooks\" class=\"page\" data-project=\"");
	buf_put_html(&b, slug);
	buf_puts(&b, "\">\n<p class=\"crumbs\"><a href=\"/projects\">Projects</a> / <a "
		     "href=\"/projects/");
	buf_put_html(&b, slug);
	buf_puts(&b, "\">");
	buf_put_html(&b, slug);
	buf_puts(&b, "</a></p>\n<h1>Hooks</h1>\n");
	hooks_page_build(&b, slug, builds);
	hooks_page_notify(&b, slug, list, history);
	hooks_page_status(&b, slug, status);
	buf_puts(&b, "</main>\n</body>\n</html>\n");
	json_decref(status);
	json_decref(builds);
	json_decref(hooks);
	json_decref(list);
	json_decref(history);
	response_header(resp, "Cache-Control", "no-store");
	html_send(resp, &b, 200);
	return 200;
}
