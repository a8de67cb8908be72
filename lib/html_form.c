/* html_form.c — the deploy form rendered by the server, keeping what was typed. */
#include <stdbool.h>
#include <string.h>

#include "html.h"
#include "html_form.h"

/* The form's fields: the API's name (also the input's id and name) and the label it shows. */
struct html_form_field {
	const char *name;
	const char *label;
};

/* The field an error names is the first whose name its message uses: "previews" before
 * "branch", which its messages mention too. */
static const struct html_form_field html_form_fields[] = {
	{ "gitURL", "Git repository URL" },
	{ "previews", "Previews" },
	{ "slug", "Name" },
	{ "branch", "Branch" },
	{ "installCommand", "Install command" },
	{ "buildCommand", "Build command" },
	{ "outputDirectory", "Output directory" },
	{ "webhookSecret", "Webhook secret" },
	{ "repositoryToken", "Access token" },
	{ "watch", "Deploy new commits automatically" },
};
#define HTML_FORM_NFIELDS (sizeof(html_form_fields) / sizeof(html_form_fields[0]))

const char *html_form_git_hint(const struct config *cfg)
{
	return cfg->allow_local_git
		       ? "An https URL, or an ssh one (git@host:owner/repo.git) for a private repository "
			 "with a deploy key; this server also accepts file:/// paths and "
			 "http://localhost URLs."
		       : "An https URL, or an ssh one (git@host:owner/repo.git) for a private repository "
			 "with a deploy key. A private https repository needs an access token: set it on "
			 "the project's page.";
}

/* Where the API's field name stands as a word in msg, or NULL. */
static const char *html_form_word(const char *msg, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(msg, name); p; p = strstr(p + 1, name)) {
		bool start = p == msg || p[-1] == ' ' || p[-1] == '\'';
		bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\'';
		if (start && end)
			return p;
	}
	return NULL;
}

/* The field an error is about: the one whose API name its message uses. */
static const struct html_form_field *html_form_err_field(const struct error *err)
{
	if (!err)
		return NULL;
	for (size_t i = 0; i < HTML_FORM_NFIELDS; i++)
		if (html_form_word(err->message, html_form_fields[i].name))
			return &html_form_fields[i];
	return NULL;
}

/* err's message with the field's API name replaced by its label ("slug must…" → "Name must…",
 * "the slug 'x' is…" → "the name 'x' is…"). */
static void html_form_put_message(struct buf *b, const struct error *err,
				  const struct html_form_field *f)
{
	const char *msg = err->message, *at = f ? html_form_word(msg, f->name) : NULL;
	if (!at) {
		buf_put_html(b, msg);
		return;
	}
	struct buf t = BUF_INIT(ERROR_MESSAGE_MAX + 64);
	buf_append(&t, msg, (size_t)(at - msg));
	/* inside a sentence a label reads in lower case, except an initialism ("URL") */
	if (at != msg && f->label[1] >= 'a' && f->label[1] <= 'z') {
		buf_putc(&t, (char)(f->label[0] - 'A' + 'a'));
		buf_puts(&t, f->label + 1);
	} else {
		buf_puts(&t, f->label);
	}
	buf_puts(&t, at + strlen(f->name));
	buf_put_html(b, buf_cstr(&t));
	buf_dispose(&t);
}

static const char *html_form_value(json_t *values, const char *name)
{
	const char *s = json_string_value(json_object_get(values, name));
	return s ? s : "";
}

/* One text input: id, name and the value typed; aria-invalid and autofocus on the field in
 * error. extra: the input's other attributes. */
static void html_form_input(struct buf *b, json_t *values, const struct html_form_field *bad,
			    const char *name, const char *extra)
{
	buf_printf(b, "<input id=\"%s\" name=\"%s\" %s value=\"", name, name, extra);
	buf_put_html(b, html_form_value(values, name));
	buf_puts(b, "\"");
	if (bad && !strcmp(bad->name, name))
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\" autofocus");
	buf_puts(b, ">\n");
}

#define HTML_FORM_TEXT "type=\"text\" class=\"mono\" autocomplete=\"off\" spellcheck=\"false\" "

