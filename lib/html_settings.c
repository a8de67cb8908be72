/* html_settings.c — a project's settings page: build settings, environment variables (secrets
 * shown as set, never their value), webhook secret rotation, previews, HSTS
 * and the history of changes. */
#include "html_settings.h"
#include "app.h"
#include "env.h"
#include "html.h"
#include "mask.h"
#include "model.h"
#include "model_env.h"
#include "preview.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SETTINGS_TEXT "type=\"text\" class=\"mono\" autocomplete=\"off\" spellcheck=\"false\" " \
		      "autocapitalize=\"off\" "

/* The text settings: the API name (the input's id and name), its label, the input's other
 * attributes and a hint. */
struct settings_input {
	const char *name;
	const char *label;
	const char *extra;
	const char *hint;
};

static const struct settings_input settings_inputs[] = {
	{ "gitURL", "Git repository URL", "inputmode=\"url\" required maxlength=\"2048\"", NULL },
	{ "branch", "Branch", "maxlength=\"255\" placeholder=\"(the default branch)\"",
	  "The repository's default branch when empty." },
	{ "installCommand", "Install command", "maxlength=\"4096\" placeholder=\"(detected)\"", NULL },
	{ "buildCommand", "Build command", "maxlength=\"4096\" placeholder=\"(detected)\"", NULL },
	{ "outputDirectory", "Output directory", "maxlength=\"255\" placeholder=\"(detected)\"",
	  "Leave the commands and the directory empty to detect them (skiff.json, package.json)." },
};
#define SETTINGS_NINPUTS (sizeof(settings_inputs) / sizeof(settings_inputs[0]))

/* The field an error is about, by its name (and for commands, the field its message names). */
static const char *settings_err_field(const struct error *err)
{
	if (!err)
		return NULL;
	if (!strcmp(err->name, "invalid_git_url"))
		return "gitURL";
	if (!strcmp(err->name, "invalid_branch"))
		return "branch";
	if (!strcmp(err->name, "invalid_output_directory"))
		return "outputDirectory";
	if (!strcmp(err->name, "invalid_command"))
		return strstr(err->message, "installCommand") ? "installCommand" : "buildCommand";
	if (!strcmp(err->name, "invalid_previews"))
		return "previews";
	if (!strcmp(err->name, "invalid_webhook_secret"))
		return "rotateWebhookSecret";
	if (strstr(err->name, "env") || !strcmp(err->name, "secret_key_unavailable"))
		return "env";
	return NULL;
}

static const char *settings_stored(const struct project *p, const char *name)
{
	if (!strcmp(name, "gitURL"))
		return p->git_url;
	if (!strcmp(name, "branch"))
		return p->branch;
	if (!strcmp(name, "installCommand"))
		return p->install_command;
	if (!strcmp(name, "buildCommand"))
		return p->build_command;
	return p->output_dir;
}

static void settings_invalid(struct buf *b, const char *bad, const char *name)
{
	if (bad && !strcmp(bad, name))
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\" autofocus");
}

/* One variable row: name, value (a secret's never), secret, contexts, remove. */
static void settings_env_row(struct buf *b, int i, const char *name, const char *value,
			     bool secret, bool stored_secret, unsigned contexts)
{
	buf_printf(b, "<fieldset class=\"env-row\" data-row=\"%d\">\n<legend class=\"sr-only\">"
		      "Variable %d</legend>\n<div class=\"field\">\n<label for=\"env.%d.name\">Name"
		      "</label>\n<input id=\"env.%d.name\" name=\"env.%d.name\" " SETTINGS_TEXT
		      "maxlength=\"%d\" pattern=\"[A-Za-z_][A-Za-z0-9_]*\" value=\"", i, i + 1, i, i,
		   i, ENV_NAME_MAX);
	buf_put_html(b, name);
	buf_printf(b, "\">\n</div>\n<div class=\"field\">\n<label for=\"env.%d.value\">Value</label>\n",
		   i);
	if (secret) {
		buf_printf(b, "<input id=\"env.%d.value\" name=\"env.%d.value\" type=\"password\" "
			      "class=\"mono\" autocomplete=\"new-password\" maxlength=\"%d\" "
			      "placeholder=\"%s\">\n", i, i, ENV_VALUE_MAX,
			   stored_secret ? "set — leave empty to keep" : "");
	} else {
		buf_printf(b, "<input id=\"env.%d.value\" name=\"env.%d.value\" " SETTINGS_TEXT
			      "maxlength=\"%d\" value=\"", i, i, ENV_VALUE_MAX);
		buf_put_html(b, value);
		buf_puts(b, "\">\n");
	}
	buf_printf(b, "</div>\n<div class=\"field\">\n<label for=\"env.%d.context\">Applies to"
		      "</label>\n<select id=\"env.%d.context\" name=\"env.%d.context\">\n", i, i, i);
	static const struct { const char *v, *label; unsigned bits; } opts[] = {
		{ "all", "Production and previews", ENV_ALL },
		{ "production", "Production", ENV_PRODUCTION },
		{ "preview", "Previews", ENV_PREVIEW },
	};
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
		buf_printf(b, "<option value=\"%s\"%s>%s</option>\n", opts[k].v,
			   contexts == opts[k].bits ? " selected" : "", opts[k].label);
	buf_printf(b, "</select>\n</div>\n<div class=\"env-flags\">\n<label><input type=\"checkbox\" "
		      "id=\"env.%d.secret\" name=\"env.%d.secret\" value=\"on\"%s> Secret</label>\n",
		   i, i, secret ? " checked" : "");
	if (name[0])
		buf_printf(b, "<label><input type=\"checkbox\" id=\"env.%d.remove\" name=\"env.%d.remove\" "
			      "value=\"on\"> Remove</label>\n", i, i);
	buf_puts(b, "</div>\n</fieldset>\n");
}

