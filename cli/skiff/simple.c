/* simple.c — the commands that are one API call: ls, rollback, cancel. */
#include "simple.h"

#include <stdio.h>
#include <string.h>
#include "buf.h"
#include "client.h"

static const char *simple_help(const char *cmd)
{
	if (strcmp(cmd, "ls") == 0)
		return "usage: skiff ls [--project SLUG] [--json]\n\nLists the projects, or the newest "
		       "deployments of one project.";
	if (strcmp(cmd, "rollback") == 0)
		return "usage: skiff rollback SLUG ID [--json]\n\nMakes the earlier ready deployment ID "
		       "of project SLUG current again (needs admin credentials).";
	return "usage: skiff cancel ID [--json]\n\nStops a queued or running deployment.";
}

int cli_simple(const char *cmd, int argc, char **argv)
{
	struct cli c = { 0 };
	struct error err = { 0 };
	int rc;
	struct buf path = BUF_INIT(512);
	json_t *answer = NULL, *body = NULL;
	const char *arg[2] = { NULL, NULL }, *project = NULL, *method = "GET";
	int nargs = 0, want = strcmp(cmd, "rollback") == 0 ? 2 : strcmp(cmd, "ls") == 0 ? 0 : 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			puts(simple_help(cmd));
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			c.json = true;
		} else if (strcmp(cmd, "ls") == 0 && strcmp(argv[i], "--project") == 0 && i + 1 < argc) {
			project = argv[++i];
		} else if (argv[i][0] != '-' && nargs < want) {
			arg[nargs++] = argv[i];
		} else {
			fprintf(stderr, "%s\n", simple_help(cmd));
			return 2;
		}
	}
	if (nargs != want) {
		fprintf(stderr, "%s\n", simple_help(cmd));
		return 2;
	}
	for (int i = 0; i < nargs; i++)
		if (!cli_name_ok(arg[i])) {
			error_set(&err, SKIFF_EINVALID, "invalid_name", "'%.80s' is not a slug or deployment id", arg[i]);
			goto fail;
		}
	if (project && !cli_name_ok(project)) {
		error_set(&err, SKIFF_EINVALID, "invalid_slug", "'%.80s' is not a slug", project);
		goto fail;
	}
	if (cli_config_load(&c, &err) < 0)
		goto fail;
	if (strcmp(cmd, "ls") == 0) {
		if (project)
			buf_printf(&path, "/api/projects/%s/deployments?limit=20", project);
		else
			buf_puts(&path, "/api/projects");
	} else if (strcmp(cmd, "rollback") == 0) {
		buf_printf(&path, "/api/projects/%s/rollback", arg[0]);
		body = json_pack("{s:s}", "deploymentId", arg[1]);
		method = "POST";
	} else {
		buf_printf(&path, "/api/deployments/%s/cancel", arg[0]);
		body = json_object();
		method = "POST";
	}
	long status = cli_call(&c, method, buf_cstr(&path), body, &answer, &err);
	if (cli_answer_check(status, answer, &err) < 0)
		goto fail;
	json_t *data = json_object_get(answer, "data");
	if (c.json) {
		cli_print_json(answer);
	} else if (strcmp(cmd, "ls") == 0) {
		size_t i;
		json_t *v;
		json_array_foreach(data, i, v) {
			if (project)
				printf("%-14s %-9s %s\n", json_string_value(json_object_get(v, "id")),
				       json_string_value(json_object_get(v, "state")),
				       json_string_value(json_object_get(v, "url")));
			else
				printf("%-24s %s\n", json_string_value(json_object_get(v, "slug")),
				       json_string_value(json_object_get(v, "url")));
		}
	} else {
		printf("%s: ok\n", cmd);
	}
	rc = 0;
	goto out;
fail:
	rc = cli_fail(&c, &err);
out:
	json_decref(answer);
	json_decref(body);
	buf_dispose(&path);
	return rc;
}
