/* model_rate.c — fixed-window rate counters in Redis (INCR and PEXPIRE in one script). */
#include "model_rate.h"

#include <stdio.h>
#include <string.h>

/* KEYS: counter; ARGV: window in ms. A counter that lost its expiry (never expected) gets one
 * again, so no client is limited forever. */
static const char model_rate_lua[] =
	"local n = redis.call('INCR', KEYS[1]) "
	"local ttl = redis.call('PTTL', KEYS[1]) "
	"if n == 1 or ttl < 0 then "
	"  redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
	"  ttl = tonumber(ARGV[1]) "
	"end "
	"return {n, ttl}";

int model_rate_hit(struct redis *r, const char *scope, const char *who, long window_s,
		   long long *count, long long *reset_ms, struct error *err)
{
	char key[REDIS_KEY_MAX], window[24];
	if (strlen(who) > MODEL_RATE_WHO_MAX)
		return error_set(err, SKIFF_EINTERNAL, NULL, "rate key too long");
	redis_key(r, key, "rate:%s:%s", scope, who);
	snprintf(window, sizeof(window), "%lld", (long long)window_s * 1000);
	const char *args[] = { key, window };
	redisReply *reply = redis_eval(r, err, model_rate_lua, 1, 2, args);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	int rc = 0;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER ||
	    reply->element[1]->type != REDIS_REPLY_INTEGER) {
		rc = error_set(err, SKIFF_EREDIS, "redis_error", "unexpected reply to the rate script");
	} else {
		*count = reply->element[0]->integer;
		*reset_ms = reply->element[1]->integer;
	}
	freeReplyObject(reply);
	return rc;
}
