/* clock.h — the wall clock and the monotonic clock in milliseconds. */
#ifndef SKIFF_CLOCK_H
#define SKIFF_CLOCK_H

/* Milliseconds since the epoch (CLOCK_REALTIME): for timestamps stored or shown. */
long long clock_wall_ms(void);
/* Milliseconds of CLOCK_MONOTONIC: for deadlines, timeouts and intervals. */
long long clock_mono_ms(void);

#endif
