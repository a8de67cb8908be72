/* main.c — skiff-build: builds one deployment (clone → detect → install/build → collect →
 * upload → promote) and always leaves it in a final state with its log archived. */
#include "build.h"
#include "build_env.h"
#include "fastpath_switch.h"
#include "build_log.h"
#include "build_state.h"
#include "cache.h"
#include "clone.h"
#include "lease.h"
#include "modules.h"
#include "remote.h"
#include "run.h"
#include "upload.h"
#include "upload_remote.h"
#include "clock.h"
#include "log.h"
#include "model.h"
#include "model_log.h"
#include "model_queue.h"
#include "sandbox.h"

#include <curl/curl.h>
#include <errno.h>
#include <git2.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int build_prepare_dirs(struct build *b, struct error *err)
{
	const char *wd = b->cfg->work_dir;
	if (mkdir(wd, 0700) < 0 && errno != EEXIST)
		return error_set(err, SKIFF_EIO, NULL, "cannot create work_dir %s: %s", wd,
				 strerror(errno));
	int n1 = snprintf(b->workdir, sizeof(b->workdir), "%s/%s", wd, b->id);
	int n2 = snprintf(b->repo, sizeof(b->repo), "%s/repo", b->workdir);
	int n3 = snprintf(b->home, sizeof(b->home), "%s/home", b->workdir);
	if (n1 < 0 || n2 < 0 || n3 < 0 || (size_t)n1 >= sizeof(b->workdir) ||
	    (size_t)n2 >= sizeof(b->repo) || (size_t)n3 >= sizeof(b->home))
		return error_set(err, SKIFF_EINVALID, NULL, "work_dir path too long");
	sandbox_rm_tree(b->workdir); /* a leftover of an earlier attempt */
	if (mkdir(b->workdir, 0700) < 0 || mkdir(b->home, 0700) < 0)
		return error_set(err, SKIFF_EIO, NULL, "cannot create %s: %s", b->workdir,
				 strerror(errno));
	return 0;
}

/* The whole build up to and including promotion. */
static int build_execute(struct build *b, struct error *err)
{
	struct deployment change;
	model_deployment_init(&change);
	change.started = clock_wall_ms();
	int rc = b->remote ? 0 /* the API's start did it */
			   : model_deployment_state(b->redis, b->id, DEPLOYMENT_BUILDING, "clone",
						    &change, MODEL_SET(STARTED), err);
	if (rc < 0)
		return rc;
	long long t0 = clock_mono_ms();
	b->deadline_ms = t0 + b->cfg->build_timeout * 1000LL;
	if ((rc = build_prepare_dirs(b, err)) < 0 || (rc = build_clone(b, err)) < 0)
		return rc;

	struct detect_settings user = {
		b->project.build_command,
		b->project.install_command,
		b->project.output_dir,
	};
	if ((rc = detect_project(b->repo, &user, &b->detect, err)) < 0)
		return rc;
	struct detect_result *d = &b->detect;
	build_log(b, "Detected a %s project%s", detect_kind_name(d->kind),
		  d->has_skiff_json ? " with skiff.json" : "");
	if (d->install_command[0])
		build_log(b, "Install command (%s): %s", d->install_from, d->install_command);
	if (d->build_command[0])
		build_log(b, "Build command (%s): %s", d->build_from, d->build_command);
	else
		build_log(b, "No build command: the files are deployed as they are");

	bool commands = d->install_command[0] || d->build_command[0];
	if ((rc = build_env_load(b, err)) < 0)
		return rc;
	if (commands) { /* held until the build ends (main): node_modules is kept if it succeeds */
		build_cache_open(b);
		build_modules_restore(b);
	}
	if ((rc = build_run(b, err)) < 0 || (rc = detect_output(b->repo, d, err)) < 0)
		return rc;
	build_log(b, "Output directory (%s): %s/", d->output_auto ? "detected" : d->output_from,
		  d->output_dir[0] ? d->output_dir : ".");
	/* each batch pins the blobs it relies on before it checks the store (lib/gc.h); with
	 * --remote the API pins them when it is told of the files */
	if ((rc = build_phase(b, "upload", err)) < 0)
		return rc;
	if (b->remote)
		rc = build_upload_remote(b, err);
	else
		rc = build_upload(b, err);
	if (rc < 0)
		return rc;
	if (build_stopped(b))
		return error_set(err, SKIFF_ECANCELED, "canceled", "the build was stopped");

	double secs = (double)(clock_mono_ms() - t0) / 1000.0;
	build_log(b, "Deployed %llu files (%llu bytes); uploaded %llu new bytes; took %.1f s",
		  b->files, b->bytes, b->bytes_uploaded, secs);
	change.files = (long long)b->files;
	change.bytes = (long long)b->bytes;
	change.bytes_uploaded = (long long)b->bytes_uploaded;
	if (b->remote) /* the API promotes (and drops the fast path's tree) at finish */
		return remote_finish(b, err);
	rc = model_deployment_promote_claimed(b->redis, b->id, b->claim, &change,
					      MODEL_SET(FILES) | MODEL_SET(BYTES) |
					      MODEL_SET(BYTES_UPLOADED), err);
	if (rc == 0)   /* after the write */
		fastpath_switch_announce(b->redis, b->cfg, b->deployment.project);
	return rc;
}

