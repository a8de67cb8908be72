/* check_sse.c — skiff-sse-bridge's pure parts: the request parser (fed at every length),
 * stream ids, SSE framing and the JSON payload of log entries. The program's sources are
 * compiled in, as they are not part of lib/. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../sse-bridge/skiff-sse-bridge/frame.c"
#include "../sse-bridge/skiff-sse-bridge/request.c"

static int parse(const char *req, struct request *r, const char **code)
{
	*code = "";
	return request_parse(req, strlen(req), r, code);
}

/* ---- request --------------------------------------------------------------------------- */

START_TEST(test_sse_request_complete_every_prefix)
{
	static const char *const reqs[] = {
		"GET /events/abcdefghijkm HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 1-2\r\n\r\n",
		"GET /events/abcdefghijkm HTTP/1.0\n\n",
		"GET /events/abcdefghijkm HTTP/1.1\r\n\r\n",
	};
	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		size_t n = strlen(reqs[k]);
		/* fed one byte more at a time, as a slow client sends it */
		for (size_t i = 0; i < n; i++)
			ck_assert_uint_eq(request_complete(reqs[k], i), 0);
		ck_assert_uint_eq(request_complete(reqs[k], n), n);
		/* bytes after the header block (pipelined junk) are not part of it */
		char more[256];
		snprintf(more, sizeof(more), "%sXYZ", reqs[k]);
		ck_assert_uint_eq(request_complete(more, strlen(more)), n);
	}
}
END_TEST

START_TEST(test_sse_request_parse_ok)
{
	struct request r;
	const char *code;
	ck_assert_int_eq(parse("GET /events/abcdefghijkm HTTP/1.1\r\nHost: x\r\n\r\n", &r, &code), 0);
	ck_assert_str_eq(r.id, "abcdefghijkm");
	ck_assert(r.last.ms == 0 && r.last.seq == 0);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm HTTP/1.1\r\nlast-event-id:  1732270000000-5 \r\n\r\n",
			       &r, &code), 0);
	ck_assert(r.last.ms == 1732270000000ull && r.last.seq == 5);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm?x=1&lastEventId=7-8 HTTP/1.1\r\n\r\n", &r, &code), 0);
	ck_assert(r.last.ms == 7 && r.last.seq == 8);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm?lastEventId=7%2D9 HTTP/1.1\r\n\r\n", &r, &code), 0);
	ck_assert(r.last.ms == 7 && r.last.seq == 9);
	/* the header (a browser reconnecting) wins over the query (the page's first URL) */
	ck_assert_int_eq(parse("GET /events/abcdefghijkm?lastEventId=7-8 HTTP/1.1\r\nLast-Event-ID: 9-0\r\n\r\n",
			       &r, &code), 0);
	ck_assert(r.last.ms == 9 && r.last.seq == 0);
	/* an empty Last-Event-ID is none */
	ck_assert_int_eq(parse("GET /events/abcdefghijkm HTTP/1.1\r\nLast-Event-ID:\r\n\r\n", &r, &code), 0);
	ck_assert(r.last.ms == 0 && r.last.seq == 0);
	/* behind a proxy prefix */
	ck_assert_int_eq(parse("GET /skiff/events/abcdefghijkm HTTP/1.1\r\n\r\n", &r, &code), 0);
	ck_assert_str_eq(r.id, "abcdefghijkm");
}
END_TEST

/* The Authorization header is kept for the bridge's read check (public_reads = false). */
START_TEST(test_sse_request_authorization)
{
	struct request r;
	const char *code;
	ck_assert_int_eq(parse("GET /events/abcdefghijkm HTTP/1.1\r\nHost: x\r\n\r\n", &r, &code), 0);
	ck_assert_ptr_null(r.authorization);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm HTTP/1.1\r\nauthorization:  Bearer s3cret \r\n"
			       "Last-Event-ID: 1-2\r\n\r\n", &r, &code), 0);
	ck_assert_uint_eq(r.authorization_len, 13);
	ck_assert(!memcmp(r.authorization, "Bearer s3cret", 13));
	ck_assert(r.last.ms == 1 && r.last.seq == 2);
}
END_TEST

