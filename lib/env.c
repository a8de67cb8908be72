/* env.c — a project's environment variables: validation, contexts, sealing, storage form. */
#include "env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

/* Set by skiff for every build (builder/skiff-build/run.c asserts that each variable it sets
 * is here), or part of how programs start: never a project's. */
static const char *const env_reserved[] = {
	"SKIFF", "PATH", "HOME", "CI", "LANG", "TERM", "NO_COLOR", "GCONV_PATH", "GETCONF_DIR", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "NLSPATH",
	"RES_OPTIONS", "MALLOC_CHECK_", "MALLOC_PERTURB_", "BASH_ENV", "ENV", "IFS",
	"SHELLOPTS", "BASHOPTS", "PS4", NULL,
};
static const char *const env_reserved_prefixes[] = {
	"SKIFF_", "LD_", "GLIBC_", "BASH_FUNC_", NULL,
};
/* The package managers' settings skiff sets for the build cache and quiet installs; npm, pnpm
 * and yarn read these names in any case (NPM_CONFIG_CACHE is npm_config_cache), so they are
 * compared without it. */
static const char *const env_reserved_any_case[] = {
	"npm_config_cache", "npm_config_store_dir", "YARN_CACHE_FOLDER",
	"npm_config_prefer_offline", "npm_config_update_notifier", "npm_config_fund",
	"npm_config_audit", NULL,
};

struct env_list *env_list_new(void)
{
	struct env_list *l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	return l;
}

static void env_var_dispose(struct env_var *v)
{
	if (v->value) {
		OPENSSL_cleanse(v->value, strlen(v->value));
		free(v->value);
	}
	v->value = NULL;
}

void env_list_free(struct env_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		env_var_dispose(&l->vars[i]);
	free(l->vars);
	free(l);
}

struct env_var *env_list_find(const struct env_list *l, const char *name)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->vars[i].name, name))
			return &l->vars[i];
	return NULL;
}

bool env_name_reserved(const char *name)
{
	for (int i = 0; env_reserved[i]; i++)
		if (!strcmp(name, env_reserved[i]))
			return true;
	for (int i = 0; env_reserved_any_case[i]; i++)
		if (!strcasecmp(name, env_reserved_any_case[i]))
			return true;
	return false;
}

int env_name_check(const char *name, struct error *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > ENV_NAME_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_env_name",
				 "a variable name must be 1 to %d characters", ENV_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (i > 0 && c >= '0' && c <= '9');
		if (!ok)
			return error_set(err, SKIFF_EINVALID, "invalid_env_name",
					 "'%.64s' is not a variable name (letters, digits and _, not "
					 "starting with a digit)", name);
	}
	if (env_name_reserved(name))
		return error_set(err, SKIFF_EINVALID, "invalid_env_name",
				 "%s is set by skiff or changes how programs start; it cannot "
				 "be a project's variable", name);
	for (int i = 0; env_reserved_prefixes[i]; i++)
		if (!strncmp(name, env_reserved_prefixes[i], strlen(env_reserved_prefixes[i])))
			return error_set(err, SKIFF_EINVALID, "invalid_env_name",
					 "names starting with %s are reserved (%.64s)",
					 env_reserved_prefixes[i], name);
	return 0;
}

int env_value_check(const char *value, size_t len, const char *name, struct error *err)
{
	if (len > ENV_VALUE_MAX)
		return error_set(err, SKIFF_ELIMIT, "env_too_large",
				 "the value of %s is longer than %d bytes", name, ENV_VALUE_MAX);
	if (memchr(value, '\0', len))
		return error_set(err, SKIFF_EINVALID, "invalid_env_value",
				 "the value of %s contains a NUL character", name);
	return 0;
}

int env_var_open(const struct secret_key *k, const char *slug, const struct env_var *v,
		 char **plain, size_t *n, struct error *err)
{
	char aad[ENV_AAD_MAX + 1];
	snprintf(aad, sizeof(aad), "%s/env/%s", slug, v->name);
	if (secret_open(k, aad, v->value, plain, n, err) < 0)
		return error_set(err, SKIFF_EINVALID, "secret_invalid",
				 "the secret variable %s cannot be opened (the key file changed, or "
				 "the stored value was altered): set it again", v->name);
	return 0;
}

unsigned env_context_bit(const char *context)
{
	if (!context || !*context || !strcmp(context, "production"))
		return ENV_PRODUCTION;
	if (!strcmp(context, "preview"))
		return ENV_PREVIEW;
	return 0;
}

