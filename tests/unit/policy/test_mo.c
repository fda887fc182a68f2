/*
 * proxy/mo: subscriber replies end to end through mo_handle() with a real
 * store (a fresh LMDB environment per test) and the SPEC example config:
 * every keyword rule and the state it leaves, the scope from stop_scope,
 * an unknown inbound number opting out of everything, every encoding,
 * multipart replies decided on the last part, duplicates and the loop
 * guard, HELP when opted out, the review queue, a failing store answered
 * 0x64, and the confirmation PDUs (from the number written to, text,
 * GSM vs UCS-2, multipart).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "proxy/policy/mo.h"
#include "smpp/text.h"
#include "store/store.h"

#define SUB	"15551230000"
#define NOW	((int64_t)1780000000000)	/* ms */

static const char yaml_base[] =
    "business_name: Acme Clinic\n"
    "default_country_code: \"1\"\n"
    "store:\n"
    "  path: ./var\n"
    "listeners:\n"
    "  - bind: 127.0.0.1:2775\n"
    "categories:\n"
    "  - promo\n"
    "  - name: appointments\n"
    "    keywords: [APPT]\n"
    "  - billing\n"
    "accounts:\n"
    "  - system_id: marketing\n"
    "    password: mkpass1\n"
    "    default_category: promo\n"
    "    categories: [promo]\n"
    "  - system_id: frontdesk\n"
    "    password: fdpass1\n"
    "    default_category: appointments\n"
    "    categories: [appointments, billing]\n"
    "    service_types: { BILL: billing }\n"
    "upstreams:\n"
    "  - name: carrier\n"
    "    host: 127.0.0.1\n"
    "    port: 2776\n"
    "    system_id: acme\n"
    "    password: secret\n"
    "routes:\n"
    "  - upstream: carrier\n"
    "inbound:\n"
    "  - number: \"12345\"\n"
    "    account: marketing\n"
    "    stop_scope: [promo]\n"
    "  - number: \"15550100\"\n"
    "    account: frontdesk\n"
    "    stop_scope: all\n"
    "  - number: \"15550199\"\n"
    "    account: frontdesk\n"
    "    stop_scope: [appointments, billing]\n"
    "timeouts:\n"
    "  reassembly_ms: 5000\n";

struct fx {
	char			 dir[64];
	struct store		*st;
	struct config		*cfg;
	struct mo		*m;
	struct smpp_pdu		 pdu;
	struct mo_outcome	 out;
	uint8_t			 sm[256];
};

