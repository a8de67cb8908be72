/* model_record.c — records between their structs and Redis hashes, field by field from one
 * table per record. */
#include "model_record.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum model_field_type { MODEL_STR, MODEL_NUM, MODEL_FLAG, MODEL_STATE };

struct model_field {
	const char *name;          /* in the hash */
	enum model_field_type type;
	size_t offset;
	size_t size;               /* of a string's buffer */
};

#define STR(s, f) { #f, MODEL_STR, offsetof(struct s, f), sizeof(((struct s *)0)->f) }
#define NUM(s, f) { #f, MODEL_NUM, offsetof(struct s, f), 0 }
#define FLAG(s, f) { #f, MODEL_FLAG, offsetof(struct s, f), 0 }

static const struct model_field model_project_fields[] = {
	STR(project, slug), STR(project, git_url), STR(project, branch),
	STR(project, build_command), STR(project, install_command), STR(project, output_dir),
	STR(project, webhook_secret), STR(project, current), STR(project, latest),
	STR(project, queued), STR(project, rolled_back_from), STR(project, rolled_back_by),
	NUM(project, rolled_back_at), NUM(project, created), FLAG(project, pinned),
	FLAG(project, watch), NUM(project, updated), STR(project, previews),
	FLAG(project, preview_forks),
	FLAG(project, watch), NUM(project, updated), FLAG(project, hsts),
	STR(project, primary_domain), FLAG(project, redirect_project),
};

/* The settings a change of a project may write, by enum project_field. */
static const struct model_field model_project_change_fields[] = {
	[PROJECT_FIELD_GIT_URL] = STR(project, git_url),
	[PROJECT_FIELD_BRANCH] = STR(project, branch),
	[PROJECT_FIELD_BUILD_COMMAND] = STR(project, build_command),
	[PROJECT_FIELD_INSTALL_COMMAND] = STR(project, install_command),
	[PROJECT_FIELD_OUTPUT_DIR] = STR(project, output_dir),
	[PROJECT_FIELD_WEBHOOK_SECRET] = STR(project, webhook_secret),
	[PROJECT_FIELD_WATCH] = FLAG(project, watch),
	[PROJECT_FIELD_PREVIEWS] = STR(project, previews),
	[PROJECT_FIELD_PREVIEW_FORKS] = FLAG(project, preview_forks),
	[PROJECT_FIELD_HSTS] = FLAG(project, hsts),
	[PROJECT_FIELD_PRIMARY_DOMAIN] = STR(project, primary_domain),
	[PROJECT_FIELD_REDIRECT_PROJECT] = FLAG(project, redirect_project),
};

static const struct model_field model_deployment_fields[] = {
	STR(deployment, id), STR(deployment, project),
	{ "state", MODEL_STATE, offsetof(struct deployment, state), 0 },
	STR(deployment, phase), STR(deployment, trigger), STR(deployment, git_url),
	STR(deployment, branch), STR(deployment, context), STR(deployment, preview),
	FLAG(deployment, fork), STR(deployment, ref), STR(deployment, commit),
	STR(deployment, commit_message), STR(deployment, error), STR(deployment, launcher),
	STR(deployment, task_arn), STR(deployment, rolled_back_from),
	STR(deployment, superseded_by), STR(deployment, delivery),
	STR(deployment, pushed_commit), STR(deployment, descends_from), NUM(deployment, cloned),
	NUM(deployment, created),
	NUM(deployment, started), NUM(deployment, finished), NUM(deployment, expired),
	NUM(deployment, launched), NUM(deployment, exit_code), NUM(deployment, files),
	NUM(deployment, bytes), NUM(deployment, bytes_uploaded), FLAG(deployment, clear_cache),
};

static const struct model_field model_preview_fields[] = {
	STR(preview, key), STR(preview, kind), STR(preview, branch), STR(preview, git_url),
	STR(preview, title), STR(preview, current), STR(preview, queued), NUM(preview, pr),
	NUM(preview, created), NUM(preview, updated), FLAG(preview, fork),
};

