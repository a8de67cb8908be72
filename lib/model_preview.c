/* model_preview.c — a project's previews read from Redis. */
#include "model_preview.h"
#include "model_record.h"
#include "model_script.h"

#include <stdio.h>
#include <string.h>

int model_preview_get(struct redis *r, const char *slug, const char *key, struct preview *out,
		      struct error *err)
{
	char k[REDIS_KEY_MAX];
	redis_key(r, k, "project:%s:preview:%s", slug, key);
	redisReply *reply = redis_cmd(r, err, "HGETALL %s", k);
	if (!reply)
		return model_script_failed(err);
	int rc = 0;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0)
		rc = error_set(err, SKIFF_ENOTFOUND, NULL, "preview not found");
	else
		model_record_preview_load(out, reply);
	freeReplyObject(reply);
	return rc;
}

int model_preview_current(struct redis *r, const char *slug, const char *key,
			  char out[ID_LEN + 1], struct error *err)
{
	char k[REDIS_KEY_MAX];
	redis_key(r, k, "project:%s:preview:%s", slug, key);
	redisReply *reply = redis_cmd(r, err, "HGET %s current", k);
	if (!reply)
		return model_script_failed(err);
	int rc = 0;
	if (reply->type != REDIS_REPLY_STRING || reply->len != ID_LEN)
		rc = error_set(err, SKIFF_ENOTFOUND, NULL, "no such preview, or it serves nothing yet");
	else
		memcpy(out, reply->str, ID_LEN + 1);
	freeReplyObject(reply);
	return rc;
}

int model_preview_list(struct redis *r, const char *slug, size_t limit, json_t **keys,
		       struct error *err)
{
	char k[REDIS_KEY_MAX], last[24];
	redis_key(r, k, "project:%s:previews", slug);
	snprintf(last, sizeof(last), "%zu", limit ? limit - 1 : 0);
	redisReply *reply = redis_cmd(r, err, "ZREVRANGE %s 0 %s", k, last);
	if (!reply)
		return model_script_failed(err);
	*keys = redis_reply_strings(reply);
	freeReplyObject(reply);
	return 0;
}