START_TEST(test_sse_request_parse_errors)
{
	struct request r;
	const char *code;
	ck_assert_int_eq(parse("GET /events/ABCDEFGHIJKM HTTP/1.1\r\n\r\n", &r, &code), 400);
	ck_assert_str_eq(code, "invalid_id");
	ck_assert_int_eq(parse("GET /events/abcdefghijk HTTP/1.1\r\n\r\n", &r, &code), 400);
	ck_assert_int_eq(parse("GET /events/abcdefghijkmn HTTP/1.1\r\n\r\n", &r, &code), 400);
	ck_assert_int_eq(parse("GET /events/abcdefghijk1 HTTP/1.1\r\n\r\n", &r, &code), 400);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm HTTP/1.1\r\nLast-Event-ID: 1-2-3\r\n\r\n", &r, &code), 400);
	ck_assert_str_eq(code, "invalid_last_event_id");
	ck_assert_int_eq(parse("GET /events/abcdefghijkm HTTP/1.1\r\nLast-Event-ID: x\r\n\r\n", &r, &code), 400);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm?lastEventId=1- HTTP/1.1\r\n\r\n", &r, &code), 400);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm?lastEventId=%zz HTTP/1.1\r\n\r\n", &r, &code), 400);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm?lastEventId=1-% HTTP/1.1\r\n\r\n", &r, &code), 400);
	ck_assert_int_eq(parse("POST /events/abcdefghijkm HTTP/1.1\r\n\r\n", &r, &code), 405);
	ck_assert_int_eq(parse("HEAD /events/abcdefghijkm HTTP/1.1\r\n\r\n", &r, &code), 405);
	ck_assert_int_eq(parse("GET /events/ HTTP/1.1\r\n\r\n", &r, &code), 404);
	ck_assert_int_eq(parse("GET /events HTTP/1.1\r\n\r\n", &r, &code), 404);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm/ HTTP/1.1\r\n\r\n", &r, &code), 404);
	ck_assert_int_eq(parse("GET /myevents/abcdefghijkm HTTP/1.1\r\n\r\n", &r, &code), 404);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\n\r\n", &r, &code), 404);
	ck_assert_int_eq(parse("POST /api/x HTTP/1.1\r\n\r\n", &r, &code), 404);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm HTTP/2.0\r\n\r\n", &r, &code), 505);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm\r\n\r\n", &r, &code), 400);
	ck_assert_int_eq(parse("GET  /events/abcdefghijkm HTTP/1.1\r\n\r\n", &r, &code), 400);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm HTTP/1.1\r\nno colon\r\n\r\n", &r, &code), 400);
	ck_assert_int_eq(parse("GET /events/abcdefghijkm HTTP/1.1\r\n folded: x\r\n\r\n", &r, &code), 400);
	char many[8192];
	size_t n = (size_t)snprintf(many, sizeof(many), "GET /events/abcdefghijkm HTTP/1.1\r\n");
	for (int i = 0; i <= REQUEST_HEADER_LINES; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "X: y\r\n");
	snprintf(many + n, sizeof(many) - n, "\r\n");
	ck_assert_int_eq(parse(many, &r, &code), 431);
}
END_TEST

/* ---- stream ids ------------------------------------------------------------------------ */

