/*
 * proxy/daemon/replies and outbox: a subscriber reply goes through the
 * keyword step (a STOP is recorded before anything else) and then to its
 * account, which, with no receiver bound, keeps it in the outbox; an
 * entry the department answered OK is deleted, one it refused stays; a
 * reply to a number that is not ours reaches nobody.
 *
 * The daemon here is built by hand with no sessions, so every delivery
 * falls to the outbox; the pool never connects (the loop is not run), so
 * answers to the SMSC are no-ops and confirmations find no upstream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "config/config.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/outbox.h"
#include "proxy/daemon/replies.h"
#include "proxy/daemon/upstream.h"
#include "smpp/pdu.h"
#include "store/store.h"

static const char yaml[] =
    "business_name: Test\n"
    "default_country_code: \"1\"\n"
    "store: { path: ./store }\n"
    "listeners:\n"
    "  - bind: 127.0.0.1:2775\n"
    "categories: [promo, billing]\n"
    "accounts:\n"
    "  - system_id: marketing\n"
    "    password: mkpass1\n"
    "    default_category: promo\n"
    "    categories: [promo]\n"
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
    "    stop_scope: [promo]\n";

#define SUBSCRIBER	"15551234567"

struct fx {
	struct daemon		*d;
	struct upstream_pool	*pool;
	char			 dir[64];
};

/* Big structs: keep them off the stack. */
static struct smpp_pdu	mo_pdu;
static uint8_t		mo_raw[SMPP_MAX_PDU_LEN];
static char		mo_text[160];

