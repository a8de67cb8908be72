/* model_preview.h — reading a project's previews (project:{slug}:preview:{key} hashes and the
 * project:{slug}:previews index by last update). They are written by model_lifecycle.h
 * (queue, close) and model_deployment_promote (current). */
#ifndef SKIFF_MODEL_PREVIEW_H
#define SKIFF_MODEL_PREVIEW_H

#include <jansson.h>
#include <stddef.h>
#include "error.h"
#include "id.h"
#include "model.h"
#include "redis.h"

/* The preview key of slug into *out; SKIFF_ENOTFOUND when there is none. */
int model_preview_get(struct redis *r, const char *slug, const char *key, struct preview *out,
		      struct error *err);
/* The deployment preview key of slug serves into out; SKIFF_ENOTFOUND when the preview does
 * not exist or serves nothing yet. One round trip. */
int model_preview_current(struct redis *r, const char *slug, const char *key,
			  char out[ID_LEN + 1], struct error *err);
/* The keys of slug's previews, most recently updated first, at most limit (a new array). */
int model_preview_list(struct redis *r, const char *slug, size_t limit, json_t **keys,
		       struct error *err);

#endif
