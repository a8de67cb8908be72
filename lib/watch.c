/* watch.c — commit polling: due projects from a Redis schedule, one child process per poll
 * listing the remote's refs with libgit2, results and backoff recorded by Lua scripts. */
#include "watch.h"
#include "hex.h"
#include "clock.h"
#include "gitauth.h"
#include "hash.h"
#include "hook.h"
#include "id.h"
#include "log.h"
#include "model.h"
#include "model_lifecycle.h"
#include "model_watch.h"
#include "proc.h"
#include "validate.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#define WATCH_CONCURRENCY_MAX 64
#define WATCH_OUT_MAX 512          /* a child's one-line answer */
#define WATCH_LOCK_SLACK_MS 5000   /* a repository lock outlives the poll's timeout by this */
#define WATCH_SCAN_FACTOR 4        /* due projects read per free slot (some are skipped) */

struct watch_poll {
	pid_t pid;                     /* 0: the slot is free */
	int fd;                        /* read end of the child's answer */
	bool eof;                      /* the answer is complete */
	bool reaped;
	int reap_tries;
	char slug[SLUG_MAX + 1];
	char git_url[GIT_URL_MAX + 1];
	char branch[BRANCH_MAX + 1];
	char repo[HASH_HEX_LEN + 1];   /* hash of the normalised URL: the repository's lock */
	char token[40];                /* this poll's value of the lock */
	struct gitauth auth;           /* the project's credentials, for the child */
	long long started_ms;
	char out[WATCH_OUT_MAX];
	size_t len;
};

struct watch {
	const struct config *cfg;
	struct watch_settings s;
	struct watch_poll polls[WATCH_CONCURRENCY_MAX];
	uint64_t rng;
	unsigned long long serial;
	long long spent_minute;        /* the minute whose budget is known to be spent, or -1 */
};

void watch_settings_default(struct watch_settings *s)
{
	s->interval_ms = 60000;
	s->jitter_pct = 10;
	s->per_minute = 120;
	s->timeout_ms = 20000;
	s->concurrency = 4;
	s->backoff_max_ms = 3600000;
}

struct watch *watch_new(const struct config *cfg, const struct watch_settings *s)
{
	struct watch *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	w->cfg = cfg;
	w->s = *s;
	if (w->s.concurrency < 1)
		w->s.concurrency = 1;
	if (w->s.concurrency > WATCH_CONCURRENCY_MAX)
		w->s.concurrency = WATCH_CONCURRENCY_MAX;
	if (w->s.jitter_pct < 0 || w->s.jitter_pct > 50)
		w->s.jitter_pct = 10;
	if (getrandom(&w->rng, sizeof(w->rng), 0) != sizeof(w->rng) || !w->rng)
		w->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	for (int i = 0; i < WATCH_CONCURRENCY_MAX; i++)
		w->polls[i].fd = -1;
	w->spent_minute = -1;
	return w;
}

