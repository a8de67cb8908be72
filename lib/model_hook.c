/* model_hook.c — the webhook index, delivery ids and a project's webhook fields in Redis. */
#include "model_hook.h"
#include "clock.h"
#include "model.h"
#include "model_script.h"

#include <stdio.h>
#include <string.h>

int model_hook_index_change(struct redis *r, const char *url_hash, const char *slug, bool add,
			    struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "hookrepo:%s", url_hash);
	redisReply *reply = redis_cmd(r, err, "%s %s %s", add ? "SADD" : "SREM", key, slug);
	if (!reply)
		return model_script_failed(err);
	freeReplyObject(reply);
	return 0;
}

int model_hook_index_members(struct redis *r, const char *url_hash, int max, json_t **slugs,
			     struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "hookrepo:%s", url_hash);
	*slugs = NULL;
	redisReply *reply = redis_cmd(r, err, "SRANDMEMBER %s %d", key, max);
	if (!reply)
		return model_script_failed(err);
	*slugs = redis_reply_strings(reply);
	freeReplyObject(reply);
	return 0;
}

int model_hook_delivery_claim(struct redis *r, const char *delivery, int ttl_s,
			      struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "delivery:%s", delivery);
	redisReply *reply = redis_cmd(r, err, "SET %s %lld NX EX %d", key, clock_wall_ms(), ttl_s);
	if (!reply)
		return model_script_failed(err);
	int fresh = reply->type == REDIS_REPLY_STATUS;
	freeReplyObject(reply);
	return fresh;
}

void model_hook_delivery_forget(struct redis *r, const char *delivery)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "delivery:%s", delivery);
	redisReply *reply = redis_cmd(r, NULL, "DEL %s", key);
	if (reply)
		freeReplyObject(reply);
}

int model_hook_project(struct redis *r, const char *slug, char *git_url, size_t urllen,
		       char *branch, size_t branchlen, char *secret, size_t secretlen,
		       struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "project:%s", slug);
	redisReply *reply = redis_cmd(r, err, "HMGET %s git_url branch webhook_secret", key);
	if (!reply)
		return model_script_failed(err);
	int exists = reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
		     reply->element[0]->type == REDIS_REPLY_STRING;
	if (exists) {
		model_script_str(reply->element[0], git_url, urllen);
		model_script_str(reply->element[1], branch, branchlen);
		model_script_str(reply->element[2], secret, secretlen);
	}
	freeReplyObject(reply);
	return exists;
}
