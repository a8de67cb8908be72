/* model_repo.h — how skiff reaches a project's private repository: an access token, a deploy
 * key (both sealed with lib/secret before they get here) and the pinned SSH host key, in the
 * hash project:{slug}:repo. Deleted with the project. */
#ifndef SKIFF_MODEL_REPO_H
#define SKIFF_MODEL_REPO_H

#include "error.h"
#include "redis.h"
#include "secret.h"
#include "sshkey.h"
#include "validate.h"

#define REPO_TOKEN_MAX 1024          /* an access token (GitHub's are 40 to 255 bytes) */
#define REPO_USERNAME_MAX 64         /* the user name sent with it */
#define REPO_HOST_MAX 262            /* a host and its port: "[v6]:65535" or a DNS name */
/* A sealed token or private key (both at most 1024 bytes) */
#define REPO_SEALED_MAX (sizeof(SECRET_PREFIX) - 1 + 4 * ((SECRET_NONCE_LEN + 1024 + SECRET_TAG_LEN + 2) / 3))

/* One project's record; strings "" and times 0 when not set. */
struct repo_access {
	char token_user[REPO_USERNAME_MAX + 1];
	char token[REPO_SEALED_MAX + 1];               /* sealed ("{slug}/repo/token") */
	long long token_set;                           /* ms */
	char token_host[REPO_HOST_MAX + 1];            /* the only host it is sent to */
	char key[REPO_SEALED_MAX + 1];                 /* sealed ("{slug}/repo/key") */
	char key_public[SSHKEY_PUBLIC_MAX + 1];        /* authorized_keys line */
	char key_fingerprint[SSHKEY_FINGERPRINT_MAX + 1];
	long long key_created;                         /* ms */
	char key_host[REPO_HOST_MAX + 1];              /* the only host it is offered to */
	char host[REPO_HOST_MAX + 1];                  /* the host (and port) the pin is for */
	char host_key_type[SSHKEY_TYPE_MAX + 1];
	char host_key[SSHKEY_FINGERPRINT_MAX + 1];     /* its SHA-256 fingerprint */
	long long host_key_pinned;                     /* ms */
};

/* What a change writes: one part of the record at a time. */
enum repo_part { REPO_TOKEN, REPO_KEY, REPO_HOST_KEY };

/* The record of slug (empty when it has none; SKIFF_ENOTFOUND when the project does not
 * exist). */
int model_repo_get(struct redis *r, const char *slug, struct repo_access *out, struct error *err);
/* Replaces part of the record with a's fields of that part, or removes it when clear, in one
 * step; SKIFF_ENOTFOUND when the project does not exist. */
int model_repo_set(struct redis *r, const char *slug, enum repo_part part,
		   const struct repo_access *a, bool clear, struct error *err);
/* Every field of a that is set, of all parts, as {name: text} (new reference): the record a
 * new project starts with (model_project_create_full). */
json_t *model_repo_fields_all(const struct repo_access *a);
/* Pins host's key (type, fingerprint) unless a key is pinned for that host already: 1 pinned
 * now, 0 kept (the one pinned is then in *a), negative on failure. */
int model_repo_pin(struct redis *r, const char *slug, struct repo_access *a, struct error *err);

#endif
