/* ecs.c — builds as ECS Fargate tasks: RunTask paced by a token bucket, DescribeTasks
 * polling that turns dead tasks into failed deployments, StopTask for cancel; the JSON 1.1
 * protocol over libcurl, signed SigV4, retried on throttling. */
#include "ecs.h"
#include "model_buildtoken.h"
#include "clock.h"
#include "aws_auth.h"
#include "buf.h"
#include "hash.h"
#include "id.h"
#include "log.h"
#include "model.h"
#include "model_lifecycle.h"
#include "model_log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECS_TARGET_PREFIX "AmazonEC2ContainerServiceV20141113."
#define ECS_BODY_MAX (4u << 20)
#define ECS_BACKOFF_BASE_MS 200
#define ECS_BACKOFF_CAP_MS 10000
#define ECS_MISSING_GRACE_MS 60000   /* a task ECS does not know yet right after RunTask */
#define ECS_REASON_MAX 255           /* StopTask's reason */
#define ECS_WAIT_MAX 256             /* builds waiting for capacity at once */
#define ECS_CAPACITY_BASE_MS 1000    /* backoff between RunTasks that met no capacity */
#define ECS_CAPACITY_CAP_MS 60000
#define ECS_TOKEN_HASH 16            /* hex digits of the request's hash in clientToken */

/* A build whose RunTask met a temporary capacity shortage: when to ask again. */
struct ecs_wait {
	char id[ID_LEN + 1];             /* "" = free */
	long long retry_ms;              /* monotonic */
	int attempts;
	char token[BUILD_TOKEN_LEN + 1]; /* its build token: the next RunTask is the same request */
};

struct ecs {
	const struct config *cfg;
	struct config cc;                /* the configuration, ecs_region resolved */
	char endpoint[CONFIG_STR_MAX + 64];
	struct aws_auth *auth;
	CURL *h;
	double tokens;                   /* RunTask token bucket */
	long long refilled_ms;
	struct ecs_wait waits[ECS_WAIT_MAX];  /* builds waiting for capacity */
};

static json_t *ecs_strategy(const char *csv, struct error *err);

int ecs_new(struct ecs **out, const struct config *cfg, struct error *err)
{
	*out = NULL;
	struct ecs *e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	int rc = 0;
	e->cc = *cfg;
	if (!e->cc.ecs_region[0])
		snprintf(e->cc.ecs_region, sizeof(e->cc.ecs_region), "%s", cfg->s3_region);
	if (!e->cc.ecs_cluster[0])
		rc = error_set(err, SKIFF_EINVALID, "invalid_config", "ecs_cluster is required with launcher = ecs");
	if (rc == 0 && !e->cc.ecs_task_definition[0])
		rc = error_set(err, SKIFF_EINVALID, "invalid_config",
			       "ecs_task_definition is required with launcher = ecs");
	if (rc == 0 && !e->cc.ecs_subnets[0])
		rc = error_set(err, SKIFF_EINVALID, "invalid_config",
			       "ecs_subnets is required with launcher = ecs (Fargate tasks use awsvpc)");
	if (rc == 0) {
		json_t *strategy = ecs_strategy(e->cc.ecs_capacity_providers, err);
		if (!strategy)
			rc = SKIFF_EINVALID;
		json_decref(strategy);
	}
	if (rc < 0) {
		free(e);
		return rc;
	}
	e->cfg = cfg;
	if (e->cc.ecs_endpoint[0])
		snprintf(e->endpoint, sizeof(e->endpoint), "%s", e->cc.ecs_endpoint);
	else
		snprintf(e->endpoint, sizeof(e->endpoint), "https://ecs.%s.%s/", e->cc.ecs_region,
			 aws_dns_suffix(e->cc.ecs_region));
	e->auth = aws_auth_new(cfg->s3_access_key, cfg->s3_secret_key);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!(e->h = curl_easy_init()))
		abort();
	e->tokens = (double)e->cc.ecs_run_rate;
	e->refilled_ms = clock_mono_ms();
	*out = e;
	return 0;
}

void ecs_free(struct ecs *e)
{
	if (!e)
		return;
	curl_easy_cleanup(e->h);
	aws_auth_free(e->auth);
	free(e);
}