static void watch_slot_clear(struct watch_poll *p)
{
	if (p->fd >= 0)
		close(p->fd);
	gitauth_dispose(&p->auth);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

void watch_free(struct watch *w)
{
	if (!w)
		return;
	for (int i = 0; i < WATCH_CONCURRENCY_MAX; i++) {
		struct watch_poll *p = &w->polls[i];
		if (!p->pid)
			continue;
		if (!p->reaped && kill(p->pid, SIGKILL) == 0)
			waitpid(p->pid, NULL, 0);
		watch_slot_clear(p);
	}
	free(w);
}

size_t watch_running(const struct watch *w)
{
	size_t n = 0;
	for (int i = 0; i < w->s.concurrency; i++)
		n += w->polls[i].pid != 0;
	return n;
}

/* A delay factor in per mille: 1000 ± jitter_pct * 10 (xorshift64*). */
static long watch_jitter(struct watch *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	uint64_t v = w->rng * 2685821657736338717ULL;
	long span = w->s.jitter_pct * 10L;
	if (span == 0)
		return 1000;
	return 1000 - span + (long)(v % (uint64_t)(2 * span + 1));
}

/* ---- the child: list the remote's refs ------------------------------------------------- */

static int watch_git_error(struct error *err, const char *what)
{
	const git_error *ge = git_error_last();
	return error_set(err, SKIFF_EGIT, "git_error", "%s: %s", what,
			 ge && ge->message ? ge->message : "unknown error");
}

int watch_remote_head(const char *url, const char *branch, struct gitauth *auth,
		      char out[WATCH_COMMIT_MAX + 1], struct error *err)
{
	char want[BRANCH_MAX + 16];
	if (branch && *branch)
		snprintf(want, sizeof(want), "refs/heads/%s", branch);
	else
		snprintf(want, sizeof(want), "HEAD");
	out[0] = '\0';
	git_libgit2_init();
	/* no /etc/gitconfig or ~/.gitconfig: no url rewrites, no credential helpers */
	static const int levels[] = { GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
				      GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA };
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	git_remote *remote = NULL;
	git_remote_connect_options opts;
	git_remote_connect_options_init(&opts, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	if (auth)
		gitauth_callbacks(&opts.callbacks, auth);
	const git_remote_head **heads = NULL;
	size_t n = 0;
	int rc = 0;
	if (git_remote_create_detached(&remote, url) < 0) {
		rc = watch_git_error(err, "invalid remote");
		goto out;
	}
	if (git_remote_connect_ext(remote, GIT_DIRECTION_FETCH, &opts) < 0) {
		rc = auth ? gitauth_error(auth, "cannot reach the repository", err)
			  : watch_git_error(err, "cannot reach the repository");
		goto out;
	}
	if (git_remote_ls(&heads, &n, remote) < 0) {
		rc = watch_git_error(err, "cannot list the repository's refs");
		goto out;
	}
	rc = error_set(err, SKIFF_ENOTFOUND, "unknown_branch", "the repository has no %s", want);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(heads[i]->name, want))
			continue;
		git_oid_tostr(out, WATCH_COMMIT_MAX + 1, &heads[i]->oid);
		rc = 0;
		break;
	}
out:
	git_remote_free(remote);
	git_libgit2_shutdown();
	return rc;
}

static void watch_child(struct watch_poll *p, bool allow_local, int fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	proc_child_reset(-1);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);      /* a write to a closed pipe fails instead */
	char head[WATCH_COMMIT_MAX + 1], line[WATCH_OUT_MAX];
	struct error err;
	error_clear(&err);
	int n;
	/* the name resolved here, in the child, so that a slow resolver stalls only this poll:
	 * a name that now points at this machine or a private network is not polled */
	if (validate_git_url_resolved(p->git_url, allow_local, NULL, &err) == 0 &&
	    watch_remote_head(p->git_url, p->branch, &p->auth, head, &err) == 0)
		/* and the SSH host key seen, for the parent to pin on first use */
		n = snprintf(line, sizeof(line), "ok %s%s%s%s%s\n", head, p->auth.seen[0] ? " " : "",
			     p->auth.seen_type, p->auth.seen[0] ? " " : "", p->auth.seen);
	else
		n = snprintf(line, sizeof(line), "err %.*s\n", WATCH_ERROR_MAX, err.message);
	if (n > 0 && (size_t)n < sizeof(line)) {
		ssize_t wr = write(fd, line, (size_t)n);
		(void)wr;
	}
	_exit(0);
}

/* ---- the parent: results ---------------------------------------------------------------- */

static void watch_unlock(struct redis *r, const struct watch_poll *p)
{
	model_watch_unlock(r, p->repo, p->token);
}

