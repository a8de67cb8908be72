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

int model_switch_slug(const char *msg, size_t len, char out[SLUG_MAX + 1], struct error *err)
{
	out[0] = '\0';
	if (len == 0)
		return error_set(err, SKIFF_EINVALID, "empty", "the message is empty");
	if (len > SLUG_MAX)
		return error_set(err, SKIFF_EINVALID, "too_long",
				 "the message is longer than a slug (%d bytes)", SLUG_MAX);
	/* a C string would end at the NUL and name another site: "demo\0x" is not "demo" */
	if (memchr(msg, '\0', len))
		return error_set(err, SKIFF_EINVALID, "nul", "the message has a NUL byte");
	memcpy(out, msg, len);
	out[len] = '\0';
	int rc = validate_slug(out, err);
	if (rc < 0)
		out[0] = '\0';
	return rc;
}
