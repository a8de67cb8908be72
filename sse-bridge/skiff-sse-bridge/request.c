/* request.c — the bridge's one route: parsing "GET /events/{id}" and its Last-Event-ID. */
#include "request.h"
#include "frame.h"
#include "percent.h"

#include <string.h>
#include <strings.h>

size_t request_complete(const char *p, size_t n)
{
	/* the header block ends with an empty line: \r\n\r\n, or \n\n from lenient clients */
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < n && p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The next line of [*p, end): its start and length without the line ending. */
static const char *request_line(const char **p, const char *end, size_t *len)
{
	const char *s = *p;
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	if (!nl)
		return NULL;
	*len = (size_t)(nl - s);
	if (*len && s[*len - 1] == '\r')
		(*len)--;
	*p = nl + 1;
	return s;
}

/* The value of ?lastEventId= in the query [q, q+n): 1 found, 0 absent, -1 malformed. */
static int request_query_last(const char *q, size_t n, struct stream_id *out)
{
	static const char key[] = "lastEventId=";
	const char *end = q + n;
	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - q) >= sizeof(key) - 1 && !memcmp(q, key, sizeof(key) - 1)) {
			char v[STREAM_ID_MAX + 1];
			size_t vn;
			const char *val = q + sizeof(key) - 1;
			if (percent_decode(val, (size_t)(stop - val), PERCENT_PLUS, v, sizeof(v) - 1, &vn) < 0)
				return -1;
			if (vn == 0)
				return 0;
			return stream_id_parse(v, vn, out) < 0 ? -1 : 1;
		}
		q = amp ? amp + 1 : end;
	}
	return 0;
}

int request_parse(const char *p, size_t n, struct request *req, const char **code)
{
	const char *end = p + n, *line;
	size_t len;
	memset(req, 0, sizeof(*req));

	/* request line: METHOD SP target SP HTTP/1.x */
	if (!(line = request_line(&p, end, &len))) {
		*code = "bad_request";
		return 400;
	}
	const char *sp1 = memchr(line, ' ', len);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
	if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1) {
		*code = "bad_request";
		return 400;
	}
	const char *method = line, *target = sp1 + 1, *version = sp2 + 1;
	size_t mlen = (size_t)(sp1 - line), tlen = (size_t)(sp2 - target);
	size_t vlen = len - (size_t)(version - line);
	if (vlen != 8 || memcmp(version, "HTTP/1.", 7) || (version[7] != '0' && version[7] != '1')) {
		*code = "http_version_not_supported";
		return vlen >= 5 && !memcmp(version, "HTTP/", 5) ? 505 : 400;
	}

	/* the path ends in /events/{id}, whatever prefix a proxy put before it */
	const char *query = memchr(target, '?', tlen);
	size_t plen = query ? (size_t)(query - target) : tlen;
	size_t qlen = query ? tlen - plen - 1 : 0;
	if (query)
		query++;
	const char *slash = NULL;
	for (size_t i = plen; i > 0; i--)
		if (target[i - 1] == '/') {
			slash = target + i - 1;
			break;
		}
	static const char events[] = "/events";
	size_t elen = sizeof(events) - 1;
	if (target[0] != '/' || !slash || slash == target + plen - 1 ||
	    (size_t)(slash - target) < elen || memcmp(slash - elen, events, elen)) {
		*code = "not_found";
		return 404;
	}
	const char *id = slash + 1;
	size_t idlen = (size_t)(target + plen - id);

	if (mlen != 3 || memcmp(method, "GET", 3)) {
		*code = "method_not_allowed";
		return 405;
	}
	if (idlen != ID_LEN) {
		*code = "invalid_id";
		return 400;
	}
	memcpy(req->id, id, ID_LEN);
	req->id[ID_LEN] = '\0';
	if (!id_valid(req->id)) {
		*code = "invalid_id";
		return 400;
	}

	/* headers: only Last-Event-ID and Authorization matter; every line is checked for shape */
	int have_header = 0, lines = 0;
	while ((line = request_line(&p, end, &len)) && len > 0) {
		if (++lines > REQUEST_HEADER_LINES) {
			*code = "header_too_large";
			return 431;
		}
		const char *colon = memchr(line, ':', len);
		if (!colon || colon == line || line[0] == ' ' || line[0] == '\t') {
			*code = "bad_request";
			return 400;
		}
		size_t nlen = (size_t)(colon - line);
		const char *v = colon + 1, *vend = line + len;
		while (v < vend && (*v == ' ' || *v == '\t'))
			v++;
		while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		if (nlen == 13 && !strncasecmp(line, "Authorization", 13)) {
			req->authorization = v;
			req->authorization_len = (size_t)(vend - v);
			continue;
		}
		if (nlen != 13 || strncasecmp(line, "Last-Event-ID", 13))
			continue;
		if (vend == v)
			continue;   /* an empty Last-Event-ID means none */
		if (stream_id_parse(v, (size_t)(vend - v), &req->last) < 0) {
			*code = "invalid_last_event_id";
			return 400;
		}
		have_header = 1;
	}
	if (!have_header && query) {
		struct stream_id q;
		int rc = request_query_last(query, qlen, &q);
		if (rc < 0) {
			*code = "invalid_last_event_id";
			return 400;
		}
		if (rc > 0)
			req->last = q;
	}
	return 0;
}
