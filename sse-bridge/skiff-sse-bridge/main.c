/* main.c — skiff-sse-bridge: relays each deployment's build log from Redis to browsers as
 * Server-Sent Events. Arguments, configuration, signals, systemd, the event loop. */
#include "bridge.h"
#include "listener.h"
#include "client.h"
#include "feed.h"
#include "sites.h"
#include "link.h"
#include "loop.h"
#include "mailbox.h"
#include "clock.h"
#include "error.h"
#include "log.h"
#include "program.h"

#include <errno.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#ifndef SKIFF_VERSION
#define SKIFF_VERSION "dev"
#endif

static struct config bridge_config;

static const char bridge_usage[] =
	"usage: skiff-sse-bridge [-c FILE] [-n]\n"
	"Relays build logs from Redis to browsers as Server-Sent Events on GET /events/{id}.\n"
	"  -c FILE     configuration file (default $SKIFF_CONFIG, else " CONFIG_DEFAULT_PATH ")\n"
	"  -n          check the configuration and exit (0 valid, 1 not)\n"
	"  --help      this text\n"
	"  --version   the version\n"
	"Keys used: sse_listen, sse_threads, sse_max_clients, sse_keepalive, sse_soft_limit,\n"
	"sse_hard_limit, sse_soft_seconds, public_reads, auth_disabled, api_token, redis_*,\n"
	"log_level.\n";

static int bridge_check(const struct config *cfg, struct error *err)
{
	return listener_check(cfg->sse_listen, err);
}

/* 10,000 clients need 10,000 descriptors: take all the hard limit allows. */
static void bridge_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("setrlimit failed resource=nofile error=\"%s\"", strerror(errno));
}

static void bridge_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct bridge *b = arg;
	log_info("stopping signal=%s clients=%zu", sig == SIGTERM ? "TERM" : "INT",
		 atomic_load(&b->nclients));
	sd_notify(0, "STOPPING=1");
	b->stopping = 1;
	event_base_loopbreak(b->base);
}

static void bridge_on_cron(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;
	link_cron(&b->cmd, clock_mono_ms());
}

/* sse_threads, 0 meaning one loop per CPU. */
static unsigned bridge_threads(const struct config *cfg)
{
	long n = cfg->sse_threads;
	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > BRIDGE_THREADS_MAX ? BRIDGE_THREADS_MAX : (unsigned)n;
}

/* Stops the loops (their clients go, and tell the main thread), then answers what they
 * asked: every check comes back so that its client is freed. */
static void bridge_stop(struct bridge *b)
{
	for (unsigned i = 0; i < b->nloops; i++)
		loop_stop(b->loops[i]);
	mailbox_drain(&b->inbox);
	link_close(&b->cmd);   /* pending callbacks run with NULL and answer their checks */
	link_close(&b->sub);
	sites_stop(b);
	feed_answer_waiting(b);
	feed_free_all(b);
	for (unsigned i = 0; i < b->nloops; i++)
		loop_free(b->loops[i]);
	free(b->loops);
	b->loops = NULL;
	b->nloops = 0;
}

/* The watchdog is fed only while every loop thread still runs its cron: a stuck loop gets
 * the bridge restarted like a stuck main thread. */
static void bridge_on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;
	int64_t now = clock_mono_ms();
	for (unsigned i = 0; i < b->nloops; i++)
		if (!loop_alive(b->loops[i], now)) {
			log_warn("loop stalled loop=%u watchdog=withheld", i);
			return;
		}
	sd_notify(0, "WATCHDOG=1");
}

static void bridge_cmd_up(struct bridge *b)
{
	feed_catch_up(b);
}

static void bridge_sub_up(struct bridge *b)
{
	feed_resubscribe(b);
	sites_subscribe(b);
}

static struct event *bridge_timer(struct bridge *b, event_callback_fn fn, uint64_t usec)
{
	struct event *ev = event_new(b->base, -1, EV_PERSIST, fn, b);
	struct timeval tv = { (time_t)(usec / 1000000), (suseconds_t)(usec % 1000000) };
	if (!ev || event_add(ev, &tv) < 0)
		abort();
	return ev;
}

static int bridge_run(const struct config *cfg)
{
	struct bridge *b = calloc(1, sizeof(*b));
	struct error err;
	int rc = 3;   /* start-up failed (skiff-sse-bridge(8), EXIT STATUS) */
	if (!b)
		abort();
	b->cfg = cfg;
	b->base = event_base_new();
	if (!b->base)
		abort();
	b->client_check = loop_client_check;
	b->client_leave = loop_client_leave;
	b->client_wake = loop_client_wake;
	mailbox_init(&b->inbox, b->base, feed_deliver, b);
	link_init(&b->cmd, b, "commands", bridge_cmd_up);
	link_init(&b->sub, b, "subscriber", bridge_sub_up);
	unsigned nloops = bridge_threads(cfg);
	b->loops = calloc(nloops, sizeof(*b->loops));
	if (!b->loops)
		abort();
	for (; b->nloops < nloops; b->nloops++)
		b->loops[b->nloops] = loop_new(b, b->nloops);
	if (listener_open(b, &err) < 0) {
		log_error("listen failed error=\"%s\"", err.message);
		goto out;
	}
	for (unsigned i = 0; i < b->nloops; i++)
		if (loop_start(b->loops[i]) < 0) {
			log_error("thread start failed error=\"%s\"", strerror(errno));
			goto out;
		}
	if (sites_start(b) < 0) {
		log_error("thread start failed error=\"%s\"", strerror(errno));
		goto out;
	}
	link_connect(&b->cmd);
	link_connect(&b->sub);
	b->sigterm = evsignal_new(b->base, SIGTERM, bridge_on_signal, b);
	b->sigint = evsignal_new(b->base, SIGINT, bridge_on_signal, b);
	if (!b->sigterm || !b->sigint || evsignal_add(b->sigterm, NULL) < 0 ||
	    evsignal_add(b->sigint, NULL) < 0)
		abort();
	b->cron = bridge_timer(b, bridge_on_cron, 1000000);
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		b->watchdog = bridge_timer(b, bridge_on_watchdog, usec / 2);
	sd_notify(0, "READY=1");
	log_info("started version=%s max_clients=%ld threads=%u", SKIFF_VERSION,
		 cfg->sse_max_clients, b->nloops);
	event_base_dispatch(b->base);
	rc = 0;
out:
	b->stopping = 1;
	listener_close(b);
	bridge_stop(b);
	if (b->sigterm)
		event_free(b->sigterm);
	if (b->sigint)
		event_free(b->sigint);
	if (b->cron)
		event_free(b->cron);
	if (b->watchdog)
		event_free(b->watchdog);
	mailbox_dispose(&b->inbox);
	event_base_free(b->base);
	free(b);
	libevent_global_shutdown();
	if (rc == 0)
		log_info("stopped");
	return rc;
}

int main(int argc, char **argv)
{
	const struct program prog = {
		.name = "skiff-sse-bridge",
		.usage = bridge_usage,
		.check = bridge_check,
	};
	struct program_options opts;
	int code = program_parse(&prog, argc, argv, &opts);
	if (code >= 0 || (code = program_configure(&prog, &opts, &bridge_config)) >= 0)
		return code;
	bridge_raise_nofile();
	/* each base is used by one thread, but libevent's own globals are shared */
	if (evthread_use_pthreads() < 0)
		abort();
	program_signals_pipe();   /* the event loop takes SIGTERM and SIGINT itself */
	return bridge_run(&bridge_config);
}
