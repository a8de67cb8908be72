/* client.c — the server and token the CLI talks to, and one JSON call over libcurl. */
#include "client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

static int cli_copy(char *dst, size_t size, const char *src, const char *what, struct error *err)
{
	size_t n = strlen(src);
	if (n >= size)
		return error_set(err, SKIFF_ELIMIT, "config", "%s is longer than %zu bytes", what, size - 1);
	memcpy(dst, src, n + 1);
	return 0;
}

int cli_config_path(char *dir, size_t dirsize, char *file, size_t filesize, struct error *err)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;
	if (xdg && xdg[0] == '/')
		n = snprintf(dir, dirsize, "%s/skiff", xdg);
	else if (home && home[0])
		n = snprintf(dir, dirsize, "%s/.config/skiff", home);
	else
		return error_set(err, SKIFF_EINVALID, "config", "neither HOME nor XDG_CONFIG_HOME is set");
	if (n < 0 || (size_t)n >= dirsize)
		return error_set(err, SKIFF_ELIMIT, "config", "the configuration directory's path is too long");
	n = snprintf(file, filesize, "%s/config.json", dir);
	if (n < 0 || (size_t)n >= filesize)
		return error_set(err, SKIFF_ELIMIT, "config", "the configuration file's path is too long");
	return 0;
}

int cli_config_load(struct cli *c, struct error *err)
{
	const char *url = getenv("SKIFF_URL");
	const char *token = getenv("SKIFF_TOKEN");
	json_t *root = NULL;
	int rc = 0;
	if (!url || !url[0] || !token || !token[0]) {
		char dir[4096], file[4096];
		json_error_t jerr;
		if ((rc = cli_config_path(dir, sizeof(dir), file, sizeof(file), err)) < 0)
			goto out;
		FILE *f = fopen(file, "r");
		if (f) {
			root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
			fclose(f);
			if (!root || !json_is_object(root)) {
				rc = error_set(err, SKIFF_EINVALID, "config", "%s is not a JSON object: %s",
					       file, root ? "" : jerr.text);
				goto out;
			}
			if (!url || !url[0])
				url = json_string_value(json_object_get(root, "url"));
			if (!token || !token[0])
				token = json_string_value(json_object_get(root, "token"));
		}
	}
	if (!url || !url[0]) {
		rc = error_set(err, SKIFF_EINVALID, "no_server",
			       "no server: run `skiff login URL` or set SKIFF_URL and SKIFF_TOKEN");
		goto out;
	}
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
		rc = error_set(err, SKIFF_EINVALID, "config", "the server URL must start with https:// or http://");
		goto out;
	}
	if ((rc = cli_copy(c->url, sizeof(c->url), url, "the server URL", err)) < 0 ||
	    (rc = cli_copy(c->token, sizeof(c->token), token ? token : "", "the token", err)) < 0)
		goto out;
	for (size_t n = strlen(c->url); n > 0 && c->url[n - 1] == '/'; n--)
		c->url[n - 1] = '\0';
	for (const char *p = c->token; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			rc = error_set(err, SKIFF_EINVALID, "config", "the token contains spaces or control characters");
			goto out;
		}
out:
	json_decref(root);
	return rc;
}

long cli_request(const struct cli *c, const char *method, const char *path, json_t *body,
		 struct buf *in, struct error *err)
{
	struct buf url = BUF_INIT(CLI_URL_MAX * 2), auth = BUF_INIT(CLI_TOKEN_MAX + 32);
	struct curl_slist *hdr = NULL;
	char *text = NULL;
	long status = 0;
	CURL *h = curl_easy_init();
	if (!h)
		abort();
	buf_puts(&url, c->url);
	buf_puts(&url, path);
	if (url.err) {
		status = error_set(err, SKIFF_ELIMIT, "url", "the request URL is too long");
		goto out;
	}
	if (c->token[0]) {
		buf_printf(&auth, "Authorization: Bearer %s", c->token);
		hdr = curl_slist_append(hdr, buf_cstr(&auth));
	}
	hdr = curl_slist_append(hdr, "Accept: application/json");
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text)
			abort();
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
	}
	curl_easy_setopt(h, CURLOPT_URL, buf_cstr(&url));
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_sink); /* over CLI_ANSWER_MAX: a write error */
	curl_easy_setopt(h, CURLOPT_WRITEDATA, in);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "skiff-cli/" SKIFF_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		status = error_set(err, SKIFF_EUPSTREAM, "network", "%s %s: %s", method, buf_cstr(&url),
				   in->err ? "the answer is too large" : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	free(text);
	buf_dispose(&url);
	buf_dispose(&auth);
	return status;
}

long cli_call(const struct cli *c, const char *method, const char *path, json_t *body,
	      json_t **answer, struct error *err)
{
	struct buf in = BUF_INIT(CLI_ANSWER_MAX);
	long status = cli_request(c, method, path, body, &in, err);
	*answer = status > 0 && in.len ? json_loadb(in.data, in.len, 0, NULL) : NULL;
	buf_dispose(&in);
	return status;
}

int cli_answer_error(long status, json_t *answer, struct error *err)
{
	json_t *e = json_object_get(answer, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (code && msg)
		return error_set(err, SKIFF_EUPSTREAM, code, "%s (HTTP %ld %s)", msg, status, code);
	return error_set(err, SKIFF_EUPSTREAM, "http_status", "the server answered HTTP %ld%s", status,
			 answer ? "" : " without a JSON body");
}

int cli_answer_check(long status, json_t *answer, struct error *err)
{
	if (status < 0)
		return (int)status;
	if (status < 200 || status > 299)
		return cli_answer_error(status, answer, err);
	return 0;
}

int cli_fail(const struct cli *c, const struct error *err)
{
	if (c && c->json) {
		json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", err->name[0] ? err->name : "error",
				      "message", err->message);
		cli_print_json(o);
		json_decref(o);
	}
	fprintf(stderr, "skiff: %s\n", err->message);
	return 1;
}

void cli_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
}

bool cli_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 63 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int cli_token_project(const struct cli *c, char *slug, size_t size, struct error *err)
{
	json_t *answer = NULL;
	long status = cli_call(c, "GET", "/api/whoami", NULL, &answer, err);
	int rc = cli_answer_check(status, answer, err);
	const char *p = json_string_value(json_object_get(json_object_get(answer, "data"), "project"));
	if (rc == 0 && (!p || !cli_name_ok(p) || strlen(p) >= size))
		rc = error_set(err, SKIFF_EINVALID, "no_project",
			       "say which project: --project SLUG (or log in with its deploy token)");
	if (rc == 0)
		memcpy(slug, p, strlen(p) + 1);
	json_decref(answer);
	return rc;
}
