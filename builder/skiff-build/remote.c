/* remote.c — skiff-build --remote: every record the build changes goes through the deploy
 * protocol with the build token (libcurl), never through Redis or the store; log lines are
 * numbered and sent in batches, so a batch sent again after a lost answer counts once. */
#include "remote.h"
#include "channel.h"
#include "clock.h"
#include "log.h"
#include "model_buildtoken.h"
#include "env.h"
#include "model_log.h"
#include "gitauth.h"
#include "secret.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct remote {
	char url[REMOTE_URL_MAX];        /* without a trailing '/' */
	char auth[BUILD_TOKEN_LEN + 32]; /* "Authorization: Bearer <token>" */
	char id[ID_LEN + 1];
	pthread_mutex_t log_lock;        /* the queue below, and the order of its batches */
	json_t *queue;                   /* lines not yet taken by the API */
	long long next_seq;
	long long oldest_ms;             /* clock_mono_ms() of the oldest queued line */
	unsigned long long lost;         /* lines past REMOTE_LOG_HOLD_MAX */
	/* the heartbeat thread */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool quit;
};

int remote_open(struct build *b, struct error *err)
{
	char *url = getenv("SKIFF_API_URL"), *token = getenv("SKIFF_BUILD_TOKEN");
	if (!url || !*url || strlen(url) >= REMOTE_URL_MAX ||
	    (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)))
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "--remote needs SKIFF_API_URL, an http(s) URL of the API");
	if (!model_buildtoken_secret_valid(token))
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "--remote needs SKIFF_BUILD_TOKEN, a build token (" BUILD_TOKEN_PREFIX
				 "...)");
	struct remote *rm = calloc(1, sizeof(*rm));
	if (!rm)
		abort();
	snprintf(rm->url, sizeof(rm->url), "%s", url);
	size_t n = strlen(rm->url);
	while (n && rm->url[n - 1] == '/')
		rm->url[--n] = '\0';
	snprintf(rm->auth, sizeof(rm->auth), "Authorization: Bearer %s", token);
	memset(token, 'x', strlen(token)); /* out of /proc/self/environ too */
	unsetenv("SKIFF_BUILD_TOKEN");
	memcpy(rm->id, b->id, ID_LEN + 1);
	pthread_mutex_init(&rm->log_lock, NULL);
	pthread_mutex_init(&rm->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rm->wake, &ca);
	pthread_condattr_destroy(&ca);
	rm->queue = json_array();
	b->remote = rm;
	return 0;
}

void remote_free(struct remote *rm)
{
	if (!rm)
		return;
	json_decref(rm->queue);
	pthread_mutex_destroy(&rm->log_lock);
	pthread_mutex_destroy(&rm->lock);
	pthread_cond_destroy(&rm->wake);
	memset(rm->auth, 0, sizeof(rm->auth));
	free(rm);
}

static size_t remote_read(char *p, size_t size, size_t n, void *ctx)
{
	ssize_t got;
	do
		got = read(*(int *)ctx, p, size * n);
	while (got < 0 && errno == EINTR);
	return got < 0 ? CURL_READFUNC_ABORT : (size_t)got;
}

/* One request: body (len bytes) or, with fd >= 0, len bytes of fd. The status, or a negative
 * error for a transport failure. */
static long remote_once(struct remote *rm, const char *method, const char *url,
			const char *type, const char *body, int fd, unsigned long long len,
			struct buf *in, struct error *err)
{
	char ctype[64];
	struct curl_slist *hdr = NULL;
	long status = 0;
	CURL *h = curl_easy_init();
	if (!h)
		abort();
	snprintf(ctype, sizeof(ctype), "Content-Type: %s", type);
	hdr = curl_slist_append(hdr, rm->auth);
	hdr = curl_slist_append(hdr, ctype);
	hdr = curl_slist_append(hdr, "Accept: application/json");
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, in);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "skiff-build/" SKIFF_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);  /* a stalled answer is a failure */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (fd >= 0) {
		lseek(fd, 0, SEEK_SET);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, remote_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &fd);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK)
		status = error_set(err, SKIFF_EUPSTREAM, "network", "%s %s: %s", method, url,
				   in->err ? "the answer is too large" : curl_easy_strerror(cc));
	else
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	return status;
}

