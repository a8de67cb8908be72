/* model_env.h — a project's environment variables in Redis (hash project:{slug}:env, one field
 * per name, the stored form of lib/env.h), and the changes of its settings (PATCH) with their
 * history (list project:{slug}:changes). */
#ifndef SKIFF_MODEL_ENV_H
#define SKIFF_MODEL_ENV_H

#include <jansson.h>
#include "env.h"
#include "error.h"
#include "model.h"
#include "redis.h"

#define MODEL_CHANGES_MAX 20  /* settings changes kept per project, newest first */

/* The project's variables (an empty list when it has none; secrets as sealed). */
int model_env_get(struct redis *r, const char *slug, struct env_list **out, struct error *err);
/* Sets one variable (secrets sealed already): SKIFF_ENOTFOUND without the project,
 * SKIFF_ELIMIT (env_too_large) past ENV_COUNT_MAX. Records the change (by, at). */
int model_env_put(struct redis *r, const char *slug, const struct env_var *v, const char *by,
		  struct error *err);
/* Removes one: SKIFF_ENOTFOUND when the project or the variable does not exist. */
int model_env_delete(struct redis *r, const char *slug, const char *name, const char *by,
		     struct error *err);
/* Changes the settings of change named by set (PROJECT_SET) and, unless env is NULL, replaces
 * every variable with env, in one step, with updated = now and an entry in the history that
 * names the fields (their API names in fields, a JSON array) and who asked. SKIFF_ENOTFOUND
 * without the project; SKIFF_ECONFLICT (domain_not_serving) when set names a primary domain
 * that is not a verified or active domain of the project, checked in the same step. */
int model_project_settings(struct redis *r, const char *slug, const struct project *change,
			   unsigned set, const struct env_list *env, json_t *fields,
			   const char *by, struct error *err);
/* The history of settings changes, newest first (new reference): [{"at", "by", "fields"}]. */
int model_project_changes(struct redis *r, const char *slug, json_t **out, struct error *err);

/* For the model's scripts: env as flat name, stored-form pairs appended to args[*n...] (room
 * for 2 * env->n more); the stored forms go to owned[] (room for env->n), freed by the caller. */
void model_env_pairs(const struct env_list *env, const char **args, int *n, char **owned);

#endif
