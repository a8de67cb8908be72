/* clone.c — the checkout of a deployment's commit with libgit2: no redirects, no user or
 * system git configuration, progress in the build log, commit id and message recorded. */
#include "clone.h"
#include "hex.h"
#include "build_log.h"
#include "build_state.h"
#include "clock.h"
#include "gitauth.h"
#include "log.h"
#include "model.h"
#include "remote.h"
#include "run.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* For sanitizer builds: libgit2 1.5's regex wrapper (git_regexp_match) does not free its
 * pcre2 match data when a pattern does not match, which git_clone's remote setup hits on
 * every clone; and its SSH transport leaks two small strings while connecting
 * (git_remote_connect_ext), on every ssh:// clone, success or not (LeakSanitizer's exit then
 * lost the clone child's stdout and failed the clone). Not ours to fix; told to
 * LeakSanitizer, which calls this hook if defined. The second is told by function name, and the
 * fast unwinder stops at libgit2's first frame, so leaks are unwound the slow way here. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n"
	       "leak:git_remote_connect_ext\n";
}

struct clone_progress {
	struct build *b;
	long long next_ms;
	bool done_logged;
	bool too_big;
	struct gitauth *auth;       /* the project's credentials and host key pin */
};

static int clone_on_credentials(git_credential **out, const char *url, const char *user,
				unsigned int allowed, void *payload)
{
	struct clone_progress *p = payload;
	return gitauth_on_credentials(out, url, user, allowed, p->auth);
}

static int clone_on_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	struct clone_progress *p = payload;
	return gitauth_on_certificate(cert, valid, host, p->auth);
}

static int clone_on_progress(const git_indexer_progress *st, void *payload)
{
	struct clone_progress *p = payload;
	if (p->b && build_stopped(p->b))
		return -1;
	if (st->received_bytes > BUILD_CLONE_MAX_BYTES) {
		p->too_big = true;
		return -1;
	}
	long long now = clock_mono_ms();
	bool done = st->total_objects && st->received_objects == st->total_objects;
	if ((done && !p->done_logged) || now >= p->next_ms) {
		unsigned pct = st->total_objects ? st->received_objects * 100u / st->total_objects : 0;
		if (p->b) {
			build_log(p->b, "Receiving objects: %u%% (%u/%u), %zu KiB", pct,
				  st->received_objects, st->total_objects, st->received_bytes >> 10);
		} else { /* the sandboxed clone: the parent logs its lines */
			printf("Receiving objects: %u%% (%u/%u), %zu KiB\n", pct, st->received_objects,
			       st->total_objects, st->received_bytes >> 10);
			fflush(stdout);
		}
		p->next_ms = now + 2000;
		p->done_logged = p->done_logged || done;
	}
	return 0;
}

static int clone_git_error(struct error *err, const char *what)
{
	const git_error *ge = git_error_last();
	return error_set(err, SKIFF_EGIT, "git_error", "%s: %s", what,
			 ge && ge->message ? ge->message : "unknown error");
}

/* The commit a reference points at (tags peeled). References are looked up by name, never
 * through git_revparse (libgit2 1.5 leaks its regex match data there). */
static int clone_ref_commit(git_repository *repo, const char *name, git_object **out)
{
	git_reference *ref = NULL;
	int rc = git_reference_lookup(&ref, repo, name);
	if (rc == 0)
		rc = git_reference_peel(out, ref, GIT_OBJECT_COMMIT);
	git_reference_free(ref);
	return rc;
}

/* The commit a deployment asks for: ref may be a branch, a tag or a (full or abbreviated)
 * commit id. */
