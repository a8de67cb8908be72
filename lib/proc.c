/* proc.c — fork/execve of a build command in its own session with limits, poll() over its
 * output pipes, line splitting, timeout and process-group kill. */
#include "proc.h"
#include "clock.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROC_DRAIN_MS 2000   /* after the command ended, read leftovers at most this long */

struct proc_stream {
	int fd;
	int id;                  /* PROC_STDOUT / PROC_STDERR */
	char line[PROC_LINE_MAX];
	size_t len;
	bool dropping;           /* inside an over-long line: discard until newline */
};

/* Writes "0 ID 1" (root inside is ID outside, as slirp4netns expects when it joins) to
 * path; async-signal-safe. */
static int proc_map_self(const char *path, unsigned id)
{
	char text[40], digits[12];
	size_t n = 0, d = 0;
	do
		digits[d++] = (char)('0' + id % 10);
	while ((id /= 10) && d < sizeof(digits));
	text[n++] = '0';
	text[n++] = ' ';
	for (size_t i = d; i > 0; i--)
		text[n++] = digits[i - 1];
	text[n++] = ' ';
	text[n++] = '1';
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, text, n);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

/* A new user namespace (root inside mapped to our uid and gid) that owns a new, empty network
 * namespace: whoever created it can enter it and change its routes, root or not, and
 * nothing inside without capabilities can. */
static int proc_new_netns(void)
{
	unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return -1;
	int fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t w = write(fd, "deny", 4);
		(void)w;
		close(fd);
	}
	if (proc_map_self("/proc/self/uid_map", uid) < 0 ||
	    proc_map_self("/proc/self/gid_map", gid) < 0)
		return -1;
	return 0;
}

void proc_child_reset(int close_from)
{
	static const int sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1 };
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (close_from >= 0 && close_range((unsigned)close_from, ~0U, 0) < 0)
		for (int fd = close_from; fd < 1024; fd++)
			close(fd);
}

/* Only async-signal-safe calls from here to execve: the parent may have threads. */
static void proc_child(const struct proc_spec *spec, int out_fd, int err_fd,
		       const struct rlimit *cpu, const struct rlimit *as, const struct rlimit *fsize,
		       const struct rlimit *nproc)
{
	setsid();
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(127);
	if (spec->join_fd > 0 && write(spec->join_fd, "0", 1) != 1)
		_exit(127);
	if (spec->new_netns && proc_new_netns() < 0)
		_exit(127);
	/* passed descriptors to 3, 4, ...: first above the range, so none is overwritten */
	int moved[PROC_PASS_MAX];
	for (size_t i = 0; i < spec->npass; i++)
		if ((moved[i] = fcntl(spec->pass_fds[i], F_DUPFD, 3 + PROC_PASS_MAX)) < 0)
			_exit(127);
	for (size_t i = 0; i < spec->npass; i++)
		if (dup2(moved[i], 3 + (int)i) < 0)
			_exit(127);
	/* signals as the command expects them; every other descriptor closed */
	proc_child_reset(3 + (int)spec->npass);
	struct rlimit core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &core);
	if (cpu->rlim_cur != RLIM_INFINITY && setrlimit(RLIMIT_CPU, cpu) < 0)
		_exit(127);
	if (as->rlim_cur != RLIM_INFINITY && setrlimit(RLIMIT_AS, as) < 0)
		_exit(127);
	if (fsize->rlim_cur != RLIM_INFINITY && setrlimit(RLIMIT_FSIZE, fsize) < 0)
		_exit(127);
	if (nproc->rlim_cur != RLIM_INFINITY && setrlimit(RLIMIT_NPROC, nproc) < 0)
		_exit(127);
	static const char nodir[] = "skiff: cannot enter the build directory\n";
	if (spec->cwd && chdir(spec->cwd) < 0) {
		ssize_t w = write(2, nodir, sizeof(nodir) - 1);
		(void)w;
		_exit(127);
	}
	execve(spec->argv[0], (char *const *)spec->argv, (char *const *)spec->envp);
	static const char noexec[] = "skiff: cannot execute the build command\n";
	ssize_t w = write(2, noexec, sizeof(noexec) - 1);
	(void)w;
	_exit(127);
}

static void proc_emit(struct proc_stream *s, proc_line_fn on_line, void *ctx, bool cut)
{
	size_t n = s->len;
	if (n && s->line[n - 1] == '\r')
		n--;
	on_line(ctx, s->id, s->line, n, cut);
	s->len = 0;
}

static void proc_feed(struct proc_stream *s, const char *data, size_t n, proc_line_fn on_line,
		      void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		char c = data[i];
		if (c == '\n') {
			if (s->dropping)
				s->dropping = false;
			else
				proc_emit(s, on_line, ctx, false);
			continue;
		}
		if (s->dropping)
			continue;
		if (s->len == sizeof(s->line)) {
			proc_emit(s, on_line, ctx, true);
			s->dropping = true;
			continue;
		}
		s->line[s->len++] = c;
	}
}

