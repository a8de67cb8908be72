/* notify.c — outgoing deploy notifications: receiver URL checks, payloads and signatures, and
 * the delivery loop (outbox → deliveries → curl multi transfers → attempts recorded). */
#include "notify.h"
#include "addr.h"
#include "api.h"
#include "commit_status.h"
#include "hex.h"
#include "id.h"
#include "log.h"
#include "model_notify.h"
#include "secret.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NOTIFY_EXPAND_MAX 64            /* outbox entries turned into deliveries per round */
#define NOTIFY_LEASE_SLACK_MS 30000     /* a claimed delivery stays claimed this much longer
					 * than an attempt may take */
#define NOTIFY_CONNECT_MAX_MS 5000

const char *const notify_events[] = { "deploy.started", "deploy.ready", "deploy.failed",
				      "deploy.canceled", NULL };

int notify_event_valid(const char *event)
{
	for (int i = 0; event && notify_events[i]; i++)
		if (!strcmp(event, notify_events[i]))
			return 1;
	return 0;
}

int notify_url_check(const char *url, bool allow_local, struct error *err)
{
	int rc = 0;
	char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
	CURLU *u = curl_url();
	if (!u)
		abort();
	if (!url || !*url || strlen(url) > NOTIFY_URL_MAX ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_notification_url",
			       "url must be an absolute https URL of at most %d bytes", NOTIFY_URL_MAX);
		goto out;
	}
	if (strcmp(scheme, "https") && !(allow_local && !strcmp(scheme, "http"))) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_notification_url",
			       "url must use https");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_notification_url",
			       "url must not carry a user name or password");
		goto out;
	}
	if (strspn(url, "\t\r\n ") || strpbrk(url, "\t\r\n ")) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_notification_url",
			       "url must not contain spaces or line breaks");
		goto out;
	}
	if (!allow_local)
		rc = addr_host_check(host, NULL, "invalid_notification_url", err);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_url_cleanup(u);
	return rc;
}

void notify_secret_aad(const char *slug, const char *hook, char out[NOTIFY_AAD_MAX])
{
	snprintf(out, NOTIFY_AAD_MAX, "%.63s/notify/%.12s", slug, hook);
}

void notify_signature(const char *secret, long long t, const char *body, size_t len,
		      char out[NOTIFY_SIGNATURE_MAX])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char hex[2 * 32 + 1];
	/* what is signed: "<t>.<body>", so that the timestamp cannot be changed alone */
	size_t tn = 24, n = tn + len;
	char *msg = malloc(n);
	if (!msg)
		abort();
	int w = snprintf(msg, tn, "%lld.", t);
	memmove(msg + w, body, len);
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg,
		  (size_t)w + len, mac, &maclen) || maclen != 32)
		abort();
	free(msg);
	hex_encode(mac, maclen, hex);
	snprintf(out, NOTIFY_SIGNATURE_MAX, "t=%lld,v1=%s", t, hex);
}

/* The state an event reports (the record may have moved on since). */
static const char *notify_event_state(const char *event)
{
	if (!strcmp(event, "deploy.started"))
		return "building";
	if (!strcmp(event, "deploy.ready"))
		return "ready";
	if (!strcmp(event, "deploy.failed"))
		return "error";
	return "canceled";
}

static json_t *notify_str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *notify_ms_or_null(long long ms)
{
	return ms > 0 ? json_integer(ms) : json_null();
}

json_t *notify_payload(const struct config *cfg, const char *event, const char *event_id,
		       long long at_ms, const struct deployment *d, const char *context)
{
	char site[1024], durl[1024], link[1024];
	api_site_url(cfg, d->project, NULL, site, sizeof(site));
	api_site_url(cfg, d->project, d->id, durl, sizeof(durl));
	json_t *project = json_pack("{ssss}", "slug", d->project, "url", site);
	api_dashboard_url(cfg, link, sizeof(link), "/projects/%s", d->project);
	json_object_set_new(project, "dashboardUrl", json_string(link));
	json_t *dep = json_pack("{ssssss}", "id", d->id, "state", notify_event_state(event),
				"context", context);
	json_object_set_new(dep, "branch", notify_str_or_null(d->branch[0] ? d->branch : d->ref));
	json_object_set_new(dep, "commit", notify_str_or_null(d->commit));
	json_object_set_new(dep, "commitMessage", notify_str_or_null(d->commit_message));
	json_object_set_new(dep, "trigger", notify_str_or_null(d->trigger));
	json_object_set_new(dep, "url", json_string(durl));
	api_dashboard_url(cfg, link, sizeof(link), "/deployments/%s", d->id);
	json_object_set_new(dep, "dashboardUrl", json_string(link));
	api_dashboard_url(cfg, link, sizeof(link), "/api/deployments/%s", d->id);
	json_object_set_new(dep, "statusUrl", json_string(link));
	json_object_set_new(dep, "error", notify_str_or_null(strcmp(event, "deploy.ready") ? d->error
											 : NULL));
	json_object_set_new(dep, "createdAt", notify_ms_or_null(d->created));
	json_object_set_new(dep, "finishedAt", notify_ms_or_null(d->finished));
	return json_pack("{sssssIsoso}", "id", event_id, "type", event, "createdAt",
			 (json_int_t)at_ms, "project", project, "deployment", dep);
}

