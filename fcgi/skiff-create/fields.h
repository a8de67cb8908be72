/* fields.h — the fields of a request body: the names a route accepts (every JSON route of
 * skiff-create), and the settings fields creation and PATCH share. */
#ifndef SKIFF_CREATE_FIELDS_H
#define SKIFF_CREATE_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include "error.h"
#include "hook.h"

/* Reads an optional string field: absent, null or (in forms) empty means not given (*out
 * NULL); not a string, or with a NUL, is invalid_field. */
int create_field(json_t *body, const char *name, bool is_form, const char **out,
		 struct error *err);
/* JSON clients name only the fields a route knows: unknown_field for any key of body not in
 * known (NULL-terminated). */
int create_fields_known(json_t *body, const char *const *known, struct error *err);
/* A flag: JSON true/false, or a form checkbox ("on", "1", "true"); absent is false. */
int create_flag(json_t *body, const char *name, bool is_form, bool *out, struct error *err);
/* webhookSecret: a string (16-256 printable characters) sets it; absent in JSON, or true,
 * generates one (*generated); false (or an empty form field) means none. */
int create_secret(json_t *body, bool is_form, char out[HOOK_SECRET_MAX + 1], bool *generated,
		  struct error *err);

#endif
