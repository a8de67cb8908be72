/* error.c — recording errors and mapping skiff codes to HTTP statuses in one table. */
#include "error.h"

#include <stdio.h>
#include <string.h>

static const struct {
	int code;
	int status;
	const char *name;
} error_table[] = {
	{ SKIFF_OK, 200, "ok" },
	{ SKIFF_EINVALID, 400, "invalid_request" },
	{ SKIFF_ENOTFOUND, 404, "not_found" },
	{ SKIFF_ECONFLICT, 409, "conflict" },
	{ SKIFF_ELIMIT, 413, "too_large" },
	{ SKIFF_ETYPE, 415, "unsupported_media_type" },
	{ SKIFF_EAUTH, 401, "unauthorized" },
	{ SKIFF_EFORBIDDEN, 403, "forbidden" },
	{ SKIFF_EMETHOD, 405, "method_not_allowed" },
	{ SKIFF_EREDIS, 503, "redis_unavailable" },
	{ SKIFF_ESTORE, 503, "store_unavailable" },
	{ SKIFF_EIO, 500, "io_error" },
	{ SKIFF_ESYS, 500, "system_error" },
	{ SKIFF_EGIT, 502, "git_error" },
	{ SKIFF_EBUILD, 500, "build_failed" },
	{ SKIFF_ETIMEOUT, 504, "timeout" },
	{ SKIFF_ECANCELED, 409, "canceled" },
	{ SKIFF_EGONE, 410, "gone" },
	{ SKIFF_ERATE, 429, "rate_limited" },
	{ SKIFF_EURITOOLONG, 414, "uri_too_long" },
	{ SKIFF_EINTERNAL, 500, "internal_error" },
	{ SKIFF_EUPSTREAM, 502, "bad_gateway" },
};

static size_t error_index(int code)
{
	for (size_t i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++)
		if (error_table[i].code == code)
			return i;
	return (size_t)-1;
}

int error_set(struct error *err, int code, const char *name, const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	if (!name)
		name = error_default_name(code);
	snprintf(err->name, sizeof(err->name), "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

void error_clear(struct error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int error_status(int code)
{
	size_t i = error_index(code);
	return i == (size_t)-1 ? 500 : error_table[i].status;
}

const char *error_default_name(int code)
{
	size_t i = error_index(code);
	return i == (size_t)-1 ? "internal_error" : error_table[i].name;
}