/* The claim this run holds: SKIFF_LEASE_TOKEN from the dispatcher, else the deployment's
 * claim (a launcher that passes no environment), else none (started by hand on a deployment
 * never claimed: the lease is set whatever the claim). A claim that is no longer the
 * deployment's, or a deployment queued again since its claim, ends the run before it does
 * anything. */
static int build_claim(struct build *b, struct error *err)
{
	const char *env = getenv("SKIFF_LEASE_TOKEN");
	int ever = 0;
	if (env && model_claim_valid(env))
		snprintf(b->claim, sizeof(b->claim), "%s", env);
	else if ((ever = model_lease_claim(b->redis, b->id, b->claim, err)) < 0)
		return err->code;
	int held = ever && !b->claim[0] ? 0 : 1;
	if (held)
		held = model_lease_renew(b->redis, b->id, b->claim, b->cfg->lease_ttl, err);
	if (held < 0)
		return held;
	if (held == 0) {
		atomic_store(&b->claim_lost, 1);
		return error_set(err, SKIFF_ECONFLICT, "claim_lost",
				 "deployment %s was claimed by another run", b->id);
	}
	return 0;
}

/* Records the failure as the deployment's final state. 0 when recorded (or when the
 * deployment already ended, e.g. canceled). */
static int build_fail(struct build *b, const struct error *cause)
{
	build_log(b, "Error: %s", cause->message);
	struct deployment change;
	model_deployment_init(&change);
	snprintf(change.error, sizeof(change.error), "%s", cause->message);
	change.exit_code = b->exit_code >= 0 ? b->exit_code : MODEL_NONE;
	struct error e;
	if (b->remote) { /* the API records canceled when a cancel was asked for */
		int rc = remote_fail(b, cause, &e);
		if (rc < 0 && !strcmp(e.name, "build_ended"))
			return 0;
		if (rc < 0)
			log_error("cannot record the failed build deployment=%s error=\"%s\"", b->id,
				  e.message);
		return rc;
	}
	/* a canceled build's processes are gone by now: that is when the state may say so */
	enum deployment_state state =
		atomic_load(&b->cancel_requested) ? DEPLOYMENT_CANCELED : DEPLOYMENT_ERROR;
	int rc = model_deployment_state(b->redis, b->id, state, "", &change,
					MODEL_SET(ERROR) | MODEL_SET(EXIT_CODE), &e);
	if (rc == SKIFF_ECONFLICT)
		return 0;
	if (rc < 0)
		log_error("cannot record the failed build deployment=%s error=\"%s\"", b->id, e.message);
	return rc;
}

/* The lines still held at the end: Redis gets a few more seconds to come back, so that the
 * log and its archive are whole. */
static void build_log_flush_end(struct build *b)
{
	struct error e;
	for (int i = 0; i < BUILD_LOG_END_TRIES; i++) {
		if (build_log_flush(b, true, &e) == 0 || e.code != SKIFF_EREDIS)
			return;
		usleep(BUILD_LOG_RETRY_MS * 1000);
	}
	log_error("build log lines lost deployment=%s bytes=%zu error=\"%s\"", b->id,
		  b->log_pending.len, e.message);
}

static void build_archive_log(struct build *b)
{
	struct buf text = BUF_INIT(BUILD_LOG_ARCHIVE_MAX);
	struct error e;
	if (model_log_read(b->redis, b->id, &text, &e) < 0 && e.code != SKIFF_ELIMIT)
		log_warn("cannot read the log to archive it deployment=%s error=\"%s\"", b->id,
			 e.message);
	else if (store_log_put(b->store, b->id, buf_cstr(&text), text.len, &e) < 0)
		log_warn("cannot archive the log deployment=%s error=\"%s\"", b->id, e.message);
	buf_dispose(&text);
}

static void build_usage(FILE *f)
{
	fprintf(f, "usage: skiff-build [-c FILE] [-n] [--remote] DEPLOYMENT_ID\n"
		   "Builds one queued deployment of skiff and makes it current when it succeeds.\n"
		   "  -c FILE    configuration file (default $SKIFF_CONFIG or " CONFIG_DEFAULT_PATH ")\n"
		   "  --remote   speak the deploy protocol to $SKIFF_API_URL with the build token\n"
		   "             $SKIFF_BUILD_TOKEN instead of using Redis and the store\n"
		   "  -n         check the configuration and exit\n"
		   "  --help     this text\n"
		   "  --version  the version\n");
}

