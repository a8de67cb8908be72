/* model_record.h — the typed records of model.h to and from Redis hashes: one table of fields
 * per record says each field's name in the hash, its type and where it lives in the struct. */
#ifndef SKIFF_MODEL_RECORD_H
#define SKIFF_MODEL_RECORD_H

#include <jansson.h>
#include "model.h"
#include "redis.h"

/* Empty records: strings "", numbers MODEL_NONE, flags false, state DEPLOYMENT_QUEUED. */
void model_record_project_init(struct project *p);
void model_record_deployment_init(struct deployment *d);
/* Fills p / d (cleared first) from an HGETALL reply; fields the struct does not know are
 * ignored, strings longer than their field are cut; a deployment without a state has
 * DEPLOYMENT_UNKNOWN. */
void model_record_project_load(struct project *p, const redisReply *reply);
void model_record_deployment_load(struct deployment *d, const redisReply *reply);
/* The fields a record holds as a JSON object of strings (new reference): empty strings,
 * MODEL_NONE numbers, false flags and DEPLOYMENT_UNKNOWN are left out, as a record that
 * never had them. A deployment's context, when empty, is written as "preview" when it builds
 * a preview, else "production". */
json_t *model_record_project_fields(const struct project *p);
json_t *model_record_deployment_fields(const struct deployment *d);
/* The same for a preview (model.h); load clears p first. */
void model_record_preview_init(struct preview *p);
void model_record_preview_load(struct preview *p, const redisReply *reply);
json_t *model_record_preview_fields(const struct preview *p);
/* The fields of change named by set (MODEL_SET) as a JSON object of strings (new reference):
 * strings as they are, numbers unless MODEL_NONE. Empty for a NULL change or set 0. */
json_t *model_record_deployment_change(const struct deployment *change, unsigned set);
/* The settings of change named by set (PROJECT_SET) as a JSON object of strings (new
 * reference): strings as they are (also ""), flags "1" or "0". */
json_t *model_record_project_change(const struct project *change, unsigned set);
/* The name in the hash of one setting ("git_url", ...). */
const char *model_record_project_field_name(enum project_field f);

#endif