long long notify_backoff_ms(const struct config *cfg, long failed)
{
	long long wait = cfg->notify_retry_base_ms;
	for (long i = 1; i < failed && wait < NOTIFY_RETRY_MAX_MS; i++)
		wait *= 4;
	return wait < NOTIFY_RETRY_MAX_MS ? wait : NOTIFY_RETRY_MAX_MS;
}

void notify_failure_text(int curl_code, long status, bool refused, char *out, size_t len)
{
	/* refused by skiff's own policy (unless another address answered) */
	if (refused && curl_code != CURLE_OK) {
		snprintf(out, len, "the receiver's address is internal: refused");
		return;
	}
	const char *why;
	switch ((CURLcode)curl_code) {
	case CURLE_OK:
		snprintf(out, len, "the receiver answered HTTP %ld", status);
		return;
	case CURLE_WRITE_ERROR:         /* notify_answer: more than NOTIFY_ANSWER_MAX */
		snprintf(out, len, "the answer was longer than %d bytes", NOTIFY_ANSWER_MAX);
		return;
	case CURLE_UNSUPPORTED_PROTOCOL:
		why = "the URL's scheme is not allowed";
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		why = "the name does not resolve";
		break;
	case CURLE_COULDNT_CONNECT:
		why = "could not connect";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		why = "timed out";
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		why = "TLS error: the receiver's certificate is not trusted";
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CLIENTCERT:
		why = "TLS error";
		break;
	default:                        /* an empty or broken answer, a connection reset, ... */
		why = "no valid answer";
		break;
	}
	snprintf(out, len, "%s", why);
}

/* ---- the delivery loop ------------------------------------------------------------------ */

struct notify_send {
	CURL *easy;                     /* NULL: the slot is free */
	struct curl_slist *headers;
	char id[ID_LEN + 1];            /* the delivery */
	char project[SLUG_MAX + 1];     /* its project, for the log */
	long attempts;                  /* before this one */
	long long created;              /* ms of the delivery: retries stop an hour after */
	size_t got;                     /* bytes of the answer */
	bool allow_local;
	bool refused;                   /* the address connected to was internal */
	char errbuf[CURL_ERROR_SIZE];
};

struct notify {
	const struct config *cfg;
	struct secret_key key;          /* opens the hooks' signing secrets; loaded on first use */
	CURLM *multi;
	struct notify_send sends[NOTIFY_CONCURRENCY];
};

struct notify *notify_new(const struct config *cfg)
{
	struct notify *n = calloc(1, sizeof(*n));
	if (!n)
		abort();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	n->cfg = cfg;
	n->multi = curl_multi_init();
	if (!n->multi)
		abort();
	return n;
}

static void notify_send_clear(struct notify *n, struct notify_send *s)
{
	if (s->easy) {
		curl_multi_remove_handle(n->multi, s->easy);
		curl_easy_cleanup(s->easy);
	}
	curl_slist_free_all(s->headers);
	memset(s, 0, sizeof(*s));
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	for (int i = 0; i < NOTIFY_CONCURRENCY; i++)
		notify_send_clear(n, &n->sends[i]);
	curl_multi_cleanup(n->multi);
	secret_key_dispose(&n->key);
	free(n);
}

size_t notify_running(const struct notify *n)
{
	size_t k = 0;
	for (int i = 0; i < NOTIFY_CONCURRENCY; i++)
		k += n->sends[i].easy != NULL;
	return k;
}

static bool notify_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

/* Every connection's address is checked as it is made: a name that resolved to a public
 * address when the hook was saved may point inside now. */