int main(int argc, char **argv)
{
	const char *config_path = NULL, *id = NULL;
	bool check_only = false, remote = false;
	if (argc > 1 && !strcmp(argv[1], "--clone")) /* inside the sandbox, for build_clone */
		return build_clone_child(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			build_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("skiff-build %s\n", SKIFF_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			config_path = argv[++i];
		} else if (!strcmp(argv[i], "-n")) {
			check_only = true;
		} else if (!strcmp(argv[i], "--remote")) {
			remote = true;
		} else if (argv[i][0] != '-' && !id) {
			id = argv[i];
		} else {
			build_usage(stderr);
			return 2;
		}
	}
	static struct config cfg;
	struct error err;
	log_init("skiff-build", LOG_INFO);
	if (config_load(&cfg, config_path, &err) < 0) {
		fprintf(stderr, "skiff-build: configuration error: %s\n", err.message);
		return 1;
	}
	if (check_only) {
		printf("skiff-build: configuration ok\n");
		return 0;
	}
	if (!id || !id_valid(id)) {
		fprintf(stderr, "skiff-build: a deployment id is required\n");
		build_usage(stderr);
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = build_state_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	static struct build b;
	b.cfg = &cfg;
	b.exit_code = -1;
	mask_init(&b.mask);
	b.cache_lock = -1;
	buf_init(&b.log_pending, BUILD_LOG_PENDING_MAX);
	memcpy(b.id, id, ID_LEN + 1);
	int status = 1, rc = 0;
	if (remote) {
		/* no Redis, no store: the deploy protocol with the build token */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		git_libgit2_init();
		rc = remote_open(&b, &err);
		if (rc == 0)
			rc = remote_start(&b, &err);
		if (rc == SKIFF_EFORBIDDEN && !strcmp(err.name, "build_ended")) {
			log_info("deployment already finished deployment=%s", b.id);
			status = 0;
			goto out_remote;
		}
		if (rc == 0)
			rc = remote_heartbeat_start(&b, &err);
		if (rc < 0) {
			log_error("cannot start the remote build deployment=%s error=\"%s\"", b.id,
				  err.message);
			goto out_remote;
		}
		log_info("build started deployment=%s project=%s remote=%s", b.id, b.slug, "yes");
		goto execute;
	}
	b.redis = redis_new(&cfg);
	if (model_deployment_get(b.redis, b.id, &b.deployment, &err) < 0) {
		log_error("cannot read the deployment deployment=%s error=\"%s\"", b.id, err.message);
		goto out;
	}
	enum deployment_state state = b.deployment.state;
	if (state != DEPLOYMENT_QUEUED && state != DEPLOYMENT_BUILDING) {
		log_info("deployment already finished deployment=%s state=%s", b.id,
			 model_state_name(state));
		status = 0;
		goto out;
	}
	snprintf(b.slug, sizeof(b.slug), "%s", b.deployment.project);
	git_libgit2_init();
	rc = model_project_get(b.redis, b.slug, &b.project, &err);
	if (rc == 0)
		rc = store_open(&b.store, &cfg, &err);
	if (rc == 0)
		rc = build_claim(&b, &err);
	if (rc == 0)
		rc = build_lease_start(&b, &err);
	log_info("build started deployment=%s project=%s", b.id, b.slug);
execute:
	if (rc == 0)
		rc = build_execute(&b, &err);
	if (rc < 0 && build_stopped(&b))
		error_set(&err, SKIFF_ECANCELED, "canceled", "the build was stopped%s",
			  atomic_load(&b.cancel_requested) ? ": canceled by request" :
			  build_state_signal() == SIGTERM ? ": the platform is stopping (skiff-build "
			  "received SIGTERM)" : build_state_signal() ? " (skiff-build received a signal)" : "");
	if (rc == SKIFF_ECONFLICT && !strcmp(err.name, "claim_lost"))
		atomic_store(&b.claim_lost, 1);
	/* after a failure, a cancel or a takeover nothing of the build is kept */
	build_cache_close(&b, rc == 0 && !atomic_load(&b.claim_lost));
	if (atomic_load(&b.claim_lost)) {
		/* another run owns the deployment now: its outcome is the one recorded */
		log_warn("build abandoned: taken over by another run deployment=%s", b.id);
		build_lease_stop(&b);
		status = BUILD_EXIT_CLAIM_LOST;
		goto done;
	}
	status = rc == 0 || build_fail(&b, &err) == 0 ? 0 : 1;
	log_info("build finished deployment=%s result=%s", b.id, rc == 0 ? "ready" : err.message);
	build_lease_stop(&b);
	remote_heartbeat_stop(&b);
	if (!b.remote) { /* a remote build's log went out with its finish or fail; the API's
			  * retention archives it */
		build_log_flush_end(&b);
		if (b.store)
			build_archive_log(&b);
		model_lease_drop(b.redis, b.id, b.claim, NULL);
	}
done:
	if (b.workdir[0] && !getenv("SKIFF_KEEP_WORKDIR"))
		sandbox_rm_tree(b.workdir);
out_remote:
	git_libgit2_shutdown();
out:
	detect_result_dispose(&b.detect);
	build_env_dispose(&b);
	store_free(b.store);
	redis_free(b.redis);
	remote_free(b.remote);
	json_decref(b.remote_variables);
	buf_dispose(&b.log_pending);
	return status;
}