/* The bare error name of an answer's X-Amzn-ErrorType header or __type field:
 * "ThrottlingException" from "com.amazon.coral#ThrottlingException" or from
 * "ThrottlingException:http://internal.amazon.com/coral/...". */
static void ecs_error_type(const char *header, json_t *doc, char *out, size_t cap)
{
	const char *t = header && *header ? header : json_string_value(json_object_get(doc, "__type"));
	aws_error_name(t ? t : "", out, cap);
}

static const char *ecs_error_message(json_t *doc)
{
	const char *m = json_string_value(json_object_get(doc, "message"));
	if (!m)
		m = json_string_value(json_object_get(doc, "Message"));
	return m ? m : "";
}

int ecs_call(struct ecs *e, const char *target, json_t *request, json_t **out,
	     struct error *err)
{
	*out = NULL;
	char *body = json_dumps(request, JSON_COMPACT);
	char hash[HASH_HEX_LEN + 1], line[160];
	struct buf resp = BUF_INIT(ECS_BODY_MAX);
	int rc = 0;
	bool refreshed = false, reclocked = false;
	struct aws_answer ans;
	if (!body)
		abort();
	hash_buffer(body, strlen(body), hash);
	long long deadline = clock_mono_ms() + e->cc.ecs_timeout * 1000LL * (e->cc.ecs_retries + 1);
	for (int attempt = 0;; attempt++) {
		struct aws_creds creds;
		struct curl_slist *hdrs = NULL;
		json_t *doc = NULL;
		if ((rc = aws_auth_get(e->auth, &creds, err)) < 0)
			break;
		buf_reset(&resp);
		curl_easy_reset(e->h);
		curl_easy_setopt(e->h, CURLOPT_URL, e->endpoint);
		curl_easy_setopt(e->h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e->h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e->h, CURLOPT_TIMEOUT_MS, e->cc.ecs_timeout * 1000L);
		curl_easy_setopt(e->h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
		curl_easy_setopt(e->h, CURLOPT_USERAGENT, "skiff/" SKIFF_VERSION);
		curl_easy_setopt(e->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
		curl_easy_setopt(e->h, CURLOPT_WRITEFUNCTION, buf_sink);
		curl_easy_setopt(e->h, CURLOPT_WRITEDATA, &resp);
		memset(&ans, 0, sizeof(ans));
		curl_easy_setopt(e->h, CURLOPT_HEADERFUNCTION, aws_answer_header);
		curl_easy_setopt(e->h, CURLOPT_HEADERDATA, &ans);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/x-amz-json-1.1");
		snprintf(line, sizeof(line), "X-Amz-Target: " ECS_TARGET_PREFIX "%s", target);
		hdrs = curl_slist_append(hdrs, line);
		rc = aws_sign(e->h, &hdrs, &creds, e->cc.ecs_region, "ecs", "POST", e->endpoint, hash,
			      err);
		memset(&creds, 0, sizeof(creds));
		if (rc < 0) {
			curl_slist_free_all(hdrs);
			break;
		}
		curl_easy_setopt(e->h, CURLOPT_HTTPHEADER, hdrs);
		CURLcode cc = curl_easy_perform(e->h);
		long status = 0;
		curl_easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(hdrs);
		if (cc == CURLE_OK && resp.len)
			doc = json_loadb(resp.data, resp.len, 0, NULL);
		if (cc == CURLE_OK && status == 200) {
			if (!doc) {
				rc = error_set(err, SKIFF_EUPSTREAM, "ecs_bad_answer",
					       "ECS %s answered something that is not JSON", target);
				break;
			}
			*out = doc;
			rc = 0;
			break;
		}
		char type[128];
		ecs_error_type(ans.error_type, doc, type, sizeof(type));
		bool retry = aws_retryable(cc, status) || !strcmp(type, "ThrottlingException") ||
			     !strcmp(type, "ServerException") || !strcmp(type, "RequestLimitExceeded");
		long long wait = aws_backoff_ms(attempt, ECS_BACKOFF_BASE_MS, ECS_BACKOFF_CAP_MS);
		if (!refreshed && (!strcmp(type, "ExpiredTokenException") ||
				   !strcmp(type, "ExpiredToken")) && aws_auth_expired(e->auth)) {
			refreshed = true;
			retry = true;
			wait = 0;
		}
		if (!reclocked && doc && aws_clock_skewed(type, ecs_error_message(doc)) &&
		    aws_auth_skew(e->auth, ans.date)) {
			reclocked = true;   /* sign again with the service's time, once */
			retry = true;
			wait = 0;
		}
		if (!retry || attempt >= e->cc.ecs_retries || clock_mono_ms() + wait >= deadline) {
			if (cc != CURLE_OK)
				rc = error_set(err, SKIFF_EUPSTREAM, "ecs_unavailable",
					       "ECS %s failed%s: %s", target, retry ? " after retries" : "",
					       curl_easy_strerror(cc));
			else
				rc = error_set(err, SKIFF_EUPSTREAM,
					       !strcmp(type, "ThrottlingException") ? "ecs_throttled" : "ecs_error",
					       "ECS %s answered HTTP %ld%s%s%s%s",
					       target, status, type[0] ? " " : "", type,
					       doc && ecs_error_message(doc)[0] ? ": " : "",
					       doc ? ecs_error_message(doc) : "");
			json_decref(doc);
			break;
		}
		log_info("ecs call retried target=%s attempt=%d status=%ld type=%s wait_ms=%lld", target,
			 attempt + 1, status, type[0] ? type : "-", wait);
		json_decref(doc);
		aws_sleep_ms(wait);
	}
	free(body);
	buf_dispose(&resp);
	return rc;
}

/* ecs_capacity_providers ("FARGATE_SPOT:3,FARGATE:1:1", name[:weight[:base]]) as RunTask's
 * capacityProviderStrategy; NULL and err set when malformed. */
static json_t *ecs_strategy(const char *csv, struct error *err)
{
	json_t *out = json_array();
	const char *p = csv;
	while (*p) {
		char item[CONFIG_STR_MAX], name[256];
		size_t n = strcspn(p, ",");
		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		p += n + (p[n] == ',');
		char *s = item;
		while (*s == ' ')
			s++;
		size_t k = strlen(s);
		while (k && s[k - 1] == ' ')
			s[--k] = '\0';
		if (!k)
			continue;
		long weight = 1, base = 0;
		char *colon = strchr(s, ':'), *end = NULL;
		size_t nl = colon ? (size_t)(colon - s) : k;
		bool digits = true;
		if (colon) {
			weight = strtol(colon + 1, &end, 10);
			digits = end != colon + 1;
			if (*end == ':') {
				char *b = end + 1;
				base = strtol(b, &end, 10);
				digits = digits && end != b;
			}
		}
		snprintf(name, sizeof(name), "%.*s", (int)nl, s);
		if (nl == 0 || nl >= sizeof(name) || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"abcdefghijklmnopqrstuvwxyz0123456789_-") != nl ||
		    (colon && (!digits || *end)) || weight < 0 || weight > 1000 ||
		    base < 0 || base > 100000 || json_array_size(out) == 6) {
			json_decref(out);
			error_set(err, SKIFF_EINVALID, "invalid_config",
				  "ecs_capacity_providers: \"%s\" is not name[:weight[:base]] (weight "
				  "0-1000, base 0-100000, at most 6 providers)", s);
			return NULL;
		}
		json_array_append_new(out, json_pack("{sssIsI}", "capacityProvider", name,
						     "weight", (json_int_t)weight, "base", (json_int_t)base));
	}
	return out;
}

/* A comma-separated setting as a JSON array of its non-empty, trimmed items. */
static json_t *ecs_list(const char *csv)
{
	json_t *a = json_array();
	const char *p = csv;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		size_t k = n;
		while (k && (*s == ' ' || *s == '\t'))
			s++, k--;
		while (k && (s[k - 1] == ' ' || s[k - 1] == '\t'))
			k--;
		if (k)
			json_array_append_new(a, json_stringn(s, k));
		p += n + (end ? 1 : 0);
	}
	return a;
}

