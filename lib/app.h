/* app.h — what every endpoint program holds between requests: configuration, the Redis
 * connection and the store. Plugs into struct http_program's init/fini. */
#ifndef SKIFF_APP_H
#define SKIFF_APP_H

#include "config.h"
#include "error.h"
#include "redis.h"
#include "store.h"

struct app {
	const struct config *cfg;
	struct redis *redis;
	struct store *store;   /* opened on first use: a store outage must not stop start-up */
};

int app_init(const struct config *cfg, void **app, struct error *err);
void app_fini(void *app);
/* The store, opened on first use. */
int app_store(struct app *a, struct store **out, struct error *err);

#endif