static curl_socket_t notify_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct notify_send *s = clientp;
	(void)purpose;
	if (addr_internal(&a->addr) && !(s->allow_local && notify_loopback(&a->addr))) {
		s->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static size_t notify_answer(char *p, size_t size, size_t nmemb, void *clientp)
{
	struct notify_send *s = clientp;
	(void)p;
	size_t n = size * nmemb;
	if (n > NOTIFY_ANSWER_MAX - s->got)
		return 0; /* too long: the transfer fails */
	s->got += n;
	return n;
}

static void notify_header(struct notify_send *s, const char *name, const char *value)
{
	char line[COMMIT_STATUS_TOKEN_MAX + 64];
	snprintf(line, sizeof(line), "%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(s->headers, line);
	if (!l)
		abort();
	s->headers = l;
}

/* The secret of claimed delivery d, opened (*plain, freed with secret_plain_free): its hook's
 * signing secret, or the project's token for a commit status. */
static int notify_secret(struct notify *n, json_t *d, char **plain, size_t *len,
			 struct error *err)
{
	_Static_assert(COMMIT_STATUS_AAD_MAX <= NOTIFY_AAD_MAX, "one buffer holds both names");
	char aad[NOTIFY_AAD_MAX];
	const char *slug = json_string_value(json_object_get(d, "project"));
	const char *hook = json_string_value(json_object_get(d, "hook"));
	if (!n->key.loaded && secret_key_load(n->cfg->secret_key_file, &n->key, err) < 0)
		return err->code;
	if (!strcmp(hook, COMMIT_STATUS_HOOK))
		commit_status_aad(slug, aad);
	else
		notify_secret_aad(slug, hook, aad);
	return secret_open(&n->key, aad, json_string_value(json_object_get(d, "secret")), plain,
			   len, err);
}

/* Starts one attempt of claimed delivery d in slot s: a notification signed with secret, or
 * a commit status sent with secret as the provider's token. */
static void notify_send_start(struct notify *n, struct notify_send *s, json_t *d,
			      const char *secret, long long now)
{
	const char *body = json_string_value(json_object_get(d, "body"));
	const char *auth = json_string_value(json_object_get(d, "auth"));
	snprintf(s->id, sizeof(s->id), "%s", json_string_value(json_object_get(d, "id")));
	snprintf(s->project, sizeof(s->project), "%s",
		 json_string_value(json_object_get(d, "project")));
	s->attempts = (long)json_integer_value(json_object_get(d, "attempts"));
	s->created = json_integer_value(json_object_get(d, "created"));
	s->allow_local = n->cfg->allow_local_git;
	if (!strcmp(json_string_value(json_object_get(d, "hook")), COMMIT_STATUS_HOOK)) {
		char bearer[COMMIT_STATUS_TOKEN_MAX + 8];
		snprintf(bearer, sizeof(bearer), "Bearer %s", secret);
		if (!strcmp(auth, "gitlab")) {
			notify_header(s, "PRIVATE-TOKEN", secret);
		} else {
			notify_header(s, "Authorization", bearer);
			notify_header(s, "Accept", "application/vnd.github+json");
			notify_header(s, "X-GitHub-Api-Version", "2022-11-28");
		}
	} else {
		char sig[NOTIFY_SIGNATURE_MAX];
		notify_signature(secret, now / 1000, body, strlen(body), sig);
		notify_header(s, "Skiff-Event", json_string_value(json_object_get(d, "event")));
		notify_header(s, "Skiff-Delivery", s->id);
		notify_header(s, "Skiff-Signature", sig);
	}
	notify_header(s, "Content-Type", "application/json");
	notify_header(s, "User-Agent", "skiff-notify/1");
	notify_header(s, "Expect", "");
	long timeout = n->cfg->notify_timeout * 1000;
	s->easy = curl_easy_init();
	if (!s->easy)
		abort();
	CURL *e = s->easy;
	curl_easy_setopt(e, CURLOPT_URL, json_string_value(json_object_get(d, "url")));
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, s->allow_local ? "http,https" : "https");
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout < NOTIFY_CONNECT_MAX_MS ? timeout : NOTIFY_CONNECT_MAX_MS);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, notify_open);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, notify_answer);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_multi_add_handle(n->multi, e);
	log_debug("notification sent delivery=%s attempt=%ld", s->id, s->attempts + 1);
}