static void ecs_env(json_t *env, const char *name, const char *value)
{
	if (value && *value)
		json_array_append_new(env, json_pack("{ssss}", "name", name, "value", value));
}

json_t *ecs_run_request(const struct ecs *e, const char *id, const char *build_token)
{
	const struct config *cfg = e->cfg;
	char num[4][24];
	json_t *env = json_array();
	/* the deploy protocol's address, the build token and the deployment id, and the limits
	 * the API enforces anyway; nothing of Redis or the store, no credential of skiff's */
	ecs_env(env, "SKIFF_DEPLOYMENT_ID", id);
	ecs_env(env, "SKIFF_API_URL", e->cc.ecs_api_url[0] ? e->cc.ecs_api_url : cfg->dashboard_url);
	ecs_env(env, "SKIFF_BUILD_TOKEN", build_token);
	snprintf(num[0], sizeof(num[0]), "%ld", cfg->build_timeout);
	snprintf(num[1], sizeof(num[1]), "%ld", cfg->max_files);
	snprintf(num[2], sizeof(num[2]), "%ld", cfg->max_file_mb);
	snprintf(num[3], sizeof(num[3]), "%ld", cfg->max_output_mb);
	ecs_env(env, "SKIFF_BUILD_TIMEOUT", num[0]);
	ecs_env(env, "SKIFF_MAX_FILES", num[1]);
	ecs_env(env, "SKIFF_MAX_FILE_MB", num[2]);
	ecs_env(env, "SKIFF_MAX_OUTPUT_MB", num[3]);
	json_t *container = json_pack("{sss[ss]so}", "name", e->cc.ecs_container, "command",
				      "--remote", id, "environment", env);
	json_t *vpc = json_pack("{sososs}", "subnets",
				ecs_list(e->cc.ecs_subnets), "securityGroups",
				ecs_list(e->cc.ecs_security_groups), "assignPublicIp",
				e->cc.ecs_assign_public_ip ? "ENABLED" : "DISABLED");
	json_t *req = json_pack("{sssssisss{so}s{s[o]}}", "cluster", e->cc.ecs_cluster,
				"taskDefinition", e->cc.ecs_task_definition, "count", 1,
				"startedBy", "skiff", "networkConfiguration", "awsvpcConfiguration", vpc,
				"overrides", "containerOverrides", container);
	json_t *strategy = ecs_strategy(e->cc.ecs_capacity_providers, NULL);
	if (json_array_size(strategy) > 0)   /* Fargate Spot: a strategy instead of a launch type */
		json_object_set(req, "capacityProviderStrategy", strategy);
	else
		json_object_set_new(req, "launchType", json_string("FARGATE"));
	json_decref(strategy);
	/* clientToken: the deployment id and a hash of everything else, so that a RunTask
	 * repeated after a capacity shortage is the same request (never a second task: the wait
	 * keeps the build token), and changed parameters (a new token after a restart) are a new
	 * request rather than a conflict */
	char hash[HASH_HEX_LEN + 1], token[64];
	char *text = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		abort();
	hash_buffer(text, strlen(text), hash);
	free(text);
	snprintf(token, sizeof(token), "%s-%.*s", id, ECS_TOKEN_HASH, hash);
	json_object_set_new(req, "clientToken", json_string(token));
	return req;
}

