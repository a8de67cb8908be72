/* detect.h — what kind of project a checkout is and how to build it (doc/sites.md):
 * the project's own settings win over skiff.json, which wins over detection (package.json
 * with a "build" script → Node; else a static site). */
#ifndef SKIFF_DETECT_H
#define SKIFF_DETECT_H

#include <jansson.h>
#include <stdbool.h>
#include "error.h"
#include "validate.h"

#define DETECT_FILE_MAX (1u << 20)   /* skiff.json, package.json */

enum detect_kind { DETECT_STATIC, DETECT_NODE };

/* What the user set on the project ("" = not set). */
struct detect_settings {
	const char *build_command;
	const char *install_command;
	const char *output_dir;
};

struct detect_result {
	enum detect_kind kind;
	char install_command[COMMAND_MAX + 1];   /* "" = no install step */
	char build_command[COMMAND_MAX + 1];     /* "" = no build step */
	char output_dir[OUTPUT_DIR_MAX + 1];     /* relative to the checkout; "" = the root */
	bool output_auto;                        /* output_dir is chosen after the build */
	bool has_skiff_json;
	/* skiff.json routing settings, for the manifest config */
	bool clean_urls;
	int trailing_slash;                      /* -1 unset, 0 false, 1 true */
	int spa;                                 /* -1 unset, 0 false, 1 true */
	json_t *redirects;                       /* skiff.json "redirects" (owned) or NULL */
	json_t *headers;                         /* skiff.json "headers" (owned) or NULL */
	/* where each command came from, for the log: "project", "skiff.json", "detected" */
	const char *install_from, *build_from, *output_from;
};

/* Inspects the checkout at repo (a directory skiff created). Files are opened without
 * following symlinks and read up to DETECT_FILE_MAX bytes. A malformed skiff.json or
 * invalid setting is an error (SKIFF_EINVALID, message for the build log). */
int detect_project(const char *repo, const struct detect_settings *user,
		   struct detect_result *out, struct error *err);
/* After the build: when output_auto, picks the output directory (Node: the first of dist/,
 * build/, out/, public/ that exists; static: public/ if present, else the root). */
int detect_output(const char *repo, struct detect_result *d, struct error *err);
/* The settings of a skiff.json document already parsed (for a deployment uploaded with the
 * deploy protocol): the same checks and messages as detect_project. */
int detect_skiff_config(json_t *cfg, struct detect_result *out, struct error *err);
void detect_result_dispose(struct detect_result *d);
/* "node" / "static" */
const char *detect_kind_name(enum detect_kind kind);

#endif