void html_form_page(struct buf *b, const struct config *cfg, json_t *values,
		    const struct error *err)
{
	const struct html_form_field *bad = html_form_err_field(err);
	const char *watch = html_form_value(values, "watch");
	bool secret_given = *html_form_value(values, "webhookSecret") != '\0';
	bool token_given = *html_form_value(values, "repositoryToken") != '\0';
	html_head(b, err ? "Could not deploy" : "Deploy", 0);
	buf_puts(b, "<main id=\"home\" class=\"page\">\n<h1>Deploy a site</h1>\n<p class=\"lede\">Give "
		    "skiff a git repository. It clones the branch, builds it, and serves the result on "
		    "its own address — the build log follows live.</p>\n<div id=\"form-error\" class=\"notice error\" role=\"alert\"");
	if (err) {
		buf_puts(b, " data-code=\"");
		buf_put_html(b, err->name);
		buf_puts(b, "\"");
		if (bad)
			buf_printf(b, " data-field=\"%s\"", bad->name);
		buf_puts(b, "><strong>Could not deploy: </strong>");
		html_form_put_message(b, err, bad);
		if (secret_given || token_given)
			buf_printf(b, " Enter the %s again: skiff never sends a secret back.",
				   secret_given && token_given ? "webhook secret and the access token"
				   : secret_given ? "webhook secret" : "access token");
	} else {
		buf_puts(b, " hidden>");
	}
	buf_puts(b, "</div>\n<form id=\"deploy-form\" class=\"card form\" method=\"post\" "
		    "action=\"/api/projects\">\n<div class=\"field\">\n<label for=\"gitURL\">Git repository "
		    "URL</label>\n");
	html_form_input(b, values, bad, "gitURL",
			HTML_FORM_TEXT "inputmode=\"url\" required maxlength=\"2048\" autocapitalize=\"off\" "
				       "placeholder=\"https://github.com/you/site.git\"");
	buf_puts(b, "<span class=\"hint\" id=\"gitURL-hint\" data-server=\"1\">");
	buf_put_html(b, html_form_git_hint(cfg));
	buf_puts(b, "</span>\n</div>\n<div class=\"field-row\">\n<div class=\"field\">\n<label for=\"slug\">"
		    "Name <span class=\"muted\">(optional)</span></label>\n");
	html_form_input(b, values, bad, "slug",
			HTML_FORM_TEXT "maxlength=\"63\" pattern=\"[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?\" "
				       "autocapitalize=\"off\" placeholder=\"my-site\"");
	buf_puts(b, "<span class=\"hint\">Lowercase letters, digits and single hyphens; it becomes the "
		    "site's address. Taken from the repository when empty.</span>\n</div>\n"
		    "<div class=\"field\">\n<label for=\"branch\">Branch <span class=\"muted\">(optional)"
		    "</span></label>\n");
	html_form_input(b, values, bad, "branch",
			HTML_FORM_TEXT "maxlength=\"255\" autocapitalize=\"off\" placeholder=\"main\"");
	buf_puts(b, "<span class=\"hint\">The repository's default branch when empty.</span>\n</div>\n"
		    "</div>\n<details class=\"advanced\"");
	/* open when something in it was typed or is wrong */
	static const char *const advanced[] = { "installCommand", "buildCommand", "outputDirectory",
						"webhookSecret", "repositoryToken", "previews",
						"watch" };
	bool open = false;
	for (size_t i = 0; i < sizeof(advanced) / sizeof(advanced[0]); i++)
		open |= *html_form_value(values, advanced[i]) != '\0' ||
			(bad && !strcmp(bad->name, advanced[i]));
	buf_puts(b, open ? " open>" : ">");
	buf_puts(b, "\n<summary>Build settings</summary>\n<div class=\"form\">\n<div class=\"field\">\n"
		    "<label for=\"installCommand\">Install command</label>\n");
	html_form_input(b, values, bad, "installCommand",
			HTML_FORM_TEXT "maxlength=\"1024\" placeholder=\"npm ci\"");
	buf_puts(b, "</div>\n<div class=\"field\">\n<label for=\"buildCommand\">Build command</label>\n");
	html_form_input(b, values, bad, "buildCommand",
			HTML_FORM_TEXT "maxlength=\"1024\" placeholder=\"npm run build\"");
	buf_puts(b, "</div>\n<div class=\"field\">\n<label for=\"outputDirectory\">Output directory"
		    "</label>\n");
	html_form_input(b, values, bad, "outputDirectory",
			HTML_FORM_TEXT "maxlength=\"255\" placeholder=\"dist\"");
	buf_puts(b, "</div>\n<div class=\"field\">\n<label for=\"webhookSecret\">Webhook secret "
		    "<span class=\"muted\">(optional)</span></label>\n<input id=\"webhookSecret\" "
		    "name=\"webhookSecret\" type=\"password\" class=\"mono\" minlength=\"16\" "
		    "maxlength=\"256\" autocomplete=\"off\" spellcheck=\"false\"");
	if (bad && !strcmp(bad->name, "webhookSecret"))
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\" autofocus");
	buf_puts(b, ">\n<span class=\"hint\">The same secret you give the push webhook at "
		    "<code>/api/hooks/github?project=NAME</code> (GitLab: <code>/api/hooks/gitlab</code>, "
		    "Gitea: <code>/api/hooks/gitea</code>); pushes to the branch then deploy."
		    "</span>\n</div>\n<div class=\"field\">\n<label for=\"repositoryToken\">Access token "
		    "<span class=\"muted\">(private repository)</span></label>\n<input "
		    "id=\"repositoryToken\" name=\"repositoryToken\" type=\"password\" class=\"mono\" "
		    "maxlength=\"1024\" autocomplete=\"off\" spellcheck=\"false\"");
	if (bad && !strcmp(bad->name, "repositoryToken"))
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\" autofocus");
	buf_puts(b, ">\n<span class=\"hint\">For a private https repository: a token that can read "
		    "it (GitHub: a fine-grained token with Contents read). Sent only to the URL's host, "
		    "never shown again. For an ssh URL, generate a deploy key on the project's page."
		    "</span>\n</div>\n<div class=\"field\">\n<label for=\"previews\">Previews "
		    "<span class=\"muted\">(optional)</span></label>\n");
	html_form_input(b, values, bad, "previews",
			HTML_FORM_TEXT "maxlength=\"1023\" autocapitalize=\"off\" "
				       "placeholder=\"feature/* staging, or all\"");
	buf_puts(b, "<span class=\"hint\">Branches whose pushes and pull requests get a preview at "
		    "their own address: <code>all</code>, or patterns separated by spaces.</span>\n"
		    "</div>\n<div class=\"field\">\n<label><input id=\"watch\" name=\"watch\" "
		    "type=\"checkbox\" value=\"on\"");
	if (!strcmp(watch, "on") || !strcmp(watch, "1") || !strcmp(watch, "true"))
		buf_puts(b, " checked");
	buf_puts(b, "> Deploy new commits automatically</label>\n<span class=\"hint\">skiff checks the "
		    "branch every minute, for repositories that cannot send webhooks.</span>\n</div>\n"
		    "<span class=\"hint\">Leave these empty to detect them: <code>skiff.json</code>, then "
		    "a <code>package.json</code> build script, else a static site (<code>public/</code> "
		    "or the repository root).</span>\n</div>\n</details>\n<div class=\"form-actions\">\n"
		    "<button type=\"submit\" id=\"deploy-button\">Deploy</button>\n</div>\n</form>\n"
		    "<h2>Projects</h2>\n<div id=\"projects\">\n<p class=\"empty-state\"><a href=\"/projects\">"
		    "See all projects</a></p>\n</div>\n</main>\n</body>\n</html>\n");
}

int html_form_error(struct http_request *req, struct http_response *resp, json_t *values,
		    const struct error *err)
{
	response_log_error(req, err);
	int status = error_status(err->code);
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	html_form_page(&b, req->cfg, values, err);
	html_send(resp, &b, status);
	return status;
}