/* Waits for a RunTask token: a bucket of ecs_run_rate tokens refilled at ecs_run_rate/s. */
static void ecs_rate_wait(struct ecs *e)
{
	double rate = (double)e->cc.ecs_run_rate;
	for (;;) {
		long long now = clock_mono_ms();
		e->tokens += (double)(now - e->refilled_ms) * rate / 1000.0;
		e->refilled_ms = now;
		if (e->tokens > rate)
			e->tokens = rate;
		if (e->tokens >= 1.0) {
			e->tokens -= 1.0;
			return;
		}
		aws_sleep_ms((long long)((1.0 - e->tokens) * 1000.0 / rate) + 1);
	}
}

/* Marks the deployment error unless it is final already (then 0 as well). */
static int ecs_fail_deployment(struct redis *r, const char *id, const char *message,
			       long long exit_code)
{
	struct error e;
	struct deployment change;
	model_deployment_init(&change);
	snprintf(change.error, sizeof(change.error), "%s", message);
	change.exit_code = exit_code;
	model_log_append(r, id, LOG_SRC_SYSTEM, message, strlen(message), NULL);
	int rc = model_deployment_state(r, id, DEPLOYMENT_ERROR, "", &change,
					MODEL_SET(ERROR) | MODEL_SET(EXIT_CODE), &e);
	if (rc == SKIFF_ECONFLICT)
		return 0;
	if (rc < 0)
		log_error("cannot mark the deployment failed deployment=%s error=\"%s\"", id, e.message);
	return rc;
}

