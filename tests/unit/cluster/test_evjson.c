/*
 * proxy/cluster/evjson: an event survives the trip to the JSON of a
 * fleet row and back, field for field; bad rows are refused with a
 * reason, never half-read; a capped send's row is its category and
 * time only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/cluster/evjson.h"

static void
event_full(struct store_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = 42;
	ev->time = 1700000000;
	snprintf(ev->number, sizeof(ev->number), "15551230001");
	ev->action = STORE_OPT_OUT;
	ev->ncategories = 2;
	snprintf(ev->categories[0], sizeof(ev->categories[0]), "promo");
	snprintf(ev->categories[1], sizeof(ev->categories[1]), "billing");
	ev->source = STORE_SRC_SMS_KEYWORD;
	snprintf(ev->inbound, sizeof(ev->inbound), "12345");
	snprintf(ev->text, sizeof(ev->text), "STOP \"now\" \xc3\xa9\n");
	snprintf(ev->rule, sizeof(ev->rule), "stop");
	ev->last.time = 1699999999;
	snprintf(ev->last.account, sizeof(ev->last.account), "marketing");
	snprintf(ev->last.category, sizeof(ev->last.category), "promo");
	snprintf(ev->last.service_type, sizeof(ev->last.service_type), "X");
}

static void
test_round_trip(void **state)
{
	struct store_event ev, back;
	char err[128], *s;

	(void)state;
	event_full(&ev);
	assert_non_null(s = evjson_encode(&ev));
	assert_int_equal(evjson_decode(s, strlen(s), &back, err,
	    sizeof(err)), 0);
	free(s);
	back.id = ev.id;	/* not carried: the row has its own */
	assert_memory_equal(&ev, &back, sizeof(ev));
}

static void
test_round_trip_all_opt_in(void **state)
{
	struct store_event ev, back;
	char err[128], *s;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.time = -5;
	snprintf(ev.number, sizeof(ev.number), "447700900123");
	ev.action = STORE_OPT_IN;
	ev.all = true;
	ev.source = STORE_SRC_STAFF;
	snprintf(ev.actor, sizeof(ev.actor), "alice");
	snprintf(ev.consent, sizeof(ev.consent), "signed form");
	assert_non_null(s = evjson_encode(&ev));
	assert_null(strstr(s, "categories"));
	assert_int_equal(evjson_decode(s, strlen(s), &back, err,
	    sizeof(err)), 0);
	free(s);
	assert_memory_equal(&ev, &back, sizeof(ev));
}

static void
test_bad_rows(void **state)
{
	static const char *bad[] = {
		"",
		"[]",
		"{\"time\":1,\"all\":true,\"number\":\"1\",\"action\":\"x\","
		    "\"source\":\"staff\"}",
		"{\"time\":1,\"all\":true,\"number\":\"1\","
		    "\"action\":\"opt_out\",\"source\":\"nope\"}",
		"{\"time\":1,\"all\":false,\"number\":\"1\","
		    "\"action\":\"opt_out\",\"source\":\"staff\"}",
		"{\"time\":1,\"all\":false,\"number\":\"1\","
		    "\"action\":\"opt_out\",\"source\":\"staff\","
		    "\"categories\":[]}",
		"{\"time\":1,\"all\":true,\"number\":"
		    "\"1234567890123456789012345\",\"action\":\"opt_out\","
		    "\"source\":\"staff\"}",
		"{\"all\":true,\"number\":\"1\",\"action\":\"opt_out\","
		    "\"source\":\"staff\"}",
		"{\"time\":1,\"all\":true,\"number\":\"1\","
		    "\"action\":\"opt_out\",\"source\":\"staff\",\"note\":7}",
	};
	struct store_event ev;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(evjson_decode(bad[i], strlen(bad[i]), &ev,
		    err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
}

static void
test_sent_round_trip(void **state)
{
	static const char *const bad[] = {
		"{\"category\":\"promo\"}",
		"{\"time\":5}",
		"{\"time\":5,\"category\":\"\"}",
		"[1]",
	};
	struct store_freq_entry e, back;
	char err[128], *text;
	size_t i;

	(void)state;
	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "15551230001");
	snprintf(e.category, sizeof(e.category), "promo");
	e.time = 1700000000;
	assert_non_null(text = evjson_sent_encode(&e));
	assert_string_equal(text, "{\"category\":\"promo\","
	    "\"time\":1700000000}");
	memset(&back, 0, sizeof(back));
	assert_int_equal(evjson_sent_decode(text, strlen(text), &back, err,
	    sizeof(err)), 0);
	assert_string_equal(back.category, "promo");
	assert_int_equal(back.time, e.time);
	assert_string_equal(back.number, "");	/* the row's column */
	free(text);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(evjson_sent_decode(bad[i], strlen(bad[i]),
		    &back, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_all_opt_in),
		cmocka_unit_test(test_bad_rows),
		cmocka_unit_test(test_sent_round_trip),
	};

	return cmocka_run_group_tests_name("cluster/evjson", tests, NULL,
	    NULL);
}
