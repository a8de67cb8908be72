/* error.h — skiff error codes, the error struct callers own, and the one code→HTTP status table. */
#ifndef SKIFF_ERROR_H
#define SKIFF_ERROR_H

#include <stdarg.h>

enum {
	SKIFF_OK = 0,
	SKIFF_EINVALID = -1,   /* bad input: 400 */
	SKIFF_ENOTFOUND = -2,  /* 404 */
	SKIFF_ECONFLICT = -3,  /* 409 */
	SKIFF_ELIMIT = -4,     /* too large: 413 */
	SKIFF_ETYPE = -5,      /* unsupported media type: 415 */
	SKIFF_EAUTH = -6,      /* not authenticated: 401 */
	SKIFF_EFORBIDDEN = -7, /* 403 */
	SKIFF_EMETHOD = -8,    /* 405 */
	SKIFF_EREDIS = -9,     /* Redis unreachable or failed: 503 */
	SKIFF_ESTORE = -10,    /* store unreachable or failed: 503 */
	SKIFF_EIO = -11,       /* local I/O: 500 */
	SKIFF_ESYS = -12,      /* a system call failed: 500 */
	SKIFF_EGIT = -13,      /* git operation failed */
	SKIFF_EBUILD = -14,    /* the user's build failed */
	SKIFF_ETIMEOUT = -15,  /* 504 */
	SKIFF_ECANCELED = -16,
	SKIFF_EGONE = -17,     /* 410 */
	SKIFF_ERATE = -18,     /* 429 */
	SKIFF_EURITOOLONG = -19, /* 414 */
	SKIFF_EINTERNAL = -20, /* 500 */
	SKIFF_EUPSTREAM = -21, /* 502: a remote service answered badly */
};

#define ERROR_NAME_MAX 48
#define ERROR_MESSAGE_MAX 512

/* Filled by the failing function; the caller owns it (usually on the stack). */
struct error {
	int code;                     /* one of SKIFF_E* */
	char name[ERROR_NAME_MAX];    /* machine-readable, e.g. "invalid_git_url" */
	char message[ERROR_MESSAGE_MAX];
};

/* Records code, name and a formatted message in err (may be NULL); returns code. */
int error_set(struct error *err, int code, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void error_clear(struct error *err);
/* HTTP status for a skiff error code (500 for unknown codes). */
int error_status(int code);
/* Default machine name of a code ("not_found", "redis_unavailable", ...). */
const char *error_default_name(int code);

#endif