static unsigned settings_typed_context(const char *c)
{
	if (c && !strcmp(c, "production"))
		return ENV_PRODUCTION;
	if (c && !strcmp(c, "preview"))
		return ENV_PREVIEW;
	return ENV_ALL;
}

/* The variable rows: as typed after a failed post, else as stored; then empty rows. */
static void settings_env_rows(struct buf *b, json_t *typed, const struct env_list *env)
{
	int rows = 0;
	if (typed) {
		for (int i = 0; i < ENV_COUNT_MAX + HTML_SETTINGS_NEW_ROWS; i++) {
			char k[32];
			snprintf(k, sizeof(k), "env.%d.name", i);
			const char *name = json_string_value(json_object_get(typed, k));
			snprintf(k, sizeof(k), "env.%d.value", i);
			const char *value = json_string_value(json_object_get(typed, k));
			if ((!name || !*name) && (!value || !*value))
				continue;
			snprintf(k, sizeof(k), "env.%d.secret", i);
			bool secret = json_object_get(typed, k) != NULL;
			snprintf(k, sizeof(k), "env.%d.context", i);
			unsigned ctx = settings_typed_context(json_string_value(json_object_get(typed, k)));
			const struct env_var *stored = env_list_find(env, name ? name : "");
			settings_env_row(b, rows++, name ? name : "", value ? value : "", secret,
					 stored && stored->secret, ctx);
		}
	} else {
		for (size_t i = 0; env && i < env->n; i++) {
			const struct env_var *v = &env->vars[i];
			settings_env_row(b, rows++, v->name, v->secret ? "" : v->value, v->secret,
					 v->secret, v->contexts);
		}
	}
	for (int i = 0; i < HTML_SETTINGS_NEW_ROWS && rows < ENV_COUNT_MAX + HTML_SETTINGS_NEW_ROWS;
	     i++)
		settings_env_row(b, rows++, "", "", false, false, ENV_ALL);
}

