/* ecstool.c — a test driver for lib/ecs.c (check/it_ecs.sh builds it against libskiff.a),
 * doing what skiff-dispatch does with launcher = ecs, one step per run:
 *   ecstool request ID             prints the RunTask request body
 *   ecstool launch ID...           the first lease and ecs_launch of each (exit 1 if any failed)
 *   ecstool wait SECONDS ID...     ecs_poll every 200 ms until every build is done, renewing
 *                                  the leases of those still running
 *   ecstool stop TASK_ARN REASON   ecs_stop
 * Configuration as for every skiff program (SKIFF_CONFIG, SKIFF_* variables). */
#include "clock.h"
#include "config.h"
#include "ecs.h"
#include "log.h"
#include "model_queue.h"
#include "redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	static struct config cfg;
	struct error err;
	struct ecs *e = NULL;
	int rc = 0;
	log_init("ecstool", LOG_INFO);
	if (argc < 3 || config_load(&cfg, NULL, &err) < 0) {
		fprintf(stderr, "ecstool: %s\n", argc < 3 ? "usage: see the source" : err.message);
		return 2;
	}
	struct redis *r = redis_new(&cfg);
	if ((rc = ecs_new(&e, &cfg, &err)) < 0)
		goto out;
	if (!strcmp(argv[1], "request")) {
		/* a token of the right shape: the request, not its minting, is under test */
		json_t *req = ecs_run_request(e, argv[2], "skiffbuild_requestonlyrequestonlyrequestonly2345");
		char *s = json_dumps(req, JSON_SORT_KEYS);
		printf("%s\n", s);
		free(s);
		json_decref(req);
	} else if (!strcmp(argv[1], "launch")) {
		for (int i = 2; i < argc; i++) {
			struct error le;
			if (model_lease_renew(r, argv[i], "", cfg.lease_ttl, &le) < 0 ||
			    ecs_launch(e, r, argv[i], &le) < 0) {
				fprintf(stderr, "ecstool: launch %s: %s\n", argv[i], le.message);
				rc = -1;
			}
		}
	} else if (!strcmp(argv[1], "wait") && argc >= 4) {
		char *end;
		long secs = strtol(argv[2], &end, 10);
		size_t n = (size_t)argc - 3, left = n;
		const char **ids = (const char **)argv + 3;
		enum ecs_poll_result *res = calloc(n, sizeof(*res));
		struct timespec tick = { 0, 200000000L };
		long long t0 = clock_mono_ms();
		while (left > 0) {
			if ((rc = ecs_poll(e, r, ids, n, res, &err)) < 0)
				break;
			left = 0;
			for (size_t i = 0; i < n; i++) {
				left += res[i] == ECS_POLL_RUNNING;
				if (res[i] == ECS_POLL_RUNNING)
					model_lease_extend(r, ids[i], cfg.lease_ttl, NULL);
			}
			if (left && clock_mono_ms() - t0 > secs * 1000) {
				rc = error_set(&err, SKIFF_ETIMEOUT, NULL, "%zu builds still running", left);
				break;
			}
			if (left)
				nanosleep(&tick, NULL);
		}
		free(res);
	} else if (!strcmp(argv[1], "stop") && argc == 4) {
		rc = ecs_stop(e, argv[2], argv[3], &err);
	} else {
		fprintf(stderr, "ecstool: bad arguments\n");
		rc = -1;
	}
out:
	if (rc < 0 && err.message[0] && strcmp(argv[1], "launch"))
		fprintf(stderr, "ecstool: %s\n", err.message);
	ecs_free(e);
	redis_free(r);
	return rc < 0 ? 1 : 0;
}
