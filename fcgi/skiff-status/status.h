/* status.h — what skiff-status's JSON reads (main.c) and pages (pages.c) share. */
#ifndef SKIFF_STATUS_H
#define SKIFF_STATUS_H

#include "app.h"
#include "model.h"

#define STATUS_LOG_MAX (16u << 20)   /* largest log served or rendered */
#define STATUS_PREVIEWS_MAX 100      /* previews listed for a project (newest first) */

/* Loads a deployment and its project (empty when the project was deleted); 0 or an error
 * code with err set. */
int status_deployment_load(struct app *app, const char *id, struct deployment *dep,
			   struct project *project, struct error *err);
/* The whole log of a deployment: the Redis stream, else its archived copy in the store. */
int status_log_text(struct app *app, const char *id, struct buf *out, struct error *err);

#endif
