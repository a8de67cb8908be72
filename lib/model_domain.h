/* model_domain.h — a project's custom domains in Redis: each name belongs to one project and
 * goes pending → verified (skiff fetched its token over HTTP, or found it in the TXT record
 * _skiff-challenge.{name}) → active (handed to the web server's ACME client), or failed with
 * the reason after repeated failed checks (still retried, with backoff). A live (verified or
 * active) name is checked again on a slow schedule; one that stopped pointing here keeps
 * serving and shows since when and why. */
#ifndef SKIFF_MODEL_DOMAIN_H
#define SKIFF_MODEL_DOMAIN_H

#include <jansson.h>
#include <stdbool.h>
#include "error.h"
#include "host.h"
#include "id.h"
#include "redis.h"
#include "validate.h"

#define DOMAIN_PER_PROJECT_MAX 50      /* custom domains of one project */
#define DOMAIN_TOKEN_LEN 32            /* base32 characters of the verification token */
#define DOMAIN_STATE_MAX 8             /* "pending", "verified", "active", "failed" */
#define DOMAIN_REASON_MAX 200          /* bytes of the last failed check's reason */
#define DOMAIN_FAIL_AFTER 5            /* failed checks before the state says failed */
#define DOMAIN_RETRY_MIN_MS 5000       /* the first retry; doubles up to DOMAIN_RETRY_MAX_MS */
#define DOMAIN_RETRY_MAX_MS 3600000
#define DOMAIN_CLAIM_MS 300000         /* a due name taken for a check is not due again before */
#define DOMAIN_WELL_KNOWN "/.well-known/skiff/"
#define DOMAIN_TXT_PREFIX "_skiff-challenge."   /* + name: the TXT record holding the token */

struct domain {
	char name[HOST_DOMAIN_MAX + 1];
	char project[SLUG_MAX + 1];
	char state[DOMAIN_STATE_MAX + 1];
	char token[DOMAIN_TOKEN_LEN + 1];
	char reason[DOMAIN_REASON_MAX + 1];
	long long created;                 /* ms */
	long long checked;                 /* ms of the last check, 0 before the first */
	long attempts;                     /* failed checks since the last success */
	long long lost;                    /* ms of a live name's first failed re-check, else 0 */
};

/* What skiff-serve needs of a domain, in one round trip: its project, state, token and the
 * project's current deployment ("" when none), its HSTS choice and its primary domain. */
struct domain_site {
	char project[SLUG_MAX + 1];
	char state[DOMAIN_STATE_MAX + 1];
	char token[DOMAIN_TOKEN_LEN + 1];
	char current[ID_LEN + 1];
	bool hsts;                         /* the project sends Strict-Transport-Security */
	char primary[HOST_DOMAIN_MAX + 1]; /* the project's primary domain while it is one of its
					    * verified or active domains, else "" */
	bool primary_active;               /* the primary's state is active (a certificate) */
	bool redirect_project;             /* {slug}.{domain} redirects to the primary too */
};

/* A fresh verification token (base32 from getrandom). */
void model_domain_token_new(char out[DOMAIN_TOKEN_LEN + 1]);
/* 1 when state lets the domain serve its project (verified or active). */
bool model_domain_serves(const char *state);

/* Adds d (name, project, token, created set by the caller; validated) as pending and due for
 * its first check now. SKIFF_ENOTFOUND when the project does not exist, SKIFF_ECONFLICT
 * (domain_taken) when the name belongs to any project, SKIFF_ELIMIT past
 * DOMAIN_PER_PROJECT_MAX. */
int model_domain_add(struct redis *r, const struct domain *d, struct error *err);
/* Removes name from project slug (and clears the project's primary domain when it is name):
 * SKIFF_ENOTFOUND when slug has no such domain. */
int model_domain_remove(struct redis *r, const char *slug, const char *name, struct error *err);
/* The domain name, into *out; SKIFF_ENOTFOUND when no project has it. */
int model_domain_get(struct redis *r, const char *name, struct domain *out, struct error *err);
/* The project's domains, oldest first, as API objects; *out is the caller's. */
int model_domain_list(struct redis *r, const char *slug, json_t **out, struct error *err);
/* skiff-serve's lookup of a Host that is not the platform's; SKIFF_ENOTFOUND for no domain. */
int model_domain_site(struct redis *r, const char *name, struct domain_site *out,
		      struct error *err);
/* The same for the project's own address {slug}.{domain}: project, current, hsts and the
 * primary domain (state and token ""). Never SKIFF_ENOTFOUND: a project that does not exist
 * has no current deployment. */
int model_domain_project_site(struct redis *r, const char *slug, struct domain_site *out,
			      struct error *err);
/* Up to max domains due for a check at now (ms), into out; their count in *n. Each is claimed:
 * not due again for DOMAIN_CLAIM_MS unless model_domain_checked reschedules it. */
int model_domain_due(struct redis *r, long long now, struct domain *out, size_t max, size_t *n,
		     struct error *err);
/* Records the check of name with token (a domain removed or added again since is left
 * alone): ok makes it verified (active stays active) and schedules the next check recheck_ms
 * later; a failure keeps the reason, counts the attempt and schedules the next check with
 * backoff. A pending name becomes failed from the DOMAIN_FAIL_AFTER-th failure on; a live one
 * keeps its state (it keeps serving) and records when it first failed (lost). */
int model_domain_checked(struct redis *r, const char *name, const char *token, bool ok,
			 const char *reason, long long now, long long recheck_ms,
			 struct error *err);
/* The names that serve (verified or active), sorted, as a JSON array of strings. One that
 * has no check scheduled gets one at recheck_at (ms). */
int model_domain_live(struct redis *r, long long recheck_at, json_t **out, struct error *err);
/* Marks every verified domain of names (a JSON array of strings) active. */
int model_domain_activate(struct redis *r, json_t *names, struct error *err);

#endif
