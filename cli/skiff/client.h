/* client.h — what the commands of the skiff command-line client share: the server and token in
 * use (the configuration) and one HTTP call with a JSON answer. */
#ifndef SKIFF_CLI_CLIENT_H
#define SKIFF_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"

#define CLI_URL_MAX 2048          /* bytes of the server URL */
#define CLI_TOKEN_MAX 512         /* bytes of a token */
#define CLI_ANSWER_MAX (16u << 20) /* bytes of one JSON answer (a 20,000-file required list fits) */
#define CLI_CONFIG_MAX 65536      /* bytes of ~/.config/skiff/config.json */

struct cli {
	char url[CLI_URL_MAX];        /* without a trailing '/' */
	char token[CLI_TOKEN_MAX];    /* "" when none */
	bool json;                    /* --json: one JSON object on stdout */
};

/* SKIFF_URL and SKIFF_TOKEN win over ~/.config/skiff/config.json; a missing URL is an error. */
int cli_config_load(struct cli *c, struct error *err);
/* Path of the configuration file into out (~/.config/skiff/config.json, $XDG_CONFIG_HOME). */
int cli_config_path(char *dir, size_t dirsize, char *file, size_t filesize, struct error *err);

struct buf;
/* One request: its answer's bytes appended to in (at most in->max); returns the HTTP status,
 * or a negative error for a transport failure. */
long cli_request(const struct cli *c, const char *method, const char *path, json_t *body,
		 struct buf *in, struct error *err);
/* One request: method, path under the URL ("/api/…"), an optional JSON body. *answer (the
 * caller's) is the parsed JSON answer, or NULL. Returns the HTTP status, or a negative error
 * for a transport failure. */
long cli_call(const struct cli *c, const char *method, const char *path, json_t *body,
	      json_t **answer, struct error *err);
/* Turns a non-2xx answer into err: the server's code and message, or the status alone. */
int cli_answer_error(long status, json_t *answer, struct error *err);
/* 0 for a 2xx status; else negative: a transport failure (status, err already set by the
 * call) or the answer's error as cli_answer_error puts it. */
int cli_answer_check(long status, json_t *answer, struct error *err);
/* Prints err on stderr (or as {"error":…} on stdout with --json); returns the exit status. */
int cli_fail(const struct cli *c, const struct error *err);
/* A slug or deployment id as a command line may name it: lowercase letters, digits and '-',
 * 1–63 bytes (the server validates it exactly). */
bool cli_name_ok(const char *s);
/* The project of the credentials in use (GET /api/whoami), when they are a deploy token,
 * into slug[size]; no_project otherwise. */
int cli_token_project(const struct cli *c, char *slug, size_t size, struct error *err);
/* Prints an answer as compact JSON and a newline. */
void cli_print_json(json_t *v);

#endif