static int watch_failure(struct watch *w, struct redis *r, const char *slug, const char *msg,
			 long long now, struct error *err)
{
	long long failures = -1;
	int rc = model_watch_failure(r, slug, msg, now, w->s.interval_ms, w->s.backoff_max_ms,
				     watch_jitter(w), &failures, err);
	if (rc < 0)
		return rc;
	log_warn("poll failed project=%s failures=%lld error=\"%s\"", slug, failures, msg);
	return 0;
}

/* A deployment of exactly the new head (trigger poll). */
static int watch_deploy(struct redis *r, const struct watch_poll *p, const char *head,
			struct error *err)
{
	char superseded[ID_LEN + 1];
	struct deployment dep;
	model_deployment_init(&dep);
	id_new(dep.id);
	snprintf(dep.project, sizeof(dep.project), "%s", p->slug);
	snprintf(dep.git_url, sizeof(dep.git_url), "%s", p->git_url);
	snprintf(dep.ref, sizeof(dep.ref), "%s", head);
	snprintf(dep.branch, sizeof(dep.branch), "%s", p->branch);
	snprintf(dep.trigger, sizeof(dep.trigger), "poll");
	dep.created = clock_wall_ms();
	const char *id = dep.id;
	int rc = model_lifecycle_redeploy(r, p->slug, &dep, superseded, err);
	if (rc < 0)
		return rc;
	rc = model_watch_seen(r, p->slug, head, err);
	log_info("poll found a new commit project=%s commit=%s deployment=%s superseded=%s",
		 p->slug, head, id, superseded[0] ? superseded : "-");
	return rc;
}

static int watch_head(struct watch *w, struct redis *r, const struct watch_poll *p,
		      const char *head, long long now, struct error *err)
{
	char result[16];
	int fresh = model_watch_head(r, p->slug, head, now,
				     now + w->s.interval_ms * watch_jitter(w) / 1000, result, err);
	if (fresh < 0)
		return fresh;
	log_debug("poll done project=%s commit=%s result=%s", p->slug, head, result);
	return fresh ? watch_deploy(r, p, head, err) : 0;
}

/* Records a finished (or killed) poll and frees its slot. */
static int watch_finish(struct watch *w, struct redis *r, struct watch_poll *p, long long now,
			const char *killed, struct error *err)
{
	int rc;
	p->out[p->len < sizeof(p->out) ? p->len : sizeof(p->out) - 1] = '\0';
	char *nl = strchr(p->out, '\n');
	if (nl)
		*nl = '\0';
	/* "ok HEAD" or "ok HEAD TYPE FINGERPRINT" (an SSH host key seen) */
	size_t hl = strlen(p->out) > 3 ? strcspn(p->out + 3, " ") : 0;
	char type[SSHKEY_TYPE_MAX + 1], fp[SSHKEY_FINGERPRINT_MAX + 1];
	bool seen = p->out[3 + hl] == ' ' &&
		    sscanf(p->out + 3 + hl, " %31s %56s", type, fp) == 2;
	if (killed)
		rc = watch_failure(w, r, p->slug, killed, now, err);
	else if (!strncmp(p->out, "ok ", 3) && (hl == 40 || hl == 64) &&
		 hex_span(p->out + 3) == hl && seen && !p->auth.pin[0] &&
		 (rc = gitauth_pin(r, p->slug, p->git_url, type, fp, err)) < 0)
		rc = watch_failure(w, r, p->slug, err->message, now, err);
	else if (!strncmp(p->out, "ok ", 3) && (hl == 40 || hl == 64) &&
		 hex_span(p->out + 3) == hl) {
		p->out[3 + hl] = '\0';
		rc = watch_head(w, r, p, p->out + 3, now, err);
	}
	else if (!strncmp(p->out, "err ", 4))
		rc = watch_failure(w, r, p->slug, p->out + 4, now, err);
	else
		rc = watch_failure(w, r, p->slug, "the poll ended without an answer", now, err);
	watch_unlock(r, p);
	if (!p->reaped)
		waitpid(p->pid, NULL, WNOHANG); /* the dispatcher's waitpid(-1) may have reaped it */
	watch_slot_clear(p);
	return rc;
}

