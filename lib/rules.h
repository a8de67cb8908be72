/* rules.h — a deployment's routing rules: Netlify `_redirects` and `_headers` files and
 * skiff.json's "redirects"/"headers", parsed once at build time into JSON for the manifest
 * (manifest.h "config"), and compiled at serve time into a matcher that does no parsing.
 *
 * Manifest JSON (what the parsers emit; an array of rule objects each):
 *   redirects: { "from": "/news/:year/\*", "to": "/blog/:year/:splat", "status": 301,
 *                "force": false, "query": { "id": ":id" },   (query optional)
 *                "line": 3 }
 *     from: a path starting with '/', segments may be ":name" placeholders, a trailing "*"
 *           matches the rest (":splat"). to: a path ("/x") or an absolute http(s) URL (only for
 *           redirects, statuses 301/302/303/307/308). status: 200 (rewrite within the
 *           deployment), 301, 302, 303, 307, 308, 404, 410 (the "to" page with that status).
 *   headers:   { "for": "/assets/\*", "set": [ ["Cache-Control", "max-age=60"], ... ],
 *                "unset": [ "X-Robots-Tag" ], "line": 7 }
 *
 * Input grammar:
 *   _redirects: one rule a line, `from [key=value ...] [to] [status[!]]`; '#' starts a
 *     comment line; blank lines ignored; default status 301. At most RULES_MAX rules and
 *     RULES_LINE_MAX bytes a line.
 *   _headers: a path pattern line (column 0), then indented `Name: value` lines and
 *     `! Name` lines (remove a header set by a broader rule). Names are tokens; values have
 *     no CR/LF/NUL; hop-by-hop headers, Content-Length and Set-Cookie are refused.
 *   skiff.json "redirects": an array of strings (each a `_redirects` line) or objects
 *     { "from"|"source", "to"|"destination", "status"|"statusCode", "force",
 *       "query": {k: v} }.
 *   skiff.json "headers": an array of objects { "for"|"source": pattern,
 *     "values": { Name: value | [values] } | "headers": [ {"key","value"} ],
 *     "unset": [ Name ] }.
 * Bad rules are reported through report(ctx, line, message) (line: 1-based line number, or
 * 1-based array index for JSON) and skipped; they never fail the build. */
#ifndef SKIFF_RULES_H
#define SKIFF_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "arena.h"
#include "error.h"

#define RULES_MAX 2000            /* rules in one file or array */
#define RULES_LINE_MAX 2000       /* bytes in one line */
#define RULES_FILE_MAX (1u << 20) /* bytes in one _redirects/_headers file */
#define RULES_HEADER_VALUE_MAX 2000

typedef void (*rules_report_fn)(void *ctx, unsigned line, const char *msg);

/* Each returns 0 and a new JSON array in *out (the caller's) even when lines were skipped;
 * negative only when the input as a whole is unusable (over RULES_FILE_MAX, not an array).
 * report may be NULL. */
int rules_redirects_parse(const char *text, size_t len, json_t **out, rules_report_fn report,
			  void *ctx);
int rules_headers_parse(const char *text, size_t len, json_t **out, rules_report_fn report,
			void *ctx);
int rules_redirects_from_json(json_t *redirects, json_t **out, rules_report_fn report, void *ctx);
int rules_headers_from_json(json_t *headers, json_t **out, rules_report_fn report, void *ctx);

/* 1 when name/value may be set by a _headers rule (token name, no CR/LF/NUL, not hop-by-hop,
 * not Content-Length, Set-Cookie, ...). */
int rules_header_allowed(const char *name, const char *value);

#endif
