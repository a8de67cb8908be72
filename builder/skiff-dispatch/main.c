/* main.c — skiff-dispatch: claims deployments off the build queue (model_queue.h), runs
 * skiff-build for each up to the concurrency limit, queues again builds whose lease expired,
 * and delivers deploy notifications. Any number of dispatchers may share one Redis. */
#include "children.h"
#include "launch_ecs.h"
#include "clock.h"
#include "gc.h"
#include "log.h"
#include "model.h"
#include "model_gc.h"
#include "model_queue.h"
#include "notify.h"
#include "program.h"
#include "retention.h"
#include "store.h"
#include "watch.h"
#include "domains.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

static void dispatch_on_child(int sig)
{
	(void)sig; /* only interrupts sleeps; reaping happens in the loop */
}

/* Sleeps ms while still reaping builds; returns early on SIGTERM. */
static void dispatch_sleep(struct dispatch *d, long ms)
{
	long long until = clock_mono_ms() + ms;
	while (!program_stopping()) {
		dispatch_reap(d);
		long long left = until - clock_mono_ms();
		if (left <= 0)
			break;
		poll(NULL, 0, left > 100 ? 100 : (int)left);
	}
}

/* Retention, then the sweep: `--gc-once` and the gc_interval schedule. 0 when both ran. */
static int dispatch_gc(struct dispatch *d)
{
	struct error err;
	struct store *s = NULL;
	if (store_open(&s, d->cfg, &err) < 0) {
		log_error("gc: cannot open the store error=\"%s\"", err.message);
		return -1;
	}
	struct retention_stats rs;
	memset(&rs, 0, sizeof(rs));
	int rc = retention_run(d->redis, s, d->cfg->retention_keep, d->cfg->retention_keep_previews,
			       &rs, &err);
	if (rc < 0)
		log_error("retention incomplete error=\"%s\"", err.message);
	struct gc_settings gs;
	gc_settings_default(&gs);
	gs.grace_s = d->cfg->gc_grace;
	struct gc_stats st;
	int rc2 = gc_sweep(d->redis, s, &gs, &st, &err); /* logs what it reclaimed */
	store_free(s);
	return rc < 0 || rc2 < 0 ? -1 : 0;
}

static const char dispatch_usage[] =
	"usage: skiff-dispatch [-c FILE] [-n] [--once | --gc-once]\n"
	"Runs queued skiff builds, at most `concurrency` at a time.\n"
	"  -c FILE    configuration file (default $SKIFF_CONFIG or " CONFIG_DEFAULT_PATH ")\n"
	"  -n         check the configuration and exit\n"
	"  --once     run builds until the queue is empty and none is running, then exit\n"
	"  --gc-once  expire old deployments and sweep unreferenced blobs once, then exit\n"
	"  --help     this text\n"
	"  --version  the version\n";

/* SIGTERM and SIGINT stop the loop; SIGCHLD only interrupts sleeps; SIGHUP is ignored. */
static void dispatch_signals(void)
{
	struct sigaction sa;
	program_signals(NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = dispatch_on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGHUP, &sa, NULL);
}

/* The main loop: pop while there is a free slot, reap, scan leases, back off on Redis
 * errors. Returns when stopped (or, with once, when there is nothing left to do). */