/* Reads what a child wrote so far; sets eof when it closed its end. */
static void watch_read(struct watch_poll *p)
{
	char tmp[256];
	for (;;) {
		ssize_t n = read(p->fd, tmp, sizeof(tmp));
		if (n > 0) {
			size_t room = sizeof(p->out) - 1 - p->len;
			size_t take = (size_t)n < room ? (size_t)n : room;
			memcpy(p->out + p->len, tmp, take);
			p->len += take;
			continue;
		}
		if (n == 0)
			p->eof = true;
		else if (errno == EINTR)
			continue;
		return;
	}
}

static int watch_collect(struct watch *w, struct redis *r, long long now, struct error *err)
{
	int rc = 0;
	for (int i = 0; i < w->s.concurrency; i++) {
		struct watch_poll *p = &w->polls[i];
		if (!p->pid)
			continue;
		watch_read(p);
		if (p->eof) {
			if (watch_finish(w, r, p, now, NULL, err) < 0)
				rc = err->code;
			continue;
		}
		if (now - p->started_ms < w->s.timeout_ms)
			continue;
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->reaped = true;
		char msg[64];
		snprintf(msg, sizeof(msg), "the repository did not answer within %ld s",
			 w->s.timeout_ms / 1000);
		if (watch_finish(w, r, p, now, msg, err) < 0)
			rc = err->code;
	}
	return rc;
}

/* ---- the parent: starting polls ---------------------------------------------------------- */

static struct watch_poll *watch_free_slot(struct watch *w)
{
	for (int i = 0; i < w->s.concurrency; i++)
		if (!w->polls[i].pid)
			return &w->polls[i];
	return NULL;
}

static bool watch_busy(const struct watch *w, const char *slug, const char *repo)
{
	for (int i = 0; i < w->s.concurrency; i++) {
		const struct watch_poll *p = &w->polls[i];
		if (p->pid && (!strcmp(p->slug, slug) || !strcmp(p->repo, repo)))
			return true;
	}
	return false;
}

/* Takes the repository's lock and a unit of the minute's budget. 1 when the poll may start,
 * 0 when not now, 2 when the budget is spent (start nothing more this round). */
static int watch_claim(struct watch *w, struct redis *r, struct watch_poll *p, long long now,
		       struct error *err)
{
	snprintf(p->token, sizeof(p->token), "%ld-%llu", (long)getpid(), ++w->serial);
	int locked = model_watch_lock(r, p->repo, p->token, w->s.timeout_ms + WATCH_LOCK_SLACK_MS,
				      err);
	if (locked <= 0)
		return locked;
	long long used = 0;
	if (model_watch_budget(r, now / 60000, &used, err) < 0) {
		watch_unlock(r, p);
		return err->code;
	}
	if (used > w->s.per_minute) {
		watch_unlock(r, p);
		return 2;
	}
	return 1;
}

static int watch_spawn(struct watch *w, struct redis *r, struct watch_poll *p, long long now,
		       struct error *err)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return error_set(err, SKIFF_ESYS, NULL, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return error_set(err, SKIFF_ESYS, NULL, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		watch_child(p, w->cfg->allow_local_git, fds[1]);
	}
	close(fds[1]);
	gitauth_dispose(&p->auth); /* the child has its copy; the pin stays for the answer */
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	p->pid = pid;
	p->fd = fds[0];
	p->started_ms = now;
	/* not due again while it runs (the result sets the real next time) */
	model_watch_defer(r, p->slug, now + w->s.timeout_ms + w->s.interval_ms);
	log_debug("poll started project=%s pid=%ld", p->slug, (long)pid);
	return 0;
}

