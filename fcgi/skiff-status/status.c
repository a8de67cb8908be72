/* status.c — what skiff-status's JSON reads and pages share: a deployment with its project,
 * and a deployment's whole log. */
#include "id.h"
#include "model.h"
#include "model_log.h"
#include "status.h"

int status_deployment_load(struct app *app, const char *id, struct deployment *dep,
			   struct project *project, struct error *err)
{
	model_project_init(project);
	if (!id_valid(id))
		return error_set(err, SKIFF_EINVALID, "invalid_deployment_id",
				 "a deployment id is 12 characters of a-z and 2-7");
	int rc = model_deployment_get(app->redis, id, dep, err);
	if (rc < 0)
		return rc;
	if (dep->project[0] && model_project_get(app->redis, dep->project, project, NULL) < 0)
		model_project_init(project); /* the project was deleted; the record still reads */
	return 0;
}

int status_log_text(struct app *app, const char *id, struct buf *out, struct error *err)
{
	int rc = model_log_read(app->redis, id, out, err);
	if (rc < 0 || out->len > 0)
		return rc;
	/* the stream was trimmed or expired: fall back to the archived copy */
	struct store *store;
	if (app_store(app, &store, NULL) == 0 && store_log_get(store, id, out, NULL) == 0)
		return 0;
	buf_reset(out);
	return 0;
}
