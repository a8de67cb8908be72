/* fields.c — the fields of a request body: the names a route accepts, optional strings, flags,
 * the webhook secret. */
#include "fields.h"
#include "hook.h"

#include <stdio.h>
#include <string.h>

int create_fields_known(json_t *body, const char *const *known, struct error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v) {
		bool ok = false;
		for (size_t i = 0; known[i]; i++)
			ok |= !strcmp(key, known[i]);
		if (!ok)
			return error_set(err, SKIFF_EINVALID, "unknown_field", "unknown field '%.64s'",
					 key);
	}
	return 0;
}

/* Reads an optional string field: absent, null or (in forms) empty means not given. */
int create_field(json_t *body, const char *name, bool is_form, const char **out,
		 struct error *err)
{
	json_t *v = json_object_get(body, name);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return error_set(err, SKIFF_EINVALID, "invalid_field", "%s must be a string", name);
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return error_set(err, SKIFF_EINVALID, "invalid_field", "%s must not contain NUL", name);
	if (*s || !is_form)
		*out = s;
	return 0;
}

/* watch: JSON true/false, or a form checkbox ("on", "1", "true"). */
int create_flag(json_t *body, const char *name, bool is_form, bool *out, struct error *err)
{
	json_t *v = json_object_get(body, name);
	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (is_form && json_is_string(v)) {
		const char *s = json_string_value(v);
		*out = !strcmp(s, "on") || !strcmp(s, "1") || !strcmp(s, "true");
		return 0;
	}
	if (!json_is_boolean(v))
		return error_set(err, SKIFF_EINVALID, "invalid_field", "%s must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

/* webhookSecret: a string (16-256 printable characters) sets it; absent in JSON, or true,
 * generates one, returned once in the answer; false (or an empty form field) means none. */
int create_secret(json_t *body, bool is_form, char out[HOOK_SECRET_MAX + 1], bool *generated,
		  struct error *err)
{
	json_t *v = json_object_get(body, "webhookSecret");
	out[0] = '\0';
	*generated = false;
	if (json_is_false(v) || (is_form && (!v || (json_is_string(v) && !*json_string_value(v)))))
		return 0;
	if (!v || json_is_null(v) || json_is_true(v)) {
		hook_secret_new(out);
		*generated = true;
		return 0;
	}
	if (!json_is_string(v) || !hook_secret_valid(json_string_value(v)))
		return error_set(err, SKIFF_EINVALID, "invalid_webhook_secret",
				 "webhookSecret must be %d to %d printable characters without spaces",
				 HOOK_SECRET_MIN, HOOK_SECRET_MAX);
	snprintf(out, HOOK_SECRET_MAX + 1, "%s", json_string_value(v));
	return 0;
}