/* Reads what is there; closes the stream at EOF or error (fd = -1). */
static void proc_read(struct proc_stream *s, proc_line_fn on_line, void *ctx)
{
	char chunk[16384];
	for (;;) {
		ssize_t n = read(s->fd, chunk, sizeof(chunk));
		if (n > 0) {
			proc_feed(s, chunk, (size_t)n, on_line, ctx);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (s->len && !s->dropping)
			proc_emit(s, on_line, ctx, false);
		close(s->fd);
		s->fd = -1;
		return;
	}
}

int proc_run(const struct proc_spec *spec, proc_line_fn on_line, proc_tick_fn tick, void *ctx,
	     struct proc_result *res, struct error *err)
{
	memset(res, 0, sizeof(*res));
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		int e = errno;
		if (outp[0] >= 0) {
			close(outp[0]);
			close(outp[1]);
		}
		return error_set(err, SKIFF_ESYS, NULL, "pipe: %s", strerror(e));
	}
	assert(spec->npass <= PROC_PASS_MAX);
	struct rlimit cpu = { RLIM_INFINITY, RLIM_INFINITY }, as = { RLIM_INFINITY, RLIM_INFINITY };
	struct rlimit fsize = { RLIM_INFINITY, RLIM_INFINITY };
	struct rlimit nproc = { RLIM_INFINITY, RLIM_INFINITY };
	if (spec->file_mb > 0)
		fsize.rlim_cur = fsize.rlim_max = (rlim_t)spec->file_mb << 20;
	if (spec->nproc > 0)
		nproc.rlim_cur = nproc.rlim_max = (rlim_t)spec->nproc;
	if (spec->cpu_s > 0) {
		cpu.rlim_cur = (rlim_t)spec->cpu_s;
		cpu.rlim_max = (rlim_t)spec->cpu_s + 5; /* SIGXCPU first, then SIGKILL */
	}
	if (spec->memory_mb > 0)
		as.rlim_cur = as.rlim_max = (rlim_t)spec->memory_mb << 20;

	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(outp[0]);
		close(outp[1]);
		close(errp[0]);
		close(errp[1]);
		return error_set(err, SKIFF_ESYS, NULL, "fork: %s", strerror(e));
	}
	if (pid == 0)
		proc_child(spec, outp[1], errp[1], &cpu, &as, &fsize, &nproc);
	close(outp[1]);
	close(errp[1]);
	if (spec->started) {
		int rc = spec->started(ctx, (int)pid, err);
		if (rc < 0) {
			kill(pid, SIGKILL);
			kill(-pid, SIGKILL);
			close(outp[0]);
			close(errp[0]);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			return rc;
		}
	}
	/* the child makes itself a session (and group) leader with setsid(); doing setpgid() here
	 * as well would make that setsid() fail. Until it ran, kill(-pid) finds no group, which
	 * only matters for a kill in the first instant, and SIGKILL follows anyway. */

	struct proc_stream streams[2];
	memset(streams, 0, sizeof(streams));
	streams[0].fd = outp[0];
	streams[0].id = PROC_STDOUT;
	streams[1].fd = errp[0];
	streams[1].id = PROC_STDERR;
	for (int i = 0; i < 2; i++)
		fcntl(streams[i].fd, F_SETFL, fcntl(streams[i].fd, F_GETFL) | O_NONBLOCK);

	long long start = clock_mono_ms(), next_tick = start + PROC_TICK_MS;
	long long deadline = spec->timeout_s > 0 ? start + spec->timeout_s * 1000LL : 0;
	long long kill_at = 0, drain_until = 0;
	bool reaped = false, terminating = false;
	int status = 0;
	for (;;) {
		if (!reaped) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				reaped = true;
				/* whatever the command left running in its group goes with it */
				kill(-pid, SIGKILL);
				drain_until = clock_mono_ms() + PROC_DRAIN_MS;
			}
		}
		if (reaped && ((streams[0].fd < 0 && streams[1].fd < 0) || clock_mono_ms() >= drain_until))
			break;
		long long now = clock_mono_ms();
		if (!terminating && deadline && now >= deadline) {
			res->timed_out = true;
			terminating = true;
		}
		if (!terminating && tick && now >= next_tick) {
			next_tick = now + PROC_TICK_MS;
			int t = tick(ctx);
			if (t) {
				res->stopped = true;
				terminating = true;
			}
			if (t == PROC_TICK_KILL)
				kill_at = now;
		}
		if (terminating && !kill_at && !reaped) {
			kill(-pid, SIGTERM);
			kill_at = now + PROC_KILL_GRACE_S * 1000LL;
		}
		if (kill_at && now >= kill_at && !reaped)
			kill(-pid, SIGKILL);

		struct pollfd pfd[2];
		nfds_t nfd = 0;
		for (int i = 0; i < 2; i++)
			if (streams[i].fd >= 0) {
				pfd[nfd].fd = streams[i].fd;
				pfd[nfd].events = POLLIN;
				pfd[nfd].revents = 0;
				nfd++;
			}
		/* wake for the next tick and the deadline; with both pipes closed this is a short
		 * sleep between waitpid(WNOHANG) checks */
		int wait_ms = nfd ? 200 : 20;
		int pr = poll(pfd, nfd, wait_ms);
		if (pr < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++)
			if (streams[i].fd >= 0)
				proc_read(&streams[i], on_line, ctx);
	}
	for (int i = 0; i < 2; i++)
		if (streams[i].fd >= 0) {
			proc_read(&streams[i], on_line, ctx);
			if (streams[i].fd >= 0)
				close(streams[i].fd);
		}
	if (!reaped) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (WIFEXITED(status)) {
		res->exited = true;
		res->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->signal = WTERMSIG(status);
	}
	return 0;
}

void proc_describe(const struct proc_result *res, long timeout_s, char *out, size_t outlen)
{
	if (res->timed_out)
		snprintf(out, outlen, "timed out after %ld s", timeout_s);
	else if (res->stopped)
		snprintf(out, outlen, "was stopped");
	else if ((res->exited && res->exit_code == 137) || (!res->exited && res->signal == SIGKILL))
		snprintf(out, outlen, "was killed, probably out of memory (exit 137)");
	else if (!res->exited && res->signal == SIGXCPU)
		snprintf(out, outlen, "ran out of CPU time (signal %d)", res->signal);
	else if (res->exited)
		snprintf(out, outlen, "exited with code %d", res->exit_code);
	else
		snprintf(out, outlen, "was killed by signal %d", res->signal);
}