START_TEST(test_sse_stream_id_parse)
{
	struct stream_id id;
	ck_assert_int_eq(stream_id_parse("1732270000000-0", 15, &id), 0);
	ck_assert(id.ms == 1732270000000ull && id.seq == 0);
	ck_assert_int_eq(stream_id_parse("18446744073709551615-18446744073709551615", 41, &id), 0);
	ck_assert(id.ms == UINT64_MAX && id.seq == UINT64_MAX);
	static const char *const bad[] = { "", "-", "1", "1-", "-1", "1-2-3", "a-1", "1-a", " 1-2",
					   "1-2 ", "+1-2", "18446744073709551616-0", "1--2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(stream_id_parse(bad[i], strlen(bad[i]), &id) < 0, "accepted '%s'", bad[i]);
	char out[STREAM_ID_MAX + 1];
	stream_id_format((struct stream_id){ UINT64_MAX, 7 }, out);
	ck_assert_str_eq(out, "18446744073709551615-7");
	ck_assert_int_eq(stream_id_cmp((struct stream_id){ 1, 9 }, (struct stream_id){ 2, 0 }), -1);
	ck_assert_int_eq(stream_id_cmp((struct stream_id){ 2, 1 }, (struct stream_id){ 2, 0 }), 1);
	ck_assert_int_eq(stream_id_cmp((struct stream_id){ 2, 1 }, (struct stream_id){ 2, 1 }), 0);
}
END_TEST

/* ---- framing --------------------------------------------------------------------------- */

static char *framed(const char *data)
{
	static char text[1024];
	struct buf b = BUF_INIT(4096);
	frame_event(&b, "1-0", "line", data, strlen(data));
	snprintf(text, sizeof(text), "%s", buf_cstr(&b));
	buf_dispose(&b);
	return text;
}

START_TEST(test_sse_frame_event_splits_lines)
{
	ck_assert_str_eq(framed("{}"), "id: 1-0\nevent: line\ndata: {}\n\n");
	ck_assert_str_eq(framed("a\nb\r\nc\rd"),
			 "id: 1-0\nevent: line\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
	ck_assert_str_eq(framed(""), "id: 1-0\nevent: line\ndata: \n\n");
	/* a trailing newline survives: the client joins data lines with \n */
	ck_assert_str_eq(framed("a\n"), "id: 1-0\nevent: line\ndata: a\ndata: \n\n");
	ck_assert_str_eq(framed("\n\n"), "id: 1-0\nevent: line\ndata: \ndata: \ndata: \n\n");
}
END_TEST

static char *json(const char *s, size_t n)
{
	static char text[1024];
	struct buf b = BUF_INIT(4096);
	frame_json_string(&b, s, n);
	snprintf(text, sizeof(text), "%s", buf_cstr(&b));
	buf_dispose(&b);
	return text;
}

START_TEST(test_sse_frame_json_string)
{
	ck_assert_str_eq(json("plain", 5), "\"plain\"");
	ck_assert_str_eq(json("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	ck_assert_str_eq(json("\n\t\r\x01\x1f", 5), "\"\\n\\t\\r\\u0001\\u001f\"");
	ck_assert_str_eq(json("\0x", 2), "\"\\u0000x\"");
	ck_assert_str_eq(json("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80", 12),
			 "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80\"");
	/* invalid UTF-8 becomes U+FFFD: a stray continuation, a cut sequence, overlong,
	 * a surrogate, beyond U+10FFFF */
	ck_assert_str_eq(json("a\x80z", 3), "\"a\xef\xbf\xbdz\"");
	ck_assert_str_eq(json("a\xe2\x82", 3), "\"a\xef\xbf\xbd\xef\xbf\xbd\"");
	ck_assert_str_eq(json("\xc0\xaf", 2), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	ck_assert_str_eq(json("\xed\xa0\x80", 3), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	ck_assert_str_eq(json("\xf4\x90\x80\x80", 4),
			 "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}
END_TEST

START_TEST(test_sse_frame_entry_payloads)
{
	struct buf b = BUF_INIT(1 << 20);
	struct stream_id id = { 1732270000000ull, 3 };
	frame_entry(&b, "1732270000000-3", id, "line", "stderr", 6, "oops", 4);
	ck_assert_str_eq(buf_cstr(&b), "id: 1732270000000-3\nevent: line\n"
				       "data: {\"s\":\"stderr\",\"m\":\"oops\",\"t\":1732270000000}\n\n");
	buf_reset(&b);
	frame_entry(&b, "1732270000000-3", id, "state", "system", 6, "building clone", 14);
	ck_assert_str_eq(buf_cstr(&b), "id: 1732270000000-3\nevent: state\n"
				       "data: {\"s\":\"system\",\"m\":\"building clone\",\"t\":1732270000000,"
				       "\"state\":\"building\",\"phase\":\"clone\"}\n\n");
	buf_reset(&b);
	frame_entry(&b, "1732270000000-3", id, "end", "system", 6, "error", 5);
	ck_assert_str_eq(buf_cstr(&b), "id: 1732270000000-3\nevent: end\n"
				       "data: {\"s\":\"system\",\"m\":\"error\",\"t\":1732270000000,"
				       "\"state\":\"error\"}\n\nretry: 86400000\n\n");
	/* the bound holds for the worst text: every byte escaped to six */
	char worst[300];
	memset(worst, 1, sizeof(worst));
	buf_reset(&b);
	frame_entry(&b, "1-1", id, "line", "stdout", 6, worst, sizeof(worst));
	ck_assert_uint_le(b.len, frame_entry_bound(sizeof(worst)));
	buf_dispose(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sse");
	TCase *tr = tcase_create("request");
	tcase_add_test(tr, test_sse_request_complete_every_prefix);
	tcase_add_test(tr, test_sse_request_parse_ok);
	tcase_add_test(tr, test_sse_request_parse_errors);
	tcase_add_test(tr, test_sse_request_authorization);
	suite_add_tcase(s, tr);
	TCase *tf = tcase_create("frame");
	tcase_add_test(tf, test_sse_stream_id_parse);
	tcase_add_test(tf, test_sse_frame_event_splits_lines);
	tcase_add_test(tf, test_sse_frame_json_string);
	tcase_add_test(tf, test_sse_frame_entry_payloads);
	suite_add_tcase(s, tf);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