static int
setup(void **state)
{
	struct fx		*f;
	struct config_errors	 errs;
	struct store_params	 sp;
	struct upstream_cbs	 cbs;
	char			 err[256], spath[128];

	assert_non_null(f = calloc(1, sizeof(*f)));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_replies.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_non_null(f->d = calloc(1, sizeof(*f->d)));
	TAILQ_INIT(&f->d->sessions);
	TAILQ_INIT(&f->d->closing);
	assert_non_null(f->d->base = event_base_new());
	memset(&errs, 0, sizeof(errs));
	f->d->cfg = config_load_string(yaml, sizeof(yaml) - 1, "test.yaml",
	    f->dir, &errs);
	if (f->d->cfg == NULL && errs.count > 0)
		fail_msg("config: %s", errs.err[0].msg);
	assert_non_null(f->d->cfg);
	memset(&sp, 0, sizeof(sp));
	sp.map_mb = 16;
	snprintf(spath, sizeof(spath), "%s/store", f->dir);
	if ((f->d->store = store_open(spath, &sp, err, sizeof(err))) == NULL)
		fail_msg("store: %s", err);
	memset(&cbs, 0, sizeof(cbs));
	f->pool = upstream_pool_new(f->d->base, &f->d->cfg->upstreams[0],
	    &cbs, NULL);
	assert_non_null(f->pool);
	assert_non_null(f->d->outbox = outbox_new(f->d));
	assert_non_null(f->d->replies = replies_new(f->d));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	char		 cmd[128];

	upstream_pool_free(f->pool);
	replies_free(f->d->replies);
	outbox_free(f->d->outbox);
	store_free(f->d->store);
	config_free(f->d->cfg);
	event_base_free(f->d->base);
	free(f->d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* Hand replies an MO of text from SUBSCRIBER to number to. */
static void
mo_send(struct fx *f, const char *to, const char *text)
{
	struct upstream_reply	reply;
	ssize_t			n;

	smpp_pdu_init(&mo_pdu, SMPP_CMD_DELIVER_SM, 7);
	mo_pdu.source.ton = 1;
	mo_pdu.source.npi = 1;
	snprintf(mo_pdu.source.addr, sizeof(mo_pdu.source.addr), "%s",
	    SUBSCRIBER);
	mo_pdu.dest.ton = 0;
	snprintf(mo_pdu.dest.addr, sizeof(mo_pdu.dest.addr), "%s", to);
	snprintf(mo_text, sizeof(mo_text), "%s", text);
	mo_pdu.short_message = (const uint8_t *)mo_text;
	mo_pdu.sm_length = (uint8_t)strlen(mo_text);
	n = smpp_pdu_encode(&mo_pdu, mo_raw, sizeof(mo_raw));
	assert_true(n > 0);
	/* A handle to no live connection: answering is a no-op. */
	memset(&reply, 0, sizeof(reply));
	reply.command_id = SMPP_CMD_DELIVER_SM;
	reply.sequence_number = 7;
	replies_on_mo(f->d->replies, f->pool, &mo_pdu, mo_raw, (size_t)n,
	    &reply);
}

static size_t
outbox_n(struct fx *f, const char *account)
{
	size_t	n = 0;

	assert_int_equal(store_outbox_count(f->d->store, account, &n), 0);
	return n;
}

static void
test_stop_recorded_then_kept(void **state)
{
	struct fx	*f = *state;

	assert_int_equal(store_optout_check(f->d->store, SUBSCRIBER, "promo",
	    NULL), 0);
	mo_send(f, "12345", "STOP");
	assert_int_equal(store_optout_check(f->d->store, SUBSCRIBER, "promo",
	    NULL), 1);
	/* No receiver bound: the department gets it later. */
	assert_int_equal(outbox_n(f, "marketing"), 1);
}

static void
test_plain_reply_kept_in_order(void **state)
{
	struct fx	*f = *state;

	mo_send(f, "12345", "see you tuesday");
	mo_send(f, "12345", "and bring the forms");
	assert_int_equal(store_optout_check(f->d->store, SUBSCRIBER, "promo",
	    NULL), 0);
	assert_int_equal(outbox_n(f, "marketing"), 2);
}

static void
test_unknown_number_reaches_nobody(void **state)
{
	struct fx	*f = *state;

	mo_send(f, "99999", "hello");
	assert_int_equal(outbox_n(f, "marketing"), 0);
}

static void
test_outbox_done(void **state)
{
	struct fx	*f = *state;
	uint8_t		 buf[SMPP_MAX_PDU_LEN];
	uint64_t	 id;
	size_t		 len;

	mo_send(f, "12345", "first");
	mo_send(f, "12345", "second");
	assert_int_equal(outbox_n(f, "marketing"), 2);
	assert_int_equal(store_outbox_peek(f->d->store, "marketing", &id, buf,
	    sizeof(buf), &len, NULL), 1);
	/* Refused by the department: kept for a retry. */
	outbox_done(f->d->outbox, "marketing", id, SMPP_ESME_RX_T_APPN);
	assert_int_equal(outbox_n(f, "marketing"), 2);
	/* Taken: deleted, and the next one is up. */
	outbox_done(f->d->outbox, "marketing", id, SMPP_OK);
	assert_int_equal(outbox_n(f, "marketing"), 1);
	/* A bind with nobody to deliver to changes nothing. */
	outbox_account_bound(f->d->outbox, "marketing");
	outbox_account_bound(NULL, "marketing");
	assert_int_equal(outbox_n(f, "marketing"), 1);
}

static void
test_reconfigure(void **state)
{
	struct fx	*f = *state;

	mo_send(f, "12345", "kept across a reload");
	assert_int_equal(replies_reconfigure(f->d->replies, f->d->cfg), 0);
	assert_int_equal(outbox_reconfigure(f->d->outbox, f->d->cfg), 0);
	assert_int_equal(outbox_n(f, "marketing"), 1);
	mo_send(f, "12345", "STOP");
	assert_int_equal(store_optout_check(f->d->store, SUBSCRIBER, "promo",
	    NULL), 1);
	assert_int_equal(outbox_n(f, "marketing"), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stop_recorded_then_kept,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_plain_reply_kept_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unknown_number_reaches_nobody, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_done, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
