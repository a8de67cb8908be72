/* domains.c — the ownership check of custom domains and the ACME configuration file. A check
 * fetches http://{name}[:site_port]/.well-known/skiff/{token} (no redirects, a short timeout,
 * the system resolver unless domain_check_resolve names the address) and expects the token
 * as the body: only this installation's skiff-serve knows it. When that fails, the TXT
 * records of _skiff-challenge.{name} holding the token pass too (the user put it there). */
#include "domains.h"
#include "acme.h"
#include "clock.h"
#include "dnstxt.h"
#include "log.h"
#include "model_domain.h"
#include "proc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOMAINS_ARGV_MAX 16            /* words of acme_reload */

struct domains {
	const struct config *cfg;
	struct curl_slist *resolve;    /* "name:port:address" from domain_check_resolve */
	long long next;                /* monotonic ms of the next pass */
	bool reload_due;               /* the file changed (or skiff just started) */
	/* acme = lighttpd: skiff runs the ACME client */
	json_t *retry;                 /* name → [monotonic ms of the next order, last wait] */
	long long next_renew;          /* monotonic ms of the next renewal round */
	size_t renew_pos;              /* the round's next name */
};

/* domain_check_resolve's "name:address" words as curl's "name:port:address". */
static struct curl_slist *domains_resolve_list(const struct config *cfg)
{
	struct curl_slist *list = NULL;
	long port = cfg->site_port ? cfg->site_port : 80;
	char copy[CONFIG_STR_MAX];
	snprintf(copy, sizeof(copy), "%s", cfg->domain_check_resolve);
	char *save = NULL;
	for (char *w = strtok_r(copy, " ,\t", &save); w; w = strtok_r(NULL, " ,\t", &save)) {
		char *colon = strchr(w, ':');
		if (!colon || colon == w || !colon[1]) {
			log_warn("domain_check_resolve: '%s' is not name:address; ignored", w);
			continue;
		}
		*colon = '\0';
		char entry[CONFIG_STR_MAX + 16];
		snprintf(entry, sizeof(entry), "%s:%ld:%s", w, port, colon + 1);
		list = curl_slist_append(list, entry);
	}
	return list;
}

struct domains *domains_new(const struct config *cfg)
{
	struct domains *ds = calloc(1, sizeof(*ds));
	if (!ds)
		abort();
	ds->cfg = cfg;
	ds->resolve = domains_resolve_list(cfg);
	ds->reload_due = true;
	ds->retry = json_object();
	ds->next_renew = clock_mono_ms() + cfg->acme_renew_interval * 1000LL;
	return ds;
}

void domains_free(struct domains *ds)
{
	if (!ds)
		return;
	curl_slist_free_all(ds->resolve);
	json_decref(ds->retry);
	free(ds);
}

struct domains_body {
	char data[DOMAINS_BODY_MAX + 1];
	size_t len;
};

static size_t domains_on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct domains_body *b = ctx;
	size_t len = size * n;
	if (b->len + len > DOMAINS_BODY_MAX)
		return 0;   /* more than a token: not skiff's answer */
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

#define DOMAINS_WRONG_TOKEN \
	"HTTP: answered, but not with the token: the name points at another server"

/* What a failed fetch tells the project's owner: a fixed phrase per kind of failure, never
 * libcurl's own text (addresses, the other server's words), which goes to the server log. */
static const char *domains_fetch_failure(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return "HTTP: the name does not resolve";
	case CURLE_COULDNT_CONNECT:
		return "HTTP: could not connect";
	case CURLE_OPERATION_TIMEDOUT:
		return "HTTP: timed out";
	case CURLE_WRITE_ERROR:   /* domains_on_body: longer than a token */
		return DOMAINS_WRONG_TOKEN;
	default:
		return "HTTP: no valid answer";
	}
}

/* Fetches the token of d; 1 when the answer is the token, else 0 with reason. */
static int domains_fetch(struct domains *ds, const struct domain *d, char *reason, size_t rlen)
{
	const struct config *cfg = ds->cfg;
	char url[HOST_DOMAIN_MAX + sizeof(DOMAIN_WELL_KNOWN) + DOMAIN_TOKEN_LEN + 32];
	if (cfg->site_port && cfg->site_port != 80)
		snprintf(url, sizeof(url), "http://%s:%ld%s%s", d->name, cfg->site_port,
			 DOMAIN_WELL_KNOWN, d->token);
	else
		snprintf(url, sizeof(url), "http://%s%s%s", d->name, DOMAIN_WELL_KNOWN, d->token);
	CURL *c = curl_easy_init();
	if (!c)
		abort();
	struct domains_body body = { .len = 0 };
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cfg->domain_check_timeout);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "skiff-dispatch domain check");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, domains_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	if (ds->resolve)
		curl_easy_setopt(c, CURLOPT_RESOLVE, ds->resolve);
	CURLcode cc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK) {
		log_info("domain check over HTTP failed domain=%s curl=%d error=\"%s\"", d->name,
			 (int)cc, cerr[0] ? cerr : curl_easy_strerror(cc));
		snprintf(reason, rlen, "%s", domains_fetch_failure(cc));
		return 0;
	}
	if (status != 200) {
		snprintf(reason, rlen, "HTTP: answered %ld, not the token: the name does not point here",
			 status);
		return 0;
	}
	while (body.len && (body.data[body.len - 1] == '\n' || body.data[body.len - 1] == '\r'))
		body.data[--body.len] = '\0';
	if (strcmp(body.data, d->token) != 0) {
		snprintf(reason, rlen, "%s", DOMAINS_WRONG_TOKEN);
		return 0;
	}
	return 1;
}

