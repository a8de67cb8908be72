/* manifest_cache.c — a hash table of manifests by deployment id threaded on an LRU list. */
#include "manifest_cache.h"
#include "rules_match.h"
#include "fnv.h"
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_CACHE_BUCKETS 1024   /* a power of two */

struct manifest_cache_entry {
	char id[16];
	struct manifest *m;
	size_t bytes;
	struct manifest_cache_entry *chain;       /* next in the bucket */
	struct manifest_cache_entry *prev, *next; /* LRU list: head is the most recent */
};

struct manifest_cache {
	struct manifest_cache_entry *buckets[MANIFEST_CACHE_BUCKETS];
	struct manifest_cache_entry *head, *tail;
	size_t count, bytes, max_bytes, max_entries;
};

static unsigned manifest_cache_hash(const char *id)
{
	return fnv1a(id) & (MANIFEST_CACHE_BUCKETS - 1);
}

struct manifest_cache *manifest_cache_new(size_t max_bytes, size_t max_entries)
{
	struct manifest_cache *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->max_bytes = max_bytes;
	c->max_entries = max_entries ? max_entries : 1;
	return c;
}

static void manifest_cache_unlink(struct manifest_cache *c, struct manifest_cache_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void manifest_cache_push(struct manifest_cache *c, struct manifest_cache_entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static void manifest_cache_drop(struct manifest_cache *c, struct manifest_cache_entry *e)
{
	struct manifest_cache_entry **pp = &c->buckets[manifest_cache_hash(e->id)];
	while (*pp && *pp != e)
		pp = &(*pp)->chain;
	if (*pp)
		*pp = e->chain;
	manifest_cache_unlink(c, e);
	c->count--;
	c->bytes -= e->bytes;
	manifest_free(e->m);
	free(e);
}

void manifest_cache_free(struct manifest_cache *c)
{
	if (!c)
		return;
	while (c->head)
		manifest_cache_drop(c, c->head);
	free(c);
}

struct manifest *manifest_cache_get(struct manifest_cache *c, const char *id)
{
	for (struct manifest_cache_entry *e = c->buckets[manifest_cache_hash(id)]; e; e = e->chain) {
		if (strcmp(e->id, id) == 0) {
			if (c->head != e) {
				manifest_cache_unlink(c, e);
				manifest_cache_push(c, e);
			}
			return e->m;
		}
	}
	return NULL;
}

void manifest_cache_put(struct manifest_cache *c, const char *id, struct manifest *m)
{
	unsigned b = manifest_cache_hash(id);
	for (struct manifest_cache_entry *e = c->buckets[b]; e; e = e->chain) {
		if (strcmp(e->id, id) == 0) {         /* replace (never expected: ids are unique) */
			manifest_cache_drop(c, e);
			break;
		}
	}
	struct manifest_cache_entry *e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->m = m;
	e->bytes = m->memory + (m->rules ? rules_memory(m->rules) : 0) + sizeof(*e);
	e->chain = c->buckets[b];
	c->buckets[b] = e;
	manifest_cache_push(c, e);
	c->count++;
	c->bytes += e->bytes;
	while (c->tail != e && (c->bytes > c->max_bytes || c->count > c->max_entries))
		manifest_cache_drop(c, c->tail);
}

size_t manifest_cache_count(const struct manifest_cache *c)
{
	return c->count;
}

size_t manifest_cache_bytes(const struct manifest_cache *c)
{
	return c->bytes;
}
