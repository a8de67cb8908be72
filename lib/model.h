/* model.h — the records of skiff's Redis data model: projects and
 * deployments. Every write that must agree with another is one Lua script, so no half-written
 * state is ever visible. The queue and leases are in model_queue.h, log streams in
 * model_log.h. */
#ifndef SKIFF_MODEL_H
#define SKIFF_MODEL_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include "error.h"
#include "host.h"
#include "id.h"
#include "model_state.h"
#include "preview.h"
#include "redis.h"
#include "validate.h"

#define MODEL_PHASE_MAX 15           /* clone, install, build, upload */
#define MODEL_NONE LLONG_MIN         /* a number field the record does not have */
#define MODEL_SECRET_MAX 256         /* a webhook secret (HOOK_SECRET_MAX) */
#define MODEL_WHO_MAX 255            /* the user a rollback names */
#define MODEL_COMMIT_MAX 64          /* a commit id in hex (SHA-1 or SHA-256) */
#define MODEL_MESSAGE_MAX 1023       /* a commit message's first line, or a failure's cause */
#define MODEL_WORD_MAX 15            /* trigger, launcher */
#define MODEL_ARN_MAX 256            /* an ECS task ARN (ECS_ARN_MAX) */
#define MODEL_DELIVERY_MAX 64        /* a webhook delivery id (HOOK_DELIVERY_MAX) */

/* A project (hash project:{slug}). Lives on the stack or inside its owner; no pointers. */
struct project {
	char slug[SLUG_MAX + 1];
	char git_url[GIT_URL_MAX + 1];
	char branch[BRANCH_MAX + 1];               /* "": the remote's default branch */
	char build_command[COMMAND_MAX + 1];       /* "": detected */
	char install_command[COMMAND_MAX + 1];
	char output_dir[OUTPUT_DIR_MAX + 1];
	char webhook_secret[MODEL_SECRET_MAX + 1]; /* "": no webhook */
	char current[ID_LEN + 1];                  /* the deployment serving production, or "" */
	char latest[ID_LEN + 1];                   /* the newest deployment */
	char queued[ID_LEN + 1];                   /* the newest redeploy (superseded while queued) */
	char rolled_back_from[ID_LEN + 1];         /* the rollback that made current live, */
	char rolled_back_by[MODEL_WHO_MAX + 1];    /* until a build goes live again */
	long long rolled_back_at;                  /* ms, or MODEL_NONE */
	long long created;                         /* ms, or MODEL_NONE */
	long long updated;                         /* ms of the last settings change, or MODEL_NONE */
	bool pinned;                               /* later builds do not replace current */
	bool watch;                                /* the branch is polled for new commits */
	char previews[PREVIEW_SETTING_MAX + 1];    /* branch patterns with previews ("": none,
						    * "*": all), separated by spaces */
	bool preview_forks;                        /* pull requests from forks are built */
	bool hsts;                                 /* custom domains send Strict-Transport-
						    * Security over HTTPS */
	char primary_domain[HOST_DOMAIN_MAX + 1];  /* the custom domain every other name of the
						    * project redirects to, or "" */
	bool redirect_project;                     /* {slug}.{domain} redirects there too */
};

/* A deployment (hash deployment:{id}). Lives on the stack or inside its owner; no pointers. */
struct deployment {
	char id[ID_LEN + 1];
	char project[SLUG_MAX + 1];
	enum deployment_state state;
	char phase[MODEL_PHASE_MAX + 1];           /* while building: clone, install, build, upload */
	char trigger[MODEL_WORD_MAX + 1];          /* api, form, webhook, poll, redeploy */
	char git_url[GIT_URL_MAX + 1];
	char branch[BRANCH_MAX + 1];
	char context[MODEL_WORD_MAX + 1];          /* "production" or "preview"; "": production */
	char preview[PREVIEW_KEY_MAX + 1];         /* the preview it builds ("b-…", "pr-N"), or "" */
	bool fork;                                 /* a pull request from another repository */
	char ref[BRANCH_MAX + 1];                  /* what to build: a branch or a commit */
	char commit[MODEL_COMMIT_MAX + 1];         /* what was built */
	char commit_message[MODEL_MESSAGE_MAX + 1];
	char error[MODEL_MESSAGE_MAX + 1];
	char launcher[MODEL_WORD_MAX + 1];
	char task_arn[MODEL_ARN_MAX + 1];
	char rolled_back_from[ID_LEN + 1];
	char superseded_by[ID_LEN + 1];
	char delivery[MODEL_DELIVERY_MAX + 1];     /* the webhook delivery that asked for it */
	bool clear_cache;                          /* empty the project's build cache first */
	char pushed_commit[MODEL_COMMIT_MAX + 1];  /* a webhook's payload.after: only compared
						    * with the branch head the clone finds */
	char descends_from[ID_LEN + 1];            /* production when the clone ran, if commit is
						    * it or descends from it (the promotion rule) */
	long long cloned;                          /* ms the clone ran, or MODEL_NONE */
	long long created, started, finished, expired;  /* ms, or MODEL_NONE */
	long long launched;                        /* ms the ECS task was created, or MODEL_NONE */
	long long exit_code, files, bytes, bytes_uploaded;  /* or MODEL_NONE */
};

