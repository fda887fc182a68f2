/*
 * The record encoders: the JSON objects the CLI's --format jsonl and the
 * admin API share (event, status, audit record, review item, state
 * entry), their CSV rows, and lists (JSON lines, pages of a JSON array
 * with "more", CSV with a header).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/compliance/encode.h"
#include "tests/unit/compliance/compliance_fixture.h"

static void
mk_event(struct store_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = 7;
	ev->time = 1795700460;
	snprintf(ev->number, sizeof(ev->number), "15550001111");
	ev->action = STORE_OPT_OUT;
	ev->ncategories = 2;
	snprintf(ev->categories[0], STORE_NAME_MAX, "promo");
	snprintf(ev->categories[1], STORE_NAME_MAX, "billing");
	ev->source = STORE_SRC_STAFF;
	snprintf(ev->actor, sizeof(ev->actor), "dana");
	snprintf(ev->note, sizeof(ev->note), "said \"stop\", twice");
}

static void
test_scope_reason(void **state)
{
	struct store_event	 ev;
	char			 buf[ENCODE_SCOPE_MAX];

	(void)state;
	mk_event(&ev);
	assert_string_equal(encode_scope_text(&ev, buf, sizeof(buf)),
	    "promo,billing");
	ev.all = true;
	assert_string_equal(encode_scope_text(&ev, buf, sizeof(buf)), "all");
	assert_string_equal(encode_audit_reason(42, buf, sizeof(buf)),
	    "opted out (event 42)");
	assert_string_equal(encode_audit_reason(0, buf, sizeof(buf)),
	    "opted out (fleet event not yet in this node's store)");
	assert_string_equal(encode_review_status_name(STORE_REVIEW_OPTED_OUT),
	    "opted_out");
	assert_int_equal(encode_age(100, 160), 60);
	assert_int_equal(encode_age(100, 50), 0);	/* clock went back */
}

static void
test_event(void **state)
{
	struct store_event	 ev;
	char			*buf;
	FILE			*fp;

	(void)state;
	mk_event(&ev);
	CFX_CAPTURE(buf, fp, encode_event_json(fp, &ev));
	assert_string_equal(buf, "{\"event_id\":7,"
	    "\"time\":\"2026-11-26T13:41:00Z\",\"number\":\"15550001111\","
	    "\"action\":\"opt_out\",\"scope\":\"promo,billing\","
	    "\"all\":false,\"categories\":[\"promo\",\"billing\"],"
	    "\"source\":\"staff\",\"inbound\":\"\",\"rule\":\"\","
	    "\"text\":\"\",\"actor\":\"dana\","
	    "\"note\":\"said \\\"stop\\\", twice\",\"consent\":\"\"}");
	free(buf);
	ev.all = true;
	ev.last.time = 1795700400;
	snprintf(ev.last.account, sizeof(ev.last.account), "marketing");
	snprintf(ev.last.category, sizeof(ev.last.category), "promo");
	CFX_CAPTURE(buf, fp, encode_event_json(fp, &ev));
	assert_non_null(strstr(buf, "\"scope\":\"all\",\"all\":true,"
	    "\"categories\":[],"));
	assert_non_null(strstr(buf, ",\"last_sent\":{\"account\":"
	    "\"marketing\",\"time\":\"2026-11-26T13:40:00Z\","
	    "\"category\":\"promo\",\"service_type\":\"\"}}"));
	free(buf);
	CFX_CAPTURE(buf, fp, encode_event_csv(fp, &ev));
	assert_string_equal(buf, "7,2026-11-26T13:41:00Z,15550001111,opt_out,"
	    "all,staff,,,,dana,\"said \"\"stop\"\", twice\",,"
	    "2026-11-26T13:40:00Z,marketing,promo");
	free(buf);
}

