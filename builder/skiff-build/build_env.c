/* build_env.c — the variables a build's commands receive, and the secrets its log hides. */
#include "build_env.h"
#include "build_log.h"
#include "api.h"
#include "env.h"
#include "model_env.h"
#include "remote.h"
#include "secret.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define BUILD_ENV_OWN 7  /* SKIFF_CONTEXT ... SKIFF_DEPLOYMENT_URL, and SKIFF_PREVIEW_URL */
#define BUILD_ENV_NAMES_MAX 1024 /* bytes of the log line that names the variables */

static void build_env_add(struct build *b, const char *name, const char *value, size_t len)
{
	size_t n = strlen(name) + 1 + len + 1;
	char *s = malloc(n);
	if (!s)
		abort();
	memcpy(s, name, strlen(name));
	s[strlen(name)] = '=';
	memcpy(s + strlen(name) + 1, value, len);
	s[n - 1] = '\0';
	b->env[b->nenv++] = s;
}

/* The branch the clone checked out, when the project names none (the remote's default). */
static void build_env_branch(struct build *b, char *out, size_t outlen)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	out[0] = '\0';
	if (git_repository_open(&repo, b->repo) == 0 && git_repository_head(&head, repo) == 0 &&
	    git_reference_is_branch(head))
		snprintf(out, outlen, "%s", git_reference_shorthand(head));
	git_reference_free(head);
	git_repository_free(repo);
}

int build_env_load(struct build *b, struct error *err)
{
	const struct deployment *d = &b->deployment;
	const char *context = d->context[0] ? d->context : "production";
	unsigned bit = env_context_bit(context);
	struct env_list *l = NULL;
	struct secret_key key;
	bool loaded = false;
	char names[BUILD_ENV_NAMES_MAX] = "";
	size_t secrets = 0, used = 0, withheld = 0;
	memset(&key, 0, sizeof(key));
	int rc = b->remote ? remote_env(b, &l, err) : model_env_get(b->redis, b->slug, &l, err);
	if (rc < 0)
		return rc;
	b->env = calloc(l->n + BUILD_ENV_OWN + 1, sizeof(*b->env));
	if (!b->env)
		abort();
	for (size_t i = 0; i < l->n && rc == 0; i++) {
		const struct env_var *v = &l->vars[i];
		struct error bad;
		if (!(v->contexts & bit))
			continue;
		if (env_name_check(v->name, &bad) < 0) {  /* saved before skiff reserved it */
			build_log(b, "Variable not given to the build: %s", bad.message);
			continue;
		}
		if (v->secret && d->fork) {   /* a fork's pull request never sees a secret */
			withheld++;
			continue;
		}
		if (!v->secret) {
			build_env_add(b, v->name, v->value, strlen(v->value));
		} else if (v->sealed && b->remote) {
			rc = error_set(err, SKIFF_EUPSTREAM, "secret_missing",
				       "the API sent no value for the secret variable %s", v->name);
			break;
		} else {
			char *plain = NULL;
			size_t n = 0;
			if (v->sealed) {  /* a local build opens it with the key file */
				if (!loaded && (rc = secret_key_load(b->cfg->secret_key_file, &key, err)) < 0)
					break;
				loaded = true;
				if ((rc = env_var_open(&key, b->slug, v, &plain, &n, err)) < 0)
					break;
			}
			build_env_add(b, v->name, plain ? plain : v->value, plain ? n : strlen(v->value));
			mask_add(&b->mask, plain ? plain : v->value, plain ? n : strlen(v->value));
			secret_plain_free(plain, n);
			secrets++;
		}
		int w = snprintf(names + used, sizeof(names) - used, "%s%s%s", used ? ", " : "",
				 v->name, v->secret ? " (secret)" : "");
		if (w > 0 && (size_t)w < sizeof(names) - used)
			used += (size_t)w;
	}
	secret_key_dispose(&key);
	env_list_free(l);
	if (rc < 0)
		return rc;
	/* skiff's own last: a project's variable never replaces them (env_name_check refuses
	 * the names anyway) */
	char url[1024], durl[1024], purl[1024] = "";
	api_site_url(b->cfg, b->slug, NULL, url, sizeof(url));
	api_site_url(b->cfg, b->slug, b->id, durl, sizeof(durl));
	if (d->preview[0])   /* the branch's or pull request's address, which moves with it */
		api_site_url(b->cfg, b->slug, d->preview, purl, sizeof(purl));
	char head[BRANCH_MAX + 1];
	const char *branch = d->branch[0] ? d->branch : b->project.branch;
	if (!*branch) {
		build_env_branch(b, head, sizeof(head));
		branch = head;
	}
	const struct { const char *name, *value; } own[BUILD_ENV_OWN - 1] = {
		{ "SKIFF_CONTEXT", context }, { "SKIFF_BRANCH", branch },
		{ "SKIFF_COMMIT", b->commit }, { "SKIFF_DEPLOYMENT_ID", b->id },
		{ "SKIFF_URL", url }, { "SKIFF_DEPLOYMENT_URL", durl },
	};
	for (size_t i = 0; i < BUILD_ENV_OWN - 1; i++)
		build_env_add(b, own[i].name, own[i].value, strlen(own[i].value));
	if (purl[0])
		build_env_add(b, "SKIFF_PREVIEW_URL", purl, strlen(purl));
	if (used)
		build_log(b, "Environment (%s): %s%s", context, names,
			  secrets ? "; secret values are shown as ***" : "");
	if (withheld)
		build_log(b, "Secret variables withheld (%zu): this build is of a pull request from a "
			  "fork", withheld);
	return 0;
}

void build_env_dispose(struct build *b)
{
	for (size_t i = 0; i < b->nenv; i++) {
		OPENSSL_cleanse(b->env[i], strlen(b->env[i]));
		free(b->env[i]);
	}
	free(b->env);
	b->env = NULL;
	b->nenv = 0;
	mask_dispose(&b->mask);
	secret_json_free(b->remote_secrets);
	b->remote_secrets = NULL;
}
