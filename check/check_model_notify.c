/* check_model_notify.c — deploy notifications and build hooks against a real redis-server:
 * state changes of a project with notification hooks reach the outbox once each (started,
 * ready, failed, canceled; phase changes are not events), a project without hooks writes
 * nothing; an outbox entry becomes deliveries once even when two dispatchers race; claims are
 * leased; attempts are recorded; the history is bounded; a removed hook drops its pending
 * deliveries; build hooks are found by their secret only, which Redis never holds, and die
 * with their project. */
#include "modelenv.h"
#include "hash.h"
#include "model_buildhook.h"
#include "model_lifecycle.h"
#include "model_notify.h"

/* Project slug with one notification hook "hk" to url, for events (a JSON array). */
static void hooked(const char *slug, char id[ID_LEN + 1])
{
	struct error err;
	create(slug, id);
	json_t *h = json_pack("{sss[ss]sssI}", "url", "https://example.com/h", "events",
			      "deploy.started", "deploy.ready", "secret", "s3cr3t-s3cr3t-s3cr3t",
			      "created", (json_int_t)1);
	ck_assert_int_eq(model_notify_hook_create(r, slug, "hkhkhkhkhkhk", h, &err), 0);
	json_decref(h);
}

static long long outbox_len(void)
{
	return rc_int("LLEN %s", key("notify:outbox"), NULL);
}

static const char *outbox_at(long i)
{
	static char out[128];
	redisReply *e = rc_cmd("LINDEX %s %ld", key("notify:outbox"), i);
	snprintf(out, sizeof(out), "%s", e->type == REDIS_REPLY_STRING ? e->str : "");
	freeReplyObject(e);
	char *sp = strrchr(out, ' ');
	if (sp)
		*sp = '\0'; /* without the time */
	return out;
}

START_TEST(test_model_notify_outbox_events)
{
	char id[ID_LEN + 1], out[64];
	struct error err;
	hooked("site", id);
	ck_assert_int_eq(outbox_len(), 0); /* queued is not an event */
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "clone", NULL, 0, &err), 0);
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "build", NULL, 0, &err), 0);
	ck_assert_int_eq(outbox_len(), 1);
	ck_assert_int_eq(model_deployment_promote(r, id, NULL, 0, &err), 0);
	ck_assert_int_eq(outbox_len(), 2);
	snprintf(out, sizeof(out), "%s deploy.started", id);
	ck_assert_str_eq(outbox_at(-1), out);
	snprintf(out, sizeof(out), "%s deploy.ready", id);
	ck_assert_str_eq(outbox_at(0), out);

	/* failed and canceled */
	struct deployment d;
	char id2[ID_LEN + 1], id3[ID_LEN + 1], sup[ID_LEN + 1];
	bool stopping;
	id_new(id2);
	deployment_rec(&d, id2, "site");
	ck_assert_int_eq(model_lifecycle_redeploy(r, "site", &d, sup, &err), 0);
	ck_assert_int_eq(model_deployment_state(r, id2, DEPLOYMENT_ERROR, NULL, NULL, 0, &err), 0);
	snprintf(out, sizeof(out), "%s deploy.failed", id2);
	ck_assert_str_eq(outbox_at(0), out);
	id_new(id3);
	deployment_rec(&d, id3, "site");
	ck_assert_int_eq(model_lifecycle_redeploy(r, "site", &d, sup, &err), 0);
	ck_assert_int_eq(model_lifecycle_cancel(r, id3, &stopping, &err), 0);
	snprintf(out, sizeof(out), "%s deploy.canceled", id3);
	ck_assert_str_eq(outbox_at(0), out);
	ck_assert_int_eq(outbox_len(), 4);
}
END_TEST

START_TEST(test_model_notify_no_hooks_no_outbox)
{
	char id[ID_LEN + 1];
	struct error err;
	create("plain", id);
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "clone", NULL, 0, &err), 0);
	ck_assert_int_eq(model_deployment_promote(r, id, NULL, 0, &err), 0);
	ck_assert_int_eq(outbox_len(), 0);
}
END_TEST

/* One delivery of the oldest outbox entry, as skiff-dispatch would record it. */
static json_t *one_delivery(const char *did, const char *created)
{
	return json_pack("[{ssssssssssssssss}]", "id", did, "project", "site", "hook",
			 "hkhkhkhkhkhk", "url", "https://example.com/h", "event", "deploy.started",
			 "deployment", "dddddddddddd", "body", "{\"a\":1}", "created", created);
}

