/* model_state.c — the states of a deployment and their wire strings. */
#include "model_state.h"

#include <assert.h>
#include <string.h>

static const char *const model_states[] = {
	[DEPLOYMENT_UNKNOWN] = "unknown",
	[DEPLOYMENT_QUEUED] = "queued",
	[DEPLOYMENT_BUILDING] = "building",
	[DEPLOYMENT_READY] = "ready",
	[DEPLOYMENT_ERROR] = "error",
	[DEPLOYMENT_CANCELED] = "canceled",
	[DEPLOYMENT_EXPIRED] = "expired",
};

const char *model_state_name(enum deployment_state state)
{
	assert((size_t)state < sizeof(model_states) / sizeof(model_states[0]));
	return model_states[state];
}

enum deployment_state model_state_parse(const char *s, size_t len)
{
	for (size_t i = DEPLOYMENT_QUEUED; i < sizeof(model_states) / sizeof(model_states[0]); i++)
		if (strlen(model_states[i]) == len && !memcmp(model_states[i], s, len))
			return (enum deployment_state)i;
	return DEPLOYMENT_UNKNOWN;
}

bool model_state_final(enum deployment_state state)
{
	return state == DEPLOYMENT_READY || state == DEPLOYMENT_ERROR ||
	       state == DEPLOYMENT_CANCELED || state == DEPLOYMENT_EXPIRED;
}
