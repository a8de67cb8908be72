/* body.c — the body of the routes that speak JSON only: request_body_object without forms. */
#include "body.h"

#include <stdbool.h>

int create_body_json(struct http_request *req, json_t **body, const char *why, struct error *err)
{
	bool is_form = false;
	if (request_body_object(req, body, &is_form, err) < 0)
		return err->code;
	if (is_form)
		return error_set(err, SKIFF_ETYPE, "unsupported_media_type", "%s (application/json)",
				 why);
	return 0;
}