START_TEST(test_model_notify_take_claim_attempt)
{
	char id[ID_LEN + 1], entry[NOTIFY_ENTRY_MAX + 1];
	struct error err;
	hooked("site", id);
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "clone", NULL, 0, &err), 0);
	ck_assert_int_eq(model_notify_outbox_peek(r, entry, &err), 0);
	ck_assert_str_ne(entry, "");
	json_t *list = one_delivery("aaaaaaaaaaaa", "1000");
	ck_assert_int_eq(model_notify_outbox_take(r, entry, list, &err), 1);
	/* a second dispatcher with the same entry finds it taken: nothing twice */
	ck_assert_int_eq(model_notify_outbox_take(r, entry, list, &err), 0);
	json_decref(list);
	ck_assert_int_eq(outbox_len(), 0);

	json_t *due = NULL;
	ck_assert_int_eq(model_notify_claim(r, 999, 5000, 8, &due, &err), 0);
	ck_assert_uint_eq(json_array_size(due), 0); /* not due yet */
	json_decref(due);
	ck_assert_int_eq(model_notify_claim(r, 2000, 5000, 8, &due, &err), 0);
	ck_assert_uint_eq(json_array_size(due), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(due, 0), "secret")),
			 "s3cr3t-s3cr3t-s3cr3t");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(due, 0), "body")),
			 "{\"a\":1}");
	json_decref(due);
	/* leased: another claim within the lease gets nothing */
	ck_assert_int_eq(model_notify_claim(r, 3000, 5000, 8, &due, &err), 0);
	ck_assert_uint_eq(json_array_size(due), 0);
	json_decref(due);
	ck_assert_int_eq(model_notify_attempt(r, "aaaaaaaaaaaa", "pending", 1, 500,
					      "the receiver answered HTTP 500", 3000, 4000, &err), 0);
	ck_assert_int_eq(model_notify_claim(r, 4000, 5000, 8, &due, &err), 0);
	ck_assert_uint_eq(json_array_size(due), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(due, 0), "attempts")), 1);
	json_decref(due);
	ck_assert_int_eq(model_notify_attempt(r, "aaaaaaaaaaaa", "delivered", 2, 204, "", 4100, 0,
					      &err), 0);
	ck_assert_int_eq(rc_int("ZCARD %s", key("notify:due"), NULL), 0);
	json_t *hist = NULL;
	ck_assert_int_eq(model_notify_history(r, "site", 10, &hist, &err), 0);
	ck_assert_uint_eq(json_array_size(hist), 1);
	json_t *h0 = json_array_get(hist, 0);
	ck_assert_str_eq(json_string_value(json_object_get(h0, "state")), "delivered");
	ck_assert_int_eq(json_integer_value(json_object_get(h0, "attempts")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(h0, "responseStatus")), 204);
	ck_assert(json_is_null(json_object_get(h0, "nextAttempt")));
	json_decref(hist);
}
END_TEST

START_TEST(test_model_notify_history_bounded)
{
	char id[ID_LEN + 1], entry[NOTIFY_ENTRY_MAX + 1], did[ID_LEN + 1], created[24];
	struct error err;
	hooked("site", id);
	for (int i = 0; i < NOTIFY_HISTORY_MAX + 5; i++) {
		freeReplyObject(rc_cmd("LPUSH %s x", key("notify:outbox")));
		ck_assert_int_eq(model_notify_outbox_peek(r, entry, &err), 0);
		id_new(did);
		snprintf(created, sizeof(created), "%d", 1000 + i);
		json_t *list = one_delivery(did, created);
		ck_assert_int_eq(model_notify_outbox_take(r, entry, list, &err), 1);
		json_decref(list);
	}
	ck_assert_int_eq(rc_int("ZCARD %s", key("project:site:notify:log"), NULL),
			 NOTIFY_HISTORY_MAX);
	ck_assert_int_eq(rc_int("ZCARD %s", key("notify:due"), NULL), NOTIFY_HISTORY_MAX);
	redisReply *keys = rc_cmd("KEYS %s", key("notify:delivery:*"));
	ck_assert_uint_eq(keys->elements, NOTIFY_HISTORY_MAX);
	freeReplyObject(keys);
}
END_TEST

START_TEST(test_model_notify_hook_removed_drops)
{
	char id[ID_LEN + 1], entry[NOTIFY_ENTRY_MAX + 1];
	struct error err;
	hooked("site", id);
	freeReplyObject(rc_cmd("LPUSH %s x", key("notify:outbox")));
	ck_assert_int_eq(model_notify_outbox_peek(r, entry, &err), 0);
	json_t *list = one_delivery("bbbbbbbbbbbb", "1000");
	ck_assert_int_eq(model_notify_outbox_take(r, entry, list, &err), 1);
	json_decref(list);
	json_t *hooks = NULL;
	ck_assert_int_eq(model_notify_hooks(r, "site", false, &hooks, &err), 0);
	ck_assert_ptr_null(json_object_get(json_object_get(hooks, "hkhkhkhkhkhk"), "secret"));
	json_decref(hooks);
	ck_assert_int_eq(model_notify_hook_delete(r, "site", "hkhkhkhkhkhk", &err), 0);
	ck_assert_int_eq(model_notify_hook_delete(r, "site", "hkhkhkhkhkhk", &err), SKIFF_ENOTFOUND);
	json_t *due = NULL;
	ck_assert_int_eq(model_notify_claim(r, 2000, 5000, 8, &due, &err), 0);
	ck_assert_uint_eq(json_array_size(due), 0);
	json_decref(due);
	ck_assert_str_eq(rc_hget(key("notify:delivery:bbbbbbbbbbbb"), "state"), "dropped");
	/* no hooks left: state changes write nothing */
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "clone", NULL, 0, &err), 0);
	ck_assert_int_eq(outbox_len(), 0);
}
END_TEST

