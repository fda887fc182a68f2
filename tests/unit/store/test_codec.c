/*
 * store/codec: every record type survives encode then decode field for
 * field; every truncation, an unknown version byte and an oversize string
 * length are rejected (never read past the value); trailing bytes from a
 * later minor version are tolerated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/codec_int.h"
#include "store/store_int.h"

static void
fill_event(struct store_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->time = -5;	/* before 1970 still round-trips */
	snprintf(ev->number, sizeof(ev->number), "447700900123");
	ev->action = STORE_OPT_IN;
	ev->ncategories = 2;
	snprintf(ev->categories[0], STORE_NAME_MAX, "promo");
	snprintf(ev->categories[1], STORE_NAME_MAX, "appointments");
	ev->source = STORE_SRC_API;
	snprintf(ev->inbound, sizeof(ev->inbound), "12345");
	memset(ev->text, 'T', sizeof(ev->text) - 1);
	snprintf(ev->rule, sizeof(ev->rule), "start_category");
	snprintf(ev->actor, sizeof(ev->actor), "crm-sync");
	snprintf(ev->note, sizeof(ev->note), "é note");
	snprintf(ev->consent, sizeof(ev->consent), "web form #42");
	ev->last.time = 99;
	snprintf(ev->last.account, sizeof(ev->last.account), "marketing");
	snprintf(ev->last.category, sizeof(ev->last.category), "promo");
	snprintf(ev->last.service_type, sizeof(ev->last.service_type),
	    "ABCDEFG");
}

static void
test_event_roundtrip(void **state)
{
	struct store_event ev, out;
	uint8_t buf[STORE_VALUE_MAX];
	MDB_val v;
	size_t len, cut;

	(void)state;
	fill_event(&ev);
	len = store_event_encode(&ev, buf, sizeof(buf));
	assert_true(len > 0);
	v.mv_size = len;
	v.mv_data = buf;
	assert_int_equal(store_event_decode(&v, 77, &out), 0);
	ev.id = 77;
	assert_memory_equal(&ev, &out, sizeof(ev));
	/* Every truncation fails cleanly. */
	for (cut = 0; cut < len; cut++) {
		v.mv_size = cut;
		assert_int_equal(store_event_decode(&v, 1, &out), -1);
	}
	/* A later version's extra trailing field is ignored. */
	buf[len] = 0xee;
	v.mv_size = len + 1;
	assert_int_equal(store_event_decode(&v, 77, &out), 0);
	/* Unknown version. */
	v.mv_size = len;
	buf[0] = 2;
	assert_int_equal(store_event_decode(&v, 77, &out), -1);
	buf[0] = 0;
	assert_int_equal(store_event_decode(&v, 77, &out), -1);
	/* A buffer too small to encode into. */
	assert_int_equal(store_event_encode(&ev, buf, 100), 0);
}

static void
test_event_damage(void **state)
{
	struct store_event ev, out;
	uint8_t buf[STORE_VALUE_MAX];
	MDB_val v;
	size_t len;

	(void)state;
	fill_event(&ev);
	len = store_event_encode(&ev, buf, sizeof(buf));
	v.mv_size = len;
	v.mv_data = buf;
	/* Layout: version, time(8), number len(2)... */
	buf[9] = 0xff;	/* number length 0xff.. > field */
	assert_int_equal(store_event_decode(&v, 1, &out), -1);
	len = store_event_encode(&ev, buf, sizeof(buf));
	/* A NUL inside a string. */
	buf[11] = '\0';
	assert_int_equal(store_event_decode(&v, 1, &out), -1);
	len = store_event_encode(&ev, buf, sizeof(buf));
	/* Action byte after number "447700900123" (12): 1+8+2+12. */
	buf[23] = 9;
	assert_int_equal(store_event_decode(&v, 1, &out), -1);
	len = store_event_encode(&ev, buf, sizeof(buf));
	buf[25] = STORE_SCOPE_MAX + 1;	/* ncategories */
	assert_int_equal(store_event_decode(&v, 1, &out), -1);
	(void)len;
}