/* The error of a 4xx answer: the server's code and message. */
static int remote_refused(long status, const struct buf *in, struct error *err)
{
	json_t *a = json_loadb(in->data ? in->data : "", in->len, 0, NULL);
	json_t *e = json_object_get(a, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	int kind = status == 401 ? SKIFF_EAUTH : status == 403 ? SKIFF_EFORBIDDEN
		 : status == 409 ? SKIFF_ECONFLICT : SKIFF_EUPSTREAM;
	error_set(err, kind, code ? code : "http_status", "the API answered %ld: %s", status,
		  msg ? msg : "(no JSON error)");
	json_decref(a);
	return kind;
}

/* A call to path (under the API's URL) retried on a network error, a 5xx or a 429; *answer
 * gets a 2xx's JSON. */
static int remote_call(struct remote *rm, const char *method, const char *path, const char *type,
		       const char *body, int fd, unsigned long long len, json_t **answer,
		       struct error *err)
{
	char url[REMOTE_URL_MAX + 256];
	struct buf in = BUF_INIT(REMOTE_ANSWER_MAX);
	long status = 0;
	if (answer)
		*answer = NULL;
	snprintf(url, sizeof(url), "%s%s", rm->url, path);
	for (int i = 0; i < REMOTE_TRIES; i++) {
		if (i)
			usleep((useconds_t)(200000u << (i - 1)));  /* 0.2, 0.4, 0.8, 1.6 s */
		buf_reset(&in);
		status = remote_once(rm, method, url, type, body, fd, len, &in, err);
		if (status > 0 && status < 500 && status != 429)
			break;
		if (status > 0)
			error_set(err, SKIFF_EUPSTREAM, "api_unavailable", "%s %s: the API answered %ld",
				  method, path, status);
	}
	int rc = 0;
	if (status <= 0 || status >= 500 || status == 429)
		rc = err->code;
	else if (status >= 300)
		rc = remote_refused(status, &in, err);
	else if (answer)
		*answer = json_loadb(in.data ? in.data : "", in.len, 0, NULL);
	if (in.data)  /* the credentials call's answer holds secrets */
		OPENSSL_cleanse(in.data, in.len);
	buf_dispose(&in);
	return rc;
}

int remote_post(struct remote *rm, const char *what, json_t *body, json_t **answer,
		struct error *err)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/deployments/%s/%s", rm->id, what);
	char *text = body ? json_dumps(body, JSON_COMPACT) : strdup("{}");
	if (!text)
		abort();
	int rc = remote_call(rm, "POST", path, "application/json", text, -1, strlen(text), answer,
			     err);
	free(text);
	return rc;
}

int remote_put_blob(struct remote *rm, const char *hash, int fd, const char *data,
		    unsigned long long len, struct error *err)
{
	char path[192];
	snprintf(path, sizeof(path), "/api/deployments/%s/blobs/%s", rm->id, hash);
	return remote_call(rm, "PUT", path, "application/octet-stream", data, fd, len, NULL, err);
}

/* 1 when err says the API could not be reached or answered 5xx/429: worth trying again. */
static int remote_unavailable(const struct error *err)
{
	return err->code == SKIFF_EUPSTREAM &&
	       (!strcmp(err->name, "network") || !strcmp(err->name, "api_unavailable"));
}

/* Sends the queue, a batch at a time; log_lock is held. A batch the API refuses (not a
 * network error or a 5xx) is dropped: sending it again would not help. */