/* A RunTask failure that a later RunTask may not meet: no capacity right now. */
static bool ecs_capacity_short(const char *reason)
{
	return !strncmp(reason, "RESOURCE:", 9) || strcasestr(reason, "capacity") != NULL;
}

/* The capacity wait of deployment id; with add, a free entry is taken when it has none. */
static struct ecs_wait *ecs_wait_find(struct ecs *e, const char *id, bool add)
{
	struct ecs_wait *free_one = NULL;
	for (size_t i = 0; i < ECS_WAIT_MAX; i++) {
		if (!strcmp(e->waits[i].id, id))
			return &e->waits[i];
		if (!free_one && !e->waits[i].id[0])
			free_one = &e->waits[i];
	}
	if (add && free_one) {
		memset(free_one, 0, sizeof(*free_one));
		snprintf(free_one->id, sizeof(free_one->id), "%s", id);
	}
	return add ? free_one : NULL;
}

static void ecs_wait_drop(struct ecs *e, const char *id)
{
	struct ecs_wait *w = ecs_wait_find(e, id, false);
	if (w)
		memset(w, 0, sizeof(*w));
}

/* No capacity for the build now: it stays queued (launcher=ecs, launched = the first try,
 * so that ecs_start_timeout bounds the wait), with a line in its log; ecs_poll asks again
 * after a backoff, with the same request and clientToken. 1, or SKIFF_EREDIS. */
static int ecs_capacity_wait(struct ecs *e, struct redis *r, const char *id, const char *token,
			     const char *why, struct error *err)
{
	struct ecs_wait *w = ecs_wait_find(e, id, true);
	int attempts = 1;
	long long delay = ECS_CAPACITY_BASE_MS;
	if (w) {
		snprintf(w->token, sizeof(w->token), "%s", token);
		attempts = ++w->attempts;
		delay = aws_backoff_ms(attempts - 1, ECS_CAPACITY_BASE_MS, ECS_CAPACITY_CAP_MS);
		w->retry_ms = clock_mono_ms() + delay;
	}
	struct deployment dep;
	int rc = model_deployment_get(r, id, &dep, err);
	if (rc < 0)
		return rc == SKIFF_ENOTFOUND ? 1 : rc;
	if (dep.launched == MODEL_NONE || dep.launched <= 0) {
		struct deployment change;
		model_deployment_init(&change);
		snprintf(change.launcher, sizeof(change.launcher), "ecs");
		change.launched = clock_wall_ms();
		rc = model_deployment_update(r, id, &change, MODEL_SET(LAUNCHER) | MODEL_SET(LAUNCHED),
					     err);
	}
	if (rc < 0)
		return rc;
	char line[ERROR_MESSAGE_MAX + 96];
	snprintf(line, sizeof(line), "no ECS capacity for the build right now (%s); trying again in "
		 "%lld s, attempt %d", why, (delay + 999) / 1000, attempts);
	model_log_append(r, id, LOG_SRC_SYSTEM, line, strlen(line), NULL);
	log_info("ecs launch waits for capacity deployment=%s attempt=%d wait_ms=%lld reason=\"%s\"",
		 id, attempts, delay, why);
	return 1;
}

/* The build token of deployment id's launch into token: the one a capacity wait kept, else a
 * new one, minted (its hash stored, any earlier token of the deployment revoked). */
static int ecs_build_token(struct ecs *e, struct redis *r, const char *id,
			   char token[BUILD_TOKEN_LEN + 1], struct error *err)
{
	const struct ecs_wait *w = ecs_wait_find(e, id, false);
	if (w && w->token[0]) {
		memcpy(token, w->token, BUILD_TOKEN_LEN + 1);
		return 0;
	}
	model_buildtoken_secret_new(token);
	/* it outlives neither the start timeout plus the build nor, checked on each use, the lease */
	long ttl = e->cc.ecs_start_timeout + e->cc.build_timeout + e->cc.lease_ttl + 60;
	return model_buildtoken_mint(r, id, token, ttl, err);
}

