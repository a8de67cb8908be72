/* logs.c — `skiff logs [-f] ID`: the build log as text, or followed live over Server-Sent
 * Events (/events/{id}) until its end entry, resuming with Last-Event-ID when cut. */
#include "logs.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "client.h"

#define LOGS_LINE_MAX 65536     /* bytes of one SSE field line (the bridge sends at most ~25 KiB) */
#define LOGS_EVENT_MAX (1u << 20) /* bytes of one event's data */
#define LOGS_RECONNECTS 5       /* a cut stream is resumed this often */

struct logs_sse {
	const struct cli *cli;
	CURL *h;
	struct buf line, data, event;
	char last_id[128];
	int end;                    /* 0 while following; 1 ready; 2 another final state */
	char state[32];             /* the last state seen */
};

/* One complete event: print its text; the end entry stops the follow. */
static void logs_event(struct logs_sse *s)
{
	const char *ev = s->event.len ? buf_cstr(&s->event) : "message";
	json_t *d = json_loadb(buf_cstr(&s->data), s->data.len, 0, NULL);
	const char *m = json_string_value(json_object_get(d, "m"));
	const char *state = json_string_value(json_object_get(d, "state"));
	if (s->cli->json) {
		if (d) {
			json_object_set_new(d, "event", json_string(ev));
			cli_print_json(d);
		}
	} else if (!strcmp(ev, "line") && m) {
		printf("%s\n", m);
	} else if (!strcmp(ev, "state") && m) {
		printf("==> %s\n", m);
		snprintf(s->state, sizeof(s->state), "%s", state ? state : "");
	} else if (!strcmp(ev, "end") && m && (!state || strcmp(state, s->state) != 0)) {
		printf("==> %s\n", m);    /* the end repeats the last state line; print it once */
	}
	if (!strcmp(ev, "end")) {
		snprintf(s->state, sizeof(s->state), "%s", state ? state : "");
		s->end = state && !strcmp(state, "ready") ? 1 : 2;
	}
	fflush(stdout);
	json_decref(d);
	buf_reset(&s->data);
	buf_reset(&s->event);
}

/* One field line of the stream (without its newline). */
static void logs_field(struct logs_sse *s, const char *l, size_t n)
{
	if (n == 0) {
		if (s->data.len || s->event.len)
			logs_event(s);
		return;
	}
	const char *colon = memchr(l, ':', n);
	size_t klen = colon ? (size_t)(colon - l) : n;
	const char *v = colon ? colon + 1 : l + n;
	size_t vlen = n - (size_t)(v - l);
	if (vlen && *v == ' ')
		v++, vlen--;
	if (klen == 4 && !memcmp(l, "data", 4)) {
		if (s->data.len)
			buf_putc(&s->data, '\n');
		buf_append(&s->data, v, vlen);
	} else if (klen == 5 && !memcmp(l, "event", 5)) {
		buf_reset(&s->event);
		buf_append(&s->event, v, vlen);
	} else if (klen == 2 && !memcmp(l, "id", 2) && vlen < sizeof(s->last_id)) {
		memcpy(s->last_id, v, vlen);
		s->last_id[vlen] = '\0';
	}
}

static size_t logs_sse_write(char *p, size_t size, size_t n, void *ctx)
{
	struct logs_sse *s = ctx;
	long status = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return buf_append(&s->data, p, size * n) < 0 ? 0 : size * n;   /* the error body */
	for (size_t i = 0; i < size * n && !s->end; i++) {
		if (p[i] == '\n') {
			if (s->line.len && s->line.data[s->line.len - 1] == '\r')
				s->line.data[--s->line.len] = '\0';
			logs_field(s, buf_cstr(&s->line), s->line.len);
			buf_reset(&s->line);
		} else if (buf_putc(&s->line, p[i]) < 0) {
			return 0;
		}
	}
	return s->end ? 0 : size * n;    /* 0 after the end entry: stop reading */
}

