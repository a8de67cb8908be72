/* model_repo.c — a project's repository credentials and pinned host key in the hash
 * project:{slug}:repo (values sealed by the caller), written part by part by one script. */
#include "model_repo.h"
#include "model_script.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct repo_field {
	const char *name;
	enum repo_part part;
	size_t offset, size;        /* size 0: a number (long long) */
};

#define RS(f, p) { #f, p, offsetof(struct repo_access, f), sizeof(((struct repo_access *)0)->f) }
#define RN(f, p) { #f, p, offsetof(struct repo_access, f), 0 }

static const struct repo_field repo_fields[] = {
	RS(token_user, REPO_TOKEN), RS(token, REPO_TOKEN), RN(token_set, REPO_TOKEN),
	RS(token_host, REPO_TOKEN),
	RS(key, REPO_KEY), RS(key_public, REPO_KEY), RS(key_fingerprint, REPO_KEY),
	RN(key_created, REPO_KEY), RS(key_host, REPO_KEY),
	RS(host, REPO_HOST_KEY), RS(host_key_type, REPO_HOST_KEY), RS(host_key, REPO_HOST_KEY),
	RN(host_key_pinned, REPO_HOST_KEY),
};
#define REPO_NFIELDS (sizeof(repo_fields) / sizeof(repo_fields[0]))

/* KEYS: project, repo; ARGV: fields json (to set), names to delete. -2: no project. */
static const char model_repo_lua_set[] = MODEL_LUA_HSET
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"local del = cjson.decode(ARGV[2]) "
	"if #del > 0 then redis.call('HDEL', KEYS[2], unpack(del)) end "
	"hset(KEYS[2], ARGV[1]) "
	"return 1";

/* KEYS: project, repo; ARGV: host, fields json. 1 pinned, else {host, type, key, pinned}. */
static const char model_repo_lua_pin[] = MODEL_LUA_HSET
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"local cur = redis.call('HMGET', KEYS[2], 'host', 'host_key_type', 'host_key', "
	"'host_key_pinned') "
	"if cur[3] and cur[1] == ARGV[1] then return cur end "
	"hset(KEYS[2], ARGV[2]) "
	"return 1";

static void model_repo_keys(struct redis *r, const char *slug, char kp[REDIS_KEY_MAX],
			    char kr[REDIS_KEY_MAX])
{
	redis_key(r, kp, "project:%s", slug);
	redis_key(r, kr, "project:%s:repo", slug);
}

/* One field from a string reply. */
static void model_repo_field_load(struct repo_access *a, const struct repo_field *f,
				  const redisReply *v)
{
	char *base = (char *)a + f->offset;
	if (f->size) {
		model_script_str(v, base, f->size);
		return;
	}
	char num[24];
	model_script_str(v, num, sizeof(num));
	*(long long *)(void *)base = strtoll(num, NULL, 10);
}

int model_repo_get(struct redis *r, const char *slug, struct repo_access *out, struct error *err)
{
	char kp[REDIS_KEY_MAX], kr[REDIS_KEY_MAX];
	memset(out, 0, sizeof(*out));
	model_repo_keys(r, slug, kp, kr);
	redisReply *reply = redis_cmd(r, err, "EXISTS %s", kp);
	if (!reply)
		return model_script_failed(err);
	bool exists = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	if (!exists)
		return error_set(err, SKIFF_ENOTFOUND, "not_found", "project %s not found", slug);
	if (!(reply = redis_cmd(r, err, "HGETALL %s", kr)))
		return model_script_failed(err);
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
		const redisReply *k = reply->element[i];
		if (k->type != REDIS_REPLY_STRING)
			continue;
		for (size_t f = 0; f < REPO_NFIELDS; f++)
			if (strlen(repo_fields[f].name) == k->len &&
			    !memcmp(repo_fields[f].name, k->str, k->len))
				model_repo_field_load(out, &repo_fields[f], reply->element[i + 1]);
	}
	freeReplyObject(reply);
	return 0;
}

/* The fields of part as {name: text} (set) and [name] (when clear, or empty). */
static void model_repo_fields(const struct repo_access *a, enum repo_part part, bool clear,
			      json_t *set, json_t *del)
{
	for (size_t f = 0; f < REPO_NFIELDS; f++) {
		const struct repo_field *rf = &repo_fields[f];
		if (rf->part != part)
			continue;
		const char *base = (const char *)a + rf->offset;
		char num[24];
		const char *v = base;
		if (!rf->size) {
			long long n = *(const long long *)(const void *)base;
			snprintf(num, sizeof(num), "%lld", n);
			v = n ? num : "";
		}
		if (clear || !*v)
			json_array_append_new(del, json_string(rf->name));
		else
			json_object_set_new(set, rf->name, json_string(v));
	}
}

json_t *model_repo_fields_all(const struct repo_access *a)
{
	json_t *set = json_object(), *del = json_array();
	model_repo_fields(a, REPO_TOKEN, false, set, del);
	model_repo_fields(a, REPO_KEY, false, set, del);
	model_repo_fields(a, REPO_HOST_KEY, false, set, del);
	json_decref(del);
	return set;
}

int model_repo_set(struct redis *r, const char *slug, enum repo_part part,
		   const struct repo_access *a, bool clear, struct error *err)
{
	char kp[REDIS_KEY_MAX], kr[REDIS_KEY_MAX];
	model_repo_keys(r, slug, kp, kr);
	json_t *set = json_object(), *del = json_array();
	model_repo_fields(a, part, clear, set, del);
	char *sj = model_script_json(set), *dj = json_dumps(del, JSON_COMPACT);
	if (!dj)
		abort();
	const char *args[] = { kp, kr, sj, dj };
	int rc = model_script_run(r, model_repo_lua_set, 2, 4, args, "project", NULL, err);
	free(sj);
	free(dj);
	json_decref(set);
	json_decref(del);
	return rc;
}

int model_repo_pin(struct redis *r, const char *slug, struct repo_access *a, struct error *err)
{
	char kp[REDIS_KEY_MAX], kr[REDIS_KEY_MAX];
	model_repo_keys(r, slug, kp, kr);
	json_t *set = json_object(), *del = json_array();
	model_repo_fields(a, REPO_HOST_KEY, false, set, del);
	char *sj = model_script_json(set);
	const char *args[] = { kp, kr, a->host, sj };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_repo_lua_pin, 2, 4, args, &reply, err);
	free(sj);
	json_decref(set);
	json_decref(del);
	if (rc < 0)
		return rc;
	if (reply->type == REDIS_REPLY_INTEGER) {
		rc = reply->integer == 1 ? 1 : reply->integer == -2
			? error_set(err, SKIFF_ENOTFOUND, "not_found", "project %s not found", slug)
			: error_set(err, SKIFF_EINTERNAL, NULL, "unexpected answer from Redis");
	} else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 4) {
		/* the fields of the host key, in the table's order as the script reads them */
		size_t i = 0;
		for (size_t f = 0; f < REPO_NFIELDS; f++)
			if (repo_fields[f].part == REPO_HOST_KEY)
				model_repo_field_load(a, &repo_fields[f], reply->element[i++]);
		rc = 0;
	} else {
		rc = error_set(err, SKIFF_EINTERNAL, NULL, "unexpected answer from Redis");
	}
	freeReplyObject(reply);
	return rc;
}