static int clone_resolve(git_repository *repo, const char *ref, git_object **out,
			 struct error *err)
{
	static const char *const prefixes[] = { "refs/remotes/origin/", "refs/tags/" };
	char name[BRANCH_MAX + 32];
	*out = NULL;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", prefixes[i], ref);
		if (clone_ref_commit(repo, name, out) == 0)
			return 0;
	}
	size_t n = strlen(ref);
	git_object *obj = NULL;
	git_oid oid;
	if (n >= 7 && n <= GIT_OID_HEXSZ && hex_span(ref) == n &&
	    git_oid_fromstrn(&oid, ref, n) == 0 &&
	    git_object_lookup_prefix(&obj, repo, &oid, n, GIT_OBJECT_ANY) == 0) {
		int rc = git_object_peel(out, obj, GIT_OBJECT_COMMIT);
		git_object_free(obj);
		if (rc < 0)
			return error_set(err, SKIFF_EGIT, "unknown_ref", "'%s' does not name a commit",
					 ref);
		return 0;
	}
	return error_set(err, SKIFF_EGIT, "unknown_ref",
			 "'%s' is not a branch, tag or commit of the repository", ref);
}

static int clone_checkout(git_repository *repo, git_object *commit, struct error *err)
{
	git_checkout_options co;
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	if (git_checkout_tree(repo, commit, &co) < 0 ||
	    git_repository_set_head_detached(repo, git_object_id(commit)) < 0)
		return clone_git_error(err, "checkout failed");
	return 0;
}

/* The production deployment's id when this commit is it or descends from it, else "". The
 * promotion (model_deployment_promote) lets a build whose clone is older than production's
 * replace it only then: two builds of one branch finishing out of order never put the older
 * commit back. Production's commit may be unknown to this clone (a newer push): not a
 * descendant. */
static void clone_descends_from(struct build *b, git_repository *repo, const git_oid *ours,
				char out[ID_LEN + 1])
{
	char cur[ID_LEN + 1];
	git_oid theirs;
	out[0] = '\0';
	struct deployment *d = malloc(sizeof(*d));   /* some KiB: not on the stack */
	if (!d)
		abort();
	if (b->remote) { /* production as the API told it at the start */
		memcpy(cur, b->production_id, ID_LEN + 1);
		memcpy(d->commit, b->production_commit, sizeof(b->production_commit));
	}
	if ((b->remote || (model_project_current(b->redis, b->slug, cur, NULL) == 0 && cur[0] &&
			   model_deployment_get(b->redis, cur, d, NULL) == 0)) &&
	    cur[0] && git_oid_fromstr(&theirs, d->commit) == 0 &&
	    (git_oid_equal(ours, &theirs) || git_graph_descendant_of(repo, ours, &theirs) == 1))
		memcpy(out, cur, ID_LEN + 1);
	free(d);
}

/* git_clone with no redirects into dir, with the credentials of auth; b is NULL in the
 * sandboxed child (progress goes to stdout then). */
static int clone_into(struct build *b, const char *url, const char *branch, const char *dir,
		      struct gitauth *auth, git_repository **repo, bool *too_big)
{
	struct clone_progress progress = { b, clock_mono_ms() + 2000, false, false, auth };
	git_clone_options opts;
	git_clone_options_init(&opts, GIT_CLONE_OPTIONS_VERSION);
	opts.checkout_branch = branch;
	opts.fetch_opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	opts.fetch_opts.callbacks.transfer_progress = clone_on_progress;
	opts.fetch_opts.callbacks.credentials = clone_on_credentials;
	opts.fetch_opts.callbacks.certificate_check = clone_on_certificate;
	opts.fetch_opts.callbacks.payload = &progress;
	int rc = git_clone(repo, url, dir, &opts);
	*too_big = progress.too_big;
	return rc;
}

/* The clone in this process (allow_local_git: file:// and loopback remotes). */
static int clone_fetch(struct build *b, const char *url, const char *branch,
		       struct gitauth *auth, git_repository **repo, struct error *err)
{
	bool too_big = false;
	if (clone_into(b, url, branch, b->repo, auth, repo, &too_big) == 0)
		return 0;
	if (too_big)
		return error_set(err, SKIFF_ELIMIT, "repository_too_large",
				 "clone failed: the repository is larger than %llu MB",
				 BUILD_CLONE_MAX_BYTES >> 20);
	if (build_stopped(b))
		return error_set(err, SKIFF_ECANCELED, "canceled", "the build was stopped");
	return gitauth_error(auth, "clone failed", err);
}