static int logs_follow(const struct cli *c, const char *id, struct error *err)
{
	struct logs_sse s = { .cli = c };
	struct buf url = BUF_INIT(CLI_URL_MAX * 2), auth = BUF_INIT(CLI_TOKEN_MAX + 32),
		   resume = BUF_INIT(200);
	int rc = 0;
	buf_init(&s.line, LOGS_LINE_MAX);
	buf_init(&s.data, LOGS_EVENT_MAX);
	buf_init(&s.event, 64);
	buf_printf(&url, "%s/events/%s", c->url, id);
	if (c->token[0])
		buf_printf(&auth, "Authorization: Bearer %s", c->token);
	for (int attempt = 0; !s.end; attempt++) {
		struct curl_slist *hdr = NULL;
		long status = 0;
		if (!(s.h = curl_easy_init()))
			abort();
		hdr = curl_slist_append(hdr, "Accept: text/event-stream");
		if (auth.len)
			hdr = curl_slist_append(hdr, buf_cstr(&auth));
		if (s.last_id[0]) {
			buf_reset(&resume);
			buf_printf(&resume, "Last-Event-ID: %s", s.last_id);
			hdr = curl_slist_append(hdr, buf_cstr(&resume));
		}
		buf_reset(&s.line);
		buf_reset(&s.data);
		buf_reset(&s.event);
		curl_easy_setopt(s.h, CURLOPT_URL, buf_cstr(&url));
		curl_easy_setopt(s.h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(s.h, CURLOPT_WRITEFUNCTION, logs_sse_write);
		curl_easy_setopt(s.h, CURLOPT_WRITEDATA, &s);
		curl_easy_setopt(s.h, CURLOPT_USERAGENT, "skiff-cli/" SKIFF_VERSION);
		curl_easy_setopt(s.h, CURLOPT_CONNECTTIMEOUT, 30L);
		curl_easy_setopt(s.h, CURLOPT_PROTOCOLS_STR, "http,https");
		CURLcode cc = curl_easy_perform(s.h);
		curl_easy_getinfo(s.h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(s.h);
		curl_slist_free_all(hdr);
		if (s.end)
			break;
		if (status != 0 && status != 200) {
			json_t *a = json_loadb(buf_cstr(&s.data), s.data.len, 0, NULL);
			rc = cli_answer_error(status, a, err);
			json_decref(a);
			goto out;
		}
		if (attempt >= LOGS_RECONNECTS) {
			rc = error_set(err, SKIFF_EUPSTREAM, "network", "the event stream of %s ended %d times: %s",
				       id, attempt + 1, curl_easy_strerror(cc));
			goto out;
		}
		sleep(1);
	}
	if (s.end != 1)
		rc = error_set(err, SKIFF_EBUILD, "not_ready", "deployment %s ended %s", id, s.state);
out:
	buf_dispose(&s.line);
	buf_dispose(&s.data);
	buf_dispose(&s.event);
	buf_dispose(&url);
	buf_dispose(&auth);
	buf_dispose(&resume);
	return rc;
}

int cli_logs(int argc, char **argv)
{
	struct cli c = { 0 };
	struct error err = { 0 };
	struct buf path = BUF_INIT(256);
	const char *id = NULL;
	bool follow = false;
	json_t *answer = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			puts("usage: skiff logs [-f] ID [--json]\n\n"
			     "Prints the build log of deployment ID. -f follows it live until the build\n"
			     "ends; the exit status is then 0 only when the deployment became ready.\n"
			     "With --json and -f, one JSON object per event.");
			return 0;
		} else if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow")) {
			follow = true;
		} else if (!strcmp(argv[i], "--json")) {
			c.json = true;
		} else if (!id && argv[i][0] != '-') {
			id = argv[i];
		} else {
			fputs("usage: skiff logs [-f] ID [--json]\n", stderr);
			return 2;
		}
	}
	if (!id) {
		fputs("usage: skiff logs [-f] ID [--json]\n", stderr);
		return 2;
	}
	if (strlen(id) > 63 || strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(id)) {
		error_set(&err, SKIFF_EINVALID, "invalid_deployment_id", "'%.80s' is not a deployment id", id);
		goto fail;
	}
	if (cli_config_load(&c, &err) < 0)
		goto fail;
	if (follow) {
		if (logs_follow(&c, id, &err) < 0)
			goto fail;
		buf_dispose(&path);
		return 0;
	}
	struct buf text = BUF_INIT(CLI_ANSWER_MAX * 4);
	buf_printf(&path, "/api/deployments/%s/log", id);
	long status = cli_request(&c, "GET", buf_cstr(&path), NULL, &text, &err);
	if (status == 200) {
		if (c.json) {
			json_t *o = json_pack("{s:s,s:s%}", "deploymentId", id, "log", buf_cstr(&text), text.len);
			cli_print_json(o);
			json_decref(o);
		} else {
			fwrite(buf_cstr(&text), 1, text.len, stdout);
		}
		buf_dispose(&text);
		buf_dispose(&path);
		return 0;
	}
	if (status > 0) {
		answer = json_loadb(buf_cstr(&text), text.len, 0, NULL);
		cli_answer_error(status, answer, &err);
		json_decref(answer);
	}
	buf_dispose(&text);
fail:
	buf_dispose(&path);
	return cli_fail(&c, &err);
}
