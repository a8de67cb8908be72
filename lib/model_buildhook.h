/* model_buildhook.h — build hooks in Redis: secret URLs that queue a build of a chosen branch
 * of one project when POSTed to. The secret is shown once, at creation; Redis keeps only its
 * SHA-256 (buildhookhash:{sha256} → id), the hook itself (buildhook:{id}: project, name,
 * branch, created, last_used) and the project's list (project:{slug}:buildhooks). */
#ifndef SKIFF_MODEL_BUILDHOOK_H
#define SKIFF_MODEL_BUILDHOOK_H

#include <jansson.h>
#include "error.h"
#include "id.h"
#include "redis.h"
#include "validate.h"

#define BUILDHOOK_SECRET_LEN 32          /* base32 characters of the URL's last segment */
#define BUILDHOOK_NAME_MAX 64            /* bytes of a hook's name */
#define BUILDHOOK_PER_PROJECT_MAX 50     /* live build hooks of one project */

struct buildhook {
	char id[ID_LEN + 1];
	char project[SLUG_MAX + 1];
	char name[BUILDHOOK_NAME_MAX + 1];
	char branch[BRANCH_MAX + 1];       /* "" for the project's own branch */
	long long created;                 /* ms */
	long long last_used;               /* ms, or 0 when never triggered */
};

/* A fresh secret: 32 characters of base32 from getrandom. */
void model_buildhook_secret_new(char out[BUILDHOOK_SECRET_LEN + 1]);
/* 1 when s has the shape of a secret (length, alphabet). */
int model_buildhook_secret_valid(const char *s);
/* 1 when name is 1-64 bytes without control characters. */
int model_buildhook_name_valid(const char *name);

/* Stores h (all fields but last_used set by the caller) under the SHA-256 of secret.
 * SKIFF_ENOTFOUND when the project does not exist, SKIFF_ELIMIT past
 * BUILDHOOK_PER_PROJECT_MAX. */
int model_buildhook_create(struct redis *r, const struct buildhook *h, const char *secret,
			   struct error *err);
/* The project's hooks, oldest first, as API objects {id, name, branch, created, lastUsed}
 * (never the secret); *out is the caller's. */
int model_buildhook_list(struct redis *r, const char *slug, json_t **out, struct error *err);
/* Revokes hook id of project slug: SKIFF_ENOTFOUND when slug has no such hook. */
int model_buildhook_delete(struct redis *r, const char *slug, const char *id, struct error *err);
/* The hook whose secret this is, into *out, and records lastUsed. SKIFF_ENOTFOUND when no live
 * hook has it (revoked, never issued, or its project deleted and created again). */
int model_buildhook_lookup(struct redis *r, const char *secret, struct buildhook *out,
			   struct error *err);

#endif
