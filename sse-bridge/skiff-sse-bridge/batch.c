/* batch.c — the reference count of a batch of formatted events: the main thread writes it
 * once, every loop and every client output holding part of it keeps it alive. */
#include "batch.h"

#include <stdlib.h>

void batch_hold(struct batch *batch)
{
	atomic_fetch_add_explicit(&batch->refs, 1, memory_order_relaxed);
}

void batch_release(const void *data, size_t len, void *arg)
{
	struct batch *batch = arg;
	/* release: this thread's reads of the data happen before the free in another */
	if (atomic_fetch_sub_explicit(&batch->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(batch->ids);
	free(batch->off);
	free(batch->end);
	free(batch->data);
	free(batch);
}
