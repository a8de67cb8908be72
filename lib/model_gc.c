/* model_gc.c — the store sweep's fence in Redis. */
#include "model_gc.h"
#include "model_script.h"

#include <stdio.h>

int model_gc_fence_take(struct redis *r, const char *token, long ttl_ms, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "gc:sweep");
	return model_script_lock(r, key, token, ttl_ms, err);
}

void model_gc_fence_release(struct redis *r, const char *token)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "gc:sweep");
	model_script_unlock(r, key, token);
}

int model_gc_fence_held(struct redis *r, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "gc:sweep");
	redisReply *reply = redis_cmd(r, err, "EXISTS %s", key);
	if (!reply)
		return model_script_failed(err);
	int held = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0;
	freeReplyObject(reply);
	return held;
}

int model_gc_finish_begin(struct redis *r, const char *id, long long now_ms, struct error *err)
{
	char key[REDIS_KEY_MAX], score[24];
	redis_key(r, key, "gc:finishing");
	snprintf(score, sizeof(score), "%lld", now_ms);
	redisReply *reply = redis_cmd(r, err, "ZADD %s %s %s", key, score, id);
	if (!reply)
		return model_script_failed(err);
	freeReplyObject(reply);
	return 0;
}

void model_gc_finish_end(struct redis *r, const char *id)
{
	char key[REDIS_KEY_MAX];
	struct error err;
	redis_key(r, key, "gc:finishing");
	redisReply *reply = redis_cmd(r, &err, "ZREM %s %s", key, id);
	if (reply)
		freeReplyObject(reply);
}

/* KEYS: gc:finishing; ARGV: the oldest start still counted. Returns how many are left. */
static const char model_gc_finishing_lua[] =
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1]) "
	"return redis.call('ZCARD', KEYS[1])";

int model_gc_finishing(struct redis *r, long long now_ms, long max_age_ms, struct error *err)
{
	char key[REDIS_KEY_MAX], oldest[24];
	redis_key(r, key, "gc:finishing");
	snprintf(oldest, sizeof(oldest), "%lld", now_ms - max_age_ms);
	const char *args[] = { key, oldest };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_gc_finishing_lua, 1, 2, args, &reply, err);
	if (rc < 0)
		return rc;
	int n = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0;
	freeReplyObject(reply);
	return n;
}

int model_gc_turn(struct redis *r, const char *owner, long interval_ms, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "gc:turn");
	return model_script_lock(r, key, owner, interval_ms, err);
}
