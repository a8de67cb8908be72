/* domains.c — `skiff domains [ls] | add NAME | rm NAME | primary NAME|--none
 * [--redirect-project|--no-redirect-project]`, of the project named by --project SLUG (or of
 * the deploy token's own project): lists the custom domains with their state and which is
 * the primary, adds and removes one, chooses the primary. */
#include "domains.h"

#include <stdio.h>
#include <string.h>
#include "buf.h"
#include "client.h"

#define DOMAINS_USAGE                                                                          \
	"usage: skiff domains [ls] [--project SLUG] [--json]\n"                                \
	"       skiff domains add NAME [--project SLUG] [--json]\n"                            \
	"       skiff domains rm NAME [--project SLUG] [--json]\n"                             \
	"       skiff domains primary NAME|--none [--redirect-project|--no-redirect-project]\n" \
	"                     [--project SLUG] [--json]"
#define DOMAINS_NAME_MAX 253

/* A domain name as a command line may give it: 1-253 bytes of a-z, 0-9, '-' and '.' (the
 * server checks the rest and says why). */
static bool domains_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= DOMAINS_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

/* Prints the project's domains: name, state, and what it does (primary, redirects to the
 * primary, or the last check's reason). */
static void domains_print(json_t *list, const char *primary)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *state = json_string_value(json_object_get(v, "state"));
		const char *reason = json_string_value(json_object_get(v, "reason"));
		bool serves = state && (!strcmp(state, "verified") || !strcmp(state, "active"));
		char what[DOMAINS_NAME_MAX + 16] = "";
		if (primary && name && !strcmp(name, primary))
			snprintf(what, sizeof(what), "primary");
		else if (primary && serves)
			snprintf(what, sizeof(what), "-> %s", primary);
		else if (reason)
			snprintf(what, sizeof(what), "%.200s", reason);
		printf("%-40s %-9s %s\n", name ? name : "?", state ? state : "?", what);
	}
	if (!json_array_size(list))
		fputs("no custom domains (skiff domains add NAME)\n", stderr);
}

int cli_domains(int argc, char **argv)
{
	struct cli c = { 0 };
	struct error err = { 0 };
	int rc;
	struct buf path = BUF_INIT(1024);
	json_t *answer = NULL, *project = NULL, *body = NULL;
	const char *pos[2] = { NULL, NULL }, *slug = NULL, *method = "GET";
	int n = 0, redirect = -1;
	bool none = false;
	char own[64];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			puts(DOMAINS_USAGE "\n\n"
			     "Lists the custom domains of a project with their state, adds one (then point\n"
			     "its DNS at the server; it serves once skiff has verified it), removes one, or\n"
			     "makes one the primary: every other verified domain of the project then\n"
			     "redirects there (308), and with --redirect-project the project's own\n"
			     "{slug}.{domain} address too. --none: no primary. Adding, removing and the\n"
			     "primary need the server's admin credentials.");
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			c.json = true;
		} else if ((!strcmp(argv[i], "--project") || !strcmp(argv[i], "-p")) && i + 1 < argc) {
			slug = argv[++i];
		} else if (!strcmp(argv[i], "--none")) {
			none = true;
		} else if (!strcmp(argv[i], "--redirect-project")) {
			redirect = 1;
		} else if (!strcmp(argv[i], "--no-redirect-project")) {
			redirect = 0;
		} else if (argv[i][0] != '-' && n < 2) {
			pos[n++] = argv[i];
		} else {
			fputs(DOMAINS_USAGE "\n", stderr);
			return 2;
		}
	}
	const char *sub = n ? pos[0] : "ls", *name = n > 1 ? pos[1] : NULL;
	bool ls = !strcmp(sub, "ls"), primary = !strcmp(sub, "primary");
	bool ok = (ls && !name) || ((!strcmp(sub, "add") || !strcmp(sub, "rm")) && name) ||
		  (primary && (name ? !none : (none || redirect >= 0)));
	if (!ok || ((none || redirect >= 0) && !primary)) {
		fputs(DOMAINS_USAGE "\n", stderr);
		return 2;
	}
	if (name && !domains_name_ok(name)) {
		error_set(&err, SKIFF_EINVALID, "invalid_domain",
			  "'%.80s' is not a domain name (lower-case a-z, 0-9, '-' and '.'; an IDN "
			  "in its xn-- form)", name);
		goto fail;
	}
	if (slug && !cli_name_ok(slug)) {
		error_set(&err, SKIFF_EINVALID, "invalid_slug", "'%.80s' is not a slug", slug);
		goto fail;
	}
	if (cli_config_load(&c, &err) < 0)
		goto fail;
	if (!slug) {
		if (cli_token_project(&c, own, sizeof(own), &err) < 0)
			goto fail;
		slug = own;
	}
	buf_printf(&path, "/api/projects/%s/domains", slug);
	if (!strcmp(sub, "add")) {
		body = json_pack("{s:s}", "name", name);
		method = "POST";
	} else if (!strcmp(sub, "rm")) {
		buf_printf(&path, "/%s", name);
		method = "DELETE";
	} else if (primary) {
		buf_puts(&path, "/primary");
		body = json_object();
		if (name || none)
			json_object_set_new(body, "primaryDomain", name ? json_string(name) : json_null());
		if (redirect >= 0)
			json_object_set_new(body, "redirectProjectAddress", json_boolean(redirect));
		method = "POST";
	}
	long status = cli_call(&c, method, buf_cstr(&path), body, &answer, &err);
	if (cli_answer_check(status, answer, &err) < 0)
		goto fail;
	json_t *data = json_object_get(answer, "data");
	if (ls) {
		/* the primary is a setting of the project */
		buf_reset(&path);
		buf_printf(&path, "/api/projects/%s", slug);
		status = cli_call(&c, "GET", buf_cstr(&path), NULL, &project, &err);
		if (cli_answer_check(status, project, &err) < 0)
			goto fail;
		json_t *pd = json_object_get(project, "data");
		if (c.json) {
			json_t *o = json_pack("{s:O,s:O,s:O}", "data", data, "primaryDomain",
					      json_object_get(pd, "primaryDomain"),
					      "redirectProjectAddress",
					      json_object_get(pd, "redirectProjectAddress"));
			cli_print_json(o);
			json_decref(o);
		} else {
			domains_print(data, json_string_value(json_object_get(pd, "primaryDomain")));
			if (json_is_true(json_object_get(pd, "redirectProjectAddress")))
				printf("%s's own address also redirects to the primary\n", slug);
		}
	} else if (c.json) {
		cli_print_json(answer);
	} else if (!strcmp(sub, "add")) {
		printf("added %s (pending): point its DNS at the server; skiff checks http://%s%s\n",
		       name, name, json_string_value(json_object_get(data, "verificationPath")));
	} else if (!strcmp(sub, "rm")) {
		printf("removed %s\n", name);
	} else {
		const char *p = json_string_value(json_object_get(data, "primaryDomain"));
		printf("primary domain of %s: %s%s\n", slug, p ? p : "none",
		       p && json_is_true(json_object_get(data, "redirectProjectAddress"))
			       ? " (its own address redirects there too)" : "");
	}
	rc = 0;
	goto out;
fail:
	rc = cli_fail(&c, &err);
out:
	json_decref(answer);
	json_decref(project);
	json_decref(body);
	buf_dispose(&path);
	return rc;
}
