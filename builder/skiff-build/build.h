/* build.h — one deployment's build, shared by the parts of skiff-build: clone, run, upload. */
#ifndef SKIFF_BUILD_H
#define SKIFF_BUILD_H

#include <jansson.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "buf.h"
#include "config.h"
#include "detect.h"
#include "error.h"
#include "id.h"
#include "model.h"
#include "redis.h"
#include "store.h"
#include "validate.h"

#define BUILD_CLONE_MAX_BYTES (2ULL << 30)   /* received by the clone */
#define BUILD_LOG_ARCHIVE_MAX (64u << 20)    /* bytes of the archived log */
#define BUILD_LOG_PENDING_MAX (8u << 20)     /* log bytes held while Redis is unreachable */
#define BUILD_LOG_RETRY_MS 500               /* between attempts to append them */
#define BUILD_LOG_END_TRIES 20               /* attempts at the end of the build (10 s) */
#define BUILD_CLONE_EXIT_TOO_BIG 3           /* skiff-build --clone: past BUILD_CLONE_MAX_BYTES */

struct build_lease;

/* The network of the build's commands (net.c). */
enum build_net_mode {
	BUILD_NET_HOST,    /* the host's network: build_network = host, or sandbox = none */
	BUILD_NET_NONE,    /* a namespace with only its own loopback */
	BUILD_NET_EGRESS,  /* slirp4netns, with the host and the private ranges unreachable */
};

/* One sandboxed command's setup: bubblewrap reports on info and waits on block. */
struct build_net {
	enum build_net_mode mode;
	int info_fd, block_fd;        /* our ends */
	int child_info, child_block;  /* bwrap's ends: --info-fd 3, --block-fd 4 */
	int resolv_fd;                /* --ro-bind-data 5 /etc/resolv.conf (egress) */
	int sandbox_pid;              /* the sandbox's first process, from the info */
	int ns_pid;                   /* bwrap, in the user and network namespaces proc_run made */
	int slirp_pid;
	int slirp_exit_fd;            /* slirp4netns --exit-fd: closing it stops it */
};

struct build {
	const struct config *cfg;
	char id[ID_LEN + 1];
	char slug[SLUG_MAX + 1];
	struct redis *redis;
	struct store *store;
	struct deployment deployment; /* the record as read at the start */
	struct project project;
	struct build_lease *lease;
	char workdir[PATH_MAX];       /* work_dir/{id}: removed at the end */
	char repo[PATH_MAX];          /* workdir/repo: the checkout */
	char home[PATH_MAX];          /* workdir/home: $HOME of the commands */
	struct detect_result detect;
	long long deadline_ms;        /* CLOCK_MONOTONIC end of the commands' time budget */
	enum build_net_mode net;      /* chosen (and logged) once per build */
	bool net_chosen;
	/* outcome */
	char commit[48];
	unsigned long long files, bytes, bytes_uploaded;
	int exit_code;                /* of the failed command; -1 when none */
	atomic_int stop;              /* set by SIGTERM/SIGINT or when the build was canceled */
	atomic_int cancel_requested;  /* a user canceled it: it ends canceled, not error */
	bool log_broken;              /* a log append failed (reported once) */
	/* lines Redis did not take (a restart, an outage), in order: source byte, 4-byte
	 * length, text; appended before any newer line once Redis answers again */
	struct buf log_pending;
	unsigned long long log_lost;  /* lines past BUILD_LOG_PENDING_MAX, reported when back */
	long long log_retry_ms;       /* build_clock_ms() of the next attempt */
};

/* Appends a system line to the deployment's log (also to stderr at debug level). While
 * Redis is unreachable, lines wait in b->log_pending (bounded) and go in first, in order,
 * once it answers again; build_log_flush(b, true) at the end of the build. */
void build_log(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a line of the commands' output (source: LOG_SRC_STDOUT / LOG_SRC_STDERR) after
 * making it safe to show: valid UTF-8, no escape sequences or control characters. */
void build_log_output(struct build *b, const char *source, const char *text, size_t len,
		      bool cut);
/* Appends the lines held while Redis was unreachable; force: even before log_retry_ms.
 * 0 when none is left. */
int build_log_flush(struct build *b, bool force, struct error *err);
/* true once the build should stop: a SIGTERM/SIGINT, or the deployment was canceled. */
bool build_stopped(struct build *b);
/* Milliseconds of CLOCK_MONOTONIC. */
long long build_clock_ms(void);
/* Changes the phase (state stays building) and logs it. */
int build_phase(struct build *b, const char *phase, struct error *err);

/* clone.c: the checkout of the deployment's commit into b->repo; records commit and message. */
int build_clone(struct build *b, struct error *err);
/* net.c: picks the mode from build_network and what the host has, and logs it. */
enum build_net_mode build_net_choose(struct build *b);
/* Pipes (and resolv.conf) for one command, before the fork. */
int build_net_prepare(struct build_net *n, enum build_net_mode mode, struct error *err);
/* After the fork: reads the sandbox's pid, sets up its network (egress), lets it run. */
int build_net_started(struct build_net *n, int bwrap_pid, struct error *err);
/* After the command: stops slirp4netns, closes everything. */
void build_net_finish(struct build_net *n);
/* run.c: the install and build commands. */
int build_run(struct build *b, struct error *err);
/* run.c: `skiff-build --clone URL DIR [BRANCH]` in the sandbox, with the build's network and
 * limits; b->repo is the clone afterwards. */
int build_run_clone(struct build *b, const char *url, const char *branch, struct error *err);
/* clone.c: that clone's side, inside the sandbox: progress on stdout, the error on stderr;
 * the exit status (BUILD_CLONE_EXIT_TOO_BIG past the size limit). */
int build_clone_child(int argc, char **argv);
/* upload.c: collect, hash, compress, store blobs and the manifest. */
int build_upload(struct build *b, struct error *err);
/* site.c: the manifest's "config" (skiff.json settings, _redirects, _headers). */
json_t *build_site_config(struct build *b, const char *redirects, size_t redirects_len,
			  const char *headers, size_t headers_len);

/* lease.c: renews the lease every lease_ttl/3 s from a thread with its own Redis connection,
 * and sets b->stop when the deployment was canceled. */
int build_lease_start(struct build *b, struct error *err);
void build_lease_stop(struct build *b);

#endif