int ecs_launch(struct ecs *e, struct redis *r, const char *id, struct error *err)
{
	json_t *req = NULL, *resp = NULL;
	char msg[ERROR_MESSAGE_MAX], why[ERROR_MESSAGE_MAX] = "", token[BUILD_TOKEN_LEN + 1];
	struct error le;
	error_clear(&le);
	struct deployment *dep = malloc(sizeof(*dep)); /* some KiB: not on the stack */
	if (!dep)
		abort();
	int rc = model_deployment_get(r, id, dep, &le);
	bool launched = rc == 0 && dep->task_arn[0];
	free(dep);
	if (launched) { /* its task has its token: a second RunTask would be a second build */
		log_info("build already launched on ecs deployment=%s", id);
		return 0;
	}
	if (rc == 0)
		rc = ecs_build_token(e, r, id, token, &le);
	if (rc < 0) {
		if (rc != SKIFF_EREDIS && rc != SKIFF_ENOTFOUND)
			ecs_fail_deployment(r, id, le.message, MODEL_NONE);
		return error_set(err, rc, le.name, "%s", le.message);
	}
	req = ecs_run_request(e, id, token);
	if (!req)
		abort();
	ecs_rate_wait(e);
	rc = ecs_call(e, "RunTask", req, &resp, &le);
	json_decref(req);
	if (rc == SKIFF_EUPSTREAM && !strcmp(le.name, "ecs_throttled"))
		snprintf(why, sizeof(why), "RunTask throttled");
	if (rc == 0) {
		json_t *failures = json_object_get(resp, "failures");
		json_t *task = json_array_get(json_object_get(resp, "tasks"), 0);
		const char *arn = json_string_value(json_object_get(task, "taskArn"));
		if (json_array_size(failures) > 0 || !arn || strlen(arn) >= ECS_ARN_MAX) {
			json_t *f = json_array_get(failures, 0);
			const char *reason = json_string_value(json_object_get(f, "reason"));
			const char *detail = json_string_value(json_object_get(f, "detail"));
			rc = error_set(&le, SKIFF_EUPSTREAM, "ecs_run_failed",
				       "ECS could not start the build: %s%s%s",
				       reason ? reason : "no task in the answer", detail ? " - " : "",
				       detail ? detail : "");
			if (reason && ecs_capacity_short(reason))
				snprintf(why, sizeof(why), "%s%s%s", reason, detail ? " - " : "",
					 detail ? detail : "");
		} else {
			/* the task's own creation time, so a repeated (idempotent) RunTask keeps it */
			json_t *created = json_object_get(task, "createdAt");
			struct deployment change;
			model_deployment_init(&change);
			snprintf(change.launcher, sizeof(change.launcher), "ecs");
			snprintf(change.task_arn, sizeof(change.task_arn), "%s", arn);
			change.launched = json_is_number(created)
				? (long long)(json_number_value(created) * 1000.0) : clock_wall_ms();
			rc = model_deployment_update(r, id, &change, MODEL_SET(LAUNCHER) |
						     MODEL_SET(TASK_ARN) | MODEL_SET(LAUNCHED), &le);
			if (rc == 0) {
				ecs_wait_drop(e, id);
				log_info("build launched on ecs deployment=%s task=%s", id, arn);
			}
		}
	}
	json_decref(resp);
	if (rc < 0 && why[0])
		rc = ecs_capacity_wait(e, r, id, token, why, &le);
	if (rc < 0 && rc != SKIFF_EREDIS) {
		snprintf(msg, sizeof(msg), "%s", le.message[0] ? le.message : "ECS RunTask failed");
		ecs_wait_drop(e, id);
		ecs_fail_deployment(r, id, msg, MODEL_NONE);
	}
	if (rc < 0)
		error_set(err, rc, le.name, "%s", le.message);
	return rc;
}

int ecs_stop(struct ecs *e, const char *task_arn, const char *reason, struct error *err)
{
	json_t *resp = NULL;
	json_t *req = json_pack("{ssssss%}", "cluster", e->cc.ecs_cluster, "task", task_arn,
				"reason", reason, strnlen(reason, ECS_REASON_MAX));
	if (!req)
		abort();
	int rc = ecs_call(e, "StopTask", req, &resp, err);
	json_decref(req);
	json_decref(resp);
	if (rc == 0)
		log_info("ecs task stopped task=%s reason=\"%s\"", task_arn, reason);
	return rc;
}