/* 1 when a TXT record of _skiff-challenge.{name} is the token of d, else 0 with reason. */
static int domains_txt(struct domains *ds, const struct domain *d, char *reason, size_t rlen)
{
	char qname[sizeof(DOMAIN_TXT_PREFIX) + HOST_DOMAIN_MAX];
	struct dnstxt txt;
	struct error err;
	snprintf(qname, sizeof(qname), "%s%s", DOMAIN_TXT_PREFIX, d->name);
	if (dnstxt_query(qname, ds->cfg->domain_check_nameserver, ds->cfg->domain_check_timeout,
			 &txt, &err) < 0) {
		/* as for HTTP: the owner gets a fixed phrase, the log the resolver's details */
		log_info("domain check over DNS failed domain=%s error=\"%s\"", d->name, err.message);
		snprintf(reason, rlen, err.code == SKIFF_ENOTFOUND ? "DNS: no TXT record at %.150s" :
			 err.code == SKIFF_EUPSTREAM ? "DNS: no valid answer for %.150s" :
			 "DNS: the check could not run for %.150s", qname);
		return 0;
	}
	for (size_t i = 0; i < txt.n; i++)
		if (!strcmp(txt.value[i], d->token))
			return 1;
	snprintf(reason, rlen, "DNS: no TXT record at %.140s holds the token", qname);
	return 0;
}

/* Either check passing verifies d; the reason says why both failed. */
static int domains_verify(struct domains *ds, const struct domain *d, char *reason, size_t rlen)
{
	char http[DOMAIN_REASON_MAX + 1] = "", dns[DOMAIN_REASON_MAX + 1] = "";
	if (domains_fetch(ds, d, http, sizeof(http)) || domains_txt(ds, d, dns, sizeof(dns)))
		return 1;
	snprintf(reason, rlen, "%.80s; %.118s", http, dns);   /* within DOMAIN_REASON_MAX */
	return 0;
}

static int domains_check(struct domains *ds, struct redis *r, struct error *err)
{
	struct domain due[DOMAINS_CHECKS_MAX];
	size_t n = 0;
	if (model_domain_due(r, clock_wall_ms(), due, DOMAINS_CHECKS_MAX, &n, err) < 0)
		return err->code;
	for (size_t i = 0; i < n; i++) {
		char reason[DOMAIN_REASON_MAX + 1] = "";
		int ok = domains_verify(ds, &due[i], reason, sizeof(reason));
		if (ok)
			log_info("domain verified domain=%s project=%s", due[i].name, due[i].project);
		else
			log_info("domain check failed domain=%s project=%s attempt=%ld reason=\"%s\"",
				 due[i].name, due[i].project, due[i].attempts + 1, reason);
		if (model_domain_checked(r, due[i].name, due[i].token, ok, reason, clock_wall_ms(),
					 ds->cfg->domain_recheck_interval * 1000LL, err) < 0)
			return err->code;
	}
	return 0;
}

static void domains_on_line(void *ctx, int stream, const char *line, size_t len, bool cut)
{
	(void)stream;
	(void)cut;
	log_debug("%s: %.*s", (const char *)ctx, (int)len, line);
}

/* Runs command (an absolute path and words split on spaces, no shell) with extra words
 * appended; 0 when it exited 0. */