/* No /etc/gitconfig or ~/.gitconfig: url rewrites and credential helpers stay out. */
static void clone_no_config(void)
{
	static const int levels[] = { GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
				      GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA };
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
}

int build_clone_child(int argc, char **argv)
{
	/* skiff-build --clone [--credentials-fd N] URL DIR [BRANCH] */
	struct gitauth auth;
	struct error err;
	gitauth_init(&auth);
	int i = 2;
	if (argc > 3 && !strcmp(argv[2], "--credentials-fd")) {
		char *end = NULL;
		long fd = strtol(argv[3], &end, 10);
		if (!end || *end || fd < 3 || fd > 64 || gitauth_wire_read((int)fd, &auth, &err) < 0) {
			fprintf(stderr, "clone failed: cannot read the repository credentials\n");
			return 1;
		}
		close((int)fd);
		i = 4;
	}
	if (argc - i < 2 || argc - i > 3) {
		fprintf(stderr, "usage: skiff-build --clone [--credentials-fd N] URL DIR [BRANCH]\n");
		gitauth_dispose(&auth);
		return 2;
	}
	auth.ssh = validate_git_url_ssh(argv[i]); /* also when there is nothing to offer */
	git_libgit2_init();
	clone_no_config();
	git_repository *repo = NULL;
	bool too_big = false;
	int status = 0;
	if (clone_into(NULL, argv[i], argc - i == 3 ? argv[i + 2] : NULL, argv[i + 1], &auth, &repo,
		       &too_big) < 0) {
		gitauth_error(&auth, "clone failed", &err);
		fprintf(stderr, "%s\n", err.message);
		status = too_big ? BUILD_CLONE_EXIT_TOO_BIG : 1;
	} else if (auth.seen[0]) {
		/* for the parent to pin on first use */
		printf("%s %s %s\n", BUILD_CLONE_HOST_KEY, auth.seen_type, auth.seen);
	}
	gitauth_dispose(&auth);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return status;
}

/* Pins the host key the clone saw when the project had none pinned for this host (a remote
 * build through the API, while its phase is still clone). Never for a fork's pull request: its
 * URL comes from a webhook, and the project keeps one pin, which the fork's host would replace
 * (the project's own host then trusted anew on first use). */
static int clone_pin(struct build *b, const char *url, const struct gitauth *auth,
		     struct error *err)
{
	if (!auth->ssh || !auth->seen[0] || auth->pin[0] || b->deployment.fork)
		return 0;
	int rc = b->remote ? remote_host_key(b, auth->seen_type, auth->seen, err)
			   : gitauth_pin(b->redis, b->slug, url, auth->seen_type, auth->seen, err);
	if (rc == 1)
		build_log(b, "Pinned the server's host key %s %s: every later clone and poll checks "
			  "it", auth->seen_type, auth->seen);
	return rc < 0 ? rc : 0;
}