static int remote_log_send(struct remote *rm, struct error *err)
{
	int rc = 0;
	while (json_array_size(rm->queue) > 0 && rc == 0) {
		size_t n = json_array_size(rm->queue);
		if (n > REMOTE_LOG_BATCH)
			n = REMOTE_LOG_BATCH;
		json_t *lines = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append(lines, json_array_get(rm->queue, i));
		json_t *body = json_pack("{so}", "lines", lines);
		rc = remote_post(rm, "log", body, NULL, err);
		json_decref(body);
		if (rc == 0 || !remote_unavailable(err))
			for (size_t i = 0; i < n; i++)
				json_array_remove(rm->queue, 0);
	}
	if (rc == 0 && rm->lost) {
		char line[128];
		snprintf(line, sizeof(line), "%llu lines of output were lost while the API was "
			 "unreachable", rm->lost);
		rm->lost = 0;
		json_array_append_new(rm->queue, json_pack("{sIssss}", "seq", (json_int_t)rm->next_seq++,
							   "stream", LOG_SRC_SYSTEM, "text", line));
		return remote_log_send(rm, err);
	}
	rm->oldest_ms = clock_mono_ms();
	return rc;
}

void remote_log(struct remote *rm, const char *source, const char *text, size_t len)
{
	struct error e;
	pthread_mutex_lock(&rm->log_lock);
	json_t *t = json_stringn(text, len);   /* valid UTF-8: build_log cleaned it */
	if (json_array_size(rm->queue) >= REMOTE_LOG_HOLD_MAX) {
		rm->lost++;
	} else {
		if (json_array_size(rm->queue) == 0)
			rm->oldest_ms = clock_mono_ms();
		json_array_append_new(rm->queue, json_pack("{sIssso}", "seq", (json_int_t)rm->next_seq++,
							   "stream", source, "text",
							   t ? t : json_string("?")));
		t = NULL;
	}
	json_decref(t);
	if (json_array_size(rm->queue) >= REMOTE_LOG_BATCH ||
	    clock_mono_ms() - rm->oldest_ms >= REMOTE_LOG_EVERY_MS)
		remote_log_send(rm, &e);
	pthread_mutex_unlock(&rm->log_lock);
}

int remote_log_flush(struct remote *rm, struct error *err)
{
	pthread_mutex_lock(&rm->log_lock);
	int rc = remote_log_send(rm, err);
	pthread_mutex_unlock(&rm->log_lock);
	return rc;
}

static void *remote_heartbeat(void *arg)
{
	struct build *b = arg;
	struct remote *rm = b->remote;
	pthread_mutex_lock(&rm->lock);
	while (!rm->quit) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += REMOTE_HEARTBEAT_MS / 1000;
		while (!rm->quit && pthread_cond_timedwait(&rm->wake, &rm->lock, &until) != ETIMEDOUT)
			;
		if (rm->quit)
			break;
		pthread_mutex_unlock(&rm->lock);
		struct error e;
		json_t *answer = NULL;
		remote_log_flush(rm, &e);
		int rc = remote_post(rm, "progress", NULL, &answer, &e);
		if (rc == 0 && json_is_true(json_object_get(answer, "cancel"))) {
			log_info("cancel requested; stopping the build deployment=%s", b->id);
			atomic_store(&b->cancel_requested, 1);
			atomic_store(&b->stop, 1);
		} else if (rc == SKIFF_EAUTH || rc == SKIFF_EFORBIDDEN) {
			log_warn("the API refuses the build token; stopping deployment=%s error=\"%s\"",
				 b->id, e.message);
			atomic_store(&b->stop, 1);
		} else if (rc < 0) {
			log_warn("heartbeat failed deployment=%s error=\"%s\"", b->id, e.message);
		}
		json_decref(answer);
		pthread_mutex_lock(&rm->lock);
	}
	pthread_mutex_unlock(&rm->lock);
	return NULL;
}

