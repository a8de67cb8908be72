/* mailbox.h — messages into one thread's event loop from any thread. */
#ifndef SSE_MAILBOX_H
#define SSE_MAILBOX_H

#include "bridge.h"

/* deliver(arg, m) runs in base's thread for each message, in the order they were posted. */
void mailbox_init(struct mailbox *mb, struct event_base *base,
		  void (*deliver)(void *arg, struct msg *m), void *arg);
/* Any thread; the mailbox takes m. */
void mailbox_post(struct mailbox *mb, struct msg *m);
/* Delivers what is queued now, in the calling thread (the owner, or at shutdown once the
 * owner has stopped). */
void mailbox_drain(struct mailbox *mb);
void mailbox_dispose(struct mailbox *mb);
struct msg *msg_new(enum msg_type type);

#endif