static const char *ecs_field(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* Re-reads the state: the build may have finished between our read and DescribeTasks. */
static bool ecs_now_final(struct redis *r, const char *id)
{
	enum deployment_state state;
	return model_deployment_status(r, id, &state, NULL, NULL) != 1 || model_state_final(state);
}

/* The fate of one launched build, given its task (NULL when ECS does not know it). */
static enum ecs_poll_result ecs_judge(struct ecs *e, struct redis *r, const char *id,
				      const struct deployment *dep, json_t *task, bool missing)
{
	const char *arn = dep->task_arn;
	char msg[ERROR_MESSAGE_MAX];
	long long launched = dep->launched;
	long long age_ms = clock_wall_ms() - launched;
	const char *last = ecs_field(task, "lastStatus");
	if (task && !strcmp(last, "STOPPED")) {
		if (ecs_now_final(r, id))
			return ECS_POLL_DONE;
		/* the build container by name: ECS lists sidecars (log routers, agents) in no
		 * particular order */
		json_t *c = NULL, *ci;
		size_t k;
		json_array_foreach(json_object_get(task, "containers"), k, ci)
			if (!strcmp(ecs_field(ci, "name"), e->cc.ecs_container))
				c = ci;
		json_t *code = json_object_get(c, "exitCode");
		const char *creason = ecs_field(c, "reason");
		char exit_code[24] = "";
		if (json_is_integer(code))
			snprintf(exit_code, sizeof(exit_code), "%lld", (long long)json_integer_value(code));
		snprintf(msg, sizeof(msg), "the build task stopped before the build finished: %s%s%s%s%s%s",
			 task && ecs_field(task, "stoppedReason")[0] ? ecs_field(task, "stoppedReason")
								     : "no reason given",
			 creason[0] ? " (" : "", creason, creason[0] ? ")" : "",
			 exit_code[0] ? ", exit code " : "", exit_code);
		if (!strcmp(exit_code, "137"))
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
				 " (probably killed for using too much memory)");
		log_warn("ecs task stopped early deployment=%s task=%s message=\"%s\"", id, arn, msg);
		ecs_fail_deployment(r, id, msg,
				    json_is_integer(code) ? (long long)json_integer_value(code) : MODEL_NONE);
		return ECS_POLL_DONE;
	}
	if (missing && age_ms > ECS_MISSING_GRACE_MS) {
		if (ecs_now_final(r, id))
			return ECS_POLL_DONE;
		ecs_fail_deployment(r, id, "the build task is gone: ECS no longer knows it", MODEL_NONE);
		return ECS_POLL_DONE;
	}
	if (dep->state == DEPLOYMENT_QUEUED && launched != MODEL_NONE && launched > 0 &&
	    age_ms > e->cc.ecs_start_timeout * 1000LL) {
		if (arn[0])
			snprintf(msg, sizeof(msg), "the build did not start within %ld s (task %s)",
				 e->cc.ecs_start_timeout, task ? last : "unknown to ECS");
		else
			snprintf(msg, sizeof(msg), "the build did not start within %ld s: ECS had no "
				 "capacity for it", e->cc.ecs_start_timeout);
		if (arn[0]) {
			struct error se;
			if (ecs_stop(e, arn, "skiff: the build did not start in time", &se) < 0)
				log_warn("cannot stop the task task=%s error=\"%s\"", arn, se.message);
		}
		if (ecs_now_final(r, id))
			return ECS_POLL_DONE;
		ecs_fail_deployment(r, id, msg, MODEL_NONE);
		return ECS_POLL_DONE;
	}
	return ECS_POLL_RUNNING;
}

/* A deployment deleted with its project is canceled: its task, if the delete left its ARN
 * (model_lifecycle_orphan_task), is stopped. RUNNING to try again when StopTask or Redis
 * fails. */
