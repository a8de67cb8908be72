/* run.c — the install and build commands: /bin/sh -c inside bubblewrap (or directly with
 * sandbox = none), a clean environment, limits (time, CPU, memory, file size, processes,
 * /tmp and work directory size) and every output line into the log. */
#include "run.h"
#include "build_log.h"
#include "build_state.h"
#include "cache.h"
#include "clock.h"
#include "env.h"
#include "gitauth.h"
#include "net.h"
#include "log.h"
#include "model.h"
#include "model_log.h"
#include "proc.h"
#include "sandbox.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define RUN_BWRAP "/usr/bin/bwrap"
#define RUN_ARGV_MAX 112
/* An AddressSanitizer build of skiff-build (make check SAN=address) reserves terabytes of
 * address space for its shadow memory, so the clone child, which is skiff-build itself, cannot
 * start under the address-space limit; the user's commands keep it in every build. */
#if defined(__SANITIZE_ADDRESS__)
#define RUN_SANITIZED 1
#else
#define RUN_SANITIZED 0
#endif
#define RUN_TMP_WAIT_MS 1000    /* for the sandbox's /tmp to appear after the start */
#define RUN_DISK_EVERY_MS 2000  /* between measurements of the work directory */
#define RUN_TMPFS_MAGIC 0x01021994

struct run_ctx {
	struct build *b;
	struct build_net net;
	struct sandbox_cgroup cg;
	char tmp_size[24];          /* bwrap --size of /tmp, in bytes */
	int tmp_fd;                 /* the sandbox's /tmp, held to see how full it is; -1 */
	long long next_disk_ms;
	char limit[200];            /* the limit that ended the command; "" when none */
	bool clone;                 /* the clone (skiff-build --clone), not a shell command */
	char last_err[512];         /* the clone's error: its last "clone failed: " line */
	struct gitauth *auth;       /* the clone's credentials; what it saw of the host key */
	char cache_kind[BUILD_CACHE_KINDS][PATH_MAX + 8]; /* the package managers' caches */
};

static void run_on_line(void *ctx, int stream, const char *line, size_t len, bool cut)
{
	struct run_ctx *c = ctx;
	if (c->clone && stream == PROC_STDERR) {
		/* only the child's own error line: whatever else reaches stderr (a sanitizer's
		 * report at exit) must not take its place */
		if (len >= 14 && !memcmp(line, "clone failed: ", 14))
			snprintf(c->last_err, sizeof(c->last_err), "%.*s", (int)len, line);
		return;
	}
	size_t hk = sizeof(BUILD_CLONE_HOST_KEY) - 1;
	if (c->clone && c->auth && len > hk && !memcmp(line, BUILD_CLONE_HOST_KEY " ", hk + 1)) {
		/* "skiff-host-key TYPE SHA256:..." */
		char type[SSHKEY_TYPE_MAX + 1], fp[SSHKEY_FINGERPRINT_MAX + 1];
		if (sscanf(line + hk + 1, "%31s %56s", type, fp) == 2 && !strncmp(fp, "SHA256:", 7)) {
			memcpy(c->auth->seen_type, type, sizeof(type));
			memcpy(c->auth->seen, fp, sizeof(fp));
		}
		return;
	}
	/* the clone's progress is skiff's own text about the repository */
	build_log_output(c->b, c->clone ? LOG_SRC_SYSTEM : stream == PROC_STDERR ? LOG_SRC_STDERR :
			 LOG_SRC_STDOUT, line, len, cut);
}

/* Whether the command went past one of its limits (the text into c->limit). at_end: the
 * command is over; the work directory is measured whatever the schedule. */
