/* site.c — Host → project → deployment (at most one Redis round trip, none while the
 * answer is fresh) → cached manifest, served only when the deployment is the project's. */
#include "site.h"
#include "rules_match.h"
#include "clock.h"
#include "fnv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fastpath.h"
#include "host.h"
#include "log.h"
#include "model.h"
#include "model_preview.h"
#include "model_domain.h"
#include "rules.h"

/* Answers from Redis are reused for SITE_FRESH_MS: a rollback or promotion shows within that
 * time (at most one second) and a busy site costs Redis one command per process per
 * interval instead of one per request. A direct-mapped table: bounded, O(1), a collision
 * only costs a round trip. Errors (Redis down) are never remembered. */
#define SITE_FRESH_MS 500
#define SITE_SLOTS 1024

struct site_slot {
	char key[HOST_MAX + 2];            /* "slug", "slug--id", "slug--key" or "@custom.domain" */
	char id[ID_LEN + 1];
	char project[SLUG_MAX + 1];        /* the project a custom domain serves */
	struct site_primary primary;       /* of "slug" and "@custom.domain" */
	bool active;                       /* a custom domain with its certificate */
	bool hsts;                         /* its project sends Strict-Transport-Security */
	int rc;                            /* 0, SKIFF_ENOTFOUND or SKIFF_EGONE */
	long long stamp;                   /* monotonic ms when fetched */
};

/* A deployment whose fast-path tree could not be made, and when (site_fastpath). */
#define SITE_FASTPATH_SLOTS 64
struct site_fastpath_failure {
	char id[sizeof(((struct manifest *)0)->deployment)];
	long long at;                      /* monotonic ms */
};

/* A site whose tree was seen linked to a deployment, and when (site_fastpath). */
struct site_fastpath_link {
	char slug[SLUG_MAX + 1];
	char id[sizeof(((struct manifest *)0)->deployment)];
	long long at;                      /* monotonic ms */
};

struct site_memo {
	struct site_slot slots[SITE_SLOTS];
	struct site_fastpath_failure failed[SITE_FASTPATH_SLOTS];
	struct site_fastpath_link linked[SITE_SLOTS];
};

static struct site_memo *site_memo(struct serve_app *sa)
{
	if (!sa->memo) {
		sa->memo = calloc(1, sizeof(*sa->memo));
		if (!sa->memo)
			abort();
	}
	return sa->memo;
}

static struct site_slot *site_slot(struct serve_app *sa, const char *key)
{
	return &site_memo(sa)->slots[fnv1a(key) & (SITE_SLOTS - 1)];
}

/* "slug" or "slug--which" into key, cut at size as snprintf would (on every request: no
 * printf). */
static void site_key(char *key, size_t size, const char *slug, const char *which)
{
	size_t n = 0;
	const char *parts[] = { slug, which[0] ? "--" : "", which };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (const char *p = parts[i]; *p && n + 1 < size; p++)
			key[n++] = *p;
	key[n] = '\0';
}

/* The primary domain of ds's project, into p. */
static void site_primary_set(struct site_primary *p, const struct domain_site *ds)
{
	snprintf(p->name, sizeof(p->name), "%s", ds->primary);
	p->active = ds->primary_active;
	p->redirect_project = ds->redirect_project;
}

/* The deployment id a host names (current of the slug, or the immutable id after checks),
 * and for the project's own address its primary domain into *primary (filled also when the
 * project has no current deployment: a redirect needs none). */
