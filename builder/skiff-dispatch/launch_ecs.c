/* launch_ecs.c — skiff-dispatch with launcher = ecs: each build is a Fargate task
 * (lib/ecs.h); launched builds are polled with DescribeTasks instead of being reaped, and
 * their leases are renewed here while their tasks run. */
#include "launch_ecs.h"
#include "clock.h"
#include "ecs.h"
#include "log.h"
#include "model.h"
#include "model_queue.h"

#include <string.h>
#include <time.h>

#define DISPATCH_ECS_POLL_MS 3000

static long dispatch_ecs_slot(const struct dispatch *d)
{
	for (long i = 0; i < d->cfg->concurrency && i < DISPATCH_MAX_CHILDREN; i++)
		if (!d->ecs_ids[i][0])
			return i;
	return -1;
}

int dispatch_ecs_launch(struct dispatch *d, const char *id, const char *token)
{
	long slot = dispatch_ecs_slot(d);
	if (slot < 0)
		return SKIFF_EINTERNAL; /* the loop pops only with a free slot */
	struct error err;
	int rc = ecs_launch(d->ecs, d->redis, id, &err);
	if (rc == SKIFF_EREDIS)
		return rc; /* the id stays active; the scan retries it */
	if (rc < 0) {
		/* ecs_launch marked the deployment error already */
		log_warn("build not launched deployment=%s error=\"%s\"", id, err.message);
		model_lease_drop(d->redis, id, token, NULL);
		return model_queue_done(d->redis, id, token, &err) < 0 ? err.code : 0;
	}
	memcpy(d->ecs_ids[slot], id, ID_LEN + 1);
	snprintf(d->ecs_tokens[slot], MODEL_CLAIM_MAX, "%s", token);
	d->running++;
	d->ecs_next_poll = clock_mono_ms() + DISPATCH_ECS_POLL_MS;
	return 0;
}

/* A build in the active list that a stopped dispatcher launched on ECS (its lease expired:
 * nobody polls it): poll it from now on, under the claim it has, instead of queueing it
 * again while its task may still run. 1 if adopted, -1 when it is such a build but no slot is
 * free (left for a later scan), 0 when it is not one. */
int dispatch_ecs_adopt(struct dispatch *d, const char *id)
{
	struct deployment dep;
	char claim[MODEL_CLAIM_MAX];
	if (model_deployment_get(d->redis, id, &dep, NULL) < 0 || strcmp(dep.launcher, "ecs") ||
	    model_lease_claim(d->redis, id, claim, NULL) < 0 || !claim[0])
		return 0;
	long slot = dispatch_ecs_slot(d);
	if (slot < 0)
		return -1;
	if (model_lease_renew(d->redis, id, claim, d->cfg->lease_ttl, NULL) != 1)
		return 0;
	memcpy(d->ecs_ids[slot], id, ID_LEN + 1);
	snprintf(d->ecs_tokens[slot], MODEL_CLAIM_MAX, "%s", claim);
	d->running++;
	log_info("build on ecs adopted deployment=%s claim=%s", id, claim);
	return 1;
}

void dispatch_ecs_poll(struct dispatch *d)
{
	long long now = clock_mono_ms();
	if (now < d->ecs_next_poll)
		return;
	d->ecs_next_poll = now + DISPATCH_ECS_POLL_MS;
	const char *ids[DISPATCH_MAX_CHILDREN];
	long slots[DISPATCH_MAX_CHILDREN];
	enum ecs_poll_result res[DISPATCH_MAX_CHILDREN];
	size_t n = 0;
	for (long i = 0; i < DISPATCH_MAX_CHILDREN; i++)
		if (d->ecs_ids[i][0]) {
			ids[n] = d->ecs_ids[i];
			slots[n++] = i;
		}
	if (n == 0)
		return;
	struct error err;
	if (ecs_poll(d->ecs, d->redis, ids, n, res, &err) < 0) {
		log_warn("cannot poll the builds on ecs error=\"%s\"", err.message);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		char *id = d->ecs_ids[slots[k]], *token = d->ecs_tokens[slots[k]];
		if (res[k] != ECS_POLL_DONE) {
			/* a task may wait minutes to start: its lease is ours to keep meanwhile */
			if (model_lease_renew(d->redis, id, token, d->cfg->lease_ttl, &err) != 0)
				continue;
			log_warn("build on ecs taken over deployment=%s claim=%s", id, token);
		} else {
			model_lease_drop(d->redis, id, token, NULL);
			if (model_queue_done(d->redis, id, token, &err) < 0)
				continue;
			log_info("build on ecs ended deployment=%s", id);
		}
		id[0] = '\0';
		d->running--;
	}
}
