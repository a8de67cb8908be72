/* model_log.c — each deployment's log stream in Redis: lines appended with a wake-up of the
 * listeners, the whole log read back, and the key names the SSE bridge's commands use. */
#include "model_log.h"
#include "model_script.h"

#include <stdio.h>
#include <string.h>

/* KEYS: log, events, deployment; ARGV: source, text, maxlen. A deleted deployment's stream
 * is not created again. */
static const char model_lua_log[] =
	"if redis.call('EXISTS', KEYS[3]) == 0 then return -2 end "
	"local eid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'k', 'line', "
	"'s', ARGV[1], 'm', ARGV[2]) "
	"redis.call('PUBLISH', KEYS[2], eid) "
	"return eid";

int model_log_append(struct redis *r, const char *id, const char *source, const char *text,
		     size_t len, struct error *err)
{
	char kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], kd[REDIS_KEY_MAX], maxlen[24];
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	redis_key(r, kd, "deployment:%s", id);
	char line[LOG_LINE_MAX + 32];
	if (len > LOG_LINE_MAX) {
		size_t cut = LOG_LINE_MAX;
		/* never cut inside a UTF-8 sequence */
		while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(line, text, cut);
		memcpy(line + cut, " [line cut]", 12);
	} else {
		memcpy(line, text, len);
		line[len] = '\0';
	}
	const char *args[] = { kl, ke, kd, source, line, model_script_maxlen(r, maxlen) };
	return model_script_run(r, model_lua_log, 3, 6, args, "deployment", "conflict", err);
}

static const char *model_field(redisReply *fields, const char *name, size_t *len)
{
	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		redisReply *k = fields->element[i];
		if (k->type == REDIS_REPLY_STRING && strlen(name) == k->len &&
		    !memcmp(k->str, name, k->len) &&
		    fields->element[i + 1]->type == REDIS_REPLY_STRING) {
			*len = fields->element[i + 1]->len;
			return fields->element[i + 1]->str;
		}
	}
	*len = 0;
	return "";
}

int model_log_read(struct redis *r, const char *id, struct buf *out, struct error *err)
{
	char key[REDIS_KEY_MAX], start[48] = "-";
	redis_key(r, key, "log:%s", id);
	for (;;) {
		redisReply *reply = redis_cmd(r, err, "XRANGE %s %s + COUNT 1000", key, start);
		if (!reply)
			return model_script_failed(err);
		size_t n = reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
		for (size_t i = 0; i < n; i++) {
			redisReply *e = reply->element[i];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
				continue;
			size_t kl, ml;
			const char *k = model_field(e->element[1], "k", &kl);
			const char *m = model_field(e->element[1], "m", &ml);
			if (kl == 4 && !memcmp(k, "line", 4)) {
				buf_append(out, m, ml);
				buf_putc(out, '\n');
			} else if (kl == 5 && !memcmp(k, "state", 5)) {
				buf_puts(out, "==> ");
				buf_append(out, m, ml);
				buf_putc(out, '\n');
			}
			if (i == n - 1)
				snprintf(start, sizeof(start), "(%.*s", (int)e->element[0]->len,
					 e->element[0]->str);
		}
		freeReplyObject(reply);
		if (out->err)
			return error_set(err, SKIFF_ELIMIT, NULL, "log larger than %zu bytes", out->max);
		if (n < 1000)
			return 0;
	}
}


int model_log_each(struct redis *r, const char *id, size_t max,
		   int (*fn)(const struct model_log_entry *e, void *ctx), void *ctx, int *more,
		   struct error *err)
{
	char key[REDIS_KEY_MAX], count[24];
	redis_key(r, key, "log:%s", id);
	/* one more than handed over tells whether the log goes on */
	snprintf(count, sizeof(count), "%zu", max + 1);
	*more = 0;
	redisReply *reply = redis_cmd(r, err, "XRANGE %s - + COUNT %s", key, count);
	if (!reply)
		return model_script_failed(err);
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		if (i >= max) {
			*more = 1;
			break;
		}
		size_t len;
		struct model_log_entry entry = {
			.id = e->element[0]->str,
			.id_len = e->element[0]->len,
			.kind = model_field(e->element[1], "k", &len),
			.source = model_field(e->element[1], "s", &len),
			.text = model_field(e->element[1], "m", &len),
		};
		if (fn(&entry, ctx))
			break;
	}
	freeReplyObject(reply);
	return 0;
}

int model_log_drop(struct redis *r, const char *id, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "log:%s", id);
	redisReply *reply = redis_cmd(r, err, "DEL %s", key);
	if (!reply)
		return model_script_failed(err);
	int dropped = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0;
	freeReplyObject(reply);
	return dropped;
}

/* ---- key names for the SSE bridge's async connection ----------------------------------- */

static void model_log_key(const struct config *cfg, const char *what, const char *id,
			  char out[MODEL_LOG_KEY_MAX])
{
	snprintf(out, MODEL_LOG_KEY_MAX, "%s%s:%s", cfg->redis_prefix, what, id);
}

void model_log_stream_key(const struct config *cfg, const char *id, char out[MODEL_LOG_KEY_MAX])
{
	model_log_key(cfg, "log", id, out);
}

void model_log_channel_key(const struct config *cfg, const char *id,
			   char out[MODEL_LOG_KEY_MAX])
{
	model_log_key(cfg, "events", id, out);
}

void model_log_record_key(const struct config *cfg, const char *id, char out[MODEL_LOG_KEY_MAX])
{
	model_log_key(cfg, "deployment", id, out);
}

const char *model_log_channel_id(const struct config *cfg, const char *channel, size_t len)
{
	static const char what[] = "events:";
	size_t plen = strlen(cfg->redis_prefix), wlen = sizeof(what) - 1;
	if (len != plen + wlen + ID_LEN || strncmp(channel, cfg->redis_prefix, plen) ||
	    strncmp(channel + plen, what, wlen))
		return NULL;
	return channel + plen + wlen;
}