static void
test_status(void **state)
{
	struct store_block	 why = { true, 1795700460, 9 };
	char			*buf;
	FILE			*fp;

	(void)state;
	CFX_CAPTURE(buf, fp, encode_status_members(fp, true, &why));
	assert_string_equal(buf, "\"status\":\"blocked\","
	    "\"since\":\"2026-11-26T13:41:00Z\",\"event_id\":9,"
	    "\"scope\":\"all\"");
	free(buf);
	CFX_CAPTURE(buf, fp, encode_status_members(fp, false, &why));
	assert_string_equal(buf, "\"status\":\"allowed\"");
	free(buf);
	CFX_CAPTURE(buf, fp, encode_status_json(fp, "1555", "promo", false,
	    &why));
	assert_string_equal(buf, "{\"number\":\"1555\",\"category\":"
	    "\"promo\",\"status\":\"allowed\"}");
	free(buf);
	why.is_global = false;
	CFX_CAPTURE(buf, fp, encode_status_csv(fp, "1555", "promo", true,
	    &why));
	assert_string_equal(buf, "1555,promo,blocked,2026-11-26T13:41:00Z,9,"
	    "category");
	free(buf);
	CFX_CAPTURE(buf, fp, encode_status_csv(fp, "1555", "promo", false,
	    &why));
	assert_string_equal(buf, "1555,promo,allowed,,,");
	free(buf);
}

static void
test_audit(void **state)
{
	struct store_audit	 a;
	char			*buf;
	FILE			*fp;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.id = 3;
	a.time = 1795700460;
	snprintf(a.account, sizeof(a.account), "marketing");
	snprintf(a.category, sizeof(a.category), "promo");
	snprintf(a.source, sizeof(a.source), "Acme, Inc");
	snprintf(a.destination, sizeof(a.destination), "15550001111");
	a.status = 0x401;
	a.event_id = 7;
	a.body_len = 4;
	a.body_sha256[0] = 0xab;
	a.body_sha256[31] = 0x01;
	CFX_CAPTURE(buf, fp, encode_audit_json(fp, &a));
	assert_string_equal(buf, "{\"id\":3,\"time\":\"2026-11-26T13:41:00Z\","
	    "\"account\":\"marketing\",\"category\":\"promo\","
	    "\"service_type\":\"\",\"source\":\"Acme, Inc\","
	    "\"destination\":\"15550001111\",\"status\":\"0x00000401\","
	    "\"reason\":\"opted out (event 7)\",\"event_id\":7,"
	    "\"body_len\":4,\"body_sha256\":\"ab0000000000000000000000000000"
	    "0000000000000000000000000000000001\"}");
	free(buf);
	CFX_CAPTURE(buf, fp, encode_audit_csv(fp, &a));
	assert_string_equal(buf, "2026-11-26T13:41:00Z,marketing,promo,,"
	    "\"Acme, Inc\",15550001111,0x00000401,opted out (event 7),7,4,"
	    "ab00000000000000000000000000000000000000000000000000000000000001");
	free(buf);
}