static void
test_audit_roundtrip(void **state)
{
	struct store_audit a, out;
	uint8_t buf[STORE_VALUE_MAX];
	MDB_val v;
	size_t len, cut;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.id = 5;
	a.time = 1700000000;
	snprintf(a.account, sizeof(a.account), "marketing");
	snprintf(a.category, sizeof(a.category), "promo");
	snprintf(a.service_type, sizeof(a.service_type), "CMT");
	snprintf(a.source, sizeof(a.source), "ACME");
	snprintf(a.destination, sizeof(a.destination), "15550100001");
	a.status = 0x401;
	a.event_id = 9;
	a.body_len = 160;
	memset(a.body_sha256, 0x5a, sizeof(a.body_sha256));
	len = store_audit_encode(&a, buf, sizeof(buf));
	v.mv_size = len;
	v.mv_data = buf;
	assert_int_equal(store_audit_decode(&v, &out), 0);
	assert_memory_equal(&a, &out, sizeof(a));
	for (cut = 0; cut < len; cut++) {
		v.mv_size = cut;
		assert_int_equal(store_audit_decode(&v, &out), -1);
	}
}

static void
test_review_lastsent_roundtrip(void **state)
{
	struct store_review r, rout;
	struct store_lastsent l, lout;
	uint8_t buf[STORE_VALUE_MAX];
	MDB_val v;
	size_t len, cut;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = 3;
	r.time = 10;
	snprintf(r.number, sizeof(r.number), "15550100001");
	snprintf(r.inbound, sizeof(r.inbound), "15550100");
	snprintf(r.account, sizeof(r.account), "frontdesk");
	snprintf(r.text, sizeof(r.text), "please cancel my appointment");
	r.status = STORE_REVIEW_DISMISSED;
	r.resolved_time = 20;
	snprintf(r.actor, sizeof(r.actor), "alice");
	snprintf(r.note, sizeof(r.note), "about an appointment");
	r.event_id = 0;
	len = store_review_encode(&r, buf, sizeof(buf));
	v.mv_size = len;
	v.mv_data = buf;
	assert_int_equal(store_review_decode(&v, &rout), 0);
	assert_memory_equal(&r, &rout, sizeof(r));
	for (cut = 0; cut < len; cut++) {
		v.mv_size = cut;
		assert_int_equal(store_review_decode(&v, &rout), -1);
	}

	memset(&l, 0, sizeof(l));
	l.time = 7;
	snprintf(l.account, sizeof(l.account), "billing");
	len = store_lastsent_encode(&l, buf, sizeof(buf));
	v.mv_size = len;
	assert_int_equal(store_lastsent_decode(&v, &lout), 0);
	assert_memory_equal(&l, &lout, sizeof(l));
	for (cut = 0; cut < len; cut++) {
		v.mv_size = cut;
		assert_int_equal(store_lastsent_decode(&v, &lout), -1);
	}
}

static void
test_state_value(void **state)
{
	uint8_t buf[STORE_STATE_LEN];
	MDB_val v = { sizeof(buf), buf };
	bool exc;
	int64_t since;
	uint64_t id;

	(void)state;
	store_state_encode(buf, true, -3, 12345);
	assert_int_equal(store_state_decode(&v, &exc, &since, &id), 0);
	assert_true(exc);
	assert_int_equal(since, -3);
	assert_int_equal(id, 12345);
	v.mv_size = STORE_STATE_LEN - 1;
	assert_int_equal(store_state_decode(&v, &exc, &since, &id), -1);
	v.mv_size = STORE_STATE_LEN;
	buf[0] = 7;
	assert_int_equal(store_state_decode(&v, &exc, &since, &id), -1);
}

static void
test_keys(void **state)
{
	uint8_t b[8], k[8];
	MDB_val kv = { 4, k };

	(void)state;
	store_time_put(b, -1);
	assert_int_equal(store_time_get(b), -1);
	store_time_put(k, 1);
	/* Biased times sort numerically as bytes. */
	assert_true(memcmp(b, k, 8) < 0);
	store_be64_put(b, 0x0102030405060708ULL);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[7], 8);
	assert_int_equal(store_be64_get(b), 0x0102030405060708ULL);
	assert_int_equal(store_key2(k, sizeof(k), "abc", "de"), 6);
	assert_memory_equal(k, "abc\0de", 6);
	assert_int_equal(store_key2(k, sizeof(k), "abcdef", "xyz"), 0);
	assert_int_equal(store_key2(k, sizeof(k), "ab", NULL), 3);
	assert_true(store_key_has_prefix(&kv, (const uint8_t *)"ab\0", 3));
	assert_false(store_key_has_prefix(&kv, (const uint8_t *)"abc\0d", 5));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_roundtrip),
		cmocka_unit_test(test_event_damage),
		cmocka_unit_test(test_audit_roundtrip),
		cmocka_unit_test(test_review_lastsent_roundtrip),
		cmocka_unit_test(test_state_value),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests_name("store/codec", tests, NULL, NULL);
}
