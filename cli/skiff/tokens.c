/* tokens.c — `skiff tokens SLUG [create NAME [--preview] | revoke ID]`: a project's deploy
 * tokens, listed, created (shown once) or revoked; admin credentials only. */
#include "tokens.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "client.h"

#define TOKENS_USAGE "usage: skiff tokens SLUG [create NAME [--preview] | revoke ID] [--json]"

int cli_tokens(int argc, char **argv)
{
	struct cli c = { 0 };
	struct error err = { 0 };
	int rc;
	struct buf path = BUF_INIT(512);
	json_t *answer = NULL, *body = NULL;
	const char *pos[3] = { NULL, NULL, NULL }, *method = "GET";
	bool preview = false;
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			puts(TOKENS_USAGE "\n\n"
			     "Lists the deploy tokens of project SLUG, creates one (printed once: store it\n"
			     "as SKIFF_TOKEN in CI; --preview: it can only make preview deployments) or\n"
			     "revokes one by its id. Needs the server's admin credentials.");
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			c.json = true;
		} else if (!strcmp(argv[i], "--preview")) {
			preview = true;
		} else if (argv[i][0] != '-' && n < 3) {
			pos[n++] = argv[i];
		} else {
			fputs(TOKENS_USAGE "\n", stderr);
			return 2;
		}
	}
	bool create = n == 3 && !strcmp(pos[1], "create"), revoke = n == 3 && !strcmp(pos[1], "revoke");
	if (!(n == 1 || create || revoke) || (preview && !create)) {
		fputs(TOKENS_USAGE "\n", stderr);
		return 2;
	}
	if (strlen(pos[0]) > 63 || strspn(pos[0], "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(pos[0]) ||
	    (revoke && strspn(pos[2], "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(pos[2]))) {
		error_set(&err, SKIFF_EINVALID, "invalid_name", "'%.80s' is not a %s", revoke ? pos[2] : pos[0],
			  revoke ? "token id" : "slug");
		goto fail;
	}
	if (cli_config_load(&c, &err) < 0)
		goto fail;
	buf_printf(&path, "/api/projects/%s/tokens", pos[0]);
	if (create) {
		body = json_pack("{s:s,s:s}", "name", pos[2], "scope", preview ? "preview" : "deploy");
		method = "POST";
	} else if (revoke) {
		buf_printf(&path, "/%s", pos[2]);
		method = "DELETE";
	}
	long status = cli_call(&c, method, buf_cstr(&path), body, &answer, &err);
	if (cli_answer_check(status, answer, &err) < 0)
		goto fail;
	if (c.json) {
		cli_print_json(answer);
	} else if (create) {
		printf("%s\n", json_string_value(json_object_get(answer, "token")));
		fprintf(stderr, "skiff: token %s (%s) created; it is shown only this once\n",
			json_string_value(json_object_get(answer, "id")),
			json_string_value(json_object_get(answer, "scope")));
	} else if (revoke) {
		printf("revoked %s\n", pos[2]);
	} else {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(answer, "data"), i, v) {
			char when[32] = "never";
			json_t *used = json_object_get(v, "lastUsed");
			time_t t = (time_t)(json_integer_value(used) / 1000);
			struct tm tm;
			if (json_is_integer(used) && gmtime_r(&t, &tm))
				strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf("%-28s %-8s last used %-20s %s\n", json_string_value(json_object_get(v, "id")),
			       json_string_value(json_object_get(v, "scope")), when,
			       json_string_value(json_object_get(v, "name")));
		}
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
