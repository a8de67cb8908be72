/* model_queue.c — the reliable build queue (queue, queue:active) and the leases of running
 * builds. */
#include "model_queue.h"
#include "log.h"
#include "model_script.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int model_queue_pop(struct redis *r, double timeout_s, char id[ID_LEN + 1], struct error *err)
{
	char kq[REDIS_KEY_MAX], ka[REDIS_KEY_MAX], t[32];
	redis_key(r, kq, "queue");
	redis_key(r, ka, "queue:active");
	/* the block must end before the connection's read timeout does */
	double limit = (double)(redis_config(r)->redis_timeout_ms - 100) / 1000.0;
	if (timeout_s > limit)
		timeout_s = limit > 0.01 ? limit : 0.01;
	snprintf(t, sizeof(t), "%.3f", timeout_s);
	id[0] = '\0';
	redisReply *reply = redis_cmd(r, err, "BLMOVE %s %s RIGHT LEFT %s", kq, ka, t);
	if (!reply)
		return model_script_failed(err);
	int rc = 0;
	if (reply->type == REDIS_REPLY_STRING) {
		if (reply->len == ID_LEN) {
			memcpy(id, reply->str, ID_LEN + 1);
		} else {
			/* not an id skiff wrote: drop it from active rather than loop on it */
			log_warn("queue entry is not a deployment id; dropped entry=\"%.*s\"",
				 (int)(reply->len > 64 ? 64 : reply->len), reply->str);
			redisReply *x = redis_cmd(r, NULL, "LREM %s 1 %b", ka, reply->str, reply->len);
			freeReplyObject(x);
		}
	}
	freeReplyObject(reply);
	return rc;
}

int model_queue_done(struct redis *r, const char *id, struct error *err)
{
	char ka[REDIS_KEY_MAX];
	redis_key(r, ka, "queue:active");
	redisReply *reply = redis_cmd(r, err, "LREM %s 0 %s", ka, id);
	if (!reply)
		return model_script_failed(err);
	freeReplyObject(reply);
	return 0;
}

int model_queue_active(struct redis *r, json_t **ids, struct error *err)
{
	char ka[REDIS_KEY_MAX];
	redis_key(r, ka, "queue:active");
	redisReply *reply = redis_cmd(r, err, "LRANGE %s 0 -1", ka);
	if (!reply)
		return model_script_failed(err);
	json_t *arr = redis_reply_strings(reply);
	freeReplyObject(reply);
	*ids = arr;
	return 0;
}

int model_lease_renew(struct redis *r, const char *id, long ttl_s, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "lease:%s", id);
	redisReply *reply = redis_cmd(r, err, "SET %s %d EX %ld", key, (int)getpid(), ttl_s);
	if (!reply)
		return model_script_failed(err);
	freeReplyObject(reply);
	return 0;
}

int model_lease_alive(struct redis *r, const char *id, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "lease:%s", id);
	redisReply *reply = redis_cmd(r, err, "EXISTS %s", key);
	if (!reply)
		return model_script_failed(err);
	int alive = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return alive;
}

int model_lease_drop(struct redis *r, const char *id, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "lease:%s", id);
	redisReply *reply = redis_cmd(r, err, "DEL %s", key);
	if (!reply)
		return model_script_failed(err);
	freeReplyObject(reply);
	return 0;
}