START_TEST(test_model_notify_hook_limit)
{
	char id[ID_LEN + 1], hid[ID_LEN + 1];
	struct error err;
	create("site", id);
	json_t *h = json_pack("{sss[]sssI}", "url", "https://example.com/h", "events", "secret",
			      "x", "created", (json_int_t)1);
	for (int i = 0; i < NOTIFY_HOOKS_MAX; i++) {
		id_new(hid);
		ck_assert_int_eq(model_notify_hook_create(r, "site", hid, h, &err), 0);
	}
	id_new(hid);
	ck_assert_int_eq(model_notify_hook_create(r, "site", hid, h, &err), SKIFF_ELIMIT);
	ck_assert_int_eq(model_notify_hook_create(r, "nope", hid, h, &err), SKIFF_ENOTFOUND);
	json_decref(h);
}
END_TEST

START_TEST(test_model_buildhook_lifecycle)
{
	char id[ID_LEN + 1], secret[BUILDHOOK_SECRET_LEN + 1], hash[HASH_HEX_LEN + 1];
	struct error err;
	struct buildhook h, got;
	create("site", id);
	memset(&h, 0, sizeof(h));
	id_new(h.id);
	snprintf(h.project, sizeof(h.project), "site");
	snprintf(h.name, sizeof(h.name), "cms");
	snprintf(h.branch, sizeof(h.branch), "staging");
	h.created = 42;
	model_buildhook_secret_new(secret);
	ck_assert_int_eq(model_buildhook_secret_valid(secret), 1);
	ck_assert_int_eq(model_buildhook_create(r, &h, secret, &err), 0);
	ck_assert_int_eq(model_buildhook_lookup(r, secret, &got, &err), 0);
	ck_assert_str_eq(got.project, "site");
	ck_assert_str_eq(got.branch, "staging");
	ck_assert_int_gt(got.last_used, 0);
	/* Redis holds the hash, never the secret */
	hash_buffer(secret, strlen(secret), hash);
	ck_assert_str_eq(rc_hget(key("buildhook:%s", h.id), "hash"), hash);
	redisReply *keys = rc_cmd("KEYS *");
	for (size_t i = 0; i < keys->elements; i++) {
		ck_assert_ptr_null(strstr(keys->element[i]->str, secret));
		redisReply *d = rc_cmd("DUMP %s", keys->element[i]->str);
		ck_assert_ptr_null(memmem(d->str, d->len, secret, strlen(secret)));
		freeReplyObject(d);
	}
	freeReplyObject(keys);
	json_t *list = NULL;
	ck_assert_int_eq(model_buildhook_list(r, "site", &list, &err), 0);
	ck_assert_uint_eq(json_array_size(list), 1);
	json_decref(list);
	/* deleting the project revokes it, also for a project created again under the slug */
	ck_assert_int_eq(model_lifecycle_delete(r, "site", &err), 0);
	create("site", id);
	ck_assert_int_eq(model_buildhook_lookup(r, secret, &got, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(rc_int("EXISTS %s", key("buildhook:%s", h.id), NULL), 0);
}
END_TEST

START_TEST(test_model_buildhook_revoke)
{
	char id[ID_LEN + 1], secret[BUILDHOOK_SECRET_LEN + 1];
	struct error err;
	struct buildhook h, got;
	create("site", id);
	memset(&h, 0, sizeof(h));
	id_new(h.id);
	snprintf(h.project, sizeof(h.project), "site");
	snprintf(h.name, sizeof(h.name), "cms");
	model_buildhook_secret_new(secret);
	ck_assert_int_eq(model_buildhook_create(r, &h, secret, &err), 0);
	ck_assert_int_eq(model_buildhook_delete(r, "other", h.id, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_buildhook_delete(r, "site", h.id, &err), 0);
	ck_assert_int_eq(model_buildhook_lookup(r, secret, &got, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_buildhook_delete(r, "site", h.id, &err), SKIFF_ENOTFOUND);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_notify_outbox_events);
	tcase_add_test(tc, test_model_notify_no_hooks_no_outbox);
	tcase_add_test(tc, test_model_notify_take_claim_attempt);
	tcase_add_test(tc, test_model_notify_history_bounded);
	tcase_add_test(tc, test_model_notify_hook_removed_drops);
	tcase_add_test(tc, test_model_notify_hook_limit);
	tcase_add_test(tc, test_model_buildhook_lifecycle);
	tcase_add_test(tc, test_model_buildhook_revoke);
}

int main(void)
{
	return modelenv_run("model_notify", add_tests);
}