static int site_resolve(struct serve_app *sa, const struct host_site *site, char id[ID_LEN + 1],
			struct site_primary *primary, struct error *err)
{
	char key[sizeof(((struct site_slot *)0)->key)];
	const char *which = site->deployment[0] ? site->deployment : site->preview;
	site_key(key, sizeof(key), site->slug, which);
	struct site_slot *slot = site_slot(sa, key);
	long long now = clock_mono_ms();
	memset(primary, 0, sizeof(*primary));
	if (slot->stamp && now - slot->stamp < SITE_FRESH_MS && strcmp(slot->key, key) == 0) {
		memcpy(id, slot->id, ID_LEN + 1);
		*primary = slot->primary;
		if (slot->rc == SKIFF_EGONE)
			return error_set(err, SKIFF_EGONE, "deployment_expired",
					 "deployment %s has expired", site->deployment);
		if (slot->rc < 0)
			return error_set(err, slot->rc, NULL, "no such site or deployment");
		return 0;
	}
	int rc;
	if (site->preview[0]) {
		rc = model_preview_current(sa->app->redis, site->slug, site->preview, id, err);
	} else if (!site->deployment[0]) {
		/* the current deployment and the primary domain in one round trip */
		struct domain_site ds;
		rc = model_domain_project_site(sa->app->redis, site->slug, &ds, err);
		if (rc == 0) {
			site_primary_set(primary, &ds);
			if (id_valid(ds.current))
				memcpy(id, ds.current, ID_LEN + 1);
			else
				rc = error_set(err, SKIFF_ENOTFOUND, NULL, "no current deployment");
		}
	} else {
		/* the immutable URL: the deployment must belong to the slug and not be expired */
		struct deployment dep;
		memcpy(id, site->deployment, ID_LEN + 1);
		rc = model_deployment_get(sa->app->redis, id, &dep, err);
		if (rc == 0) {
			if (strcmp(dep.project, site->slug) != 0)
				rc = error_set(err, SKIFF_ENOTFOUND, NULL, "no such deployment");
			else if (dep.state == DEPLOYMENT_EXPIRED)
				rc = error_set(err, SKIFF_EGONE, "deployment_expired",
					       "deployment %s has expired", id);
		}
	}
	/* the same answer whether it came from Redis or from the memo */
	if (rc == SKIFF_ENOTFOUND)
		error_set(err, SKIFF_ENOTFOUND, NULL, "no such site or deployment");
	if (rc == 0 || rc == SKIFF_ENOTFOUND || rc == SKIFF_EGONE) {
		snprintf(slot->key, sizeof(slot->key), "%s", key);
		memcpy(slot->id, rc == 0 ? id : "", rc == 0 ? ID_LEN + 1 : 1);
		slot->primary = *primary;
		slot->rc = rc;
		slot->stamp = now ? now : 1;
	}
	return rc;
}

/* The current deployment ("" when none) of the project whose verified or active custom
 * domain name is, that project into project and its primary domain into primary; one Redis
 * round trip, remembered like site_resolve's. A pending or failed domain serves nothing. */
static int site_resolve_domain(struct serve_app *sa, const char *name, char id[ID_LEN + 1],
			       char project[SLUG_MAX + 1], struct site_primary *primary,
			       bool *active, bool *hsts, struct error *err)
{
	char key[sizeof(((struct site_slot *)0)->key)];
	snprintf(key, sizeof(key), "@%s", name);
	struct site_slot *slot = site_slot(sa, key);
	long long now = clock_mono_ms();
	if (slot->stamp && now - slot->stamp < SITE_FRESH_MS && strcmp(slot->key, key) == 0) {
		memcpy(id, slot->id, ID_LEN + 1);
		memcpy(project, slot->project, SLUG_MAX + 1);
		*primary = slot->primary;
		*active = slot->active;
		*hsts = slot->hsts;
		if (slot->rc < 0)
			return error_set(err, slot->rc, NULL, "no site at this host");
		return 0;
	}
	struct domain_site ds;
	memset(primary, 0, sizeof(*primary));
	id[0] = '\0';
	int rc = model_domain_site(sa->app->redis, name, &ds, err);
	if (rc == 0 && !model_domain_serves(ds.state))
		rc = error_set(err, SKIFF_ENOTFOUND, NULL, "no site at this host");
	*active = rc == 0 && !strcmp(ds.state, "active");
	*hsts = rc == 0 && ds.hsts;
	if (rc == 0) {
		if (id_valid(ds.current))
			memcpy(id, ds.current, ID_LEN + 1);
		memcpy(project, ds.project, SLUG_MAX + 1);
		site_primary_set(primary, &ds);
	}
	if (rc == 0 || rc == SKIFF_ENOTFOUND) {
		snprintf(slot->key, sizeof(slot->key), "%s", key);
		memcpy(slot->id, id, ID_LEN + 1);
		memcpy(slot->project, rc == 0 ? project : "", rc == 0 ? SLUG_MAX + 1 : 1);
		slot->primary = *primary;
		slot->active = *active;
		slot->hsts = *hsts;
		slot->rc = rc;
		slot->stamp = now ? now : 1;
	}
	return rc;
}