/* Records a finished attempt and frees its slot. */
static int notify_send_done(struct notify *n, struct redis *r, struct notify_send *s,
			    CURLcode rc, long long now, struct error *err)
{
	long status = 0;
	char why[NOTIFY_ERROR_MAX + 1] = "";
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	long attempts = s->attempts + 1;
	const char *state = "delivered";
	long long next = 0;
	if (rc != CURLE_OK || status < 200 || status > 299) {
		/* the owner sees why in fixed words; curl's own text (addresses the name resolved
		 * to, ports, the TLS library's words) goes to this server's log only */
		notify_failure_text(rc, status, s->refused, why, sizeof(why));
		next = now + notify_backoff_ms(n->cfg, attempts);
		state = next > s->created + NOTIFY_RETRY_WINDOW_MS ? "failed" : "pending";
	}
	if (!strcmp(state, "delivered"))
		log_info("notification delivered project=%s delivery=%s attempts=%ld status=%ld",
			 s->project, s->id, attempts, status);
	else
		log_warn("notification attempt failed project=%s delivery=%s attempts=%ld state=%s "
			 "error=\"%s\" curl=%d detail=\"%s\"", s->project, s->id, attempts, state, why,
			 (int)rc, rc == CURLE_OK ? "" : s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
	int rc2 = model_notify_attempt(r, s->id, state, attempts, status, why, now,
				       !strcmp(state, "pending") ? next : 0, err);
	notify_send_clear(n, s);
	return rc2;
}

static int notify_collect(struct notify *n, struct redis *r, long long now, struct error *err)
{
	int running = 0, left = 0, rc = 0;
	curl_multi_perform(n->multi, &running);
	CURLMsg *m;
	while ((m = curl_multi_info_read(n->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct notify_send *s = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		if (s && notify_send_done(n, r, s, m->data.result, now, err) < 0)
			rc = err->code;
	}
	return rc;
}

/* 1 when hook (an object with "events", an array) asks for event. */
static bool notify_hook_wants(json_t *hook, const char *event)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(hook, "events"), i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), event))
			return true;
	return false;
}

/* Adds the commit status of event to deliveries when d's project posts them and d's commit
 * is known (a deploy.started may come before the clone: then there is none to post). */
static int notify_status_delivery(struct redis *r, const struct deployment *d,
				  const char *event, const char *created,
				  const struct config *cfg, json_t *deliveries, struct error *err)
{
	json_t *st = NULL;
	const char *sha = d->commit[0] ? d->commit : d->pushed_commit;
	size_t hl = strlen(sha);
	if ((hl != 40 && hl != 64) || hex_span(sha) != hl)
		return 0;
	if (model_notify_status_get(r, d->project, &st, err) < 0)
		return err->code;
	if (!st)
		return 0;
	const char *provider = json_string_value(json_object_get(st, "provider"));
	char target[1024], url[NOTIFY_URL_MAX + 256], did[ID_LEN + 1];
	char *body = NULL;
	if (!strcmp(event, "deploy.ready"))
		api_site_url(cfg, d->project, d->id, target, sizeof(target));
	else
		api_dashboard_url(cfg, target, sizeof(target), "/deployments/%s", d->id);
	if (commit_status_provider_valid(provider) &&
	    commit_status_request(provider, json_string_value(json_object_get(st, "apiUrl")),
				  json_string_value(json_object_get(st, "repository")), sha, event,
				  target, url, sizeof(url), &body) == 0) {
		id_new(did);
		json_array_append_new(deliveries,
				      json_pack("{ssssssssssssssssss}", "id", did, "project",
						d->project, "hook", COMMIT_STATUS_HOOK, "url", url,
						"event", event, "deployment", d->id, "body", body,
						"created", created, "auth", provider));
	}
	free(body);
	json_decref(st);
	return 0;
}

/* The deliveries of outbox entry "id event ms" (an empty array when there is nothing to
 * send: the deployment or its hooks are gone, or the entry is not one skiff wrote). */
