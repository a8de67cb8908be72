/* env.h — a project's environment variables: names and values validated at the edge, the
 * contexts each applies to, secret values sealed (lib/secret.h), and the environment a build's
 * commands receive. */
#ifndef SKIFF_ENV_H
#define SKIFF_ENV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "secret.h"

#define ENV_NAME_MAX 128         /* bytes of a name */
#define ENV_VALUE_MAX 8192       /* bytes of a value */
#define ENV_COUNT_MAX 100        /* variables of a project */
#define ENV_TOTAL_MAX 65536      /* bytes of all names and values of a project */
#define ENV_AAD_MAX (64 + 5 + ENV_NAME_MAX) /* "{slug}/env/{NAME}" */

/* The contexts a variable applies to (a set of these bits, never empty). */
enum {
	ENV_PRODUCTION = 1,
	ENV_PREVIEW = 2,
	ENV_ALL = ENV_PRODUCTION | ENV_PREVIEW,
};

struct env_var {
	char name[ENV_NAME_MAX + 1];
	char *value;        /* malloc'd, NUL-terminated: the plain value, or for a secret the
			     * sealed text ("v1:..."); NULL for a secret to keep as stored */
	bool secret;
	bool sealed;        /* value is the sealed text already (from storage) */
	unsigned contexts;  /* ENV_PRODUCTION | ENV_PREVIEW */
};

struct env_list {
	struct env_var *vars;
	size_t n;
};

/* An empty list, and its release (values of secrets are wiped). env_list_free(NULL) is a no-op. */
struct env_list *env_list_new(void);
void env_list_free(struct env_list *l);
/* The variable named name, or NULL (a borrowed pointer). */
struct env_var *env_list_find(const struct env_list *l, const char *name);

/* A POSIX name ([A-Za-z_][A-Za-z0-9_]*, at most ENV_NAME_MAX) that skiff neither sets itself
 * (SKIFF_*, PATH, HOME, CI, ...) nor lets a build set because it changes how programs load
 * (LD_*, GLIBC_TUNABLES, GCONV_PATH, BASH_ENV, ...): invalid_env_name otherwise. */
int env_name_check(const char *name, struct error *err);
/* true for a name skiff sets itself for every build or that changes how programs start (the
 * exact names; env_name_check also refuses the reserved prefixes). */
bool env_name_reserved(const char *name);
/* A value: no NUL, at most ENV_VALUE_MAX bytes: invalid_env_value / env_too_large. */
int env_value_check(const char *value, size_t len, const char *name, struct error *err);

/* Adds or replaces one variable given as JSON {"name", "value", "secret"?, "contexts"?}
 * (contexts: an array of "production" and "preview"; default both). A secret without a value
 * keeps the stored one (value NULL), which env_list_merge_kept fills in. Enforces the count
 * and total limits (env_too_large). */
int env_list_put_json(struct env_list *l, json_t *item, struct error *err);
/* The whole "env" array of a create or PATCH body into a new list (*out), names unique. */
int env_list_from_json(json_t *array, struct env_list **out, struct error *err);
/* Fills the NULL value of each secret in l from old (same name, still secret): a secret that
 * is kept; invalid_env_value when old has none. */
int env_list_merge_kept(struct env_list *l, const struct env_list *old, struct error *err);
/* Seals every secret value of l that is still plain (not sealed), bound to
 * "{slug}/env/{NAME}". A missing key file is then an error (secret_key_unavailable). */
int env_list_seal(struct env_list *l, const char *slug, const char *key_file, struct error *err);
/* The plain value of secret variable v of slug (*plain: free with secret_plain_free; *n its
 * length), opened with key k: secret_invalid, naming the variable, when it does not open (the
 * key file changed, or the stored value was altered). */
int env_var_open(const struct secret_key *k, const char *slug, const struct env_var *v,
		 char **plain, size_t *n, struct error *err);
/* Which variables apply to a context name ("production", "preview"; "" = production). */
unsigned env_context_bit(const char *context);

/* One variable as stored (JSON text, malloc'd) and back (value malloc'd). */
char *env_var_encode(const struct env_var *v);
int env_var_decode(const char *name, const char *text, size_t len, struct env_var *v,
		   struct error *err);

/* The API shape (new reference): [{"name", "value" (plain variables only), "secret", "set",
 * "contexts"}], never a secret's value, sorted by name. */
json_t *env_list_api(const struct env_list *l);

#endif