/* The port a custom domain's Host may name: the HTTPS virtual hosts' over TLS (the web
 * server sets HTTPS=on), else the sites' HTTP port. */
static long site_domain_port(struct http_request *req)
{
	const char *https = request_param(req, "HTTPS");
	if (https && !strcasecmp(https, "on"))
		return req->cfg->acme_https_port;
	return req->cfg->site_port;
}

/* The project the deployment belongs to, from its record, into m->project: read once per
 * manifest load (a cache miss), so a warm hit checks ownership without a round trip. A
 * deployment without a record (deleted) serves nothing. */
static int site_manifest_owner(struct serve_app *sa, const char *id, struct manifest *m,
			       struct error *err)
{
	struct deployment *dep = malloc(sizeof(*dep));   /* some KiB: not on the stack */
	if (!dep)
		abort();
	int rc = model_deployment_get(sa->app->redis, id, dep, err);
	if (rc == 0)
		snprintf(m->project, sizeof(m->project), "%s", dep->project);
	free(dep);
	return rc;
}

/* Reads, parses and compiles the manifest of deployment id (the cache-miss path). */
static int site_manifest_load(struct serve_app *sa, const char *id, struct manifest **out,
			      struct error *err)
{
	struct store *store;
	struct buf data;
	struct manifest *m = NULL;
	buf_init(&data, MANIFEST_MAX_BYTES);
	int rc = app_store(sa->app, &store, err);
	if (rc < 0)
		goto out;
	rc = store_manifest_get(store, id, &data, err);
	if (rc < 0)
		goto out;
	rc = manifest_parse(buf_cstr(&data), data.len, &m, err);
	if (rc < 0) {
		log_error("manifest unreadable deployment=%s message=\"%s\"", id, err->message);
		rc = error_set(err, SKIFF_ESTORE, "manifest_invalid", "deployment %s has a broken "
			       "manifest", id);
		goto out;
	}
	if ((rc = site_manifest_owner(sa, id, m, err)) < 0)
		goto out;
	struct rules *rules = NULL;
	rc = rules_compile(m->config, &rules, err);
	if (rc < 0)
		goto out;
	m->rules = rules;
	log_debug("manifest loaded deployment=%s files=%zu", id, m->nfiles);
	*out = m;
	m = NULL;
out:
	manifest_free(m);
	buf_dispose(&data);
	return rc;
}

/* Links the site's fast-path tree (lib/fastpath.h) to the deployment being served when the
 * link names another and Redis confirms, past the memo, that it is current. Whatever changes
 * current drops the link after writing (fastpath_drop); reading current again after linking
 * catches a change made meanwhile. A link seen is not looked at again for SITE_FRESH_MS (two
 * system calls less per request): one dropped meanwhile is made again that much later, and
 * until then skiff-serve answers what the web server would have. A failed build waits
 * FASTPATH_RETRY_MS, remembered per deployment: with one memory for all, two failing sites
 * (an unwritable fastpath_dir) would each make every request of the other cost a Redis round
 * trip and a build attempt. */
#define FASTPATH_RETRY_MS 10000

/* Whether Redis, past the memo, says id is slug's current deployment and slug's own address
 * is not redirected to a primary domain: the web server may then answer it from the tree. A
 * redirected address is never linked, and the settings change that turns the redirect on
 * drops the link after writing, like a change of current. */
static bool site_fastpath_current(struct serve_app *sa, const char *slug, const char *id)
{
	struct domain_site ds;
	struct error err;
	return model_domain_project_site(sa->app->redis, slug, &ds, &err) == 0 &&
	       !strcmp(ds.current, id) && !(ds.redirect_project && ds.primary[0]);
}

static void site_fastpath_seen(struct site_fastpath_link *seen, const char *slug,
			       const char *id, long long now)
{
	snprintf(seen->slug, sizeof(seen->slug), "%s", slug);
	snprintf(seen->id, sizeof(seen->id), "%s", id);
	seen->at = now ? now : 1;
}