/* A preview (hash project:{slug}:preview:{key}): the stable address of a branch or a pull
 * request, pointing at its newest ready deployment. */
struct preview {
	char key[PREVIEW_KEY_MAX + 1];             /* "b-…" or "pr-N": {slug}--{key}.{domain} */
	char kind[MODEL_WORD_MAX + 1];             /* "branch" or "pr" */
	char branch[BRANCH_MAX + 1];               /* the branch (a pull request's head branch) */
	char git_url[GIT_URL_MAX + 1];             /* the repository it is built from */
	char title[MODEL_MESSAGE_MAX + 1];         /* a pull request's title */
	char current[ID_LEN + 1];                  /* the deployment it serves, or "" */
	char queued[ID_LEN + 1];                   /* the newest build (superseded while queued) */
	long long pr;                              /* the pull request's number, or MODEL_NONE */
	long long created, updated;                /* ms, or MODEL_NONE */
	bool fork;                                 /* the pull request comes from a fork */
};

/* A record with nothing in it: strings empty, numbers MODEL_NONE, state DEPLOYMENT_QUEUED. */
void model_project_init(struct project *p);
void model_deployment_init(struct deployment *d);
void model_preview_init(struct preview *p);

/* A new project with its first deployment, queued, in one atomic step (only the fields a
 * record holds are written: see model_record.h). SKIFF_ECONFLICT when the slug is taken. */
int model_project_create(struct redis *r, const struct project *project,
			 const struct deployment *deployment, struct error *err);
/* The same with the project's environment variables (env may be NULL; secrets sealed). */
struct env_list;
int model_project_create_env(struct redis *r, const struct project *project,
			     const struct deployment *deployment, const struct env_list *env,
			     struct error *err);
/* ...and its repository credentials (repo may be NULL; token and key sealed), all in the one
 * step, so that the first build finds them. */
struct repo_access;
int model_project_create_full(struct redis *r, const struct project *project,
			      const struct deployment *deployment, const struct env_list *env,
			      const struct repo_access *repo, struct error *err);
/* A new queued deployment of an existing project (SKIFF_ENOTFOUND when it does not exist). */
int model_deployment_create(struct redis *r, const char *slug, const struct deployment *d,
			    struct error *err);
/* Records (HGETALL) into *out. SKIFF_ENOTFOUND. */
int model_project_get(struct redis *r, const char *slug, struct project *out,
		      struct error *err);
int model_deployment_get(struct redis *r, const char *id, struct deployment *out,
			 struct error *err);
/* The slug's current deployment id into out (empty when none). One round trip. */
int model_project_current(struct redis *r, const char *slug, char out[ID_LEN + 1],
			  struct error *err);
/* Slugs (newest first) / deployment ids of a project (newest first), at most limit. */
int model_project_list(struct redis *r, size_t limit, json_t **slugs, struct error *err);
/* Every slug, oldest first. */
int model_project_all(struct redis *r, json_t **slugs, struct error *err);
int model_deployment_list(struct redis *r, const char *slug, size_t offset, size_t limit,
			  json_t **ids, struct error *err);
/* A place in a project's history: the created score (ms) and id of a deployment. */
struct model_cursor {
	long long score;
	char id[ID_LEN + 1];
};
/* One page of a project's deployment ids, newest first (score, then id, descending), strictly
 * after *after (NULL: from the newest), at most limit; positions[i] (room for limit) receives
 * the place of ids[i]. A deployment created between two pages never shifts the next one. */
int model_deployment_page(struct redis *r, const char *slug, const struct model_cursor *after,
			  size_t limit, json_t **ids, struct model_cursor *positions,
			  struct error *err);