static int env_contexts_json(json_t *v, const char *name, unsigned *out, struct error *err)
{
	size_t i;
	json_t *c;
	*out = 0;
	if (!v || json_is_null(v)) {
		*out = ENV_ALL;
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		return error_set(err, SKIFF_EINVALID, "invalid_env_context",
				 "contexts of %s must be a non-empty array of \"production\" and "
				 "\"preview\"", name);
	json_array_foreach(v, i, c) {
		unsigned bit = json_is_string(c) && *json_string_value(c)
				       ? env_context_bit(json_string_value(c)) : 0;
		if (!bit)
			return error_set(err, SKIFF_EINVALID, "invalid_env_context",
					 "contexts of %s: each is \"production\" or \"preview\"", name);
		*out |= bit;
	}
	return 0;
}

static size_t env_list_total(const struct env_list *l)
{
	size_t t = 0;
	for (size_t i = 0; i < l->n; i++)
		t += strlen(l->vars[i].name) + (l->vars[i].value ? strlen(l->vars[i].value) : 0);
	return t;
}

static const char *const env_item_fields[] = { "name", "value", "secret", "contexts", NULL };

int env_list_put_json(struct env_list *l, json_t *item, struct error *err)
{
	if (!json_is_object(item))
		return error_set(err, SKIFF_EINVALID, "invalid_env",
				 "each variable is an object {\"name\", \"value\", \"secret\", "
				 "\"contexts\"}");
	const char *key;
	json_t *f;
	json_object_foreach(item, key, f) {
		bool known = false;
		for (int i = 0; env_item_fields[i]; i++)
			known |= !strcmp(key, env_item_fields[i]);
		if (!known)
			return error_set(err, SKIFF_EINVALID, "invalid_env",
					 "unknown field '%.64s' in a variable", key);
	}
	json_t *jn = json_object_get(item, "name"), *jv = json_object_get(item, "value"),
	       *js = json_object_get(item, "secret");
	if (!json_is_string(jn) || strlen(json_string_value(jn)) != json_string_length(jn))
		return error_set(err, SKIFF_EINVALID, "invalid_env_name",
				 "each variable needs a \"name\" string");
	const char *name = json_string_value(jn);
	int rc = env_name_check(name, err);
	if (rc < 0)
		return rc;
	if (js && !json_is_boolean(js))
		return error_set(err, SKIFF_EINVALID, "invalid_env",
				 "\"secret\" of %s must be true or false", name);
	bool secret = json_is_true(js);
	if (jv && !json_is_null(jv) && !json_is_string(jv))
		return error_set(err, SKIFF_EINVALID, "invalid_env_value",
				 "the value of %s must be a string", name);
	if ((!jv || json_is_null(jv)) && !secret)
		return error_set(err, SKIFF_EINVALID, "invalid_env_value",
				 "%s needs a \"value\" (only a secret may leave it out to keep the "
				 "stored one)", name);
	const char *value = jv && json_is_string(jv) ? json_string_value(jv) : NULL;
	if (value && (rc = env_value_check(value, json_string_length(jv), name, err)) < 0)
		return rc;
	unsigned contexts;
	if ((rc = env_contexts_json(json_object_get(item, "contexts"), name, &contexts, err)) < 0)
		return rc;

	struct env_var *v = env_list_find(l, name);
	if (!v) {
		if (l->n >= ENV_COUNT_MAX)
			return error_set(err, SKIFF_ELIMIT, "env_too_large",
					 "a project has at most %d variables", ENV_COUNT_MAX);
		struct env_var *grown = realloc(l->vars, (l->n + 1) * sizeof(*grown));
		if (!grown)
			abort();
		l->vars = grown;
		v = &l->vars[l->n++];
		memset(v, 0, sizeof(*v));
		snprintf(v->name, sizeof(v->name), "%s", name);
	}
	env_var_dispose(v);
	v->secret = secret;
	v->sealed = false;
	v->contexts = contexts;
	if (value && !(v->value = strdup(value)))
		abort();
	if (env_list_total(l) > ENV_TOTAL_MAX) {
		/* the list is the caller's work in progress: it is thrown away on error */
		return error_set(err, SKIFF_ELIMIT, "env_too_large",
				 "the variables of a project take at most %d bytes", ENV_TOTAL_MAX);
	}
	return 0;
}

int env_list_from_json(json_t *array, struct env_list **out, struct error *err)
{
	*out = NULL;
	if (!json_is_array(array))
		return error_set(err, SKIFF_EINVALID, "invalid_env",
				 "env must be an array of {\"name\", \"value\", \"secret\", "
				 "\"contexts\"}");
	if (json_array_size(array) > ENV_COUNT_MAX)
		return error_set(err, SKIFF_ELIMIT, "env_too_large",
				 "a project has at most %d variables", ENV_COUNT_MAX);
	struct env_list *l = env_list_new();
	size_t i;
	json_t *item;
	json_array_foreach(array, i, item) {
		json_t *jn = json_object_get(item, "name");
		if (json_is_string(jn) && env_list_find(l, json_string_value(jn))) {
			env_list_free(l);
			return error_set(err, SKIFF_EINVALID, "invalid_env_name",
					 "%.128s is given twice", json_string_value(jn));
		}
		int rc = env_list_put_json(l, item, err);
		if (rc < 0) {
			env_list_free(l);
			return rc;
		}
	}
	*out = l;
	return 0;
}

int env_list_merge_kept(struct env_list *l, const struct env_list *old, struct error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		struct env_var *v = &l->vars[i];
		if (v->value)
			continue;
		const struct env_var *o = env_list_find(old, v->name);
		if (!o || !o->secret || !o->value)
			return error_set(err, SKIFF_EINVALID, "invalid_env_value",
					 "%s is a new secret: it needs a value", v->name);
		if (!(v->value = strdup(o->value)))
			abort();
		v->secret = true;
		v->sealed = o->sealed;
	}
	return 0;
}