static void site_fastpath(struct serve_app *sa, const struct config *cfg,
			  const struct host_site *site, const struct manifest *m)
{
	const char *dir = cfg->fastpath_dir;
	struct store *store;
	struct error err;
	/* only a project's own host links its tree: an immutable URL or a preview never names
	 * current, so asking Redis for it would cost every such request a second round trip */
	if (!dir[0] || site->deployment[0] || site->preview[0])
		return;
	struct site_fastpath_link *seen =
		&site_memo(sa)->linked[fnv1a(site->slug) & (SITE_SLOTS - 1)];
	long long now = clock_mono_ms();
	if (seen->at && now - seen->at < SITE_FRESH_MS && !strcmp(seen->id, m->deployment) &&
	    !strcmp(seen->slug, site->slug))
		return;
	if (fastpath_linked(dir, site->slug, m->deployment)) {
		site_fastpath_seen(seen, site->slug, m->deployment, now);
		return;
	}
	struct site_fastpath_failure *failed =
		&site_memo(sa)->failed[fnv1a(m->deployment) & (SITE_FASTPATH_SLOTS - 1)];
	if (!strcmp(failed->id, m->deployment) && clock_mono_ms() - failed->at < FASTPATH_RETRY_MS)
		return;
	if (!site_fastpath_current(sa, site->slug, m->deployment))
		return;
	if (app_store(sa->app, &store, &err) < 0 ||
	    fastpath_suffix(dir, cfg->domain, cfg->site_port, &err) < 0 ||
	    fastpath_publish(dir, site->slug, m, store, &err) < 0) {
		log_warn("fastpath not linked site=%s deployment=%s message=\"%s\"", site->slug,
			 m->deployment, err.message);
		snprintf(failed->id, sizeof(failed->id), "%s", m->deployment);
		failed->at = clock_mono_ms();
		return;
	}
	if (!site_fastpath_current(sa, site->slug, m->deployment)) {
		fastpath_drop(dir, site->slug);
	} else {
		log_info("fastpath linked site=%s deployment=%s", site->slug, m->deployment);
		site_fastpath_seen(seen, site->slug, m->deployment, clock_mono_ms());
	}
}

/* Whether req came over HTTPS (the web server sets HTTPS=on). */
static bool site_over_https(struct http_request *req)
{
	const char *https = request_param(req, "HTTPS");
	return https && !strcasecmp(https, "on");
}

/* The URL of req's path and query on name (https or not), in req's arena; the port is the
 * HTTPS virtual hosts' or the sites' HTTP port. */
static const char *site_location(struct http_request *req, bool https, const char *name)
{
	const struct config *cfg = req->cfg;
	struct buf b;
	buf_init(&b, HOST_MAX + REQUEST_URI_MAX * 3 + 32);
	const char *loc = NULL;
	if (host_location(&b, https, name, https ? cfg->acme_https_port : cfg->site_port,
			  req->path, req->query) == 0)
		loc = arena_strdup(req->arena, buf_cstr(&b));
	buf_dispose(&b);
	return loc;
}

/* Where ACME clients fetch their http-01 challenges: never redirected. */
#define SITE_ACME_CHALLENGE "/.well-known/acme-challenge/"

/* Paths that stay on the name asked: the ACME client's challenges and skiff's ownership
 * check answer for that name only. */
static bool site_path_stays(const char *path)
{
	return !strncmp(path, SITE_ACME_CHALLENGE, sizeof(SITE_ACME_CHALLENGE) - 1) ||
	       !strncmp(path, DOMAIN_WELL_KNOWN, sizeof(DOMAIN_WELL_KNOWN) - 1);
}

/* Under acme = lighttpd, where a plain HTTP request for custom domain name, whose certificate
 * is active, goes instead: https://name[:acme_https_port]/uri in req's arena; NULL over HTTPS
 * and for ACME challenges. (Under Apache, mod_md redirects.) */
static const char *site_https_location(struct http_request *req, const char *name)
{
	if (strcmp(req->cfg->acme, "lighttpd") != 0 || site_over_https(req) ||
	    !strncmp(req->path, SITE_ACME_CHALLENGE, sizeof(SITE_ACME_CHALLENGE) - 1))
		return NULL;
	return site_location(req, true, name);
}

/* Where a request for name (NULL: the project's own {slug}.{domain}) goes instead when its
 * project has a primary domain p: the same path and query on p, over HTTPS when the request
 * came over HTTPS or when skiff itself would send plain HTTP on p there (acme = lighttpd and
 * p active; under Apache mod_md makes that second step once its certificate is valid). NULL
 * when the request stays: no primary, name is the primary, the project's own address without
 * redirect_project, or a path that stays (site_path_stays). The host is always p, a name the
 * project owns, never anything the request carries. */
