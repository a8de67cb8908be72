/* feed.h — one watched deployment: its subscription, reads of its stream, its clients. */
#ifndef SSE_FEED_H
#define SSE_FEED_H

#include "bridge.h"

struct feed *feed_find(struct bridge *b, const char *id);
/* Adds a streaming client to its deployment's feed (subscribing when it is the first). */
void feed_join(struct bridge *b, struct client *c);
void feed_leave(struct client *c);
/* Something may be new for this feed's clients: read the stream. */
void feed_wake(struct feed *w);
/* The subscriber link is (re)connected: subscribe every feed. */
void feed_resubscribe(struct bridge *b);
/* The command link is (re)connected: catch up every feed, run waiting checks. */
void feed_catch_up(struct bridge *b);
/* A client's Redis check: EXISTS and the log's last entry. */
void feed_check(struct bridge *b, struct client *c);
void feed_free_all(struct bridge *b);

#endif
