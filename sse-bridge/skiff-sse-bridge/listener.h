/* listener.h — the listening socket (TCP or Unix) and accepting with a client limit. */
#ifndef SSE_LISTENER_H
#define SSE_LISTENER_H

#include "bridge.h"
#include "error.h"

/* Checks the sse_listen syntax ("host:port" or "unix:/path"). */
int listener_check(const char *spec, struct error *err);
int listener_open(struct bridge *b, struct error *err);
void listener_close(struct bridge *b);

#endif
