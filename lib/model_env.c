/* model_env.c — environment variables and settings changes of a project in Redis. */
#include "model_env.h"
#include "clock.h"
#include "model_record.h"
#include "model_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS: project, env, changes; ARGV: now, history entry, max changes, max variables, name,
 * stored form. -3: too many variables. */
static const char model_env_lua_put[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"if redis.call('HEXISTS', KEYS[2], ARGV[5]) == 0 and "
	"   redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[4]) then return -3 end "
	"redis.call('HSET', KEYS[2], ARGV[5], ARGV[6]) "
	"redis.call('HSET', KEYS[1], 'updated', ARGV[1]) "
	"redis.call('LPUSH', KEYS[3], ARGV[2]) "
	"redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1) "
	"return 1";

/* KEYS: project, env, changes; ARGV: now, history entry, max changes, name. -4: no such
 * variable. */
static const char model_env_lua_delete[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"if redis.call('HDEL', KEYS[2], ARGV[4]) == 0 then return -4 end "
	"redis.call('HSET', KEYS[1], 'updated', ARGV[1]) "
	"redis.call('LPUSH', KEYS[3], ARGV[2]) "
	"redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1) "
	"return 1";

/* KEYS: project, env, changes, the new primary domain's record (or ""); ARGV: now, history
 * entry, max changes, fields json, replace env ("1" or "0"), slug, then the variables' name,
 * stored-form pairs. -3: the new primary domain is not (or no longer) one of the project's
 * serving domains. */
static const char model_env_lua_settings[] = MODEL_LUA_HSET
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"if KEYS[4] ~= '' then "
	"  local d = redis.call('HMGET', KEYS[4], 'project', 'state') "
	"  if d[1] ~= ARGV[6] or (d[2] ~= 'verified' and d[2] ~= 'active') then return -3 end "
	"end "
	"hset(KEYS[1], ARGV[4]) "
	"redis.call('HSET', KEYS[1], 'updated', ARGV[1]) "
	"if ARGV[5] == '1' then "
	"  redis.call('DEL', KEYS[2]) "
	"  if #ARGV > 6 then redis.call('HSET', KEYS[2], unpack(ARGV, 7, #ARGV)) end "
	"end "
	"redis.call('LPUSH', KEYS[3], ARGV[2]) "
	"redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1) "
	"return 1";

static void model_env_keys(struct redis *r, const char *slug, char kp[REDIS_KEY_MAX],
			   char ke[REDIS_KEY_MAX], char kc[REDIS_KEY_MAX])
{
	redis_key(r, kp, "project:%s", slug);
	redis_key(r, ke, "project:%s:env", slug);
	redis_key(r, kc, "project:%s:changes", slug);
}

/* A history entry {"at", "by", "fields"} as JSON text (free() it); fields is borrowed. */
static char *model_env_entry(long long now, const char *by, json_t *fields)
{
	json_t *o = json_pack("{s:I,s:s,s:O}", "at", (json_int_t)now, "by", by && *by ? by : "api",
			      "fields", fields);
	char *s = model_script_json(o);
	json_decref(o);
	return s;
}

int model_env_get(struct redis *r, const char *slug, struct env_list **out, struct error *err)
{
	char kp[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], kc[REDIS_KEY_MAX];
	model_env_keys(r, slug, kp, ke, kc);
	*out = NULL;
	redisReply *reply = redis_cmd(r, err, "HGETALL %s", ke);
	if (!reply)
		return model_script_failed(err);
	struct env_list *l = env_list_new();
	int rc = 0;
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
		const redisReply *k = reply->element[i], *v = reply->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    k->len > ENV_NAME_MAX || l->n >= ENV_COUNT_MAX)
			continue;
		struct env_var var;
		char name[ENV_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%.*s", (int)k->len, k->str);
		if ((rc = env_var_decode(name, v->str, v->len, &var, err)) < 0)
			break;
		struct env_var *grown = realloc(l->vars, (l->n + 1) * sizeof(*grown));
		if (!grown)
			abort();
		l->vars = grown;
		l->vars[l->n++] = var;
	}
	freeReplyObject(reply);
	if (rc < 0) {
		env_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int model_env_put(struct redis *r, const char *slug, const struct env_var *v, const char *by,
		  struct error *err)
{
	char kp[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], kc[REDIS_KEY_MAX], now[24], keep[16], max[16];
	model_env_keys(r, slug, kp, ke, kc);
	long long t = clock_wall_ms();
	snprintf(now, sizeof(now), "%lld", t);
	snprintf(keep, sizeof(keep), "%d", MODEL_CHANGES_MAX);
	snprintf(max, sizeof(max), "%d", ENV_COUNT_MAX);
	json_t *fields = json_pack("[s]", "env");
	char *entry = model_env_entry(t, by, fields), *stored = env_var_encode(v);
	const char *args[] = { kp, ke, kc, now, entry, keep, max, v->name, stored };
	int rc = model_script_run(r, model_env_lua_put, 3, 9, args, "project", "env_too_large", err);
	if (rc == SKIFF_ECONFLICT)
		rc = error_set(err, SKIFF_ELIMIT, "env_too_large",
			       "a project has at most %d variables", ENV_COUNT_MAX);
	free(stored);
	free(entry);
	json_decref(fields);
	return rc;
}

int model_env_delete(struct redis *r, const char *slug, const char *name, const char *by,
		     struct error *err)
{
	char kp[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], kc[REDIS_KEY_MAX], now[24], keep[16];
	model_env_keys(r, slug, kp, ke, kc);
	long long t = clock_wall_ms();
	snprintf(now, sizeof(now), "%lld", t);
	snprintf(keep, sizeof(keep), "%d", MODEL_CHANGES_MAX);
	json_t *fields = json_pack("[s]", "env");
	char *entry = model_env_entry(t, by, fields);
	const char *args[] = { kp, ke, kc, now, entry, keep, name };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_env_lua_delete, 3, 7, args, &reply, err);
	if (rc == 0 && reply->type == REDIS_REPLY_INTEGER && reply->integer == -2)
		rc = error_set(err, SKIFF_ENOTFOUND, NULL, "project '%s' not found", slug);
	else if (rc == 0 && reply->type == REDIS_REPLY_INTEGER && reply->integer == -4)
		rc = error_set(err, SKIFF_ENOTFOUND, "env_not_found",
			       "project '%s' has no variable %s", slug, name);
	if (reply)
		freeReplyObject(reply);
	free(entry);
	json_decref(fields);
	return rc;
}

void model_env_pairs(const struct env_list *env, const char **args, int *n, char **owned)
{
	for (size_t i = 0; env && i < env->n; i++) {
		owned[i] = env_var_encode(&env->vars[i]);
		args[(*n)++] = env->vars[i].name;
		args[(*n)++] = owned[i];
	}
}

int model_project_settings(struct redis *r, const char *slug, const struct project *change,
			   unsigned set, const struct env_list *env, json_t *fields,
			   const char *by, struct error *err)
{
	char kp[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], kc[REDIS_KEY_MAX], kd[REDIS_KEY_MAX] = "",
		now[24], keep[16];
	model_env_keys(r, slug, kp, ke, kc);
	if ((set & PROJECT_SET(PRIMARY_DOMAIN)) && change->primary_domain[0])
		redis_key(r, kd, "domain:%s", change->primary_domain);
	long long t = clock_wall_ms();
	snprintf(now, sizeof(now), "%lld", t);
	snprintf(keep, sizeof(keep), "%d", MODEL_CHANGES_MAX);
	json_t *values = model_record_project_change(change, set);
	char *fj = model_script_json(values), *entry = model_env_entry(t, by, fields);
	size_t nenv = env ? env->n : 0;
	const char **args = calloc(10 + 2 * nenv, sizeof(*args));
	char **owned = calloc(nenv + 1, sizeof(*owned));
	if (!args || !owned)
		abort();
	int n = 0;
	args[n++] = kp;
	args[n++] = ke;
	args[n++] = kc;
	args[n++] = kd;
	args[n++] = now;
	args[n++] = entry;
	args[n++] = keep;
	args[n++] = fj;
	args[n++] = env ? "1" : "0";
	args[n++] = slug;
	model_env_pairs(env, args, &n, owned);
	int rc = model_script_run(r, model_env_lua_settings, 4, n, args, "project", "conflict", err);
	if (rc == SKIFF_ENOTFOUND)
		rc = error_set(err, SKIFF_ENOTFOUND, NULL, "project '%s' not found", slug);
	if (rc == SKIFF_ECONFLICT)
		rc = error_set(err, SKIFF_ECONFLICT, "domain_not_serving",
			       "%s is not a verified or active domain of project %s",
			       change->primary_domain, slug);
	for (size_t i = 0; i < nenv; i++)
		free(owned[i]);
	free(owned);
	free(args);
	free(fj);
	free(entry);
	json_decref(values);
	return rc;
}

int model_project_changes(struct redis *r, const char *slug, json_t **out, struct error *err)
{
	char kp[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], kc[REDIS_KEY_MAX];
	model_env_keys(r, slug, kp, ke, kc);
	*out = NULL;
	redisReply *reply = redis_cmd(r, err, "LRANGE %s 0 %d", kc, MODEL_CHANGES_MAX - 1);
	if (!reply)
		return model_script_failed(err);
	json_t *arr = json_array();
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		const redisReply *e = reply->element[i];
		json_t *o = e->type == REDIS_REPLY_STRING ? json_loadb(e->str, e->len, 0, NULL) : NULL;
		if (json_is_object(o))
			json_array_append_new(arr, o);
		else
			json_decref(o);
	}
	freeReplyObject(reply);
	*out = arr;
	return 0;
}
