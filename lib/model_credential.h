/* model_credential.h — a per-project credential in Redis, shown once at creation and stored
 * only as its SHA-256: a record {record}:{id} (project, name, the kind's own field, hash,
 * created, last_used, project_created), an index {index}:{sha256} → id, and the project's
 * list project:{slug}:{list} (a zset of ids by creation time). Deploy tokens
 * (model_token.c) and build hooks (model_buildhook.c) are its two kinds. */
#ifndef SKIFF_MODEL_CREDENTIAL_H
#define SKIFF_MODEL_CREDENTIAL_H

#include <jansson.h>
#include <string.h>
#include "error.h"
#include "id.h"
#include "redis.h"
#include "validate.h"

#define CREDENTIAL_NAME_MAX 64          /* bytes of a credential's name */

/* What makes one kind: its keys, its own field, its cap and its words in errors. */
struct model_credential_kind {
	const char *record;             /* "token": the record is token:{id} */
	const char *index;              /* "tokenhash": tokenhash:{sha256} → id */
	const char *list;               /* "tokens": project:{slug}:tokens */
	const char *field;              /* the kind's own field, in Redis and in JSON: "scope" */
	const char *noun;               /* "token", in messages */
	const char *too_many;           /* error code past the cap: "too_many_tokens" */
	const char *unknown;            /* error code of a revoke of no such credential */
	const char *invalid;            /* error code and message of a lookup that finds none */
	const char *invalid_message;
	int per_project_max;            /* live credentials of one project */
	int touch_ms;                   /* last_used is written at most this often (0: always) */
};

struct credential {
	char id[ID_LEN + 1];
	char project[SLUG_MAX + 1];
	char name[CREDENTIAL_NAME_MAX + 1];
	long long created;              /* ms */
	long long last_used;            /* ms, or 0 when never used */
};

/* Copies what a kind's own record shares with struct credential (id, project, name, created,
 * last_used) from *src to *dst, either way; the arrays' sizes must match. */
#define MODEL_CREDENTIAL_COPY(dst, src)                                                     \
	do {                                                                                \
		_Static_assert(sizeof((dst)->id) == sizeof((src)->id) &&                    \
				       sizeof((dst)->project) == sizeof((src)->project) &&  \
				       sizeof((dst)->name) == sizeof((src)->name),          \
			       "a kind's record shares a credential's sizes");              \
		memcpy((dst)->id, (src)->id, sizeof((dst)->id));                            \
		memcpy((dst)->project, (src)->project, sizeof((dst)->project));             \
		memcpy((dst)->name, (src)->name, sizeof((dst)->name));                      \
		(dst)->created = (src)->created;                                            \
		(dst)->last_used = (src)->last_used;                                        \
	} while (0)

/* 1 when name is 1-64 bytes without control characters. */
int model_credential_name_valid(const char *name);
/* Stores c (id, project, name, created) and the kind's field under the SHA-256 of secret.
 * SKIFF_ENOTFOUND when the project does not exist, SKIFF_ELIMIT past the kind's cap. */
int model_credential_create(struct redis *r, const struct model_credential_kind *k,
			    const struct credential *c, const char *field, const char *secret,
			    struct error *err);
/* The project's credentials, oldest first, as API objects {id, name, <field>, created,
 * lastUsed} (never the secret or its hash); *out is the caller's. */
int model_credential_list(struct redis *r, const struct model_credential_kind *k,
			  const char *slug, json_t **out, struct error *err);
/* Revokes credential id of project slug: SKIFF_ENOTFOUND when slug has no such one. */
int model_credential_delete(struct redis *r, const struct model_credential_kind *k,
			    const char *slug, const char *id, struct error *err);
/* The credential whose secret this is into *out, its field into field (cut to field_size);
 * records lastUsed. SKIFF_ENOTFOUND when no live one has it: revoked, never issued, or its
 * project deleted (a project created again under the same slug does not inherit it). */
int model_credential_lookup(struct redis *r, const struct model_credential_kind *k,
			    const char *secret, struct credential *out, char *field,
			    size_t field_size, struct error *err);

#endif