static enum ecs_poll_result ecs_stop_deleted(struct ecs *e, struct redis *r, const char *id)
{
	char arn[ECS_ARN_MAX + 1];
	struct error se;
	int found = model_lifecycle_orphan_task(r, id, arn, sizeof(arn), &se);
	if (found < 0)
		return ECS_POLL_RUNNING;
	if (!found)
		return ECS_POLL_DONE;
	if (ecs_stop(e, arn, "skiff: the project was deleted", &se) < 0) {
		log_warn("cannot stop the deleted build's task deployment=%s task=%s error=\"%s\"",
			 id, arn, se.message);
		return ECS_POLL_RUNNING;
	}
	model_lifecycle_orphan_task_drop(r, id);
	return ECS_POLL_DONE;
}

/* A build still waiting for capacity (no task yet): given up after ecs_start_timeout, else
 * RunTask again once its backoff is over. */
static enum ecs_poll_result ecs_relaunch(struct ecs *e, struct redis *r, const char *id,
					 const struct deployment *dep)
{
	if (ecs_judge(e, r, id, dep, NULL, false) == ECS_POLL_DONE) {
		ecs_wait_drop(e, id);
		return ECS_POLL_DONE;
	}
	struct ecs_wait *w = ecs_wait_find(e, id, false);
	if (w && clock_mono_ms() < w->retry_ms)
		return ECS_POLL_RUNNING;
	struct error le;
	int rc = ecs_launch(e, r, id, &le);
	return rc >= 0 || rc == SKIFF_EREDIS ? ECS_POLL_RUNNING : ECS_POLL_DONE;
}

int ecs_poll(struct ecs *e, struct redis *r, const char *const *ids, size_t n,
	     enum ecs_poll_result *results, struct error *err)
{
	int rc = 0;
	for (size_t base = 0; base < n && rc == 0; base += ECS_BATCH) {
		size_t m = n - base < ECS_BATCH ? n - base : ECS_BATCH;
		struct deployment *deps = calloc(ECS_BATCH, sizeof(*deps));
		bool loaded[ECS_BATCH] = { false };
		json_t *arns = json_array();
		if (!deps)
			abort();
		for (size_t i = 0; i < m; i++) {
			const char *id = ids[base + i];
			results[base + i] = ECS_POLL_RUNNING;
			struct error ge;
			int g = model_deployment_get(r, id, &deps[i], &ge);
			loaded[i] = g == 0;
			if (g == SKIFF_ENOTFOUND) {
				results[base + i] = ecs_stop_deleted(e, r, id);
				continue;
			}
			if (g < 0) {
				rc = error_set(err, ge.code, ge.name, "%s", ge.message);
				break;
			}
			const char *arn = deps[i].task_arn;
			if (model_state_final(deps[i].state)) {
				results[base + i] = ECS_POLL_DONE;
				if (deps[i].state == DEPLOYMENT_CANCELED && arn[0]) {
					struct error se;
					if (ecs_stop(e, arn, "skiff: the deployment was canceled", &se) < 0)
						log_warn("cannot stop the canceled build's task task=%s error=\"%s\"",
							 arn, se.message);
				}
				continue;
			}
			if (arn[0])
				json_array_append_new(arns, json_string(arn));
		}
		json_t *resp = NULL;
		if (rc == 0 && json_array_size(arns) > 0) {
			json_t *req = json_pack("{ssso}", "cluster", e->cc.ecs_cluster, "tasks", arns);
			arns = NULL;
			rc = ecs_call(e, "DescribeTasks", req, &resp, err);
			json_decref(req);
		}
		for (size_t i = 0; i < m && rc == 0; i++) {
			if (results[base + i] == ECS_POLL_DONE || !loaded[i])
				continue;
			const char *arn = deps[i].task_arn;
			if (!arn[0]) {
				results[base + i] = ecs_relaunch(e, r, ids[base + i], &deps[i]);
				continue;
			}
			json_t *task = NULL, *t;
			bool missing = false;
			size_t k;
			json_array_foreach(json_object_get(resp, "tasks"), k, t)
				if (!strcmp(ecs_field(t, "taskArn"), arn))
					task = t;
			json_array_foreach(json_object_get(resp, "failures"), k, t)
				if (!strcmp(ecs_field(t, "arn"), arn) && !strcmp(ecs_field(t, "reason"), "MISSING"))
					missing = true;
			results[base + i] = ecs_judge(e, r, ids[base + i], &deps[i], task, missing);
		}
		json_decref(resp);
		json_decref(arns);
		free(deps);
	}
	return rc;
}