static const char *site_primary_location(struct http_request *req, const char *name,
					 const struct site_primary *p)
{
	if (!p->name[0] || (name && !strcmp(name, p->name)) || (!name && !p->redirect_project) ||
	    site_path_stays(req->path))
		return NULL;
	bool https = site_over_https(req) || (p->active && !strcmp(req->cfg->acme, "lighttpd"));
	return site_location(req, https, p->name);
}

int site_manifest(struct serve_app *sa, struct http_request *req, struct manifest **out,
		  struct site_answer *ans, struct error *err)
{
	const struct config *cfg = req->cfg;
	struct host_site site;
	struct site_primary primary;
	char id[ID_LEN + 1];
	ans->location = NULL;
	ans->hsts = false;
	*out = NULL;
	int rc = host_site_parse(req->host, cfg->domain, cfg->site_port, &site);
	if (rc == SKIFF_ENOTFOUND) {
		/* not the platform's: perhaps a project's custom domain */
		char name[HOST_MAX + 1];
		struct error ignored;
		if (host_name_parse(req->host, site_domain_port(req), name) < 0 ||
		    host_domain_check(name, cfg->domain, &ignored) < 0)
			return error_set(err, SKIFF_ENOTFOUND, NULL, "no site at this host");
		bool active, hsts;
		rc = site_resolve_domain(sa, name, id, site.slug, &primary, &active, &hsts, err);
		ans->hsts = rc == 0 && hsts && site_over_https(req);
		if (rc == 0 && (ans->location = site_primary_location(req, name, &primary)))
			return 0;
		if (rc == 0 && active && (ans->location = site_https_location(req, name)))
			return 0;
		if (rc == 0 && !id[0])
			rc = error_set(err, SKIFF_ENOTFOUND, NULL, "no site at this host");
	} else if (rc < 0) {
		return error_set(err, SKIFF_EINVALID, NULL, "no site at this host");
	} else {
		rc = site_resolve(sa, &site, id, &primary, err);
		if ((rc == 0 || rc == SKIFF_ENOTFOUND) &&
		    (ans->location = site_primary_location(req, NULL, &primary)))
			return 0;
	}
	if (rc < 0)
		return rc;
	struct manifest *m = manifest_cache_get(sa->cache, id);
	if (!m) {
		rc = site_manifest_load(sa, id, &m, err);
		if (rc < 0) {
			/* a manifest that is there but unusable is the store's fault: 503 */
			if (rc != SKIFF_ENOTFOUND)
				rc = err->code = SKIFF_ESTORE;
			return rc;
		}
		manifest_cache_put(sa->cache, id, m);
	}
	/* current is one Redis field: whatever wrote it (a build that reached Redis, a bad
	 * rollback), a deployment of another project never serves on this one's host */
	if (strcmp(m->project, site.slug) != 0) {
		log_warn("current names a deployment of another project project=%s deployment=%s "
			 "owner=%s", site.slug, id, m->project[0] ? m->project : "-");
		return error_set(err, SKIFF_ENOTFOUND, NULL, "no such site or deployment");
	}
	site_fastpath(sa, cfg, &site, m);
	*out = m;
	return 0;
}

int site_domain_token(struct serve_app *sa, struct http_request *req, const char **token,
		      struct error *err)
{
	const struct config *cfg = req->cfg;
	char name[HOST_MAX + 1];
	struct domain_site ds;
	*token = NULL;
	const char *want = req->path + sizeof(DOMAIN_WELL_KNOWN) - 1;
	if (strlen(want) != DOMAIN_TOKEN_LEN ||
	    host_name_parse(req->host, site_domain_port(req), name) < 0 ||
	    host_domain_check(name, cfg->domain, err) < 0)
		return 0;
	int rc = model_domain_site(sa->app->redis, name, &ds, err);
	if (rc < 0)
		return rc == SKIFF_ENOTFOUND ? 0 : rc;
	if (strcmp(ds.token, want) != 0)
		return 0;
	*token = arena_strdup(req->arena, ds.token);
	return 1;
}