/* The state (and phase, "" when none; phase may be NULL) of deployment id: 1 when its record
 * exists, 0 when not (then *state is DEPLOYMENT_UNKNOWN). One round trip. */
int model_deployment_status(struct redis *r, const char *id, enum deployment_state *state,
			    char phase[MODEL_PHASE_MAX + 1], struct error *err);

/* 1 when a user asked the running build of deployment id to stop (model_lifecycle_cancel sets
 * cancel_requested), 0 when not, negative when Redis failed. */
int model_deployment_cancel_requested(struct redis *r, const char *id, struct error *err);

/* The fields of a deployment that a build's progress changes: a change is a struct deployment
 * (from model_deployment_init) with a mask of the fields to write, MODEL_SET(COMMIT) | …
 * Strings are written as they are (also ""); a number that is MODEL_NONE is not written. */
enum deployment_field {
	DEPLOYMENT_FIELD_STARTED,
	DEPLOYMENT_FIELD_COMMIT,
	DEPLOYMENT_FIELD_COMMIT_MESSAGE,
	DEPLOYMENT_FIELD_ERROR,
	DEPLOYMENT_FIELD_EXIT_CODE,
	DEPLOYMENT_FIELD_FILES,
	DEPLOYMENT_FIELD_BYTES,
	DEPLOYMENT_FIELD_BYTES_UPLOADED,
	DEPLOYMENT_FIELD_LAUNCHER,
	DEPLOYMENT_FIELD_TASK_ARN,
	DEPLOYMENT_FIELD_LAUNCHED,
	DEPLOYMENT_FIELD_CLONED,
	DEPLOYMENT_FIELD_DESCENDS_FROM,
};
#define MODEL_SET(field) (1u << DEPLOYMENT_FIELD_##field)

/* The settings of a project that a change (PATCH) writes: a struct project with a mask of
 * PROJECT_SET(BRANCH) | ... */
enum project_field {
	PROJECT_FIELD_GIT_URL,
	PROJECT_FIELD_BRANCH,
	PROJECT_FIELD_BUILD_COMMAND,
	PROJECT_FIELD_INSTALL_COMMAND,
	PROJECT_FIELD_OUTPUT_DIR,
	PROJECT_FIELD_WEBHOOK_SECRET,
	PROJECT_FIELD_WATCH,
	PROJECT_FIELD_PREVIEWS,
	PROJECT_FIELD_PREVIEW_FORKS,
	PROJECT_FIELD_HSTS,
	PROJECT_FIELD_PRIMARY_DOMAIN,
	PROJECT_FIELD_REDIRECT_PROJECT,
	PROJECT_FIELD_COUNT,
};
#define PROJECT_SET(field) (1u << PROJECT_FIELD_##field)

/* Writes the fields of change named by set (no state change, no log entry); never creates a
 * record: SKIFF_ENOTFOUND once the deployment was deleted. */
int model_deployment_update(struct redis *r, const char *id, const struct deployment *change,
			    unsigned set, struct error *err);
/* Changes state (and phase, may be NULL or ""), writes the fields of change named by set
 * (change may be NULL with set 0), appends a state entry to the log and wakes listeners. A
 * final state (ready, error, canceled) also appends the end entry. Refuses (SKIFF_ECONFLICT)
 * to leave a final state. */
int model_deployment_state(struct redis *r, const char *id, enum deployment_state state,
			   const char *phase, const struct deployment *change, unsigned set,
			   struct error *err);
/* Makes id the current deployment of its project and marks it ready (with the fields of
 * change named by set), atomically, unless the deployment was canceled meanwhile
 * (SKIFF_ECANCELED). Going live (the project not pinned) clears the project's record of an
 * earlier rollback (rolled_back_from, _at, _by). A deployment whose clone (cloned) is older
 * than production's stays ready but not current unless it is production's commit or its
 * descends_from names production (the build's clone checks ancestry): the log says so. */
int model_deployment_promote(struct redis *r, const char *id, const struct deployment *change,
			     unsigned set, struct error *err);
/* The same for a build holding claim (model_queue.h): SKIFF_ECONFLICT "claim_lost", and
 * nothing written, when the deployment was requeued and claimed again meanwhile. */
int model_deployment_promote_claimed(struct redis *r, const char *id, const char *claim,
				     const struct deployment *change, unsigned set,
				     struct error *err);

#endif
