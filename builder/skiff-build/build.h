/* build.h — one deployment's build, the state shared by the parts of skiff-build (clone, run,
 * upload, ...); each part declares its functions in its own header. */
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
#include "hash.h"
#include "id.h"
#include "mask.h"
#include "model.h"
#include "model_queue.h"
#include "redis.h"
#include "store.h"
#include "validate.h"

#define BUILD_CLONE_MAX_BYTES (2ULL << 30)   /* received by the clone */
#define BUILD_LOG_ARCHIVE_MAX (64u << 20)    /* bytes of the archived log */
#define BUILD_LOG_PENDING_MAX (8u << 20)     /* log bytes held while Redis is unreachable */
#define BUILD_LOG_RETRY_MS 500               /* between attempts to append them */
#define BUILD_LOG_END_TRIES 20               /* attempts at the end of the build (10 s) */
#define BUILD_CLONE_EXIT_TOO_BIG 3           /* skiff-build --clone: past BUILD_CLONE_MAX_BYTES */
#define BUILD_CLONE_HOST_KEY "skiff-host-key"  /* its stdout line: the SSH host key it saw */
#define BUILD_EXIT_CLAIM_LOST 4              /* taken over by another run: nothing recorded */

struct build_lease;
struct remote;

/* The network of the build's commands (net.c). */
enum build_net_mode {
	BUILD_NET_HOST,    /* the host's network: build_network = host, or sandbox = none */
	BUILD_NET_NONE,    /* a namespace with only its own loopback */
	BUILD_NET_EGRESS,  /* slirp4netns, with the host and the private ranges unreachable */
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
	char claim[MODEL_CLAIM_MAX];  /* the claim this run holds ("" when started by hand) */
	atomic_int claim_lost;        /* the build was queued again and claimed by another run */
	atomic_int pinned;            /* it pinned blobs for the sweep (lib/gc.h): the lease renews */
	atomic_int pin_lost;          /* a renewal found the pin gone (no renewal for too long) */
	/* --remote: the deploy protocol instead of Redis and the store (remote.h); redis and
	 * store are NULL then */
	struct remote *remote;
	json_t *remote_variables;     /* the project's variables, as the API's start gave them */
	bool remote_credentials;      /* start says the credentials call has something for it */
	json_t *remote_secrets;       /* {name: value} of its secret variables, from that call */
	char production_id[ID_LEN + 1];             /* production when the build started, */
	char production_commit[MODEL_COMMIT_MAX + 1]; /* as the API told it */
	char workdir[PATH_MAX];       /* work_dir/{id}: removed at the end */
	char repo[PATH_MAX];          /* workdir/repo: the checkout */
	char home[PATH_MAX];          /* workdir/home: $HOME of the commands */
	char cache_dir[PATH_MAX];     /* the project's build cache (cache.h); "" when none */
	int cache_lock;               /* its shared lock while the build runs, or -1 */
	char modules_key[HASH_HEX_LEN + 1];       /* node_modules kept under it (modules.h); "" */
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
	long long log_retry_ms;       /* clock_mono_ms() of the next attempt */
	/* the project's variables and skiff's own, "NAME=value", for the install and build
	 * commands (build_env.c); the secret values among them, hidden in the log */
	char **env;
	size_t nenv;
	struct mask mask;
};

#endif
