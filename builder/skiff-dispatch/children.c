/* children.c — the build processes: launching skiff-build, reaping it, and finding builds
 * that were lost (their lease expired). */
#include "children.h"
#include "launch_ecs.h"
#include "log.h"
#include "model.h"
#include "model_queue.h"
#include "proc.h"
#include "sandbox.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int dispatch_is_child(const struct dispatch *d, const char *id)
{
	for (long i = 0; i < d->cfg->concurrency && i < DISPATCH_MAX_CHILDREN; i++)
		if ((d->children[i].pid && !strcmp(d->children[i].id, id)) ||
		    !strcmp(d->ecs_ids[i], id))
			return 1;
	return 0;
}

/* 1 when the deployment's record exists and its state (into *state) is not final; 0 when it
 * is final or the record is gone. */
static int dispatch_unfinished(struct dispatch *d, const char *id, enum deployment_state *state,
			       struct error *err)
{
	int exists = model_deployment_status(d->redis, id, state, NULL, err);
	if (exists <= 0)
		return exists;
	return !model_state_final(*state);
}

/* Marks the deployment error with msg as the cause. */
static int dispatch_fail(struct dispatch *d, const char *id, const char *msg, struct error *err)
{
	struct deployment change;
	model_deployment_init(&change);
	snprintf(change.error, sizeof(change.error), "%s", msg);
	return model_deployment_state(d->redis, id, DEPLOYMENT_ERROR, "", &change, MODEL_SET(ERROR),
				      err);
}

int dispatch_launch(struct dispatch *d, const char *id, const char *token)
{
	/* the claim set the first lease: it covers the time until skiff-build renews it */
	if (d->ecs)
		return dispatch_ecs_launch(d, id, token);
	long slot = -1;
	for (long i = 0; i < d->cfg->concurrency && i < DISPATCH_MAX_CHILDREN && slot < 0; i++)
		if (!d->children[i].pid)
			slot = i;
	if (slot < 0)
		return SKIFF_EINTERNAL; /* the loop pops only with a free slot */
	const char *argv[6];
	int argc = 0;
	argv[argc++] = d->cfg->build_program;
	if (d->config_path) {
		argv[argc++] = "-c";
		argv[argc++] = d->config_path;
	}
	argv[argc++] = id;
	argv[argc] = NULL;
	pid_t pid = fork();
	if (pid < 0) {
		log_error("fork failed deployment=%s error=\"%s\"", id, strerror(errno));
		return SKIFF_ESYS;
	}
	if (pid == 0) {
		proc_child_reset(3);
		/* its own process group: a SIGTERM or Ctrl-C meant for the dispatcher does not
		 * interrupt running builds, and cancel can signal the whole build */
		setpgid(0, 0);
		/* the dispatcher is single-threaded: setenv after fork is safe here */
		setenv("SKIFF_LEASE_TOKEN", token, 1);
		execve(argv[0], (char *const *)argv, environ);
		_exit(127);
	}
	setpgid(pid, pid);
	struct dispatch_child *c = &d->children[slot];
	c->pid = pid;
	c->ended = false;
	c->swept = false;
	c->status = 0;
	memcpy(c->id, id, ID_LEN + 1);
	snprintf(c->token, sizeof(c->token), "%s", token);
	d->running++;
	log_info("build launched deployment=%s pid=%ld claim=%s", id, (long)pid, token);
	return 0;
}

/* What an ended build left on this host: processes in its cgroup (a skiff-build killed with
 * SIGKILL could not stop them) and its work directory. */
static void dispatch_sweep_child(struct dispatch *d, const struct dispatch_child *c)
{
	char dir[PATH_MAX];
	struct error err;
	int killed = sandbox_cgroup_kill(c->id);
	if (killed)
		log_warn("killed processes the build left running deployment=%s count=%d", c->id,
			 killed);
	if (getenv("SKIFF_KEEP_WORKDIR"))
		return;
	if (sandbox_workdir(d->cfg, c->id, dir, sizeof(dir), &err) == 0 && access(dir, F_OK) == 0) {
		sandbox_rm_tree(dir);
		log_info("removed the work directory the build left deployment=%s", c->id);
	}
}

/* 1 when another of our slots runs c's deployment. */
static int dispatch_running_again(const struct dispatch *d, const struct dispatch_child *c)
{
	for (long i = 0; i < DISPATCH_MAX_CHILDREN; i++) {
		const struct dispatch_child *o = &d->children[i];
		if (o != c && o->pid && !o->ended && !strcmp(o->id, c->id))
			return 1;
	}
	return 0;
}

