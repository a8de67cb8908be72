/* sites.c — drops this node's fast-path link of each site another node switched. */
#include "sites.h"
#include "fastpath.h"
#include "fastpath_switch.h"
#include "log.h"
#include "model_switch.h"
#include "validate.h"

#include <string.h>

static void sites_on_message(redisAsyncContext *ac, void *r, void *privdata)
{
	(void)privdata;
	struct link *l = ac->data;
	struct bridge *b = l->bridge;
	redisReply *reply = r;
	const char *dir = b->cfg->fastpath_dir;
	if (!reply || b->stopping || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_STRING ||
	    !model_switch_channel_is(b->cfg, reply->element[1]->str, reply->element[1]->len))
		return;
	const char *type = reply->element[0]->str;
	if (!strcmp(type, "subscribe")) {
		/* from now on every switch reaches us: forget what may have been missed before */
		int n = fastpath_switch_drop_all(dir);
		log_info("fastpath switches subscribed dropped=%d", n);
	} else if (!strcmp(type, "message") && reply->element[2]->type == REDIS_REPLY_STRING) {
		char slug[SLUG_MAX + 1];
		struct error err;
		if (reply->element[2]->len >= sizeof(slug))
			return;
		memcpy(slug, reply->element[2]->str, reply->element[2]->len);
		slug[reply->element[2]->len] = '\0';
		if (validate_slug(slug, &err) < 0)
			return;
		fastpath_drop(dir, slug);
		log_debug("fastpath switch site=%s", slug);
	}
}

void sites_subscribe(struct bridge *b)
{
	if (!b->cfg->fastpath_dir[0] || !b->sub.up || !b->sub.ac)
		return;
	char channel[MODEL_SWITCH_KEY_MAX];
	model_switch_channel_key(b->cfg, channel);
	const char *argv[2] = { "SUBSCRIBE", channel };
	size_t len[2] = { strlen(argv[0]), strlen(channel) };
	if (redisAsyncCommandArgv(b->sub.ac, sites_on_message, NULL, 2, argv, len) != REDIS_OK)
		log_warn("fastpath switches not subscribed");
}