static void dispatch_run(struct dispatch *d, bool once)
{
	const struct config *cfg = d->cfg;
	long backoff = 0;
	long long next_scan = 0;
	long scan_ms = cfg->lease_ttl * 1000 / 3;
	/* shorter than the Redis read timeout, so a blocked pop never looks like a dead server */
	double pop_max = cfg->redis_timeout_ms / 2000.0;
	if (pop_max > 1.0)
		pop_max = 1.0;
	if (once && pop_max > 0.1)
		pop_max = 0.1; /* --once: notice the empty queue quickly */
	if (pop_max < 0.01)
		pop_max = 0.01;
	struct watch_settings ws;
	watch_settings_default(&ws);
	ws.interval_ms = cfg->poll_interval * 1000;
	ws.per_minute = cfg->poll_per_minute;
	ws.timeout_ms = cfg->poll_timeout * 1000;
	ws.concurrency = (int)cfg->poll_concurrency;
	struct watch *w = once ? NULL : watch_new(cfg, &ws);
	struct notify *nt = notify_new(cfg);
	struct domains *dom = once ? NULL : domains_new(cfg);
	long long next_gc = clock_mono_ms() + 60000; /* the first sweep a minute after start */
	while (!program_stopping()) {
		dispatch_reap(d);
		struct error werr;
		if (w && watch_tick(w, d->redis, clock_wall_ms(), &werr) < 0)
			log_warn("commit polling failed error=\"%s\"", werr.message);
		if (notify_tick(nt, d->redis, clock_wall_ms(), &werr) < 0)
			log_warn("notifications failed error=\"%s\"", werr.message);
		if (dom && domains_tick(dom, d->redis, clock_mono_ms(), &werr) < 0)
			log_warn("custom domain pass failed error=\"%s\"", werr.message);
		if (w && cfg->gc_interval && clock_mono_ms() >= next_gc) {
			/* one sweep per interval among all dispatchers, whoever comes first */
			if (model_gc_turn(d->redis, d->owner, cfg->gc_interval * 1000, &werr) == 1)
				dispatch_gc(d);
			next_gc = clock_mono_ms() + DISPATCH_GC_CHECK_MS;
		}
		int rc = 0;
		if (clock_mono_ms() >= next_scan) {
			rc = dispatch_scan(d);
			if (rc == 0)
				next_scan = clock_mono_ms() + scan_ms;
		}
		char id[ID_LEN + 1] = "", token[MODEL_CLAIM_MAX] = "";
		struct error err;
		if (rc == 0 && d->running < cfg->concurrency) {
			/* with builds running, wake sooner to reap them */
			rc = model_queue_pop(d->redis, d->owner, d->running ? pop_max / 2 : pop_max,
					     cfg->lease_ttl, id, token, &err);
			if (rc == 0 && token[0])
				rc = dispatch_launch(d, id, token);
			else if (rc < 0)
				log_error("cannot take work from the queue error=\"%s\"", err.message);
		} else if (rc == 0) {
			dispatch_sleep(d, 50);
		}
		if (rc < 0) {
			backoff = backoff ? backoff * 2 : DISPATCH_BACKOFF_MIN_MS;
			if (backoff > DISPATCH_BACKOFF_MAX_MS)
				backoff = DISPATCH_BACKOFF_MAX_MS;
			log_warn("redis unavailable; retrying retry_ms=%ld", backoff);
			dispatch_sleep(d, backoff);
			continue;
		}
		backoff = 0;
		if (once && !id[0] && d->running == 0)
			break;
	}
	watch_free(w);
	notify_free(nt);
	domains_free(dom);
}

int main(int argc, char **argv)
{
	bool once = false, gc_once = false;
	const struct program prog = {
		.name = "skiff-dispatch",
		.usage = dispatch_usage,
		.flags = { { "once", &once }, { "gc-once", &gc_once } },
	};
	struct program_options opts;
	static struct config cfg;
	struct error err;
	int code = program_parse(&prog, argc, argv, &opts);
	if (code >= 0 || (code = program_configure(&prog, &opts, &cfg)) >= 0)
		return code;
	if (gc_once) {
		static struct dispatch gd;
		gd.cfg = &cfg;
		gd.redis = redis_new(&cfg);
		int rc = dispatch_gc(&gd);
		redis_free(gd.redis);
		return rc < 0 ? 1 : 0;
	}
	if (cfg.concurrency > DISPATCH_MAX_CHILDREN)
		cfg.concurrency = DISPATCH_MAX_CHILDREN;
	dispatch_signals();
	static struct dispatch d;
	d.cfg = &cfg;
	d.config_path = opts.config_path;
	d.redis = redis_new(&cfg);
	model_owner_new(d.owner);
	if (!strcmp(cfg.launcher, "ecs") && ecs_new(&d.ecs, &cfg, &err) < 0) {
		fprintf(stderr, "skiff-dispatch: %s\n", err.message);
		redis_free(d.redis);
		return 2;
	}
	log_info("dispatcher started concurrency=%ld build_program=%s once=%d owner=%s",
		 cfg.concurrency, cfg.build_program, once, d.owner);
	sd_notify(0, "READY=1");
	dispatch_run(&d, once);

	if (d.running) {
		/* a build left running would go on and promote with nobody to watch it */
		sd_notify(0, "STOPPING=1");
		d.stopping = true;
		dispatch_stop_children(&d, DISPATCH_GRACE_S);
		if (d.running)
			log_warn("exiting with builds still running; their leases keep them alive "
				 "running=%ld", d.running);
	}
	if (model_dispatcher_leave(d.redis, d.owner, &err) < 0)
		log_warn("cannot leave the dispatchers error=\"%s\"", err.message);
	log_info("dispatcher stopped");
	ecs_free(d.ecs);
	redis_free(d.redis);
	return 0;
}