int remote_heartbeat_start(struct build *b, struct error *err)
{
	struct remote *rm = b->remote;
	int rc = pthread_create(&rm->thread, NULL, remote_heartbeat, b);
	if (rc != 0)
		return error_set(err, SKIFF_ESYS, NULL, "cannot start the heartbeat thread: %s",
				 strerror(rc));
	rm->running = true;
	return 0;
}

void remote_heartbeat_stop(struct build *b)
{
	struct remote *rm = b->remote;
	if (!rm || !rm->running)
		return;
	pthread_mutex_lock(&rm->lock);
	rm->quit = true;
	pthread_cond_signal(&rm->wake);
	pthread_mutex_unlock(&rm->lock);
	pthread_join(rm->thread, NULL);
	rm->running = false;
}

/* A string of the start answer into out (cut to size). */
static void remote_str(json_t *o, const char *key, char *out, size_t size)
{
	const char *v = json_string_value(json_object_get(o, key));
	snprintf(out, size, "%s", v ? v : "");
}

int remote_start(struct build *b, struct error *err)
{
	json_t *a = NULL;
	int rc = remote_post(b->remote, "start", NULL, &a, err);
	if (rc < 0)
		return rc;
	struct deployment *d = &b->deployment;
	struct project *p = &b->project;
	model_deployment_init(d);
	model_project_init(p);
	memcpy(d->id, b->id, ID_LEN + 1);
	remote_str(a, "project", b->slug, sizeof(b->slug));
	memcpy(d->project, b->slug, sizeof(d->project));
	memcpy(p->slug, b->slug, sizeof(p->slug));
	remote_str(a, "gitUrl", d->git_url, sizeof(d->git_url));
	remote_str(a, "branch", d->branch, sizeof(d->branch));
	remote_str(a, "ref", d->ref, sizeof(d->ref));
	remote_str(a, "pushedCommit", d->pushed_commit, sizeof(d->pushed_commit));
	remote_str(a, "trigger", d->trigger, sizeof(d->trigger));
	remote_str(a, "buildCommand", p->build_command, sizeof(p->build_command));
	remote_str(a, "installCommand", p->install_command, sizeof(p->install_command));
	remote_str(a, "outputDirectory", p->output_dir, sizeof(p->output_dir));
	remote_str(a, "context", d->context, sizeof(d->context));
	d->fork = json_is_true(json_object_get(a, "fork"));
	b->remote_credentials = json_is_true(json_object_get(a, "credentials"));
	json_decref(b->remote_variables);
	b->remote_variables = json_incref(json_object_get(a, "variables"));
	json_t *prod = json_object_get(a, "production");
	remote_str(prod, "deploymentId", b->production_id, sizeof(b->production_id));
	remote_str(prod, "commit", b->production_commit, sizeof(b->production_commit));
	d->state = DEPLOYMENT_BUILDING;
	json_decref(a);
	if (!d->git_url[0] || !b->slug[0])
		return error_set(err, SKIFF_EUPSTREAM, "bad_answer",
				 "the API's start answer names no project or repository");
	return 0;
}

int remote_phase(struct build *b, const char *phase, struct error *err)
{
	json_t *body = json_pack("{ss}", "phase", phase);
	int rc = remote_log_flush(b->remote, err);
	if (rc == 0)
		rc = remote_post(b->remote, "progress", body, NULL, err);
	json_decref(body);
	return rc;
}

int remote_commit(struct build *b, const char *message, const char *descends_from,
		  struct error *err)
{
	json_t *body = json_pack("{ssssss}", "commit", b->commit, "commitMessage", message,
				 "descendsFrom", descends_from);
	int rc = remote_post(b->remote, "progress", body, NULL, err);
	json_decref(body);
	return rc;
}

