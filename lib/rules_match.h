/* rules_match.h — the serve side of a deployment's rules: compiled once per manifest from the
 * arrays of rules.h, then matched against every request's path. */
#ifndef SKIFF_RULES_MATCH_H
#define SKIFF_RULES_MATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "arena.h"
#include "error.h"

struct rules;

/* Compiles config.redirects and config.headers (the arrays above; either may be absent).
 * Rules the serve side cannot use are dropped (they were reported at build time). */
int rules_compile(json_t *config, struct rules **out, struct error *err);
void rules_free(struct rules *r);
size_t rules_memory(const struct rules *r);

struct rules_redirect {
	int status;          /* 200, 301, 302, 303, 307, 308, 404, 410 */
	bool force;
	bool external;       /* target is an absolute URL */
	const char *target;  /* expanded target, from the arena; query string appended per rule */
	unsigned line;
};

/* The first redirect rule matching path (normalised, decoded; trailing slash ignored) and
 * query (raw, "" when none), starting at rule index *pos. Returns 1 and fills out (advancing
 * *pos past the match), 0 when no rule matches. */
int rules_redirect_match(const struct rules *r, const char *path, const char *query,
			 size_t *pos, struct arena *arena, struct rules_redirect *out);

struct rules_header {
	const char *name;
	const char *value;   /* values of repeated names joined with ", " */
};

/* Headers of every rule whose pattern matches path, in rule order: repeated names joined,
 * "! Name" removing what broader (earlier) rules set. Returns the count; *out from arena. */
size_t rules_headers_match(const struct rules *r, const char *path, struct arena *arena,
			   struct rules_header **out);

#endif
