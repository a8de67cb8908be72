/* model_upload.h — deployments uploaded by the deploy protocol: the deployment record, created
 * building in phase "upload" (never queued: no dispatcher builds it), with its file list
 * (path → SHA-256) and site configuration kept beside it until it finishes; and log lines sent
 * by a remote builder, appended once per sequence number. */
#ifndef SKIFF_MODEL_UPLOAD_H
#define SKIFF_MODEL_UPLOAD_H

#include <stdbool.h>
#include "buf.h"
#include "error.h"
#include "model.h"
#include "redis.h"

#define MODEL_UPLOAD_TTL_S (7 * 24 * 3600)  /* the file list outlives the upload this long */

/* Creates deployment d (its project must exist: SKIFF_ENOTFOUND) in state building, phase
 * upload, with files (JSON text of the path → hash object, already checked) and config (JSON
 * text of the site configuration, or ""), and preview (a preview never becomes current). One
 * atomic step: the deployment never exists without its file list. */
int model_upload_create(struct redis *r, const struct deployment *d, const char *files,
			const char *config, bool preview, struct error *err);
/* The file list and configuration of a deployment built by a remote builder (its build token
 * minted, model_buildtoken.h), attached once it is building in phase upload: from then on it
 * is uploaded like one model_upload_create made. SKIFF_ECONFLICT (not_uploading) in any other
 * state or phase. */
int model_upload_attach(struct redis *r, const char *id, const char *files, const char *config,
			struct error *err);
/* The file list and configuration of an uploaded deployment into files and config (bounded
 * buffers; SKIFF_ELIMIT past their maximum); *preview. SKIFF_ENOTFOUND when id was not
 * uploaded by the protocol (or its list expired). */
int model_upload_get(struct redis *r, const char *id, struct buf *files, struct buf *config,
		     bool *preview, struct error *err);

/* One log line of a remote builder. */
struct model_upload_line {
	long long seq;              /* >= 0, increasing within a deployment */
	const char *stream;         /* LOG_SRC_STDOUT or LOG_SRC_STDERR */
	const char *text;           /* already made safe to show and cut to LOG_LINE_MAX */
};
/* Appends the lines whose seq is above the highest seq appended so far (a retried batch adds
 * nothing twice), in one step, and wakes listeners. *appended receives how many went in.
 * SKIFF_ECONFLICT (not_building) once the deployment has finished. */
int model_upload_log(struct redis *r, const char *id, const struct model_upload_line *lines,
		     size_t n, size_t *appended, struct error *err);

#endif
