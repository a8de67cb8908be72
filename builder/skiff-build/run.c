/* run.c — the install and build commands: /bin/sh -c inside bubblewrap (or directly with
 * sandbox = none), a clean environment, limits, and every output line into the log. */
#include "run.h"
#include "build_log.h"
#include "build_state.h"
#include "clock.h"
#include "log.h"
#include "model.h"
#include "model_log.h"
#include "proc.h"

#include <stdio.h>
#include <string.h>

#define RUN_BWRAP "/usr/bin/bwrap"
#define RUN_ARGV_MAX 96
#define RUN_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct run_ctx {
	struct build *b;
};

static void run_on_line(void *ctx, int stream, const char *line, size_t len, bool cut)
{
	struct run_ctx *c = ctx;
	build_log_output(c->b, stream == PROC_STDERR ? LOG_SRC_STDERR : LOG_SRC_STDOUT, line, len,
			 cut);
}

static int run_on_tick(void *ctx)
{
	struct run_ctx *c = ctx;
	return build_stopped(c->b);
}

/* Read-only system paths a build may need inside the sandbox (missing ones are skipped). */
static const char *const run_ro_paths[] = {
	"/etc/alternatives", "/etc/ssl", "/etc/ca-certificates", "/etc/resolv.conf", "/etc/hosts",
	"/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/localtime", "/etc/mime.types",
};

/* argv for one command: bwrap ... -- /bin/sh -c CMD, or /bin/sh -c CMD. */
static size_t run_argv(struct build *b, const char *cmd, const char *argv[RUN_ARGV_MAX])
{
	size_t n = 0;
	if (!strcmp(b->cfg->sandbox, "bwrap")) {
		static const char *const head[] = {
			RUN_BWRAP, "--die-with-parent", "--new-session", "--unshare-all", "--share-net",
			"--cap-drop", "ALL", "--hostname", "skiff-build",
			"--ro-bind", "/usr", "/usr",
			"--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
			"--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
			"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
		};
		for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
			argv[n++] = head[i];
		for (size_t i = 0; i < sizeof(run_ro_paths) / sizeof(run_ro_paths[0]); i++) {
			argv[n++] = "--ro-bind-try";
			argv[n++] = run_ro_paths[i];
			argv[n++] = run_ro_paths[i];
		}
		/* the checkout and $HOME are the only writable places besides /tmp */
		argv[n++] = "--bind";
		argv[n++] = b->workdir;
		argv[n++] = b->workdir;
		argv[n++] = "--chdir";
		argv[n++] = b->repo;
		argv[n++] = "--";
	}
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = cmd;
	argv[n] = NULL;
	return n;
}

/* One command as a phase. A failure is SKIFF_EBUILD with the message the user sees. */
static int run_command(struct build *b, const char *step, const char *cmd, struct error *err)
{
	int rc = build_phase(b, step, err);
	if (rc < 0)
		return rc;
	long long left_ms = b->deadline_ms - clock_mono_ms();
	if (left_ms <= 0)
		return error_set(err, SKIFF_ETIMEOUT, "build_timeout", "build timed out after %ld s",
				 b->cfg->build_timeout);
	char home[PATH_MAX + 8], cache[PATH_MAX + 24];
	snprintf(home, sizeof(home), "HOME=%s", b->home);
	snprintf(cache, sizeof(cache), "npm_config_cache=%s/.npm", b->home);
	/* the whole environment of the build: nothing of skiff's own (no SKIFF_*, no AWS_*,
	 * no Redis or store settings) */
	const char *envp[] = {
		"PATH=" RUN_PATH, home, "LANG=C.UTF-8", "CI=1", "SKIFF=1", "TERM=dumb",
		"NO_COLOR=1", cache, "npm_config_update_notifier=false", "npm_config_fund=false",
		"npm_config_audit=false", NULL,
	};
	const char *argv[RUN_ARGV_MAX];
	run_argv(b, cmd, argv);
	struct proc_spec spec = {
		.argv = argv,
		.envp = envp,
		.cwd = b->repo,
		.timeout_s = (left_ms + 999) / 1000,
		.cpu_s = b->cfg->build_cpu,
		.memory_mb = b->cfg->build_memory_mb,
	};
	build_log(b, "Running %s command: %s", step, cmd);
	long long t0 = clock_mono_ms();
	struct run_ctx ctx = { b };
	struct proc_result res;
	rc = proc_run(&spec, run_on_line, run_on_tick, &ctx, &res, err);
	if (rc < 0)
		return rc;
	if (res.timed_out)
		return error_set(err, SKIFF_ETIMEOUT, "build_timeout", "build timed out after %ld s",
				 b->cfg->build_timeout);
	if (res.stopped)
		return error_set(err, SKIFF_ECANCELED, "canceled", "the build was stopped");
	if (res.exited && res.exit_code == 0) {
		build_log(b, "The %s command finished in %.1f s", step,
			  (double)(clock_mono_ms() - t0) / 1000.0);
		return 0;
	}
	b->exit_code = res.exited ? res.exit_code : 128 + res.signal;
	char what[128];
	proc_describe(&res, spec.timeout_s, what, sizeof(what));
	return error_set(err, SKIFF_EBUILD, "build_failed", "%s command %s", step, what);
}

int build_run(struct build *b, struct error *err)
{
	int rc = 0;
	if (b->detect.install_command[0])
		rc = run_command(b, "install", b->detect.install_command, err);
	if (rc == 0 && b->detect.build_command[0])
		rc = run_command(b, "build", b->detect.build_command, err);
	return rc;
}
