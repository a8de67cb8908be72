/* model_switch.c — the channel that announces a site's switch to every web node. */
#include "model_switch.h"
#include "model_script.h"

#include <stdio.h>
#include <string.h>

int model_switch_publish(struct redis *r, const char *slug, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "switch");
	redisReply *reply = redis_cmd(r, err, "PUBLISH %s %s", key, slug);
	if (!reply)
		return model_script_failed(err);
	freeReplyObject(reply);
	return 0;
}

void model_switch_channel_key(const struct config *cfg, char out[MODEL_SWITCH_KEY_MAX])
{
	snprintf(out, MODEL_SWITCH_KEY_MAX, "%sswitch", cfg->redis_prefix);
}

int model_switch_channel_is(const struct config *cfg, const char *channel, size_t len)
{
	char key[MODEL_SWITCH_KEY_MAX];
	model_switch_channel_key(cfg, key);
	return len == strlen(key) && !memcmp(channel, key, len);
}