int remote_host_key(struct build *b, const char *type, const char *fingerprint,
		    struct error *err)
{
	json_t *answer = NULL, *body = json_pack("{ssss}", "hostKeyType", type, "hostKey",
						 fingerprint);
	int rc = remote_post(b->remote, "progress", body, &answer, err);
	if (rc == 0)
		rc = json_is_true(json_object_get(answer, "pinned"));
	json_decref(answer);
	json_decref(body);
	return rc;
}

int remote_fail(struct build *b, const struct error *cause, struct error *err)
{
	struct error e;
	if (remote_log_flush(b->remote, &e) < 0)
		log_warn("build log lines lost deployment=%s error=\"%s\"", b->id, e.message);
	json_t *body = json_pack("{ss}", "error", cause->message);
	if (b->exit_code >= 0)
		json_object_set_new(body, "exitCode", json_integer(b->exit_code));
	int rc = remote_post(b->remote, "fail", body, NULL, err);
	json_decref(body);
	return rc;
}

int remote_finish(struct build *b, struct error *err)
{
	json_t *answer = NULL, *body = json_pack("{sI}", "bytesUploaded",
						 (json_int_t)b->bytes_uploaded);
	int rc = remote_log_flush(b->remote, err);
	if (rc == 0)
		rc = remote_post(b->remote, "finish", body, &answer, err);
	json_decref(answer);
	json_decref(body);
	return rc;
}

int remote_env(struct build *b, struct env_list **out, struct error *err)
{
	struct env_list *l = env_list_new();
	size_t n = json_array_size(b->remote_variables), i;
	json_t *v;
	l->vars = calloc(n ? n : 1, sizeof(*l->vars));
	if (!l->vars)
		abort();
	json_array_foreach(b->remote_variables, i, v) {
		struct env_var *e = &l->vars[l->n];
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *value = json_string_value(json_object_get(v, "value"));
		json_t *ctx = json_object_get(v, "contexts"), *c;
		size_t k;
		if (!name || !*name || strlen(name) > ENV_NAME_MAX) { /* build_env_load checks it */
			env_list_free(l);
			return error_set(err, SKIFF_EUPSTREAM, "bad_answer",
					 "the API's start answer has a malformed variable");
		}
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->secret = json_is_true(json_object_get(v, "secret"));
		/* a secret's value came by the credentials call, if at all (sealed: it did not) */
		const char *plain = json_string_value(json_object_get(b->remote_secrets, name));
		e->sealed = e->secret && !plain;
		e->value = strdup(!e->secret ? (value ? value : "") : plain ? plain : "");
		if (!e->value)
			abort();
		json_array_foreach(ctx, k, c)
			e->contexts |= env_context_bit(json_string_value(c));
		l->n++;
	}
	*out = l;
	return 0;
}

int remote_credentials(struct build *b, const char *url, struct gitauth *auth, struct error *err)
{
	json_t *answer = NULL;
	gitauth_init(auth);
	auth->ssh = validate_git_url_ssh(url);
	if (!b->remote_credentials)
		return 0;
	if (!channel_confidential(b->remote->url))
		return error_set(err, SKIFF_EFORBIDDEN, "insecure_channel",
				 "the project has secret variables or repository credentials, and "
				 "SKIFF_API_URL is plain http to another host: they are fetched only "
				 "over https (or loopback)");
	int rc = remote_post(b->remote, "credentials", NULL, &answer, err);
	if (rc < 0)
		return rc;
	json_t *repo = json_object_get(answer, "repository"), *vars = json_object_get(answer, "variables"), *v;
	size_t i;
	if (json_is_object(repo) && (rc = gitauth_wire_from_json(repo, auth, err)) < 0) {
		secret_json_free(answer);
		return rc;
	}
	secret_json_free(b->remote_secrets);
	b->remote_secrets = json_object();
	json_array_foreach(vars, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		json_t *value = json_object_get(v, "value");
		if (name && json_is_string(value))
			json_object_set_new(b->remote_secrets, name,
					    json_stringn(json_string_value(value), json_string_length(value)));
	}
	secret_json_free(answer);
	return 0;
}