static bool run_limit_hit(struct run_ctx *c, bool at_end)
{
	const struct config *cfg = c->b->cfg;
	struct statvfs vs;
	long long now = clock_mono_ms();
	if (c->limit[0])
		return true;
	if (sandbox_cgroup_refusals(&c->cg) > 0)
		snprintf(c->limit, sizeof(c->limit), "the build reached its limit of %ld processes "
			 "(build_processes)", cfg->build_processes);
	else if (c->tmp_fd >= 0 && fstatvfs(c->tmp_fd, &vs) == 0 && vs.f_bavail == 0)
		snprintf(c->limit, sizeof(c->limit), "the build filled its /tmp, limited to %ld MB "
			 "(build_tmp_mb)", cfg->build_tmp_mb);
	else if (at_end || now >= c->next_disk_ms) {
		unsigned long long max = (unsigned long long)cfg->build_disk_mb << 20, largest = 0;
		c->next_disk_ms = now + RUN_DISK_EVERY_MS;
		if (sandbox_tree_bytes(c->b->workdir, max, &largest) > max)
			snprintf(c->limit, sizeof(c->limit), "the build's work directory grew past its "
				 "limit of %ld MB (build_disk_mb)", cfg->build_disk_mb);
		else if (largest >= (unsigned long long)cfg->build_file_mb << 20)
			/* RLIMIT_FSIZE stopped a write at exactly this size */
			snprintf(c->limit, sizeof(c->limit), "a file grew past the limit of %ld MB "
				 "(build_file_mb)", cfg->build_file_mb);
	}
	return c->limit[0] != '\0';
}

static int run_on_tick(void *ctx)
{
	struct run_ctx *c = ctx;
	if (build_stopped(c->b) || run_limit_hit(c, false))
		return PROC_TICK_KILL;
	return 0;
}