static int domains_run(const char *what, const char *command, const char *const *extra,
		       long timeout_s)
{
	char copy[CONFIG_STR_MAX];
	const char *argv[DOMAINS_ARGV_MAX + 4];
	size_t argc = 0;
	snprintf(copy, sizeof(copy), "%s", command);
	char *save = NULL;
	for (char *w = strtok_r(copy, " \t", &save); w && argc < DOMAINS_ARGV_MAX;
	     w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	if (argc == 0)
		return 0;
	for (size_t i = 0; extra && extra[i] && i < 3; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	static const char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL };
	struct proc_spec spec = { .argv = argv, .envp = envp, .cwd = "/", .timeout_s = timeout_s };
	struct proc_result res;
	struct error err;
	if (proc_run(&spec, domains_on_line, NULL, (void *)what, &res, &err) < 0) {
		log_error("%s could not start command=%s error=\"%s\"", what, argv[0], err.message);
		return -1;
	}
	if (!res.exited || res.exit_code != 0) {
		char how[128];
		proc_describe(&res, timeout_s, how, sizeof(how));
		log_error("%s failed command=%s result=\"%s\"", what, argv[0], how);
		return -1;
	}
	return 0;
}

/* acme = lighttpd: orders the certificate of one live name that has none (backing off after
 * a failure), or renews one name of the twice-daily round; at most one run per pass, so the
 * dispatcher's loop waits for one client run at most. */
static void domains_issue(struct domains *ds, json_t *names, long long now)
{
	const struct config *cfg = ds->cfg;
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v) {
		const char *n = json_string_value(v);
		if (acme_cert_present(cfg, n))
			continue;
		json_t *r = json_object_get(ds->retry, n);
		if (r && now < json_integer_value(json_array_get(r, 0)))
			continue;
		const char *extra[] = { "--cron", "--domain", n, NULL };
		if (domains_run("acme client", cfg->acme_client, extra, DOMAINS_CLIENT_TIMEOUT_S) == 0 &&
		    acme_cert_present(cfg, n)) {
			log_info("certificate obtained domain=%s", n);
			json_object_del(ds->retry, n);
		} else {
			long long wait = r ? json_integer_value(json_array_get(r, 1)) * 2 :
					 DOMAINS_ORDER_RETRY_MS;
			if (wait > DOMAIN_RETRY_MAX_MS)
				wait = DOMAIN_RETRY_MAX_MS;
			json_object_set_new(ds->retry, n, json_pack("[II]", (json_int_t)(now + wait),
								      (json_int_t)wait));
			log_warn("no certificate domain=%s retry_ms=%lld", n, wait);
		}
		return;
	}
	if (now < ds->next_renew)
		return;
	if (ds->renew_pos >= json_array_size(names)) {
		ds->renew_pos = 0;
		ds->next_renew = now + cfg->acme_renew_interval * 1000LL;
		return;
	}
	const char *n = json_string_value(json_array_get(names, ds->renew_pos++));
	const char *extra[] = { "--cron", "--domain", n, NULL };
	/* the client renews only what is due; a new certificate changes acme_file (acme_render),
	 * which makes the web server reload */
	long long before = acme_cert_version(cfg, n);
	if (domains_run("acme client", cfg->acme_client, extra, DOMAINS_CLIENT_TIMEOUT_S) == 0 &&
	    acme_cert_version(cfg, n) != before)
		log_info("certificate renewed domain=%s", n);
}

/* Rewrites acme_file from the live domains; reloads the web server when it changed, then
 * marks them active. */
static int domains_acme(struct domains *ds, struct redis *r, struct error *err)
{
	const struct config *cfg = ds->cfg;
	json_t *names = NULL;
	if (model_domain_live(r, clock_wall_ms() + cfg->domain_recheck_interval * 1000LL, &names,
			      err) < 0)
		return err->code;
	if (!strcmp(cfg->acme, "lighttpd"))
		domains_issue(ds, names, clock_mono_ms());
	struct buf text;
	buf_init(&text, ACME_FILE_MAX);
	struct error ferr;
	json_t *covered = NULL;
	int rc = acme_render(cfg, names, &text, &covered, &ferr);
	if (rc == 0)
		rc = acme_write(cfg->acme_file, &text, &ferr);
	buf_dispose(&text);
	if (rc < 0) {
		log_error("acme configuration not written file=%s error=\"%s\"", cfg->acme_file,
			  ferr.message);
	} else {
		if (rc == 1) {
			log_info("acme configuration written file=%s domains=%zu", cfg->acme_file,
				 json_array_size(covered));
			ds->reload_due = true;
		}
		if (ds->reload_due && domains_run("acme reload", cfg->acme_reload, NULL, 60) == 0) {
			ds->reload_due = false;
			rc = model_domain_activate(r, covered, err);
			json_decref(covered);
			json_decref(names);
			return rc < 0 ? err->code : 0;
		}
	}
	json_decref(covered);
	json_decref(names);
	return 0;
}

int domains_tick(struct domains *ds, struct redis *r, long long now, struct error *err)
{
	if (now < ds->next)
		return 0;
	ds->next = now + DOMAINS_TICK_MS;
	int rc = domains_check(ds, r, err);
	if (rc == 0 && strcmp(ds->cfg->acme, "none") != 0)
		rc = domains_acme(ds, r, err);
	return rc;
}