int build_clone(struct build *b, struct error *err)
{
	const char *url = b->deployment.git_url;
	if (!*url)
		url = b->project.git_url;
	const char *branch = b->deployment.branch;
	if (!*branch)
		branch = b->project.branch;
	const char *ref = b->deployment.ref;
	if (!*ref)
		ref = b->deployment.commit;
	if (branch && !*branch)
		branch = NULL;
	if (ref && !*ref)
		ref = NULL;
	/* resolved again here: the name may point elsewhere since the project was created */
	int rc = validate_git_url_resolved(url, b->cfg->allow_local_git, NULL, err);
	if (rc == 0 && branch)
		rc = validate_branch(branch, err);
	if (rc == 0 && ref)
		rc = validate_branch(ref, err);
	if (rc < 0)
		return rc;

	clone_no_config();
	struct gitauth auth;
	git_repository *repo = NULL;
	git_object *commit = NULL;
	/* a remote build gets its credentials from the API, with its build token */
	rc = b->remote ? remote_credentials(b, url, &auth, err)
		       : gitauth_load(b->redis, b->cfg, b->slug, url, b->deployment.fork, &auth, NULL,
				      err);
	if (rc < 0)
		goto out;

	build_log(b, "Cloning %s%s%s%s%s", url, branch ? " (branch " : "", branch ? branch : "",
		  branch ? ")" : "", ref ? ", checking out the requested ref" : "");
	if (auth.private_key)
		build_log(b, "With the project's deploy key %s%s%s", auth.key_fingerprint,
			  auth.pin[0] ? ", expecting the pinned host key " : "", auth.pin);
	else if (auth.token)
		build_log(b, "With the project's access token (user %s)",
			  auth.username[0] ? auth.username : "x-access-token");
	char withheld[REPO_HOST_MAX + 128];
	gitauth_withheld(&auth, withheld, sizeof(withheld));
	if (withheld[0])
		build_log(b, "%s", withheld);
	if (!b->cfg->allow_local_git) {
		/* a remote: fetched from inside the build's sandbox, so that neither a redirect nor
		 * a name that resolves elsewhere later (DNS rebinding) reaches the host or the
		 * private network */
		if ((rc = build_run_clone(b, url, branch, &auth, err)) < 0)
			goto out;
		if (git_repository_open(&repo, b->repo) < 0) {
			rc = clone_git_error(err, "the clone cannot be opened");
			goto out;
		}
	} else if ((rc = clone_fetch(b, url, branch, &auth, &repo, err)) < 0) {
		goto out;
	}
	if ((rc = clone_pin(b, url, &auth, err)) < 0)
		goto out;
	if (ref) {
		rc = clone_resolve(repo, ref, &commit, err);
		if (rc == 0)
			rc = clone_checkout(repo, commit, err);
	} else if (clone_ref_commit(repo, "HEAD", &commit) < 0) {
		rc = clone_git_error(err, "the repository has no commit to build");
	}
	if (rc < 0)
		goto out;

	git_oid_tostr(b->commit, sizeof(b->commit), git_object_id(commit));
	const char *pushed = b->deployment.pushed_commit;
	if (*pushed && strcmp(pushed, b->commit) != 0)
		build_log(b, "The branch head is %.12s, not the pushed commit %.12s: deploying the "
			  "head (a newer push, a force push, or a replayed delivery)", b->commit, pushed);
	const char *summary = git_commit_summary((git_commit *)commit);
	char message[512];
	size_t mlen = 0;
	if (summary) {
		/* only for display: keep it short and printable */
		for (const char *p = summary; *p && mlen < sizeof(message) - 1; p++)
			message[mlen++] = (unsigned char)*p < 0x20 ? ' ' : *p;
	}
	message[mlen] = '\0';
	json_t *m = json_stringn(message, mlen); /* NULL when not valid UTF-8 */
	struct deployment change;
	model_deployment_init(&change);
	snprintf(change.commit, sizeof(change.commit), "%s", b->commit);
	snprintf(change.commit_message, sizeof(change.commit_message), "%s", m ? message : "");
	json_decref(m);
	change.cloned = clock_wall_ms();
	clone_descends_from(b, repo, git_object_id(commit), change.descends_from);
	rc = b->remote ? remote_commit(b, change.commit_message, change.descends_from, err)
		       : model_deployment_update(b->redis, b->id, &change,
						 MODEL_SET(COMMIT) | MODEL_SET(COMMIT_MESSAGE) |
							 MODEL_SET(CLONED) | MODEL_SET(DESCENDS_FROM),
						 err);
	if (rc == 0)
		build_log(b, "Checked out commit %.12s: %s", b->commit, change.commit_message);
out:
	gitauth_dispose(&auth);
	git_object_free(commit);
	git_repository_free(repo);
	return rc;
}
