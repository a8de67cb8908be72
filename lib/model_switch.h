/* model_switch.h — the channel that tells every web node that a site's answer changed (its
 * current deployment, its deletion, its primary domain): {prefix}switch, each message one
 * slug. Each node's skiff-sse-bridge listens and takes the site out of its own fast path
 * (lib/fastpath_switch.h). */
#ifndef SKIFF_MODEL_SWITCH_H
#define SKIFF_MODEL_SWITCH_H

#include <stddef.h>
#include "config.h"
#include "error.h"
#include "redis.h"
#include "validate.h"

#define MODEL_SWITCH_KEY_MAX (sizeof(((struct config *)0)->redis_prefix) + 8)

/* PUBLISHes slug on the channel; call it after the write that changed the site. */
int model_switch_publish(struct redis *r, const char *slug, struct error *err);
/* The channel's name, for the bridge's async SUBSCRIBE. */
void model_switch_channel_key(const struct config *cfg, char out[MODEL_SWITCH_KEY_MAX]);
/* Whether channel (len bytes) is that channel. */
int model_switch_channel_is(const struct config *cfg, const char *channel, size_t len);
/* The slug a message (len bytes) announces, into out: 0 when the message is exactly a valid
 * slug (no NUL, 1..SLUG_MAX bytes, validate_slug), else SKIFF_EINVALID with err->name the
 * reason ("empty", "too_long", "nul", "invalid_slug") and out "". */
int model_switch_slug(const char *msg, size_t len, char out[SLUG_MAX + 1], struct error *err);

#endif
