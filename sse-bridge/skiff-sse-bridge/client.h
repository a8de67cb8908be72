/* client.h — one SSE connection: request, Redis check, streaming, output limits. Called
 * only from the thread of the loop that owns the client. */
#ifndef SSE_CLIENT_H
#define SSE_CLIENT_H

#include "bridge.h"

void client_accept(struct loop *l, int fd);
/* Appends bytes that live as long as the program (no copy). 0, or -1 when the client
 * was closed for its output limits. */
int client_send_static(struct client *c, const char *s, size_t n);
/* The bytes the client's output holds; 0 without asking libevent when nothing was
 * appended since it was last seen empty. */
size_t client_queued(struct client *c);
/* Sends n bytes at p that stay valid until release(p, n, arg) is called; queued is what
 * the client's output holds now. Returns what it holds afterwards, or -1 when the client
 * was closed for its output limits. */
ssize_t client_send_ref(struct client *c, size_t queued, const char *p, size_t n,
			void (*release)(const void *p, size_t n, void *arg), void *arg);
/* The Redis check of a client ended (exists and end are set): answers it, or starts its
 * stream. 1 when it is now streaming and joins its deployment's watch. */
int client_checked(struct client *c);
/* Queues the last bytes: the client is closed once they are written. */
void client_finish(struct client *c);
void client_close(struct client *c, const char *reason);
/* Releases a client struct once it has no connection and no Redis reply to come. */
void client_release(struct client *c);
/* Checks output limits; -1 when the client was closed. */
int client_limits(struct client *c, int64_t now);
/* Once a second: a keepalive comment to the clients of each deployment that had no event
 * for sse_keepalive seconds, output limits. */
void client_cron(struct loop *l, int64_t now);
/* Closes every connection (shutdown). */
void client_close_all(struct loop *l);

#endif
