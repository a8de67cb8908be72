/* build_state.c — the build's state as its parts see it: whether it should stop (a signal, a
 * cancel seen by the lease thread), and its phase. */
#include "build_state.h"
#include "model.h"
#include "remote.h"

#include <signal.h>

static volatile sig_atomic_t build_signal;

void build_state_on_signal(int sig)
{
	build_signal = sig;
}

bool build_stopped(struct build *b)
{
	if (build_signal)
		atomic_store(&b->stop, 1);
	return atomic_load(&b->stop) != 0;
}

int build_state_signal(void)
{
	return build_signal;
}

int build_phase(struct build *b, const char *phase, struct error *err)
{
	if (b->remote)
		return remote_phase(b, phase, err);
	return model_deployment_state(b->redis, b->id, DEPLOYMENT_BUILDING, phase, NULL, 0, err);
}
