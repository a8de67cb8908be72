/* feed.h — the main thread's side of each watched deployment: its subscription, reads of
 * its stream handed to the loops, and the Redis checks of new clients. */
#ifndef SSE_FEED_H
#define SSE_FEED_H

#include "bridge.h"

struct feed *feed_find(struct bridge *b, const char *id);
/* Something may be new for this feed's clients: read the stream. */
void feed_wake(struct feed *f);
/* The main thread's mailbox: a message from a loop (CHECK, JOIN, WANT, LEAVE). */
void feed_deliver(void *arg, struct msg *m);
/* The subscriber link is (re)connected: subscribe every feed. */
void feed_resubscribe(struct bridge *b);
/* The command link is (re)connected: run waiting checks, catch up every feed. */
void feed_catch_up(struct bridge *b);
/* Shutdown: checks still waiting for Redis are answered "unknown". */
void feed_answer_waiting(struct bridge *b);
void feed_free_all(struct bridge *b);

#endif