static void
test_review_state(void **state)
{
	struct store_state_entry e;
	struct store_review	 rv;
	char			*buf;
	FILE			*fp;

	(void)state;
	memset(&rv, 0, sizeof(rv));
	rv.id = 5;
	rv.time = 1795700400;
	snprintf(rv.number, sizeof(rv.number), "15550001111");
	snprintf(rv.inbound, sizeof(rv.inbound), "12345");
	snprintf(rv.account, sizeof(rv.account), "marketing");
	snprintf(rv.text, sizeof(rv.text), "end it");
	CFX_CAPTURE(buf, fp, encode_review_json(fp, &rv, 1795700460));
	assert_string_equal(buf, "{\"id\":5,\"time\":\"2026-11-26T13:40:00Z\","
	    "\"age_seconds\":60,\"number\":\"15550001111\","
	    "\"inbound\":\"12345\",\"account\":\"marketing\","
	    "\"text\":\"end it\",\"status\":\"open\"}");
	free(buf);
	rv.status = STORE_REVIEW_OPTED_OUT;
	rv.resolved_time = 1795700460;
	rv.event_id = 8;
	snprintf(rv.actor, sizeof(rv.actor), "carol");
	CFX_CAPTURE(buf, fp, encode_review_json(fp, &rv, 1795700460));
	assert_non_null(strstr(buf, "\"status\":\"opted_out\","
	    "\"resolved_time\":\"2026-11-26T13:41:00Z\",\"actor\":\"carol\","
	    "\"note\":\"\",\"event_id\":8}"));
	free(buf);
	CFX_CAPTURE(buf, fp, encode_review_csv(fp, &rv, 1795700460));
	assert_string_equal(buf, "5,2026-11-26T13:40:00Z,60,15550001111,"
	    "12345,marketing,end it");
	free(buf);
	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "15550001111");
	snprintf(e.category, sizeof(e.category), "%s", STORE_CATEGORY_ALL);
	e.since = 1795700460;
	e.event_id = 8;
	CFX_CAPTURE(buf, fp, encode_state_json(fp, &e));
	assert_string_equal(buf, "{\"number\":\"15550001111\","
	    "\"category\":\"all\",\"state\":\"opted_out\","
	    "\"since\":\"2026-11-26T13:41:00Z\",\"event_id\":8}");
	free(buf);
	e.is_exception = true;
	CFX_CAPTURE(buf, fp, encode_state_csv(fp, &e));
	assert_string_equal(buf, "15550001111,all,opted_in,"
	    "2026-11-26T13:41:00Z,8");
	free(buf);
}

static void
test_list(void **state)
{
	struct encode_list	 l;
	struct store_event	 ev;
	char			*buf;
	FILE			*fp;

	(void)state;
	mk_event(&ev);
	/* A page of one: the second record says there is more. */
	CFX_CAPTURE(buf, fp, {
		encode_list_init(&l, fp, ENCODE_JSON_ARRAY, 1, 0, "x,y");
		assert_int_equal(encode_list_event(&ev, &l), 0);
		ev.id = 8;
		assert_int_equal(encode_list_event(&ev, &l), 1);
	});
	assert_true(l.is_more);
	assert_int_equal(l.last_id, 7);
	assert_int_equal(buf[0], '{');
	assert_null(strchr(buf, '\n'));
	free(buf);
	/* JSON lines; no limit. */
	CFX_CAPTURE(buf, fp, {
		encode_list_init(&l, fp, ENCODE_JSONL, 0, 0, "x,y");
		assert_int_equal(encode_list_event(&ev, &l), 0);
		assert_int_equal(encode_list_event(&ev, &l), 0);
	});
	assert_false(l.is_more);
	assert_non_null(strstr(buf, "}\n{\"event_id\":8,"));
	assert_int_equal(buf[strlen(buf) - 1], '\n');
	free(buf);
	/* A JSON array: commas between. */
	CFX_CAPTURE(buf, fp, {
		encode_list_init(&l, fp, ENCODE_JSON_ARRAY, 0, 0, NULL);
		assert_int_equal(encode_list_event(&ev, &l), 0);
		assert_int_equal(encode_list_event(&ev, &l), 0);
	});
	assert_non_null(strstr(buf, "},{\"event_id\":8,"));
	free(buf);
	/* CSV: the header first. */
	CFX_CAPTURE(buf, fp, {
		encode_list_init(&l, fp, ENCODE_CSV, 0, 0,
		    ENCODE_EVENT_CSV_HEADER);
		assert_int_equal(encode_list_event(&ev, &l), 0);
	});
	assert_int_equal(strncmp(buf, ENCODE_EVENT_CSV_HEADER "\n8,",
	    strlen(ENCODE_EVENT_CSV_HEADER) + 3), 0);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope_reason),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_review_state),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests_name("proxy/compliance/encode", tests,
	    NULL, NULL);
}
