/* arena.h — a request's memory: many small allocations freed at once by arena_reset. */
#ifndef SKIFF_ARENA_H
#define SKIFF_ARENA_H

#include <stddef.h>

struct arena_block;
struct arena {
	struct arena_block *head;
	size_t used_total;
};

void arena_init(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);          /* zeroed, 16-byte aligned; aborts on OOM */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_reset(struct arena *a);   /* frees every block but the first, which is kept for reuse */
void arena_dispose(struct arena *a); /* frees everything */

#endif