static void
rm_dir(const char *dir)
{
	char		 path[512];
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static struct config *
load(const char *extra)
{
	struct config_errors	 errs;
	struct config		*cfg;
	char			*y, buf[256];
	size_t			 n, i;

	n = strlen(yaml_base) + strlen(extra) + 1;
	y = malloc(n);
	assert_non_null(y);
	snprintf(y, n, "%s%s", yaml_base, extra);
	cfg = config_load_string(y, strlen(y), "test.yaml", "/tmp", &errs);
	if (cfg == NULL)
		for (i = 0; i < errs.count && i < CONFIG_ERRORS_MAX; i++)
			fprintf(stderr, "%s\n",
			    config_error_format(&errs, i, buf, sizeof(buf)));
	free(y);
	assert_non_null(cfg);
	return cfg;
}

static int
fx_setup_with(void **state, const char *extra)
{
	struct store_params	 p = { 8, 64, false };
	struct fx		*f;
	char			 err[256];

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/mo-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if ((f->st = store_open(f->dir, &p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	f->cfg = load(extra);
	if ((f->m = mo_new(f->cfg, f->st)) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
fx_setup(void **state)
{
	return fx_setup_with(state, "");
}

static int
fx_teardown(void **state)
{
	struct fx	*f = *state;

	mo_free(f->m);
	config_free(f->cfg);
	store_free(f->st);
	rm_dir(f->dir);
	free(f);
	return 0;
}

/* A deliver_sm from sub (international) to `to` (TON unknown). */
static void
mk(struct fx *f, const char *sub, const char *to, uint8_t dcs, uint8_t esm,
    const void *bytes, size_t len)
{
	smpp_pdu_init(&f->pdu, SMPP_CMD_DELIVER_SM, 1);
	f->pdu.source.ton = 1;
	f->pdu.source.npi = 1;
	snprintf(f->pdu.source.addr, sizeof(f->pdu.source.addr), "%s", sub);
	f->pdu.dest.ton = 0;
	f->pdu.dest.npi = 1;
	snprintf(f->pdu.dest.addr, sizeof(f->pdu.dest.addr), "%s", to);
	f->pdu.data_coding = dcs;
	f->pdu.esm_class = esm;
	assert_true(len <= sizeof(f->sm));
	memcpy(f->sm, bytes, len);
	f->pdu.short_message = f->sm;
	f->pdu.sm_length = (uint8_t)len;
}

/* Run the MO built in f->pdu at now; the numbers are already E.164. */
static int
run_at(struct fx *f, int64_t now)
{
	return mo_handle(f->m, &f->pdu, f->pdu.source.addr,
	    f->pdu.dest.addr, config_inbound_find(f->cfg, f->pdu.dest.addr),
	    now, &f->out);
}

/* A plain GSM text from SUB to `to`, handled at now. */
static int
say_at(struct fx *f, const char *to, const char *text, int64_t now)
{
	mk(f, SUB, to, 0x00, 0x00, text, strlen(text));
	return run_at(f, now);
}

static int
say(struct fx *f, const char *to, const char *text)
{
	return say_at(f, to, text, NOW);
}

static bool
blocked(struct fx *f, const char *number, const char *cat)
{
	int	 r = store_optout_check(f->st, number, cat, NULL);

	assert_true(r == 0 || r == 1);
	return r == 1;
}

/* The text of confirmation part i, and checks common to every part. */
static void
confirm_text(struct fx *f, size_t i, char *text, size_t cap,
    struct smpp_pdu *pdu)
{
	struct smpp_udh	 udh;

	assert_true(i < f->out.nconfirm);
	assert_int_equal(smpp_pdu_decode(pdu, f->out.confirm[i].bytes,
	    f->out.confirm[i].len), SMPP_OK);
	assert_int_equal(pdu->command_id, SMPP_CMD_SUBMIT_SM);
	/* From the number written to, as written; to the subscriber. */
	assert_string_equal(pdu->source.addr, f->pdu.dest.addr);
	assert_int_equal(pdu->source.ton, f->pdu.dest.ton);
	assert_int_equal(pdu->source.npi, f->pdu.dest.npi);
	assert_string_equal(pdu->dest.addr, f->pdu.source.addr);
	assert_int_equal(pdu->dest.ton, f->pdu.source.ton);
	assert_int_equal(pdu->registered_delivery, 0);
	assert_string_equal(pdu->service_type, "");
	assert_true(smpp_text_decode_sm(pdu->data_coding, pdu->esm_class,
	    pdu->short_message, pdu->sm_length, false, text, cap, &udh) >= 0);
}

static void
assert_confirm(struct fx *f, const char *expect)
{
	static struct smpp_pdu	 pdu;
	char			 text[1024];

	assert_int_equal(f->out.nconfirm, 1);
	confirm_text(f, 0, text, sizeof(text), &pdu);
	assert_int_equal(pdu.data_coding, SMPP_TEXT_DCS_DEFAULT);
	assert_int_equal(pdu.esm_class, 0);
	assert_string_equal(text, expect);
}

struct events {
	size_t			 n;
	struct store_event	 ev[16];
};

static int
event_cb(const struct store_event *ev, void *arg)
{
	struct events	*e = arg;

	if (e->n < 16)
		e->ev[e->n] = *ev;
	e->n++;
	return 0;
}

static size_t
history(struct fx *f, const char *number, struct events *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(store_history(f->st, number, event_cb, e), 0);
	return e->n;
}

struct reviews {
	size_t			 n;
	struct store_review	 r[8];
};

static int
review_cb(const struct store_review *r, void *arg)
{
	struct reviews	*s = arg;

	if (s->n < 8)
		s->r[s->n] = *r;
	s->n++;
	return 0;
}

/* ---------------------------------------------------------------- */

static void
test_stop_scope_list(void **state)
{
	struct fx	*f = *state;
	struct events	 e;

	assert_int_equal(say(f, "12345", "STOP"), 0);
	assert_int_equal(f->out.status, SMPP_OK);
	assert_true(f->out.forward);
	assert_int_equal(f->out.action, KEYWORD_OPT_OUT);
	assert_int_equal(f->out.nevents, 1);
	assert_true(f->out.event_id > 0);
	assert_true(blocked(f, SUB, "promo"));
	assert_false(blocked(f, SUB, "appointments"));
	assert_false(blocked(f, SUB, "billing"));
	assert_int_equal(f->out.confirm_kind, STORE_CONFIRM_OPT_OUT);
	assert_confirm(f, "You're opted out of promo texts from Acme Clinic. "
	    "Reply START to resubscribe.");

	assert_int_equal(history(f, SUB, &e), 1);
	assert_int_equal(e.ev[0].action, STORE_OPT_OUT);
	assert_int_equal(e.ev[0].source, STORE_SRC_SMS_KEYWORD);
	assert_false(e.ev[0].all);
	assert_int_equal(e.ev[0].ncategories, 1);
	assert_string_equal(e.ev[0].categories[0], "promo");
	assert_string_equal(e.ev[0].inbound, "12345");
	assert_string_equal(e.ev[0].text, "STOP");
	assert_string_equal(e.ev[0].rule, "opt_out");
	assert_int_equal(e.ev[0].time, NOW / 1000);
}

static void
test_stop_scope_all(void **state)
{
	struct fx	*f = *state;
	struct events	 e;

	assert_int_equal(say(f, "15550100", "Stop."), 0);
	assert_true(blocked(f, SUB, "promo"));
	assert_true(blocked(f, SUB, "appointments"));
	assert_true(blocked(f, SUB, "billing"));
	assert_confirm(f, "You're opted out of all texts from Acme Clinic. "
	    "Reply START to resubscribe.");
	assert_int_equal(history(f, SUB, &e), 1);
	assert_true(e.ev[0].all);

	/* A list scope of two: both named in the reply. */
	mk(f, "15551239999", "15550199", 0, 0, "unsubscribe", 11);
	assert_int_equal(run_at(f, NOW), 0);
	assert_false(blocked(f, "15551239999", "promo"));
	assert_true(blocked(f, "15551239999", "appointments"));
	assert_true(blocked(f, "15551239999", "billing"));
	assert_confirm(f, "You're opted out of appointments, billing texts "
	    "from Acme Clinic. Reply START to resubscribe.");
}

static void
test_stop_unknown_inbound(void **state)
{
	struct fx	*f = *state;

	/* Not in `inbound`: the safe default is everything. */
	assert_int_equal(say(f, "99999", "STOP"), 0);
	assert_int_equal(f->out.status, SMPP_OK);
	assert_false(f->out.forward);	/* no account to pass it to */
	assert_true(blocked(f, SUB, "promo"));
	assert_true(blocked(f, SUB, "appointments"));
	assert_true(blocked(f, SUB, "billing"));
	assert_confirm(f, "You're opted out of all texts from Acme Clinic. "
	    "Reply START to resubscribe.");
}

static void
test_start(void **state)
{
	struct fx	*f = *state;
	struct events	 e;

	assert_int_equal(say(f, "12345", "STOP"), 0);
	assert_true(blocked(f, SUB, "promo"));
	assert_int_equal(say_at(f, "12345", "start", NOW + 60000), 0);
	assert_int_equal(f->out.action, KEYWORD_OPT_IN);
	assert_true(f->out.forward);
	assert_false(blocked(f, SUB, "promo"));
	assert_int_equal(f->out.confirm_kind, STORE_CONFIRM_OPT_IN);
	assert_confirm(f, "You're subscribed again to promo texts from Acme "
	    "Clinic. Reply STOP to opt out.");
	assert_int_equal(history(f, SUB, &e), 2);
	assert_int_equal(e.ev[1].action, STORE_OPT_IN);
	assert_string_equal(e.ev[1].consent, "sms keyword: start");
	assert_string_equal(e.ev[1].rule, "opt_in");
}

static void
test_category_keywords(void **state)
{
	struct fx	*f = *state;

	/* STOP PROMO to the front desk number: promo only, whatever the
	 * number's scope. */
	assert_int_equal(say(f, "15550100", "STOP PROMO"), 0);
	assert_int_equal(f->out.action, KEYWORD_OPT_OUT);
	assert_true(blocked(f, SUB, "promo"));
	assert_false(blocked(f, SUB, "appointments"));
	assert_confirm(f, "You're opted out of promo texts from Acme Clinic. "
	    "Reply START to resubscribe.");
	assert_int_equal(say(f, "15550100", "stop appt"), 0);
	assert_true(blocked(f, SUB, "appointments"));
	assert_false(blocked(f, SUB, "billing"));
	/* Loop guard: one opt-out confirmation per day. */
	assert_int_equal(f->out.nconfirm, 0);
	assert_true(f->out.is_confirm_suppressed);

	assert_int_equal(say(f, "15550100", "START APPT"), 0);
	assert_int_equal(f->out.action, KEYWORD_OPT_IN);
	assert_false(blocked(f, SUB, "appointments"));
	assert_true(blocked(f, SUB, "promo"));
	assert_confirm(f, "You're subscribed again to appointments texts "
	    "from Acme Clinic. Reply STOP to opt out.");

	/* STOPALL to a promo-only number: everything. */
	mk(f, "15551230002", "12345", 0, 0, "STOP ALL", 8);
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(blocked(f, "15551230002", "promo"));
	assert_true(blocked(f, "15551230002", "appointments"));
	assert_true(blocked(f, "15551230002", "billing"));
	assert_string_equal(f->out.rule, "opt_out_all");
	/* START to the promo number lifts promo only; the global flag
	 * keeps the rest blocked. */
	mk(f, "15551230002", "12345", 0, 0, "START", 5);
	assert_int_equal(run_at(f, NOW), 0);
	assert_false(blocked(f, "15551230002", "promo"));
	assert_true(blocked(f, "15551230002", "appointments"));
	/* START to the stop_scope all number lifts everything. */
	mk(f, "15551230002", "15550100", 0, 0, "UNSTOP", 6);
	assert_int_equal(run_at(f, NOW), 0);
	assert_false(blocked(f, "15551230002", "appointments"));
	assert_false(blocked(f, "15551230002", "billing"));
}

static void
test_only(void **state)
{
	struct fx	*f = *state;
	struct events	 e;

	/* "APPT" to the stop_scope all number: appointments only. */
	assert_int_equal(say(f, "15550100", "APPT"), 0);
	assert_int_equal(f->out.action, KEYWORD_ONLY);
	assert_int_equal(f->out.nevents, 2);
	assert_false(blocked(f, SUB, "appointments"));
	assert_true(blocked(f, SUB, "promo"));
	assert_true(blocked(f, SUB, "billing"));
	assert_int_equal(f->out.confirm_kind, STORE_CONFIRM_OPT_IN);
	assert_confirm(f, "You're subscribed again to appointments texts "
	    "from Acme Clinic. Reply STOP to opt out.");
	assert_int_equal(history(f, SUB, &e), 2);
	assert_int_equal(e.ev[0].action, STORE_OPT_OUT);
	assert_true(e.ev[0].all);
	assert_int_equal(e.ev[1].action, STORE_OPT_IN);
	assert_string_equal(e.ev[1].categories[0], "appointments");
	assert_string_equal(e.ev[1].rule, "category_only");
	assert_string_equal(e.ev[1].consent, "sms keyword: APPT");
	/* Asking again changes nothing. */
	assert_int_equal(say(f, "15550100", "appt"), 0);
	assert_false(blocked(f, SUB, "appointments"));
	assert_true(blocked(f, SUB, "billing"));

	/* "BILLING" to the [appointments, billing] number: out of
	 * appointments, in to billing, promo untouched. */
	mk(f, "15551230003", "15550199", 0, 0, "Billing", 7);
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(blocked(f, "15551230003", "appointments"));
	assert_false(blocked(f, "15551230003", "billing"));
	assert_false(blocked(f, "15551230003", "promo"));

	/* "PROMO" to the promo-only number: nothing else in the scope,
	 * one opt-in event. */
	mk(f, "15551230004", "12345", 0, 0, "PROMO", 5);
	assert_int_equal(run_at(f, NOW), 0);
	assert_int_equal(f->out.nevents, 1);
	assert_false(blocked(f, "15551230004", "promo"));
}

static void
test_help(void **state)
{
	struct fx	*f = *state;
	struct events	 e;

	assert_int_equal(say(f, "12345", "HELP"), 0);
	assert_int_equal(f->out.action, KEYWORD_HELP);
	assert_true(f->out.forward);
	assert_int_equal(f->out.nevents, 0);
	assert_int_equal(f->out.confirm_kind, STORE_CONFIRM_HELP);
	assert_confirm(f, "Acme Clinic: reply STOP to opt out, START to opt "
	    "back in.");
	assert_int_equal(history(f, SUB, &e), 0);

	/* Answered even when opted out (another number, same day). */
	mk(f, "15551230005", "12345", 0, 0, "STOP", 4);
	assert_int_equal(run_at(f, NOW), 0);
	assert_int_equal(f->out.nconfirm, 1);
	mk(f, "15551230005", "12345", 0, 0, "info", 4);
	assert_int_equal(run_at(f, NOW + 1000), 0);
	assert_int_equal(f->out.action, KEYWORD_HELP);
	assert_int_equal(f->out.nconfirm, 1);
	assert_true(blocked(f, "15551230005", "promo"));
}

static void
test_review_and_none(void **state)
{
	struct fx	*f = *state;
	struct reviews	 rv;
	struct events	 e;

	assert_int_equal(say(f, "15550100", "please cancel my appointment"),
	    0);
	assert_int_equal(f->out.action, KEYWORD_REVIEW);
	assert_int_equal(f->out.status, SMPP_OK);
	assert_true(f->out.forward);
	assert_int_equal(f->out.nconfirm, 0);
	assert_true(f->out.review_id > 0);
	assert_false(blocked(f, SUB, "appointments"));
	memset(&rv, 0, sizeof(rv));
	assert_int_equal(store_review_list(f->st, review_cb, &rv), 0);
	assert_int_equal(rv.n, 1);
	assert_string_equal(rv.r[0].text, "please cancel my appointment");
	assert_string_equal(rv.r[0].number, SUB);
	assert_string_equal(rv.r[0].inbound, "15550100");
	assert_string_equal(rv.r[0].account, "frontdesk");
	assert_int_equal(rv.r[0].time, NOW / 1000);

	assert_int_equal(say(f, "15550100", "See you at 3pm, thanks!"), 0);
	assert_int_equal(f->out.action, KEYWORD_NONE);
	assert_true(f->out.forward);
	assert_int_equal(f->out.nconfirm, 0);
	assert_int_equal(f->out.nevents, 0);
	assert_int_equal(history(f, SUB, &e), 0);

	/* An unambiguous word inside a sentence opts out. */
	assert_int_equal(say(f, "12345", "please stop texting me"), 0);
	assert_int_equal(f->out.action, KEYWORD_OPT_OUT);
	assert_true(blocked(f, SUB, "promo"));
}

static void
test_duplicate_stop(void **state)
{
	struct fx		*f = *state;
	struct store_block	 why1, why2;
	struct events		 e;

	assert_int_equal(say(f, "12345", "STOP"), 0);
	assert_int_equal(f->out.nconfirm, 1);
	assert_int_equal(store_optout_check(f->st, SUB, "promo", &why1), 1);
	/* The SMSC redelivers (our response was lost). */
	assert_int_equal(say_at(f, "12345", "STOP", NOW + 5000), 0);
	assert_int_equal(f->out.status, SMPP_OK);
	assert_int_equal(f->out.nconfirm, 0);
	assert_true(f->out.is_confirm_suppressed);
	assert_int_equal(store_optout_check(f->st, SUB, "promo", &why2), 1);
	assert_int_equal(why1.since, why2.since);
	assert_int_equal(why1.event_id, why2.event_id);
	assert_int_equal(history(f, SUB, &e), 2);	/* the retry shows */

	/* The next day: confirmed again. */
	assert_int_equal(say_at(f, "12345", "STOP",
	    NOW + (MO_CONFIRM_WINDOW_S + 60) * 1000LL), 0);
	assert_int_equal(f->out.nconfirm, 1);
}

static void
test_receipt_not_matched(void **state)
{
	struct fx	*f = *state;
	static const char dlr[] = "id:12 sub:001 dlvrd:001 submit date:2601011"
	    "200 done date:2601011201 stat:DELIVRD err:000 text:Reply STOP";
	struct events	 e;

	mk(f, SUB, "12345", 0, SMPP_ESM_MSG_TYPE_DLR, dlr, strlen(dlr));
	assert_int_equal(run_at(f, NOW), 0);
	assert_int_equal(f->out.action, KEYWORD_NONE);
	assert_string_equal(f->out.rule, "not_mo");
	assert_int_equal(history(f, SUB, &e), 0);
	mk(f, SUB, "12345", 0, 0x08, "STOP", 4);	/* other type */
	assert_int_equal(run_at(f, NOW), 0);
	assert_int_equal(history(f, SUB, &e), 0);
}

static void
test_encodings(void **state)
{
	struct fx	*f = *state;
	static const uint8_t ucs2[] = { 0xFF, 0x33, 0xFF, 0x34, 0xFF, 0x2F,
	    0xFF, 0x30 };				/* ＳＴＯＰ */
	static const uint8_t latin1[] = "Arr\xEAt";	/* Arrêt */
	static const uint8_t payload[] = "Unsubscribe";
	static const uint8_t port_udh[] = { 0x06, 0x05, 0x04, 0x0B, 0x84,
	    0x23, 0xF0, 'S', 'T', 'O', 'P' };
	static const uint8_t jis[] = { 0x1B, 0x24, 0x42 };
	struct reviews	 rv;
	char		 n[16];
	int		 i = 0;

#define NEXT()	snprintf(n, sizeof(n), "1555000%04d", ++i)
	/* GSM, unpacked (SMSC default), and the class-0 DCS group. */
	NEXT();
	mk(f, n, "12345", 0x00, 0, "Stop", 4);
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(blocked(f, n, "promo"));
	NEXT();
	mk(f, n, "12345", 0xF0, 0, "STOP", 4);
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(blocked(f, n, "promo"));
	/* IA5. */
	NEXT();
	mk(f, n, "12345", 0x01, 0, "quit", 4);
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(blocked(f, n, "promo"));
	/* UCS-2 full-width. */
	NEXT();
	mk(f, n, "12345", 0x08, 0, ucs2, sizeof(ucs2));
	assert_int_equal(run_at(f, NOW), 0);
	assert_int_equal(f->out.action, KEYWORD_OPT_OUT);
	assert_string_equal(f->out.text, "ＳＴＯＰ");
	assert_true(blocked(f, n, "promo"));
	/* Latin-1. */
	NEXT();
	mk(f, n, "12345", 0x03, 0, latin1, 5);
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(blocked(f, n, "promo"));
	assert_string_equal(f->out.text, "Arrêt");
	/* message_payload TLV, short_message empty. */
	NEXT();
	mk(f, n, "12345", 0x00, 0, "", 0);
	assert_int_equal(smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_MESSAGE_PAYLOAD,
	    payload, 11), 0);
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(blocked(f, n, "promo"));
	/* data_sm (payload only). */
	NEXT();
	mk(f, n, "12345", 0x00, 0, "", 0);
	f->pdu.command_id = SMPP_CMD_DATA_SM;
	assert_int_equal(smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_MESSAGE_PAYLOAD,
	    "STOP", 4), 0);
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(blocked(f, n, "promo"));
	/* A UDH that is not concatenation (application port) is
	 * stripped. */
	NEXT();
	mk(f, n, "12345", 0x00, SMPP_ESM_UDHI, port_udh, sizeof(port_udh));
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(blocked(f, n, "promo"));
	/* A national character set we cannot read: a person decides. */
	NEXT();
	mk(f, n, "12345", 0x05, 0, jis, sizeof(jis));
	assert_int_equal(run_at(f, NOW), 0);
	assert_int_equal(f->out.action, KEYWORD_REVIEW);
	assert_string_equal(f->out.rule, "undecodable");
	assert_true(f->out.forward);
	assert_false(blocked(f, n, "promo"));
	memset(&rv, 0, sizeof(rv));
	assert_int_equal(store_review_list(f->st, review_cb, &rv), 0);
	assert_int_equal(rv.n, 1);
	assert_non_null(strstr(rv.r[0].text, "data_coding 0x05"));
	/* A malformed UDH likewise. */
	NEXT();
	mk(f, n, "12345", 0x00, SMPP_ESM_UDHI, "\x09STOP", 5);
	assert_int_equal(run_at(f, NOW), 0);
	assert_int_equal(f->out.action, KEYWORD_REVIEW);
	assert_false(blocked(f, n, "promo"));
#undef NEXT
}

/* Part seq of total with an 8-bit (udh16 false) or 16-bit reference. */
static void
mk_udh_part(struct fx *f, const char *sub, bool udh16, uint16_t ref,
    uint8_t total, uint8_t seq, const char *text)
{
	uint8_t	 b[160];
	size_t	 n = 0;

	if (udh16) {
		b[n++] = 6;
		b[n++] = 0x08;
		b[n++] = 4;
		b[n++] = (uint8_t)(ref >> 8);
		b[n++] = (uint8_t)ref;
	} else {
		b[n++] = 5;
		b[n++] = 0x00;
		b[n++] = 3;
		b[n++] = (uint8_t)ref;
	}
	b[n++] = total;
	b[n++] = seq;
	memcpy(b + n, text, strlen(text));
	n += strlen(text);
	mk(f, sub, "12345", 0x00, SMPP_ESM_UDHI, b, n);
}

static void
test_multipart_udh(void **state)
{
	struct fx	*f = *state;
	struct events	 e;
	int		 w;

	for (w = 0; w < 2; w++) {
		const char	*sub = w == 0 ? "15551110001" : "15551110002";

		mk_udh_part(f, sub, w == 1, 0x1234, 3, 1, "Please ");
		assert_int_equal(run_at(f, NOW), 0);
		assert_true(f->out.is_partial);
		assert_true(f->out.forward);
		assert_int_equal(f->out.status, SMPP_OK);
		assert_int_equal(f->out.action, KEYWORD_NONE);
		mk_udh_part(f, sub, w == 1, 0x1234, 3, 3, "texting me");
		assert_int_equal(run_at(f, NOW + 10), 0);
		assert_true(f->out.is_partial);
		/* Nothing decided before the last missing part. */
		assert_false(blocked(f, sub, "promo"));
		/* A duplicate part changes nothing. */
		mk_udh_part(f, sub, w == 1, 0x1234, 3, 1, "Please ");
		assert_int_equal(run_at(f, NOW + 20), 0);
		assert_int_equal(f->out.reasm, REASM_DUPLICATE);
		assert_false(blocked(f, sub, "promo"));
		mk_udh_part(f, sub, w == 1, 0x1234, 3, 2, "stop ");
		assert_int_equal(run_at(f, NOW + 30), 0);
		assert_false(f->out.is_partial);
		assert_int_equal(f->out.reasm, REASM_COMPLETE);
		assert_int_equal(f->out.action, KEYWORD_OPT_OUT);
		assert_true(f->out.forward);
		assert_true(blocked(f, sub, "promo"));
		assert_int_equal(f->out.nconfirm, 1);
		assert_int_equal(history(f, sub, &e), 1);
		assert_string_equal(e.ev[0].text, "Please stop texting me");
		/* The last part redelivered: same decision, no second
		 * confirmation. */
		assert_int_equal(run_at(f, NOW + 40), 0);
		assert_int_equal(f->out.action, KEYWORD_OPT_OUT);
		assert_int_equal(f->out.nconfirm, 0);
	}
}

static void
test_multipart_sar(void **state)
{
	struct fx		*f = *state;
	static const uint8_t	 ref[2] = { 0x00, 0x07 }, tot[1] = { 2 };
	static const uint8_t	 seq1[1] = { 1 }, seq2[1] = { 2 };
	const char		*sub = "15551110003";

	mk(f, sub, "12345", 0x00, 0, "ST", 2);
	smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_SAR_MSG_REF_NUM, ref, 2);
	smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_SAR_TOTAL_SEGMENTS, tot, 1);
	smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_SAR_SEGMENT_SEQNUM, seq1, 1);
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(f->out.is_partial);
	assert_false(blocked(f, sub, "promo"));
	mk(f, sub, "12345", 0x00, 0, "OP", 2);
	smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_SAR_MSG_REF_NUM, ref, 2);
	smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_SAR_TOTAL_SEGMENTS, tot, 1);
	smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_SAR_SEGMENT_SEQNUM, seq2, 1);
	assert_int_equal(run_at(f, NOW + 100), 0);
	assert_int_equal(f->out.action, KEYWORD_OPT_OUT);
	assert_string_equal(f->out.rule, "opt_out");
	assert_true(blocked(f, sub, "promo"));

	/* Bad SAR values (seq 0): a message of its own. */
	mk(f, "15551110004", "12345", 0x00, 0, "STOP", 4);
	smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_SAR_MSG_REF_NUM, ref, 2);
	smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_SAR_TOTAL_SEGMENTS, tot, 1);
	smpp_pdu_tlv_add(&f->pdu, SMPP_TLV_SAR_SEGMENT_SEQNUM, "\0", 1);
	assert_int_equal(run_at(f, NOW), 0);
	assert_false(f->out.is_partial);
	assert_true(blocked(f, "15551110004", "promo"));
}