/* Whether the sandbox's first process has ended (gone, or a zombie not yet reaped). */
static bool run_sandbox_gone(int pid)
{
	char path[64], stat[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	ssize_t n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return true;
	stat[n] = '\0';
	const char *p = strrchr(stat, ')'); /* "pid (comm) S ..." */
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

/* Holds the sandbox's /tmp open (it is mounted right after the start) so that its use can be
 * read during and after the command. */
static void run_open_tmp(struct run_ctx *c)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/root/tmp", c->net.sandbox_pid);
	unsigned long long want = (unsigned long long)c->b->cfg->build_tmp_mb << 20;
	long long until = clock_mono_ms() + RUN_TMP_WAIT_MS;
	do {
		struct statfs fs;
		if (statfs(path, &fs) < 0) {
			if (run_sandbox_gone(c->net.sandbox_pid))
				return; /* a command that ended at once */
			usleep(2000); /* between pivot_root and the mount of /tmp */
			continue;
		}
		/* the sandbox's root is a tmpfs too, so the size tells them apart */
		if (fs.f_type == RUN_TMPFS_MAGIC &&
		    (unsigned long long)fs.f_blocks * (unsigned long long)fs.f_bsize == want) {
			c->tmp_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			return;
		}
		usleep(2000);
	} while (clock_mono_ms() < until);
	log_warn("cannot watch the sandbox's /tmp deployment=%s", c->b->id);
}

static int run_on_started(void *ctx, int pid, struct error *err)
{
	struct run_ctx *c = ctx;
	int rc = build_net_started(&c->net, pid, err);
	if (rc == 0)
		run_open_tmp(c);
	return rc;
}

/* Read-only system paths a build may need inside the sandbox (missing ones are skipped): of
 * /etc/ssl only the certificates, never its private keys. */
static const char *const run_ro_paths[] = {
	"/etc/alternatives", "/etc/ssl/certs", "/etc/ssl/openssl.cnf", "/etc/hosts",
	"/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/localtime", "/etc/mime.types",
};

/* argv for one command: bwrap ... -- CMD..., or CMD... itself. */
static size_t run_argv(struct run_ctx *c, const char *const *cmd, const char *argv[RUN_ARGV_MAX])
{
	struct build *b = c->b;
	size_t n = 0;
	if (!strcmp(b->cfg->sandbox, "bwrap")) {
		static const char *const head[] = {
			RUN_BWRAP, "--die-with-parent", "--new-session", "--unshare-all",
			"--cap-drop", "ALL", "--hostname", "skiff-build",
			"--info-fd", "3", "--block-fd", "4",
			"--ro-bind", "/usr", "/usr",
			"--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
			"--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
			"--proc", "/proc", "--dev", "/dev",
		};
		for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
			argv[n++] = head[i];
		/* the network namespace is the one proc_run made (new_netns) unless it is the
		 * host's: bwrap's own would set up its loopback while slirp4netns configures tap0,
		 * and their netlink requests collide */
		argv[n++] = "--share-net";
		argv[n++] = "--size";
		argv[n++] = c->tmp_size;
		argv[n++] = "--tmpfs";
		argv[n++] = "/tmp";
		for (size_t i = 0; i < sizeof(run_ro_paths) / sizeof(run_ro_paths[0]); i++) {
			argv[n++] = "--ro-bind-try";
			argv[n++] = run_ro_paths[i];
			argv[n++] = run_ro_paths[i];
		}
		if (b->net == BUILD_NET_EGRESS) { /* slirp4netns's resolver */
			argv[n++] = "--ro-bind-data";
			argv[n++] = "5";
			argv[n++] = "/etc/resolv.conf";
		} else {
			argv[n++] = "--ro-bind-try";
			argv[n++] = "/etc/resolv.conf";
			argv[n++] = "/etc/resolv.conf";
		}
		/* the checkout and $HOME are the only writable places besides /tmp */
		argv[n++] = "--bind";
		argv[n++] = b->workdir;
		argv[n++] = b->workdir;
		/* the project's package-manager caches (cache.h), not the rest of its cache
		 * directory: what is kept of node_modules is moved by skiff-build alone */
		for (size_t i = 0; b->cache_dir[0] && i < BUILD_CACHE_KINDS; i++) {
			argv[n++] = "--bind";
			argv[n++] = c->cache_kind[i];
			argv[n++] = c->cache_kind[i];
		}
		if (strncmp(cmd[0], "/usr/", 5)) { /* skiff-build itself, for the clone */
			argv[n++] = "--ro-bind";
			argv[n++] = cmd[0];
			argv[n++] = cmd[0];
		}
		argv[n++] = "--chdir";
		argv[n++] = c->clone ? b->workdir : b->repo;
		argv[n++] = "--";
	}
	for (size_t i = 0; cmd[i] && n < RUN_ARGV_MAX - 1; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	return n;
}

/* The error of a command that did not succeed: a limit when one was hit, else its exit. */
static int run_failure(struct run_ctx *c, const char *step, const struct proc_result *res,
		       long timeout_s, struct error *err)
{
	struct build *b = c->b;
	const struct config *cfg = b->cfg;
	if (res->timed_out)
		return error_set(err, SKIFF_ETIMEOUT, "build_timeout",
				 "build timed out after %ld s (build_timeout)", cfg->build_timeout);
	if (run_limit_hit(c, true))
		return error_set(err, SKIFF_ELIMIT, "build_limit", "%s command stopped: %s", step,
				 c->limit);
	if (res->stopped)
		return error_set(err, SKIFF_ECANCELED, "canceled", "the build was stopped");
	if (res->exited && res->exit_code == 0)
		return 0;
	if (c->clone && res->exited && res->exit_code == BUILD_CLONE_EXIT_TOO_BIG)
		return error_set(err, SKIFF_ELIMIT, "repository_too_large",
				 "clone failed: the repository is larger than %llu MB",
				 BUILD_CLONE_MAX_BYTES >> 20);
	if (c->clone)
		return error_set(err, SKIFF_EGIT, "git_error", "%s",
				 c->last_err[0] ? c->last_err : "clone failed");
	b->exit_code = res->exited ? res->exit_code : 128 + res->signal;
	if (b->exit_code == 128 + SIGXFSZ)
		return error_set(err, SKIFF_ELIMIT, "build_limit", "%s command stopped: a file grew "
				 "past the limit of %ld MB (build_file_mb)", step, cfg->build_file_mb);
	char what[128];
	proc_describe(res, timeout_s, what, sizeof(what));
	return error_set(err, SKIFF_EBUILD, "build_failed", "%s command %s", step, what);
}

/* The network mode, chosen (and logged) at the first command of the build. */
static enum build_net_mode run_net(struct build *b)
{
	if (!b->net_chosen) {
		b->net = build_net_choose(b);
		b->net_chosen = true;
	}
	return b->net;
}

/* How many descriptors bwrap and the network take (3, 4 and the resolver's 5): a descriptor
 * for the command itself comes after them. */
static size_t run_net_fds(struct build *b)
{
	if (strcmp(b->cfg->sandbox, "bwrap"))
		return 0;
	return run_net(b) == BUILD_NET_EGRESS ? 3 : 2;
}

/* Every variable skiff sets for a build is one a project cannot set (lib/env.c): a project's
 * variable of the same name would otherwise stand next to it in the environment. */
static void run_env_reserved(const char *const *base, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char name[ENV_NAME_MAX + 1];
		size_t len = strcspn(base[i], "=");
		assert(len < sizeof(name));
		memcpy(name, base[i], len);
		name[len] = '\0';
		assert(env_name_reserved(name));
	}
}

/* One command (a shell command, or the clone) in the sandbox with the build's limits; the
 * clone also gets auth's credentials as descriptor 3 + run_net_fds() when cred_fd >= 0. A
 * failure is SKIFF_EBUILD (or the limit's, the clone's error) with the message the user
 * sees. */
static int run_sandboxed(struct build *b, const char *step, const char *const *cmd, bool clone,
			 struct gitauth *auth, int cred_fd, struct error *err)
{
	int rc = 0;
	run_net(b);
	long long left_ms = b->deadline_ms - clock_mono_ms();
	if (left_ms <= 0)
		return error_set(err, SKIFF_ETIMEOUT, "build_timeout",
				 "build timed out after %ld s (build_timeout)", b->cfg->build_timeout);
	struct run_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	char home[PATH_MAX + 8], cache[PATH_MAX + 40], pnpm[PATH_MAX + 40], yarn[PATH_MAX + 40];
	/* with a cache, npm takes cached metadata without asking the registry whether it is
	 * still fresh (what it downloads is still checked against the lockfile's integrity) */
	const char *offline = b->cache_dir[0] ? "npm_config_prefer_offline=true"
					     : "npm_config_prefer_offline=false";
	snprintf(home, sizeof(home), "HOME=%s", b->home);
	if (b->cache_dir[0]) {
		/* the project's caches, kept between its builds (cache.h) */
		for (size_t i = 0; i < BUILD_CACHE_KINDS; i++)
			snprintf(ctx.cache_kind[i], sizeof(ctx.cache_kind[i]), "%s/%s", b->cache_dir,
				 build_cache_kinds[i]);
		snprintf(cache, sizeof(cache), "npm_config_cache=%s", ctx.cache_kind[0]);
		snprintf(pnpm, sizeof(pnpm), "npm_config_store_dir=%s", ctx.cache_kind[1]);
		snprintf(yarn, sizeof(yarn), "YARN_CACHE_FOLDER=%s", ctx.cache_kind[2]);
	} else {
		snprintf(cache, sizeof(cache), "npm_config_cache=%s/.npm", b->home);
		snprintf(pnpm, sizeof(pnpm), "npm_config_store_dir=%s/.pnpm-store", b->home);
		snprintf(yarn, sizeof(yarn), "YARN_CACHE_FOLDER=%s/.yarn-cache", b->home);
	}
	/* the whole environment of the build: nothing of skiff's own (no SKIFF_*, no AWS_*,
	 * no Redis or store settings) */
	const char *base[] = {
		"PATH=" RUN_PATH, home, "LANG=C.UTF-8", "CI=1", "SKIFF=1", "TERM=dumb",
		"NO_COLOR=1", cache, pnpm, yarn, offline, "npm_config_update_notifier=false",
		"npm_config_fund=false", "npm_config_audit=false",
	};
	/* then, for the install and build commands (never the clone), the project's variables
	 * and skiff's own SKIFF_CONTEXT, SKIFF_COMMIT, ... (build_env.c) */
	size_t nbase = sizeof(base) / sizeof(base[0]), nuser = clone ? 0 : b->nenv;
	run_env_reserved(base, nbase);
	const char **envp = calloc(nbase + nuser + 1, sizeof(*envp));
	if (!envp)
		abort();
	memcpy(envp, base, sizeof(base));
	for (size_t i = 0; i < nuser; i++)
		envp[nbase + i] = b->env[i];
	ctx.b = b;
	ctx.clone = clone;
	ctx.auth = auth;
	ctx.tmp_fd = -1;
	ctx.next_disk_ms = clock_mono_ms() + RUN_DISK_EVERY_MS;
	snprintf(ctx.tmp_size, sizeof(ctx.tmp_size), "%llu",
		 (unsigned long long)b->cfg->build_tmp_mb << 20);
	bool bwrap = !strcmp(b->cfg->sandbox, "bwrap");
	struct error cgerr;
	if (sandbox_cgroup_create(&ctx.cg, b->id, b->cfg->build_processes, &cgerr) < 0)
		log_warn("build_processes is not enforced deployment=%s error=\"%s\"", b->id,
			 cgerr.message);
	int join_fd = sandbox_cgroup_procs_fd(&ctx.cg);
	if (bwrap && (rc = build_net_prepare(&ctx.net, b->net, err)) < 0)
		goto out;
	const char *argv[RUN_ARGV_MAX];
	run_argv(&ctx, cmd, argv);
	int pass[PROC_PASS_MAX] = { ctx.net.child_info, ctx.net.child_block, ctx.net.resolv_fd };
	size_t npass = run_net_fds(b);
	if (cred_fd >= 0)
		pass[npass++] = cred_fd;
	struct proc_spec spec = {
		.argv = argv,
		.envp = envp,
		.cwd = clone ? b->workdir : b->repo,
		.timeout_s = (left_ms + 999) / 1000,
		.cpu_s = b->cfg->build_cpu,
		.memory_mb = clone && RUN_SANITIZED ? 0 : b->cfg->build_memory_mb,
		.file_mb = b->cfg->build_file_mb,
		/* without a cgroup: the uid's process count, which holds unless we are root */
		.nproc = ctx.cg.path[0] ? 0 : b->cfg->build_processes,
		.pass_fds = pass,
		.npass = npass,
		.new_netns = bwrap && b->net != BUILD_NET_HOST,
		.join_fd = join_fd,
		.started = bwrap ? run_on_started : NULL,
	};
	if (!clone)
		build_log(b, "Running %s command: %s", step, cmd[2]);
	long long t0 = clock_mono_ms();
	struct proc_result res;
	rc = proc_run(&spec, run_on_line, run_on_tick, &ctx, &res, err);
	if (rc == 0)
		rc = run_failure(&ctx, step, &res, spec.timeout_s, err);
	if (rc == 0 && !clone)
		build_log(b, "The %s command finished in %.1f s", step,
			  (double)(clock_mono_ms() - t0) / 1000.0);
out:
	if (bwrap)
		build_net_finish(&ctx.net);
	if (ctx.tmp_fd >= 0)
		close(ctx.tmp_fd);
	if (join_fd >= 0)
		close(join_fd);
	/* whatever the command left running (daemons, a fork bomb) goes with it */
	sandbox_cgroup_kill(b->id);
	free(envp);
	return rc;
}

/* One shell command as a phase. */
static int run_command(struct build *b, const char *step, const char *cmd, struct error *err)
{
	int rc = build_phase(b, step, err);
	if (rc < 0)
		return rc;
	const char *const argv[] = { "/bin/sh", "-c", cmd, NULL };
	return run_sandboxed(b, step, argv, false, NULL, -1, err);
}

int build_run_clone(struct build *b, const char *url, const char *branch, struct gitauth *auth,
		    struct error *err)
{
	char self[PATH_MAX], fdarg[16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return error_set(err, SKIFF_ESYS, NULL, "cannot find skiff-build itself: %s",
				 strerror(errno));
	self[n] = '\0';
	int cred_fd = -1;
	/* the credentials never in argv or an environment: a memfd only the clone inherits */
	if ((auth->token || auth->private_key || auth->pin[0]) &&
	    gitauth_wire_write(auth, &cred_fd, err) < 0)
		return err->code;
	snprintf(fdarg, sizeof(fdarg), "%zu", 3 + run_net_fds(b));
	const char *const plain[] = { self, "--clone", url, b->repo, branch, NULL };
	const char *const with[] = { self, "--clone", "--credentials-fd", fdarg, url, b->repo, branch,
				     NULL };
	int rc = run_sandboxed(b, "clone", cred_fd >= 0 ? with : plain, true, auth, cred_fd, err);
	if (cred_fd >= 0)
		close(cred_fd);
	return rc;
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
