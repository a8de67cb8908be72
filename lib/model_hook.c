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

int model_hook_project(struct redis *r, const char *slug, struct model_hook_project *out,
		       struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "project:%s", slug);
	redisReply *reply = redis_cmd(r, err,
				      "HMGET %s git_url branch webhook_secret previews preview_forks",
				      key);
	if (!reply)
		return model_script_failed(err);
	int exists = reply->type == REDIS_REPLY_ARRAY && reply->elements == 5 &&
		     reply->element[0]->type == REDIS_REPLY_STRING;
	if (exists) {
		char flag[2];
		model_script_str(reply->element[0], out->git_url, sizeof(out->git_url));
		model_script_str(reply->element[1], out->branch, sizeof(out->branch));
		model_script_str(reply->element[2], out->secret, sizeof(out->secret));
		model_script_str(reply->element[3], out->previews, sizeof(out->previews));
		model_script_str(reply->element[4], flag, sizeof(flag));
		out->preview_forks = flag[0] == '1';
	}
	freeReplyObject(reply);
	return exists;
}