static void
test_multipart_timeout(void **state)
{
	struct fx		*f = *state;
	struct reasm_stats	 st;
	const char		*sub = "15551110005";

	/* reassembly_ms is 5000 in the test config. */
	mk_udh_part(f, sub, false, 9, 2, 1, "ST");
	assert_int_equal(run_at(f, NOW), 0);
	mk_udh_part(f, sub, false, 9, 2, 2, "OP");
	assert_int_equal(run_at(f, NOW + 6000), 0);
	assert_true(f->out.is_partial);
	assert_false(blocked(f, sub, "promo"));
	mo_reasm_stats(f->m, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(mo_expire(f->m, NOW + 12000), 1);

	/* More parts than we join: forwarded, never decided. */
	mk_udh_part(f, sub, false, 10, REASM_PARTS_MAX + 1, 1, "STOP");
	assert_int_equal(run_at(f, NOW), 0);
	assert_int_equal(f->out.reasm, REASM_TOO_MANY);
	assert_true(f->out.forward);
	assert_false(blocked(f, sub, "promo"));
}

static void
test_store_failure(void **state)
{
	struct fx		*f = *state;
	struct store_params	 p = { 8, 64, false };
	struct store		*ro;
	struct mo		*m;
	struct reviews		 rv;
	char			 err[256], dir[64];

	/* A store of its own opened read-only (LMDB forbids opening one
	 * environment twice in a process): every write fails. */
	snprintf(dir, sizeof(dir), "/tmp/mo-test-ro-XXXXXX");
	assert_non_null(mkdtemp(dir));
	ro = store_open(dir, &p, err, sizeof(err));
	assert_non_null(ro);
	store_free(ro);
	p.read_only = true;
	ro = store_open(dir, &p, err, sizeof(err));
	assert_non_null(ro);
	m = mo_new(f->cfg, ro);
	assert_non_null(m);

	mk(f, SUB, "12345", 0, 0, "STOP", 4);
	assert_int_equal(mo_handle(m, &f->pdu, SUB, "12345",
	    config_inbound_find(f->cfg, "12345"), NOW, &f->out), -1);
	assert_int_equal(f->out.status, SMPP_ESME_RX_T_APPN);
	assert_false(f->out.forward);
	assert_int_equal(f->out.nconfirm, 0);
	assert_false(blocked(f, SUB, "promo"));

	mk(f, SUB, "12345", 0, 0, "APPT", 4);
	assert_int_equal(mo_handle(m, &f->pdu, SUB, "12345",
	    config_inbound_find(f->cfg, "12345"), NOW, &f->out), -1);
	assert_int_equal(f->out.status, SMPP_ESME_RX_T_APPN);

	mk(f, SUB, "12345", 0, 0, "please cancel", 13);
	assert_int_equal(mo_handle(m, &f->pdu, SUB, "12345",
	    config_inbound_find(f->cfg, "12345"), NOW, &f->out), -1);
	assert_int_equal(f->out.status, SMPP_ESME_RX_T_APPN);
	assert_false(f->out.forward);
	memset(&rv, 0, sizeof(rv));
	assert_int_equal(store_review_list(f->st, review_cb, &rv), 0);
	assert_int_equal(rv.n, 0);

	/* HELP commits nothing: answered OK, but no reply is sent when the
	 * loop guard cannot be written (a loop is worse than a miss). */
	mk(f, SUB, "12345", 0, 0, "HELP", 4);
	assert_int_equal(mo_handle(m, &f->pdu, SUB, "12345",
	    config_inbound_find(f->cfg, "12345"), NOW, &f->out), 0);
	assert_int_equal(f->out.status, SMPP_OK);
	assert_true(f->out.forward);
	assert_int_equal(f->out.nconfirm, 0);
	assert_true(f->out.has_confirm_error);

	/* A part that cannot be kept in the store is not acknowledged:
	 * the SMSC redelivers it. A multipart STOP whose commit failed
	 * completes again when the SMSC redelivers the last part. */
	mk_udh_part(f, "15551110006", false, 3, 2, 1, "ST");
	assert_int_equal(mo_handle(m, &f->pdu, "15551110006", "12345",
	    config_inbound_find(f->cfg, "12345"), NOW, &f->out), -1);
	assert_int_equal(f->out.status, SMPP_ESME_RX_T_APPN);
	assert_false(f->out.forward);
	mk_udh_part(f, "15551110006", false, 3, 2, 2, "OP");
	assert_int_equal(mo_handle(m, &f->pdu, "15551110006", "12345",
	    config_inbound_find(f->cfg, "12345"), NOW, &f->out), -1);
	assert_int_equal(f->out.status, SMPP_ESME_RX_T_APPN);
	mo_free(m);
	store_free(ro);
	rm_dir(dir);
	/* Same table, a working store this time (mo keeps parts per
	 * instance, so replay both through f->m). */
	mk_udh_part(f, "15551110006", false, 3, 2, 1, "ST");
	assert_int_equal(run_at(f, NOW), 0);
	mk_udh_part(f, "15551110006", false, 3, 2, 2, "OP");
	assert_int_equal(run_at(f, NOW + 1), 0);
	assert_int_equal(f->out.status, SMPP_OK);
	assert_int_equal(run_at(f, NOW + 2), 0);	/* redelivered */
	assert_int_equal(f->out.status, SMPP_OK);
	assert_true(blocked(f, "15551110006", "promo"));
}

static void
test_attribution(void **state)
{
	struct fx			*f = *state;
	struct store_lastsent_entry	 ls;
	struct events			 e;

	memset(&ls, 0, sizeof(ls));
	snprintf(ls.number, sizeof(ls.number), "%s", SUB);
	ls.last.time = NOW / 1000 - 3600;
	snprintf(ls.last.account, sizeof(ls.last.account), "marketing");
	snprintf(ls.last.category, sizeof(ls.last.category), "promo");
	assert_int_equal(store_lastsent_put(f->st, &ls, 1), 0);
	assert_int_equal(say(f, "12345", "STOP"), 0);
	assert_int_equal(history(f, SUB, &e), 1);
	assert_string_equal(e.ev[0].last.account, "marketing");
	assert_string_equal(e.ev[0].last.category, "promo");
}

/* A pending (not yet written) last-sent record of the caller's. */
static bool
fake_pending(void *arg, const char *number, struct store_lastsent *out)
{
	const struct store_lastsent	*p = arg;

	if (strcmp(number, SUB) != 0)
		return false;
	*out = *p;
	return true;
}

/*
 * Why: the MO path used to write the daemon's whole attribution batch
 * (up to 1024 scattered keys, one sync) before every STOP so the event
 * could see the last message sent, which put that write on the STOP's
 * latency. Now the batch is asked for the number instead: its record is
 * used when it is newer than the store's, the store's when it is newer.
 */
static void
test_attribution_from_pending_batch(void **state)
{
	struct fx			*f = *state;
	struct store_lastsent_entry	 ls;
	struct store_lastsent		 pending;
	struct events			 e;

	memset(&ls, 0, sizeof(ls));
	snprintf(ls.number, sizeof(ls.number), "%s", SUB);
	ls.last.time = NOW / 1000 - 3600;
	snprintf(ls.last.account, sizeof(ls.last.account), "marketing");
	snprintf(ls.last.category, sizeof(ls.last.category), "promo");
	assert_int_equal(store_lastsent_put(f->st, &ls, 1), 0);
	memset(&pending, 0, sizeof(pending));
	pending.time = NOW / 1000 - 60;
	snprintf(pending.account, sizeof(pending.account), "frontdesk");
	snprintf(pending.category, sizeof(pending.category), "billing");
	mo_set_lastsent_source(f->m, fake_pending, &pending);
	assert_int_equal(say(f, "12345", "STOP"), 0);
	assert_int_equal(history(f, SUB, &e), 1);
	assert_string_equal(e.ev[0].last.account, "frontdesk");
	assert_string_equal(e.ev[0].last.category, "billing");
	/* An older pending record loses to the store's newer one. */
	pending.time = NOW / 1000 - 7200;
	assert_int_equal(say_at(f, "15550100", "STOP", NOW + 1000), 0);
	assert_int_equal(history(f, SUB, &e), 2);
	assert_string_equal(e.ev[1].last.account, "marketing");
}

static void
test_alphanumeric_sender(void **state)
{
	struct fx	*f = *state;

	mk(f, "InfoMsg", "12345", 0, 0, "STOP", 4);
	f->pdu.source.ton = SMPP_TON_ALPHANUMERIC;
	assert_int_equal(mo_handle(f->m, &f->pdu, "InfoMsg", "12345",
	    config_inbound_find(f->cfg, "12345"), NOW, &f->out), 0);
	assert_true(blocked(f, "InfoMsg", "promo"));
	assert_int_equal(f->out.nconfirm, 0);	/* nowhere to reply */
}

/* Append src to dst (cap bytes), cut if it does not fit. */
static void
append(char *dst, size_t cap, const char *src)
{
	size_t	 off = strlen(dst), n = strlen(src);

	if (n > cap - 1 - off)
		n = cap - 1 - off;
	memcpy(dst + off, src, n);
	dst[off + n] = '\0';
}

/* Replies in UCS-2 and in several parts; and a reload. */
static void
test_confirm_encoding_reload(void **state)
{
	struct fx		*f = *state;
	static struct smpp_pdu	 pdu;
	struct config		*cfg2;
	struct smpp_udh		 udh;
	char			 text[1024], joined[2048] = "", expect[1024];
	size_t			 i;

	/* Before: HALT is nothing. */
	assert_int_equal(say(f, "12345", "HALT"), 0);
	assert_int_equal(f->out.action, KEYWORD_NONE);

	cfg2 = load("keywords:\n"
	    "  opt_out: [STOP, HALT]\n"
	    "replies:\n"
	    "  opt_out: \"{business} ha recibido tu solicitud: ya no "
	    "recibiras mensajes de {categories}. Gracias por habernos "
	    "acompañado todo este tiempo; si cambias de opinion, responde "
	    "START en cualquier momento y volveras a recibir nuestros "
	    "mensajes. Sin costo adicional.\"\n"
	    "  help: \"東京 {business}: STOP で停止\"\n");
	assert_int_equal(mo_reconfigure(f->m, cfg2), 0);
	config_free(f->cfg);
	f->cfg = cfg2;

	assert_int_equal(say(f, "12345", "halt"), 0);
	assert_int_equal(f->out.action, KEYWORD_OPT_OUT);
	assert_true(blocked(f, SUB, "promo"));
	assert_int_equal(f->out.nconfirm, 2);
	for (i = 0; i < f->out.nconfirm; i++) {
		confirm_text(f, i, text, sizeof(text), &pdu);
		assert_int_equal(pdu.esm_class, SMPP_ESM_UDHI);
		assert_int_equal(pdu.data_coding, SMPP_TEXT_DCS_DEFAULT);
		assert_int_equal(smpp_text_udh_parse(pdu.short_message,
		    pdu.sm_length, &udh), 0);
		assert_int_equal(udh.total, 2);
		assert_int_equal(udh.seq, i + 1);
		append(joined, sizeof(joined), text);
	}
	confirm_expand(cfg2->replies.opt_out, "Acme Clinic", "promo", expect,
	    sizeof(expect));
	assert_string_equal(joined, expect);

	assert_int_equal(say(f, "12345", "HELP"), 0);
	assert_int_equal(f->out.nconfirm, 1);
	confirm_text(f, 0, text, sizeof(text), &pdu);
	assert_int_equal(pdu.data_coding, SMPP_TEXT_DCS_UCS2);
	assert_string_equal(text, "東京 Acme Clinic: STOP で停止");
}

/*
 * mo_handle() in its three steps (the daemon commits on its store
 * writer's thread): mo_prepare() writes nothing, mo_commit() on another
 * handle of the store makes the opt-out durable and asks the loop guard,
 * mo_finish() fills in what the store said; a second STOP prepared before
 * the first is committed is confirmed once only; a failed commit answers
 * 0x64 with nothing confirmed or forwarded.
 */
static void
test_prepare_commit_finish(void **state)
{
	struct fx		*f = *state;
	struct store		*sib;
	struct mo_commit	*c1, *c2;
	struct mo_outcome	 out2;

	assert_non_null(c1 = malloc(sizeof(*c1)));
	assert_non_null(c2 = malloc(sizeof(*c2)));
	assert_non_null(sib = store_sibling(f->st));
	mk(f, SUB, "12345", 0x00, 0x00, "STOP", 4);
	assert_int_equal(mo_prepare(f->m, &f->pdu, SUB, "12345",
	    config_inbound_find(f->cfg, "12345"), NOW, &f->out, c1), 0);
	assert_int_equal(mo_prepare(f->m, &f->pdu, SUB, "12345",
	    config_inbound_find(f->cfg, "12345"), NOW + 1000, &out2, c2), 0);
	assert_true(mo_commit_needed(c1));
	assert_int_equal(c1->op, MO_COMMIT_APPLY);
	/* Nothing written, nothing to send yet. */
	assert_false(blocked(f, SUB, "promo"));
	assert_int_equal(f->out.nconfirm, 0);
	assert_int_equal(f->out.event_id, 0);

	assert_int_equal(mo_commit(sib, c1), 0);
	assert_true(blocked(f, SUB, "promo"));
	assert_int_equal(mo_finish(f->m, c1, &f->out), 0);
	assert_int_equal(f->out.status, SMPP_OK);
	assert_true(f->out.forward);
	assert_int_equal(f->out.nevents, 1);
	assert_true(f->out.event_id > 0);
	assert_int_equal(f->out.nconfirm, 1);
	assert_int_equal(f->out.confirm_kind, STORE_CONFIRM_OPT_OUT);

	assert_int_equal(mo_commit(sib, c2), 0);
	assert_int_equal(mo_finish(f->m, c2, &out2), 0);
	assert_true(out2.event_id > f->out.event_id);
	assert_int_equal(out2.nconfirm, 0);
	assert_true(out2.is_confirm_suppressed);

	/* A commit that failed: 0x64, nothing confirmed or forwarded. */
	assert_int_equal(mo_prepare(f->m, &f->pdu, SUB, "12345",
	    config_inbound_find(f->cfg, "12345"), NOW, &out2, c2), 0);
	c2->rc = -1;
	assert_int_equal(mo_finish(f->m, c2, &out2), -1);
	assert_int_equal(out2.status, SMPP_ESME_RX_T_APPN);
	assert_false(out2.forward);
	assert_int_equal(out2.nconfirm, 0);
	store_free(sib);
	free(c1);
	free(c2);
}

/*
 * Parts are kept in the store until their message completes: a new mo on
 * the same store (a restart) loads them back, so the last part completes
 * the message; parts past the timeout are not loaded, and a completed
 * message leaves nothing behind.
 */
static void
test_multipart_restart(void **state)
{
	struct fx	*f = *state;
	size_t		 n;

	mk_udh_part(f, "15551110007", false, 4, 3, 1, "Please ");
	assert_int_equal(run_at(f, NOW), 0);
	assert_true(f->out.is_partial);
	mk_udh_part(f, "15551110007", false, 4, 3, 2, "st");
	assert_int_equal(run_at(f, NOW + 1), 0);
	/* A message that will be too old at the restart. */
	mk_udh_part(f, "15551110008", false, 5, 2, 1, "ST");
	assert_int_equal(run_at(f, NOW - 4000), 0);

	mo_free(f->m);
	assert_non_null(f->m = mo_new(f->cfg, f->st));
	assert_int_equal(mo_load_parts(f->m, NOW + 2000, &n), 0);
	assert_int_equal(n, 2);
	mk_udh_part(f, "15551110007", false, 4, 3, 3, "op");
	assert_int_equal(run_at(f, NOW + 2001), 0);
	assert_false(f->out.is_partial);
	assert_int_equal(f->out.action, KEYWORD_OPT_OUT);
	assert_true(blocked(f, "15551110007", "promo"));
	mk_udh_part(f, "15551110008", false, 5, 2, 2, "OP");
	assert_int_equal(run_at(f, NOW + 2002), 0);
	assert_true(f->out.is_partial);
	assert_false(blocked(f, "15551110008", "promo"));

	/* Completed: its parts are gone; the other one's part 2 waits. */
	mo_free(f->m);
	assert_non_null(f->m = mo_new(f->cfg, f->st));
	assert_int_equal(mo_load_parts(f->m, NOW + 2003, &n), 0);
	assert_int_equal(n, 1);
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_stop_scope_list),
		T(test_prepare_commit_finish),
		T(test_attribution_from_pending_batch),
		T(test_stop_scope_all),
		T(test_stop_unknown_inbound),
		T(test_start),
		T(test_category_keywords),
		T(test_only),
		T(test_help),
		T(test_review_and_none),
		T(test_duplicate_stop),
		T(test_receipt_not_matched),
		T(test_encodings),
		T(test_multipart_udh),
		T(test_multipart_sar),
		T(test_multipart_timeout),
		T(test_multipart_restart),
		T(test_store_failure),
		T(test_attribution),
		T(test_alphanumeric_sender),
		T(test_confirm_encoding_reload),
	};
#undef T

	return cmocka_run_group_tests_name("proxy/mo", tests, NULL, NULL);
}