/* The fields a change may write, by enum deployment_field. */
static const struct model_field model_change_fields[] = {
	[DEPLOYMENT_FIELD_STARTED] = NUM(deployment, started),
	[DEPLOYMENT_FIELD_COMMIT] = STR(deployment, commit),
	[DEPLOYMENT_FIELD_COMMIT_MESSAGE] = STR(deployment, commit_message),
	[DEPLOYMENT_FIELD_ERROR] = STR(deployment, error),
	[DEPLOYMENT_FIELD_EXIT_CODE] = NUM(deployment, exit_code),
	[DEPLOYMENT_FIELD_FILES] = NUM(deployment, files),
	[DEPLOYMENT_FIELD_BYTES] = NUM(deployment, bytes),
	[DEPLOYMENT_FIELD_BYTES_UPLOADED] = NUM(deployment, bytes_uploaded),
	[DEPLOYMENT_FIELD_LAUNCHER] = STR(deployment, launcher),
	[DEPLOYMENT_FIELD_TASK_ARN] = STR(deployment, task_arn),
	[DEPLOYMENT_FIELD_LAUNCHED] = NUM(deployment, launched),
	[DEPLOYMENT_FIELD_CLONED] = NUM(deployment, cloned),
	[DEPLOYMENT_FIELD_DESCENDS_FROM] = STR(deployment, descends_from),
};

#define MODEL_NFIELDS(t) (sizeof(t) / sizeof((t)[0]))
/* a mask of fields has a bit for each */
_Static_assert(MODEL_NFIELDS(model_deployment_fields) <= 32, "too many fields for a mask");
_Static_assert(MODEL_NFIELDS(model_project_fields) <= 32, "too many fields for a mask");
_Static_assert(MODEL_NFIELDS(model_preview_fields) <= 32, "too many fields for a mask");

/* A number stored as decimal text; MODEL_NONE when it is not one. */
static long long model_record_num(const char *s, size_t len)
{
	char tmp[32], *end;
	if (len == 0 || len >= sizeof(tmp))
		return MODEL_NONE;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	long long v = strtoll(tmp, &end, 10);
	return errno || *end ? MODEL_NONE : v;
}

static void model_record_init(void *rec, const struct model_field *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *at = (char *)rec + fields[i].offset;
		switch (fields[i].type) {
		case MODEL_STR: at[0] = '\0'; break;
		case MODEL_NUM: *(long long *)(void *)at = MODEL_NONE; break;
		case MODEL_FLAG: *(bool *)(void *)at = false; break;
		case MODEL_STATE: *(enum deployment_state *)(void *)at = DEPLOYMENT_QUEUED; break;
		}
	}
}

static void model_record_load(void *rec, const struct model_field *fields, size_t n,
			      const redisReply *reply)
{
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
		const redisReply *k = reply->element[i], *v = reply->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		for (size_t j = 0; j < n; j++) {
			const struct model_field *f = &fields[j];
			if (strlen(f->name) != k->len || memcmp(f->name, k->str, k->len))
				continue;
			char *at = (char *)rec + f->offset;
			switch (f->type) {
			case MODEL_STR:
				snprintf(at, f->size, "%.*s", (int)v->len, v->str);
				break;
			case MODEL_NUM:
				*(long long *)(void *)at = model_record_num(v->str, v->len);
				break;
			case MODEL_FLAG:
				*(bool *)(void *)at = v->len == 1 && v->str[0] == '1';
				break;
			case MODEL_STATE:
				*(enum deployment_state *)(void *)at = model_state_parse(v->str, v->len);
				break;
			}
			break;
		}
	}
}

/* The fields of rec as strings; only those in mask (1u << index) unless mask is ~0u, and
 * then only the non-empty ones. */
