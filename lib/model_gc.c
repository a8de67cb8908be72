/* model_gc.c — the store sweep's fence in Redis. */
#include "model_gc.h"
#include "model_script.h"

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

int model_gc_turn(struct redis *r, const char *owner, long interval_ms, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "gc:turn");
	return model_script_lock(r, key, owner, interval_ms, err);
}
