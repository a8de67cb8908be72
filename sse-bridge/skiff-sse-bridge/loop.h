/* loop.h — one event loop thread: the clients it owns, by deployment, and the fan-out. */
#ifndef SSE_LOOP_H
#define SSE_LOOP_H

#include "bridge.h"

struct loop *loop_new(struct bridge *b, unsigned index);
/* Starts its thread; 0 or -1 (errno). */
int loop_start(struct loop *l);
/* Any thread: hands it a new connection. */
void loop_accept(struct loop *l, int fd);
/* Main thread: closes its clients, waits for its thread to return. */
void loop_stop(struct loop *l);
/* Main thread, after loop_stop and once nothing posts to it any more. */
void loop_free(struct loop *l);
/* The calls up from client.c (struct bridge's client_check, client_leave, client_wake). */
void loop_client_check(struct client *c);
void loop_client_leave(struct client *c);
void loop_client_wake(struct client *c);
/* Any thread: the loop ran its cron within LOOP_STALL_MS of now. */
int loop_alive(struct loop *l, int64_t now);

#endif