/* Prepares slot p for slug from its record; 1 when it should be polled, 0 when skipped. */
static int watch_prepare(struct watch *w, struct redis *r, struct watch_poll *p,
			 const char *slug, long long now, struct error *err)
{
	int watched = model_watch_project(r, slug, p->git_url, sizeof(p->git_url), p->branch,
					  sizeof(p->branch), err);
	if (watched <= 0)
		return watched;
	snprintf(p->slug, sizeof(p->slug), "%s", slug);
	struct error verr;
	if (validate_git_url(p->git_url, w->cfg->allow_local_git, &verr) < 0 ||
	    (p->branch[0] && validate_branch(p->branch, &verr) < 0)) {
		int rc = watch_failure(w, r, slug, verr.message, now, err);
		memset(p, 0, sizeof(*p));
		p->fd = -1;
		return rc < 0 ? rc : 0;
	}
	struct error aerr;
	if (gitauth_load(r, w->cfg, slug, p->git_url, false, &p->auth, NULL, &aerr) < 0) {
		int rc = aerr.code == SKIFF_ENOTFOUND ? 0
			 : watch_failure(w, r, slug, aerr.message, now, err);
		gitauth_dispose(&p->auth);
		memset(p, 0, sizeof(*p));
		p->fd = -1;
		return rc < 0 ? rc : 0;
	}
	char norm[HOOK_URL_MAX + 1];
	const char *id_url = hook_url_normalize(p->git_url, norm, sizeof(norm)) == 0 ? norm
										     : p->git_url;
	hash_buffer(id_url, strlen(id_url), p->repo);
	return 1;
}

static int watch_start(struct watch *w, struct redis *r, long long now, struct error *err)
{
	size_t free_slots = (size_t)w->s.concurrency - watch_running(w);
	if (free_slots == 0 || now / 60000 == w->spent_minute)
		return 0;
	json_t *due = NULL;
	if (model_watch_due(r, now, free_slots * WATCH_SCAN_FACTOR, &due, err) < 0)
		return err->code;
	int rc = 0;
	for (size_t i = 0; i < json_array_size(due); i++) {
		const char *slug = json_string_value(json_array_get(due, i));
		struct watch_poll *p = watch_free_slot(w);
		if (!p)
			break;
		if (!slug || strlen(slug) > SLUG_MAX || validate_slug(slug, NULL) < 0)
			continue;
		struct watch_poll cand;
		memset(&cand, 0, sizeof(cand));
		cand.fd = -1;
		int ok = watch_prepare(w, r, &cand, slug, now, err);
		if (ok < 0) {
			rc = ok;
			break;
		}
		if (!ok || watch_busy(w, slug, cand.repo)) {
			gitauth_dispose(&cand.auth);
			continue;
		}
		*p = cand;
		ok = watch_claim(w, r, p, now, err);
		if (ok == 1 && watch_spawn(w, r, p, now, err) < 0) {
			watch_unlock(r, p);
			log_error("cannot start a poll project=%s error=\"%s\"", slug, err->message);
			ok = err->code;
		}
		if (ok != 1)
			watch_slot_clear(p);
		if (ok == 2) {
			log_info("poll budget of %ld per minute spent; the rest wait", w->s.per_minute);
			w->spent_minute = now / 60000;
			break;
		}
		if (ok < 0) {
			rc = ok;
			break;
		}
	}
	json_decref(due);
	return rc;
}

int watch_tick(struct watch *w, struct redis *r, long long now_ms, struct error *err)
{
	int rc = watch_collect(w, r, now_ms, err);
	int rc2 = watch_start(w, r, now_ms, err);
	return rc < 0 ? rc : rc2;
}

int watch_project_add(struct redis *r, const char *slug, struct error *err)
{
	return model_watch_set(r, slug, true, clock_wall_ms(), err);
}

int watch_project_remove(struct redis *r, const char *slug, struct error *err)
{
	return model_watch_set(r, slug, false, clock_wall_ms(), err);
}
