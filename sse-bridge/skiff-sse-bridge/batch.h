/* batch.h — the formatted events of one read, shared by reference between threads. */
#ifndef SSE_BATCH_H
#define SSE_BATCH_H

#include "bridge.h"

/* Takes one more reference (any thread). */
void batch_hold(struct batch *batch);
/* Drops one reference (any thread); the last frees it. The signature of an evbuffer
 * reference's cleanup, so a client's output can hold a part of the batch. */
void batch_release(const void *data, size_t len, void *arg);

#endif
