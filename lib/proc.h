/* proc.h — running a build command: a child process group with resource limits, a wall-clock
 * timeout, a clean environment, and its stdout/stderr delivered line by line as it appears. */
#ifndef SKIFF_PROC_H
#define SKIFF_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"

#define PROC_STDOUT 1
#define PROC_STDERR 2
#define PROC_LINE_MAX 4096      /* longer lines are delivered cut at this length */
#define PROC_KILL_GRACE_S 5     /* SIGTERM → SIGKILL */
#define PROC_TICK_MS 500        /* between calls of the tick function */
#define PROC_PASS_MAX 4         /* descriptors passed to the child */
#define PROC_TICK_STOP 1        /* tick's answer: SIGTERM, SIGKILL after PROC_KILL_GRACE_S */
#define PROC_TICK_KILL 2        /* tick's answer: SIGKILL now */

struct proc_spec {
	const char *const *argv;   /* argv[0] is an absolute path; executed with execve */
	const char *const *envp;   /* the whole environment of the child */
	const char *cwd;
	long timeout_s;            /* wall clock; 0 = none */
	long cpu_s;                /* RLIMIT_CPU; 0 = none */
	long memory_mb;            /* RLIMIT_AS; 0 = none */
	long file_mb;              /* RLIMIT_FSIZE; 0 = none */
	long nproc;                /* RLIMIT_NPROC (not enforced for root); 0 = none */
	const int *pass_fds;       /* given to the child as descriptors 3, 4, ... */
	size_t npass;              /* at most PROC_PASS_MAX */
	bool new_netns;            /* the child moves to a new user namespace (its root mapped
	                            * to our uid) with a new, empty network namespace */
	int join_fd;               /* > 0: the child writes "0" to it before execve (a cgroup's
	                            * cgroup.procs, so that all it starts is inside) */
	/* called in the parent right after the fork, before any output is read; nonzero kills
	 * the child and proc_run returns that error */
	int (*started)(void *ctx, int pid, struct error *err);
};

struct proc_result {
	bool exited;               /* exited normally: exit_code is valid */
	int exit_code;
	int signal;                /* the signal that ended it, when !exited */
	bool timed_out;            /* killed by the wall-clock timeout */
	bool stopped;              /* killed because tick asked for it */
};

/* Called for every output line (without its newline; a trailing CR is removed). cut: the line
 * was longer than PROC_LINE_MAX and the rest of it was dropped. */
typedef void (*proc_line_fn)(void *ctx, int stream, const char *line, size_t len, bool cut);
/* Called about every PROC_TICK_MS while the command runs; PROC_TICK_STOP or PROC_TICK_KILL
 * stops it. May be NULL. */
typedef int (*proc_tick_fn)(void *ctx);

/* Runs the command in a new session (its own process group), stdin from /dev/null, every
 * other inherited descriptor closed. Waits for it; kills whatever is left of the group at the
 * end. 0 when the command ran (whatever its exit status), negative when it could not be
 * started (SKIFF_ESYS). */
int proc_run(const struct proc_spec *spec, proc_line_fn on_line, proc_tick_fn tick, void *ctx,
	     struct proc_result *res, struct error *err);

/* In a child just forked, before execve or the child's own work: the signals skiff programs
 * handle back to their default action, no signal blocked, and every descriptor from close_from
 * up closed (none when close_from < 0). Only async-signal-safe calls. */
void proc_child_reset(int close_from);

/* Human text for a finished command: "exited with code 2", "probably out of memory
 * (exit 137)", "timed out after 900 s", "was killed by signal 11". */
void proc_describe(const struct proc_result *res, long timeout_s, char *out, size_t outlen);

#endif