/* The last changes: when, who, which settings. */
static void settings_history(struct buf *b, json_t *changes)
{
	buf_puts(b, "<h2>Recent changes</h2>\n<ul id=\"changes\" class=\"changes\">\n");
	size_t i;
	json_t *c;
	json_array_foreach(changes, i, c) {
		time_t at = (time_t)(json_integer_value(json_object_get(c, "at")) / 1000);
		struct tm tm;
		char when[40] = "";
		if (gmtime_r(&at, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		buf_printf(b, "<li><time>%s</time> by ", when);
		buf_put_html(b, json_string_value(json_object_get(c, "by")) ?: "api");
		buf_puts(b, ": ");
		size_t j;
		json_t *f;
		json_array_foreach(json_object_get(c, "fields"), j, f) {
			buf_puts(b, j ? ", <code>" : "<code>");
			buf_put_html(b, json_string_value(f) ?: "");
			buf_puts(b, "</code>");
		}
		buf_puts(b, "</li>\n");
	}
	if (!json_array_size(changes))
		buf_puts(b, "<li class=\"muted\">No change since the project was created.</li>\n");
	buf_puts(b, "</ul>\n");
}

/* The previews setting as the form shows it: "none", "all" or one pattern a line. */
static void settings_previews_text(struct buf *b, const char *stored)
{
	if (!*stored) {
		buf_puts(b, "none");
		return;
	}
	if (!strcmp(stored, "*")) {
		buf_puts(b, "all");
		return;
	}
	for (const char *s = stored; *s;) {
		size_t n = strcspn(s, " ");
		char pat[PREVIEW_SETTING_MAX + 1];
		snprintf(pat, sizeof(pat), "%.*s", (int)n, s);
		buf_put_html(b, pat);
		s += n;
		if (*s == ' ') {
			buf_puts(b, "\n");
			s++;
		}
	}
}

/* Previews (which branches, forks' pull requests) and HSTS on custom domains: a form's
 * typed values after an error, else the stored ones. */
static void settings_more(struct buf *b, const struct project *p, json_t *typed, const char *bad)
{
	buf_puts(b, "<h2 id=\"previews-settings\">Previews</h2>\n<div class=\"field\">\n<label "
		    "for=\"previews\">Branches with previews</label>\n<textarea id=\"previews\" "
		    "name=\"previews\" class=\"mono\" rows=\"3\" maxlength=\"2048\" "
		    "autocomplete=\"off\" spellcheck=\"false\" autocapitalize=\"off\"");
	settings_invalid(b, bad, "previews");
	buf_puts(b, ">");
	const char *pv = typed ? json_string_value(json_object_get(typed, "previews")) : NULL;
	if (typed)
		buf_put_html(b, pv ? pv : "");
	else
		settings_previews_text(b, p->previews);
	buf_printf(b, "</textarea>\n<span class=\"hint\"><code>none</code>, <code>all</code>, or "
		      "branch patterns separated by commas or lines (at most %d; <code>*</code> "
		      "matches any run of characters, as in <code>feature/*</code>). A pull request "
		      "gets a preview when its branch matches.</span>\n</div>\n", PREVIEW_PATTERNS_MAX);
	bool forks = typed ? json_object_get(typed, "previewForks") != NULL : p->preview_forks;
	bool hsts = typed ? json_object_get(typed, "hsts") != NULL : p->hsts;
	buf_printf(b, "<div class=\"field\">\n<label><input id=\"previewForks\" name=\"previewForks\" "
		      "type=\"checkbox\" value=\"on\"%s> Build pull requests from forks</label>\n"
		      "<span class=\"hint\">Built from the fork's code, "
		      "with the preview variables.</span>\n</div>\n<h2 id=\"domains-settings\">Custom domains</h2>\n"
		      "<div class=\"field\">\n<label><input id=\"hsts\" name=\"hsts\" "
		      "type=\"checkbox\" value=\"on\"%s> Send Strict-Transport-Security</label>\n"
		      "<span class=\"hint\">Browsers then reach the project's custom domains over "
		      "HTTPS only, for a year.</span>\n</div>\n", forks ? " checked" : "",
		   hsts ? " checked" : "");
}

static void settings_page(struct buf *b, const struct project *p, const struct env_list *env,
			  json_t *changes, json_t *typed, const struct error *err,
			  const char *rotated, bool saved)
{
	const char *bad = settings_err_field(err);
	html_head(b, err ? "Settings not saved" : "Settings", 0);
	buf_puts(b, "<main id=\"settings\" class=\"page\" data-project=\"");
	buf_put_html(b, p->slug);
	buf_puts(b, "\">\n<p class=\"crumbs\"><a href=\"/projects\">Projects</a> / <a href=\"/projects/");
	buf_put_html(b, p->slug);
	buf_puts(b, "\">");
	buf_put_html(b, p->slug);
	buf_puts(b, "</a></p>\n<h1>Settings</h1>\n");
	if (rotated) {
		buf_puts(b, "<div id=\"saved\" class=\"notice ok\" role=\"status\"><strong>Saved.</strong> "
			    "The new webhook secret, shown this once: <code id=\"new-webhook-secret\">");
		buf_put_html(b, rotated);
		buf_puts(b, "</code>. Give it to the repository's webhook now.</div>\n");
	} else if (saved) {
		buf_puts(b, "<div id=\"saved\" class=\"notice ok\" role=\"status\"><strong>Saved.</strong> "
			    "The next build uses these settings.</div>\n");
	}
	buf_puts(b, "<div id=\"form-error\" class=\"notice error\" role=\"alert\"");
	if (err) {
		buf_puts(b, " data-code=\"");
		buf_put_html(b, err->name);
		buf_puts(b, "\"");
		if (bad)
			buf_printf(b, " data-field=\"%s\"", bad);
		buf_puts(b, "><strong>Not saved: </strong>");
		buf_put_html(b, err->message);
		buf_puts(b, " Nothing was changed; secret values must be typed again.");
	} else {
		buf_puts(b, " hidden>");
	}
	buf_puts(b, "</div>\n<form id=\"settings-form\" class=\"card form\" method=\"post\" action=\"/projects/");
	buf_put_html(b, p->slug);
	buf_puts(b, "/settings\">\n<h2>Build</h2>\n");
	for (size_t i = 0; i < SETTINGS_NINPUTS; i++) {
		const struct settings_input *in = &settings_inputs[i];
		const char *v = typed ? json_string_value(json_object_get(typed, in->name))
				      : settings_stored(p, in->name);
		buf_printf(b, "<div class=\"field\">\n<label for=\"%s\">%s</label>\n<input id=\"%s\" "
			      "name=\"%s\" " SETTINGS_TEXT "%s value=\"", in->name, in->label, in->name,
			   in->name, in->extra);
		buf_put_html(b, v ? v : "");
		buf_puts(b, "\"");
		settings_invalid(b, bad, in->name);
		buf_puts(b, ">\n");
		if (in->hint)
			buf_printf(b, "<span class=\"hint\">%s</span>\n", in->hint);
		buf_puts(b, "</div>\n");
	}
	buf_puts(b, "<p class=\"hint\" id=\"repo-access-hint\">A private repository's HTTPS token, "
		    "SSH deploy key and host key are managed on the project page: <a "
		    "id=\"repo-access-link\" href=\"/projects/");
	buf_put_html(b, p->slug);
	buf_puts(b, "#repository\">Repository access</a>.</p>\n");
	bool watch = typed ? json_object_get(typed, "watch") != NULL : p->watch;
	buf_printf(b, "<div class=\"field\">\n<label><input id=\"watch\" name=\"watch\" type=\"checkbox\" "
		      "value=\"on\"%s> Deploy new commits automatically</label>\n<span class=\"hint\">skiff "
		      "checks the branch every minute.</span>\n</div>\n", watch ? " checked" : "");
	buf_printf(b, "<div class=\"field\">\n<span class=\"label\">Webhook secret</span>\n<span id=\"webhook-state\">%s"
		      "</span>\n<label><input id=\"rotateWebhookSecret\" name=\"rotateWebhookSecret\" "
		      "type=\"checkbox\" value=\"on\"", p->webhook_secret[0] ? "set" : "none");
	settings_invalid(b, bad, "rotateWebhookSecret");
	buf_printf(b, "> %s</label>\n<span class=\"hint\">The new secret is shown once, after saving; "
		      "the old one stops working at once.</span>\n</div>\n",
		   p->webhook_secret[0] ? "Generate a new secret" : "Generate a secret (turns on the webhook)");
	settings_more(b, p, typed, bad);
	buf_printf(b, "<h2 id=\"env\">Environment variables</h2>\n<p class=\"hint\">Given to the install "
		      "and build commands (not to the clone), with skiff's own <code>SKIFF_CONTEXT</code>, "
		      "<code>SKIFF_BRANCH</code>, <code>SKIFF_COMMIT</code>, <code>SKIFF_DEPLOYMENT_ID</code>, "
		      "<code>SKIFF_URL</code>, <code>SKIFF_DEPLOYMENT_URL</code>, and in previews "
		      "<code>SKIFF_PREVIEW_URL</code>. Secret values are "
		      "encrypted, never shown again, and replaced by <code>***</code> in build logs (values "
		      "of %d characters or more).</p>\n<div id=\"env-rows\" class=\"env-rows\"", MASK_MIN);
	if (bad && !strcmp(bad, "env"))
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\"");
	buf_puts(b, ">\n");
	settings_env_rows(b, typed, env);
	buf_puts(b, "</div>\n<div class=\"form-actions\">\n<button type=\"submit\" id=\"save-button\">Save "
		    "settings</button>\n<a href=\"/projects/");
	buf_put_html(b, p->slug);
	buf_puts(b, "\">Cancel</a>\n</div>\n</form>\n");
	settings_history(b, changes);
	buf_puts(b, "</main>\n</body>\n</html>\n");
}

int html_settings_render(struct http_request *req, struct http_response *resp, const char *slug,
			 json_t *typed, const struct error *err, const char *rotated, bool saved)
{
	struct app *app = req->app;
	struct project p;
	struct env_list *env = NULL;
	json_t *changes = NULL;
	struct error e;
	if (model_project_get(app->redis, slug, &p, &e) < 0 ||
	    model_env_get(app->redis, slug, &env, &e) < 0 ||
	    model_project_changes(app->redis, slug, &changes, &e) < 0) {
		env_list_free(env);
		return html_error(req, resp, &e, "/projects", "Back to the projects");
	}
	if (err)
		response_log_error(req, err);
	int status = err ? error_status(err->code) : 200;
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	settings_page(&b, &p, env, changes, typed, err, rotated, saved);
	html_send(resp, &b, status);
	if (rotated) /* the one page that holds a secret: no copy anywhere */
		response_header(resp, "Cache-Control", "no-store");
	env_list_free(env);
	json_decref(changes);
	return status;
}