static json_t *model_record_fields(const void *rec, const struct model_field *fields, size_t n,
				   unsigned mask)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++) {
		const struct model_field *f = &fields[i];
		if (!(mask & (1u << i)))
			continue;
		const char *at = (const char *)rec + f->offset;
		char num[24];
		const char *s = NULL;
		switch (f->type) {
		case MODEL_STR:
			s = at[0] || mask != ~0u ? at : NULL;
			break;
		case MODEL_NUM:
			if (*(const long long *)(const void *)at != MODEL_NONE) {
				snprintf(num, sizeof(num), "%lld", *(const long long *)(const void *)at);
				s = num;
			}
			break;
		case MODEL_FLAG:
			s = *(const bool *)(const void *)at ? "1" : NULL;
			break;
		case MODEL_STATE:
			if (*(const enum deployment_state *)(const void *)at != DEPLOYMENT_UNKNOWN)
				s = model_state_name(*(const enum deployment_state *)(const void *)at);
			break;
		}
		if (s)
			json_object_set_new(o, f->name, json_string(s));
	}
	return o;
}

void model_record_project_init(struct project *p)
{
	model_record_init(p, model_project_fields, MODEL_NFIELDS(model_project_fields));
}

void model_record_deployment_init(struct deployment *d)
{
	model_record_init(d, model_deployment_fields, MODEL_NFIELDS(model_deployment_fields));
}

void model_record_project_load(struct project *p, const redisReply *reply)
{
	model_record_project_init(p);
	model_record_load(p, model_project_fields, MODEL_NFIELDS(model_project_fields), reply);
}

void model_record_deployment_load(struct deployment *d, const redisReply *reply)
{
	model_record_deployment_init(d);
	d->state = DEPLOYMENT_UNKNOWN; /* until the hash says */
	model_record_load(d, model_deployment_fields, MODEL_NFIELDS(model_deployment_fields), reply);
}

void model_record_preview_init(struct preview *p)
{
	model_record_init(p, model_preview_fields, MODEL_NFIELDS(model_preview_fields));
}

void model_record_preview_load(struct preview *p, const redisReply *reply)
{
	model_record_preview_init(p);
	model_record_load(p, model_preview_fields, MODEL_NFIELDS(model_preview_fields), reply);
}

json_t *model_record_preview_fields(const struct preview *p)
{
	return model_record_fields(p, model_preview_fields, MODEL_NFIELDS(model_preview_fields), ~0u);
}

json_t *model_record_project_fields(const struct project *p)
{
	return model_record_fields(p, model_project_fields, MODEL_NFIELDS(model_project_fields), ~0u);
}

json_t *model_record_deployment_fields(const struct deployment *d)
{
	json_t *o = model_record_fields(d, model_deployment_fields,
					MODEL_NFIELDS(model_deployment_fields), ~0u);
	/* every new record says its context: a preview's when it builds one */
	if (!d->context[0])
		json_object_set_new(o, "context", json_string(d->preview[0] ? "preview" : "production"));
	return o;
}

json_t *model_record_project_change(const struct project *change, unsigned set)
{
	assert(set < 1u << MODEL_NFIELDS(model_project_change_fields));
	json_t *o = model_record_fields(change, model_project_change_fields,
					MODEL_NFIELDS(model_project_change_fields), set);
	/* a flag turned off is written as "0" (model_record_fields leaves false out) */
	if ((set & PROJECT_SET(WATCH)) && !change->watch)
		json_object_set_new(o, "watch", json_string("0"));
	if ((set & PROJECT_SET(PREVIEW_FORKS)) && !change->preview_forks)
		json_object_set_new(o, "preview_forks", json_string("0"));
	if ((set & PROJECT_SET(HSTS)) && !change->hsts)
		json_object_set_new(o, "hsts", json_string("0"));
	if ((set & PROJECT_SET(REDIRECT_PROJECT)) && !change->redirect_project)
		json_object_set_new(o, "redirect_project", json_string("0"));
	return o;
}

const char *model_record_project_field_name(enum project_field f)
{
	assert((size_t)f < MODEL_NFIELDS(model_project_change_fields));
	return model_project_change_fields[f].name;
}

json_t *model_record_deployment_change(const struct deployment *change, unsigned set)
{
	assert(set < 1u << MODEL_NFIELDS(model_change_fields));
	if (!change || !set)
		return json_object();
	return model_record_fields(change, model_change_fields, MODEL_NFIELDS(model_change_fields),
				   set);
}
