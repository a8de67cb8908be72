/* model_state.h — a deployment's state as a value, and its wire string. */
#ifndef SKIFF_MODEL_STATE_H
#define SKIFF_MODEL_STATE_H

#include <stdbool.h>
#include <stddef.h>

/* A deployment's state; Redis, the log stream and the API hold its wire
 * string ("queued", …: model_state_name). */
enum deployment_state {
	DEPLOYMENT_UNKNOWN,     /* a state string skiff did not write */
	DEPLOYMENT_QUEUED,
	DEPLOYMENT_BUILDING,
	DEPLOYMENT_READY,
	DEPLOYMENT_ERROR,
	DEPLOYMENT_CANCELED,
	DEPLOYMENT_EXPIRED,     /* past retention: its immutable URL answers 410 */
};

/* The wire string of state ("unknown" for DEPLOYMENT_UNKNOWN). */
const char *model_state_name(enum deployment_state state);
/* The state named s (len bytes); DEPLOYMENT_UNKNOWN when s names none. */
enum deployment_state model_state_parse(const char *s, size_t len);
/* ready, error, canceled and expired are final: nothing leaves them. */
bool model_state_final(enum deployment_state state);

#endif
