/* app.c — the per-process context of the FastCGI programs. */
#include "app.h"

#include <stdlib.h>

int app_init(const struct config *cfg, void **out, struct error *err)
{
	(void)err;
	struct app *a = calloc(1, sizeof(*a));
	if (!a)
		abort();
	a->cfg = cfg;
	a->redis = redis_new(cfg);
	*out = a;
	return 0;
}

void app_fini(void *p)
{
	struct app *a = p;
	if (!a)
		return;
	redis_free(a->redis);
	store_free(a->store);
	free(a);
}

int app_store(struct app *a, struct store **out, struct error *err)
{
	if (!a->store) {
		int rc = store_open(&a->store, a->cfg, err);
		if (rc < 0)
			return rc;
	}
	*out = a->store;
	return 0;
}
