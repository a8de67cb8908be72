/* model_script.c — running the model's Lua scripts and mapping their answers to errors. */
#include "model_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *model_script_maxlen(struct redis *r, char buf[24])
{
	snprintf(buf, 24, "%ld", redis_config(r)->log_max_entries);
	return buf;
}

void model_script_str(const redisReply *reply, char *out, size_t outlen)
{
	if (reply && reply->type == REDIS_REPLY_STRING)
		snprintf(out, outlen, "%.*s", (int)reply->len, reply->str);
	else
		out[0] = '\0';
}

long long model_script_num(const redisReply *reply)
{
	char s[24];
	model_script_str(reply, s, sizeof(s));
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	return end && end != s && *end == '\0' ? v : 0;
}

int model_script_failed(const struct error *err)
{
	return err && err->code ? err->code : SKIFF_EREDIS;
}

int model_script_result(redisReply *reply, const char *what, const char *name,
			       struct error *err)
{
	if (reply->type != REDIS_REPLY_INTEGER || reply->integer >= 0)
		return 0;
	switch (reply->integer) {
	case -2:
		return error_set(err, SKIFF_ENOTFOUND, NULL, "%s not found", what);
	case -3:
		return error_set(err, SKIFF_ECONFLICT, NULL, "%s", name);
	case -16:
		return error_set(err, SKIFF_ECANCELED, "canceled", "%s was canceled", what);
	default:
		return error_set(err, SKIFF_EINTERNAL, NULL, "unexpected answer %lld from Redis",
				 reply->integer);
	}
}

char *model_script_json(json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : strdup("{}");
	if (!s)
		abort();
	return s;
}

int model_script_reply(struct redis *r, const char *script, int nkeys, int nargs,
		       const char **args, redisReply **out, struct error *err)
{
	*out = redis_eval(r, err, script, nkeys, nargs, args);
	return *out ? 0 : model_script_failed(err);
}

int model_script_run(struct redis *r, const char *script, int nkeys, int nargs,
		     const char **args, const char *what, const char *conflict, struct error *err)
{
	redisReply *reply = NULL;
	int rc = model_script_reply(r, script, nkeys, nargs, args, &reply, err);
	if (rc < 0)
		return rc;
	rc = model_script_result(reply, what, conflict, err);
	freeReplyObject(reply);
	return rc;
}

/* KEYS: lock; ARGV: token */
static const char model_script_lua_unlock[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
	"return 0";

int model_script_lock(struct redis *r, const char *key, const char *token, long ttl_ms,
		      struct error *err)
{
	redisReply *reply = redis_cmd(r, err, "SET %s %s NX PX %ld", key, token, ttl_ms);
	if (!reply)
		return model_script_failed(err);
	int locked = reply->type == REDIS_REPLY_STATUS;
	freeReplyObject(reply);
	return locked;
}

void model_script_unlock(struct redis *r, const char *key, const char *token)
{
	const char *args[] = { key, token };
	redisReply *reply = redis_eval(r, NULL, model_script_lua_unlock, 1, 2, args);
	if (reply)
		freeReplyObject(reply);
}