/* Bookkeeping for an ended child; 0 when done (the slot can be freed). */
static int dispatch_finish(struct dispatch *d, struct dispatch_child *c)
{
	struct error err;
	enum deployment_state state;
	if (!c->swept) {
		/* unless this dispatcher runs the same deployment again (it was queued again and
		 * came back here): its processes and directory are the new run's */
		if (dispatch_running_again(d, c) == 0)
			dispatch_sweep_child(d, c);
		c->swept = true;
	}
	char claim[MODEL_CLAIM_MAX];
	if (model_lease_claim(d->redis, c->id, claim, &err) < 0)
		return err.code;
	if (claim[0] && strcmp(claim, c->token)) {
		/* its lease expired and another dispatcher queued it again: not ours to end */
		log_warn("build taken over deployment=%s claim=%s ours=%s", c->id, claim, c->token);
		return 0;
	}
	int unfinished = dispatch_unfinished(d, c->id, &state, &err);
	if (unfinished < 0)
		return unfinished;
	if (unfinished) {
		char msg[128];
		if (d->stopping)
			snprintf(msg, sizeof(msg), "the build was stopped: the platform stopped "
				 "(skiff-dispatch exited)");
		else if (WIFSIGNALED(c->status))
			snprintf(msg, sizeof(msg), "build process died: signal %d", WTERMSIG(c->status));
		else
			snprintf(msg, sizeof(msg), "build process exited with code %d before finishing",
				 WEXITSTATUS(c->status));
		int rc = dispatch_fail(d, c->id, msg, &err);
		if (rc < 0 && rc != SKIFF_ECONFLICT && rc != SKIFF_ENOTFOUND)
			return rc;
		log_warn("build died deployment=%s error=\"%s\"", c->id, msg);
		model_lease_drop(d->redis, c->id, c->token, NULL);
	}
	if (model_queue_done(d->redis, c->id, c->token, &err) < 0)
		return err.code;
	return 0;
}

void dispatch_reap(struct dispatch *d)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (long i = 0; i < DISPATCH_MAX_CHILDREN; i++) {
			struct dispatch_child *c = &d->children[i];
			if (c->pid != pid || c->ended)
				continue;
			c->ended = true;
			c->status = status;
			log_info("build ended deployment=%s pid=%ld status=%d", c->id, (long)pid,
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
	}
	for (long i = 0; i < DISPATCH_MAX_CHILDREN; i++) {
		struct dispatch_child *c = &d->children[i];
		if (c->pid && c->ended && dispatch_finish(d, c) == 0) {
			c->pid = 0;
			c->ended = false;
			d->running--;
		}
	}
	if (d->ecs)
		dispatch_ecs_poll(d);
}

void dispatch_stop_children(struct dispatch *d, long grace_s)
{
	int n = 0;
	for (long i = 0; i < DISPATCH_MAX_CHILDREN; i++)
		if (d->children[i].pid && !d->children[i].ended) {
			kill(-d->children[i].pid, SIGTERM);
			n++;
		}
	if (!n)
		return;
	log_info("stopping running builds count=%d grace_s=%ld", n, grace_s);
	struct timespec step = { 0, 100 * 1000 * 1000 };
	for (long t = 0; t < grace_s * 10 && d->running; t++) {
		dispatch_reap(d);
		nanosleep(&step, NULL);
	}
	for (long i = 0; i < DISPATCH_MAX_CHILDREN; i++) {
		struct dispatch_child *c = &d->children[i];
		if (!c->pid || c->ended)
			continue;
		log_warn("build did not stop in time, killing it deployment=%s", c->id);
		kill(-c->pid, SIGKILL);
		waitpid(c->pid, &c->status, 0);
		c->ended = true;
	}
	dispatch_reap(d); /* marks them and removes what they left */
}

int dispatch_scan(struct dispatch *d)
{
	struct error err;
	json_t *ids = NULL;
	int back = model_dispatcher_beat(d->redis, d->owner, d->cfg->lease_ttl, &err);
	if (back < 0)
		return back;
	if (back > 0)
		log_warn("builds a stopped dispatcher had taken queued again count=%d", back);
	int rc = model_queue_active(d->redis, &ids, &err);
	if (rc < 0)
		return rc;
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) {
		const char *id = json_string_value(v);
		if (!id || !id_valid(id) || dispatch_is_child(d, id))
			continue;
		int alive = model_lease_alive(d->redis, id, &err);
		if (alive < 0) {
			rc = alive;
			break;
		}
		if (alive || (d->ecs && dispatch_ecs_adopt(d, id) != 0))
			continue;
		enum model_recover what;
		if ((rc = model_queue_recover(d->redis, id, &what, &err)) < 0)
			break;
		if (what == MODEL_RECOVER_REQUEUED)
			log_warn("build lost: lease expired, queued again deployment=%s", id);
		else if (what == MODEL_RECOVER_FAILED)
			log_warn("build lost: lease expired too often, marked error deployment=%s", id);
	}
	json_decref(ids);
	if (rc < 0)
		log_warn("lease scan failed error=\"%s\"", err.message);
	return rc < 0 ? rc : 0;
}