int env_list_seal(struct env_list *l, const char *slug, const char *key_file, struct error *err)
{
	struct secret_key key;
	bool loaded = false;
	int rc = 0;
	memset(&key, 0, sizeof(key));
	for (size_t i = 0; i < l->n && rc == 0; i++) {
		struct env_var *v = &l->vars[i];
		/* a kept secret is sealed already (from storage); a typed value that merely looks
		 * sealed is sealed like any other */
		if (!v->secret || !v->value || v->sealed)
			continue;
		if (!loaded && (rc = secret_key_load(key_file, &key, err)) < 0)
			break;
		loaded = true;
		char aad[ENV_AAD_MAX + 1], *sealed = NULL;
		snprintf(aad, sizeof(aad), "%s/env/%s", slug, v->name);
		rc = secret_seal(&key, aad, v->value, strlen(v->value), &sealed, err);
		if (rc == 0) {
			env_var_dispose(v);
			v->value = sealed;
			v->sealed = true;
		}
	}
	secret_key_dispose(&key);
	return rc;
}

/* The contexts of v as a JSON array of names (new reference). */
static json_t *env_contexts_array(const struct env_var *v)
{
	json_t *ctx = json_array();
	if (v->contexts & ENV_PRODUCTION)
		json_array_append_new(ctx, json_string("production"));
	if (v->contexts & ENV_PREVIEW)
		json_array_append_new(ctx, json_string("preview"));
	return ctx;
}

char *env_var_encode(const struct env_var *v)
{
	json_t *ctx = env_contexts_array(v);
	json_t *o = json_pack("{s:s,s:b,s:o}", "value", v->value ? v->value : "", "secret",
			      v->secret, "contexts", ctx);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		abort();
	return s;
}

int env_var_decode(const char *name, const char *text, size_t len, struct env_var *v,
		   struct error *err)
{
	memset(v, 0, sizeof(*v));
	json_t *o = json_loadb(text, len, 0, NULL);
	json_t *jv = json_object_get(o, "value");
	unsigned contexts = 0;
	struct error e;
	if (!json_is_string(jv) || strlen(name) > ENV_NAME_MAX ||
	    env_contexts_json(json_object_get(o, "contexts"), name, &contexts, &e) < 0) {
		json_decref(o);
		return error_set(err, SKIFF_EINTERNAL, "invalid_env",
				 "the stored variable %.128s is unreadable", name);
	}
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->secret = json_is_true(json_object_get(o, "secret"));
	v->sealed = v->secret;
	v->contexts = contexts;
	if (!(v->value = strdup(json_string_value(jv))))
		abort();
	json_decref(o);
	return 0;
}

static int env_var_cmp(const void *a, const void *b)
{
	return strcmp(((const struct env_var *)a)->name, ((const struct env_var *)b)->name);
}

json_t *env_list_api(const struct env_list *l)
{
	json_t *arr = json_array();
	if (!l || !l->n)
		return arr;
	struct env_var *sorted = malloc(l->n * sizeof(*sorted));
	if (!sorted)
		abort();
	memcpy(sorted, l->vars, l->n * sizeof(*sorted));
	qsort(sorted, l->n, sizeof(*sorted), env_var_cmp);
	for (size_t i = 0; i < l->n; i++) {
		const struct env_var *v = &sorted[i];
		json_t *o = json_pack("{s:s,s:b,s:b,s:o}", "name", v->name, "secret", v->secret,
				      "set", v->value != NULL, "contexts", env_contexts_array(v));
		if (!v->secret)
			json_object_set_new(o, "value", json_string(v->value ? v->value : ""));
		json_array_append_new(arr, o);
	}
	free(sorted);
	return arr;
}