static int notify_deliveries(struct notify *n, struct redis *r, const char *entry,
			     json_t **out, struct error *err)
{
	char id[ID_LEN + 1], event[NOTIFY_EVENT_MAX + 1];
	const char *sp1 = strchr(entry, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	*out = json_array();
	if (!sp2 || sp1 - entry != ID_LEN || (size_t)(sp2 - sp1 - 1) > NOTIFY_EVENT_MAX)
		return 0;
	memcpy(id, entry, ID_LEN);
	id[ID_LEN] = '\0';
	memcpy(event, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	event[sp2 - sp1 - 1] = '\0';
	char *end = NULL;
	long long at = strtoll(sp2 + 1, &end, 10);
	if (!id_valid(id) || !notify_event_valid(event) || !end || *end || at <= 0)
		return 0;
	struct deployment d;
	struct error e;
	json_t *hooks = NULL;
	int rc = model_deployment_get(r, id, &d, &e);
	if (rc == SKIFF_ENOTFOUND)
		return 0;
	if (rc < 0 || model_notify_hooks(r, d.project, false, &hooks, &e) < 0) {
		*err = e;
		return err->code;
	}
	char event_id[ID_LEN + 1], created[24];
	const char *context = !strcmp(d.context, "preview") ? "preview" : "production";
	id_new(event_id);
	snprintf(created, sizeof(created), "%lld", at);
	json_t *payload = notify_payload(n->cfg, event, event_id, at, &d, context);
	char *body = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	const char *hid;
	json_t *hook;
	json_object_foreach(hooks, hid, hook) {
		const char *url = json_string_value(json_object_get(hook, "url"));
		if (!url || !notify_hook_wants(hook, event) || !body || strlen(body) > NOTIFY_BODY_MAX)
			continue;
		char did[ID_LEN + 1];
		id_new(did);
		json_array_append_new(*out, json_pack("{ssssssssssssssss}", "id", did, "project",
						      d.project, "hook", hid, "url", url, "event",
						      event, "deployment", id, "body", body,
						      "created", created));
	}
	free(body);
	json_decref(hooks);
	return notify_status_delivery(r, &d, event, created, n->cfg, *out, err);
}

static int notify_expand(struct notify *n, struct redis *r, struct error *err)
{
	for (int i = 0; i < NOTIFY_EXPAND_MAX; i++) {
		char entry[NOTIFY_ENTRY_MAX + 1];
		json_t *list = NULL;
		if (model_notify_outbox_peek(r, entry, err) < 0)
			return err->code;
		if (!entry[0])
			return 0;
		int rc = notify_deliveries(n, r, entry, &list, err);
		if (rc == 0)
			rc = model_notify_outbox_take(r, entry, list, err);
		if (rc > 0 && json_array_size(list))
			log_info("notification queued entry=\"%s\" deliveries=%zu", entry,
				 json_array_size(list));
		json_decref(list);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int notify_start(struct notify *n, struct redis *r, long long now, struct error *err)
{
	size_t free_slots = NOTIFY_CONCURRENCY - notify_running(n);
	if (!free_slots)
		return 0;
	json_t *due = NULL;
	long lease = n->cfg->notify_timeout * 1000 + NOTIFY_LEASE_SLACK_MS;
	if (model_notify_claim(r, now, lease, free_slots, &due, err) < 0)
		return err->code;
	size_t i, k = 0;
	json_t *d;
	json_array_foreach(due, i, d) {
		while (k < NOTIFY_CONCURRENCY && n->sends[k].easy)
			k++;
		if (k == NOTIFY_CONCURRENCY)
			break;
		char *secret = NULL;
		size_t len = 0;
		struct error e;
		if (notify_secret(n, d, &secret, &len, &e) == 0) {
			notify_send_start(n, &n->sends[k], d, secret, now);
			secret_plain_free(secret, len);
			continue;
		}
		/* the key file or the sealed secret is broken: an operator's fault, retried */
		const char *did = json_string_value(json_object_get(d, "id"));
		long attempts = (long)json_integer_value(json_object_get(d, "attempts")) + 1;
		long long created = json_integer_value(json_object_get(d, "created"));
		long long next = now + notify_backoff_ms(n->cfg, attempts);
		const char *state = next > created + NOTIFY_RETRY_WINDOW_MS ? "failed" : "pending";
		log_error("notification secret unreadable project=%s delivery=%s error=\"%s\"",
			  json_string_value(json_object_get(d, "project")), did, e.message);
		/* e.message may name the key file's path: the owner gets fixed words */
		if (model_notify_attempt(r, did, state, attempts, 0,
					 "the server could not open the stored secret", now,
					 !strcmp(state, "pending") ? next : 0, err) < 0)
			break;
	}
	json_decref(due);
	return 0;
}

int notify_tick(struct notify *n, struct redis *r, long long now_ms, struct error *err)
{
	int rc = notify_collect(n, r, now_ms, err);
	if (rc == 0)
		rc = notify_expand(n, r, err);
	if (rc == 0)
		rc = notify_start(n, r, now_ms, err);
	int running = 0;
	curl_multi_perform(n->multi, &running);
	return rc;
}
