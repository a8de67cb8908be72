/* clock.c — the one wall-clock and the one monotonic-clock reading. */
#include "clock.h"

#include <time.h>

static long long clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long clock_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

long long clock_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}
