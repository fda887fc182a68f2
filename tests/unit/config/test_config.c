/*
 * config/config: loading SPEC §2 configs, defaults, and errors reported
 * as FILE:LINE:COL with exact positions. Run under ASan to check that no
 * error path leaks (make SANITIZE=address,undefined).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/tree.h"	/* config_alloc_fail_at */

/* A scratch directory with the files the configs below refer to. */
static char tmpdir[] = "/tmp/stopgate-test-config-XXXXXX";

static const char *const scratch_files[] = {
	"server.pem", "server.key", "ca.pem", "tls/server.pem",
	"tls/server.key", "tls/ca.pem", "tls/client.pem", "tls/client.key",
	"secrets/mk.pass", "secrets/crlf.pass", "secrets/empty.pass",
	"secrets/long.pass", "secrets/marketing.pass", "secrets/carrier.pass",
	"cfg.yaml", "spec-example.yaml", "tls.yaml", "secrets.yaml",
};
static const char *const scratch_dirs[] = { "tls", "secrets" };

static void
write_file(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Copy a file of the repository (config/tests/...) into the scratch
 * directory. Returns -1 if it cannot be found from the working directory
 * (the tests run from the top of the tree). */
static int
copy_repo_file(const char *from, const char *to)
{
	char buf[65536];
	size_t n;
	FILE *f;

	if ((f = fopen(from, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	write_file(to, buf);
	return 0;
}

static int
group_setup(void **state)
{
	char path[PATH_MAX];
	size_t i;

	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	for (i = 0; i < sizeof(scratch_dirs) / sizeof(scratch_dirs[0]);
	    i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, scratch_dirs[i]);
		if (mkdir(path, 0700) == -1)
			return -1;
	}
	write_file("server.pem", "dummy\n");
	write_file("server.key", "dummy\n");
	write_file("ca.pem", "dummy\n");
	write_file("tls/server.pem", "dummy\n");
	write_file("tls/server.key", "dummy\n");
	write_file("tls/ca.pem", "dummy\n");
	write_file("tls/client.pem", "dummy\n");
	write_file("tls/client.key", "dummy\n");
	write_file("secrets/mk.pass", "s3cr3t\n");
	write_file("secrets/crlf.pass", "w1nd0ws\r\n");
	write_file("secrets/empty.pass", "\n");
	write_file("secrets/long.pass", "123456789\n");
	write_file("secrets/marketing.pass", "mkfile\n");
	write_file("secrets/carrier.pass", "upfile\n");
	return 0;
}

static int
group_teardown(void **state)
{
	char path[PATH_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(scratch_files) / sizeof(scratch_files[0]);
	    i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, scratch_files[i]);
		unlink(path);
	}
	for (i = 0; i < sizeof(scratch_dirs) / sizeof(scratch_dirs[0]);
	    i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, scratch_dirs[i]);
		rmdir(path);
	}
	rmdir(tmpdir);
	return 0;
}

static struct config *
load(const char *yaml, struct config_errors *errs)
{
	return config_load_string(yaml, strlen(yaml), "t.yaml", tmpdir, errs);
}

static void
print_errors(const struct config_errors *errs)
{
	char buf[1024];
	size_t i;

	for (i = 0; i < errs->count && i < CONFIG_ERRORS_MAX; i++)
		fprintf(stderr, "  %s\n",
		    config_error_format(errs, i, buf, sizeof(buf)));
}

/* Assert an error at line:col whose message contains substr. */
static void
expect_error(const struct config_errors *errs, unsigned line, unsigned col,
    const char *substr)
{
	size_t i;

	for (i = 0; i < errs->count && i < CONFIG_ERRORS_MAX; i++)
		if (errs->err[i].line == line && errs->err[i].col == col &&
		    strstr(errs->err[i].msg, substr) != NULL)
			return;
	fprintf(stderr, "no error %u:%u containing \"%s\"; got:\n", line, col,
	    substr);
	print_errors(errs);
	fail();
}

/* Load yaml, which must fail with exactly one error at line:col. */
static void
expect_one(const char *yaml, unsigned line, unsigned col, const char *substr)
{
	struct config_errors errs;
	struct config *cfg;

	cfg = load(yaml, &errs);
	if (cfg != NULL || errs.count != 1) {
		fprintf(stderr, "expected one error in:\n%s\ngot %zu:\n", yaml,
		    errs.count);
		print_errors(&errs);
	}
	assert_null(cfg);
	assert_int_equal(errs.count, 1);
	expect_error(&errs, line, col, substr);
}

static struct config *
load_ok(const char *yaml)
{
	struct config_errors errs;
	struct config *cfg;

	if ((cfg = load(yaml, &errs)) == NULL) {
		fprintf(stderr, "unexpected errors in:\n%s\n", yaml);
		print_errors(&errs);
	}
	assert_non_null(cfg);
	assert_int_equal(errs.count, 0);
	return cfg;
}

/* Nine lines every small test starts with; its own lines start at 10. */
#define BASE \
	"business_name: Acme\n" \
	"default_country_code: \"1\"\n" \
	"store: { path: var/stopgate }\n" \
	"listeners: [{ bind: 127.0.0.1:2775 }]\n" \
	"categories: [promo, billing]\n" \
	"accounts:\n" \
	"  - { system_id: marketing, password: mkpass1, " \
	"default_category: promo }\n" \
	"upstreams:\n" \
	"  - { name: carrier, host: 127.0.0.1, port: 2776, system_id: acme, " \
	"password: secret }\n"

/* The first five lines of BASE: no accounts, no upstreams. */
#define HEAD \
	"business_name: Acme\n" \
	"default_country_code: \"1\"\n" \
	"store: { path: var/stopgate }\n" \
	"listeners: [{ bind: 127.0.0.1:2775 }]\n" \
	"categories: [promo, billing]\n"

/* HEAD without its store line. */
#define HEAD_NO_STORE \
	"business_name: Acme\n" \
	"default_country_code: \"1\"\n" \
	"listeners: [{ bind: 127.0.0.1:2775 }]\n" \
	"categories: [promo, billing]\n"

#define UPSTREAM \
	"upstreams:\n" \
	"  - { name: carrier, host: 127.0.0.1, port: 2776, system_id: acme, " \
	"password: secret }\n"

static const char spec_example[] =
    "business_name: Acme Clinic\n"
    "default_country_code: \"1\"        "
	"# national numbers are normalised with it\n"
    "store:\n"
    "  path: ./var/stopgate            "
	"# LMDB environment directory, created if missing\n"
    "listeners:\n"
    "  - bind: 127.0.0.1:2775\n"
    "  - bind: 127.0.0.1:3550\n"
    "    tls: { cert: server.pem, key: server.key, client_ca: ca.pem }  "
	"# client_ca optional\n"
    "admin:\n"
    "  bind: 127.0.0.1:8775\n"
    "  token: change-me\n"
    "categories:                       # a name, or { name, keywords }\n"
    "  - promo                         "
	"# keywords default to the name in capitals: PROMO\n"
    "  - name: appointments\n"
    "    keywords: [APPT]              "
	"# \"APPT\", \"STOP APPT\", \"START APPT\"\n"
    "  - billing\n"
    "accounts:                         # one per department\n"
    "  - system_id: marketing\n"
    "    password: mkpass1\n"
    "    default_category: promo\n"
    "    categories: [promo]           # categories this account may send\n"
    "    service_types: {}             # submit_sm service_type -> category\n"
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
    "    bind: transceiver             # transceiver | transmitter+receiver\n"
    "    sessions: 1\n"
    "    window: 50\n"
    "    tls: false\n"
    "routes:                           "
	"# first match wins; every match key optional\n"
    "  - match: { category: promo, destination_prefix: \"1\" }\n"
    "    upstream: carrier\n"
    "  - upstream: carrier\n"
    "inbound:                          "
	"# our numbers that subscribers reply to\n"
    "  - number: \"12345\"\n"
    "    account: marketing            "
	"# receives ordinary replies to this number\n"
    "    stop_scope: [promo]           # what STOP to this number opts out of\n"
    "  - number: \"15550100\"\n"
    "    account: frontdesk\n"
    "    stop_scope: all\n"
    "rejection:\n"
    "  command_status: 0x00000401      "
	"# status for a send to an opted-out number\n";

static void
path_in_tmp(char *buf, size_t cap, const char *rel)
{
	snprintf(buf, cap, "%s/%s", tmpdir, rel);
}

static void
check_spec_example(const struct config *cfg)
{
	const struct config_inbound *in;
	char want[PATH_MAX];
	size_t promo, appt, billing, mk, fd;

	assert_string_equal(cfg->business_name, "Acme Clinic");
	assert_string_equal(cfg->default_country_code, "1");
	assert_int_equal(cfg->national_number_length, 10);
	path_in_tmp(want, sizeof(want), "var/stopgate");
	assert_string_equal(cfg->store_path, want);

	assert_int_equal(cfg->nlisteners, 2);
	assert_string_equal(cfg->listeners[0].host, "127.0.0.1");
	assert_int_equal(cfg->listeners[0].port, 2775);
	assert_false(cfg->listeners[0].tls.enabled);
	assert_int_equal(cfg->listeners[1].port, 3550);
	assert_true(cfg->listeners[1].tls.enabled);
	path_in_tmp(want, sizeof(want), "server.pem");
	assert_string_equal(cfg->listeners[1].tls.cert, want);
	path_in_tmp(want, sizeof(want), "server.key");
	assert_string_equal(cfg->listeners[1].tls.key, want);
	path_in_tmp(want, sizeof(want), "ca.pem");
	assert_string_equal(cfg->listeners[1].tls.client_ca, want);

	assert_true(cfg->has_admin);
	assert_string_equal(cfg->admin_host, "127.0.0.1");
	assert_int_equal(cfg->admin_port, 8775);
	assert_string_equal(cfg->admin_token, "change-me");
	assert_false(cfg->admin_tls.enabled);

	assert_int_equal(cfg->ncategories, 3);
	promo = (size_t)config_category_find(cfg, "promo");
	appt = (size_t)config_category_find(cfg, "appointments");
	billing = (size_t)config_category_find(cfg, "billing");
	assert_int_equal(promo, 0);
	assert_int_equal(appt, 1);
	assert_int_equal(billing, 2);
	assert_int_equal(cfg->categories[promo].keywords.count, 1);
	assert_string_equal(cfg->categories[promo].keywords.words[0], "PROMO");
	assert_string_equal(cfg->categories[appt].keywords.words[0], "APPT");
	assert_string_equal(cfg->categories[billing].keywords.words[0],
	    "BILLING");
	assert_int_equal(cfg->categories[billing].rejection_status, 0x401);

	assert_int_equal(cfg->naccounts, 2);
	mk = (size_t)config_account_find(cfg, "marketing");
	fd = (size_t)config_account_find(cfg, "frontdesk");
	assert_int_equal(mk, 0);
	assert_int_equal(fd, 1);
	assert_string_equal(cfg->accounts[mk].password, "mkpass1");
	assert_string_equal(cfg->accounts[fd].password, "fdpass1");
	assert_int_equal(cfg->accounts[mk].default_category, promo);
	assert_int_equal(cfg->accounts[mk].ncategories, 1);
	assert_int_equal(cfg->accounts[mk].nservice_types, 0);
	assert_int_equal(cfg->accounts[fd].ncategories, 2);
	assert_int_equal(cfg->accounts[fd].nservice_types, 1);
	assert_string_equal(cfg->accounts[fd].service_types[0].service_type,
	    "BILL");
	assert_true(config_account_may_send(cfg, mk, promo));
	assert_false(config_account_may_send(cfg, mk, billing));
	assert_true(config_account_may_send(cfg, fd, billing));
	assert_true(config_account_may_send(cfg, fd, appt));
	assert_false(config_account_may_send(cfg, fd, promo));
	assert_int_equal(config_account_category(cfg, fd, "BILL"), billing);
	assert_int_equal(config_account_category(cfg, fd, ""), appt);
	assert_int_equal(config_account_category(cfg, fd, NULL), appt);
	assert_int_equal(config_account_category(cfg, fd, "bill"), appt);
	assert_int_equal(config_account_category(cfg, mk, "BILL"), promo);

	assert_int_equal(cfg->nupstreams, 1);
	assert_int_equal(config_upstream_find(cfg, "carrier"), 0);
	assert_string_equal(cfg->upstreams[0].host, "127.0.0.1");
	assert_int_equal(cfg->upstreams[0].port, 2776);
	assert_string_equal(cfg->upstreams[0].system_id, "acme");
	assert_string_equal(cfg->upstreams[0].password, "secret");
	assert_int_equal(cfg->upstreams[0].bind, CONFIG_BIND_TRANSCEIVER);
	assert_int_equal(cfg->upstreams[0].sessions, 1);
	assert_int_equal(cfg->upstreams[0].window, 50);
	assert_false(cfg->upstreams[0].tls.enabled);

	assert_int_equal(cfg->nroutes, 2);
	assert_true(cfg->routes[0].has_category);
	assert_int_equal(cfg->routes[0].category, promo);
	assert_false(cfg->routes[0].has_account);
	assert_string_equal(cfg->routes[0].destination_prefix, "1");
	assert_int_equal(cfg->routes[0].upstream, 0);
	assert_false(cfg->routes[1].has_category);
	assert_false(cfg->routes[1].has_account);
	assert_string_equal(cfg->routes[1].destination_prefix, "");
	assert_int_equal(cfg->routes[1].upstream, 0);

	assert_int_equal(cfg->ninbound, 2);
	in = config_inbound_find(cfg, "12345");
	assert_non_null(in);
	assert_int_equal(in->account, mk);
	assert_false(in->scope_all);
	assert_int_equal(in->nscope, 1);
	assert_int_equal(in->scope[0], promo);
	in = config_inbound_find(cfg, "15550100");
	assert_non_null(in);
	assert_int_equal(in->account, fd);
	assert_true(in->scope_all);
	assert_null(config_inbound_find(cfg, "99999"));

	assert_int_equal(cfg->rejection_status, 0x00000401);
}

/* The SPEC §2 example loads, with the right values. */
static void
test_spec_example(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(spec_example);
	check_spec_example(cfg);
	config_free(cfg);
}

/* The same from a file: config_load() and relative paths. */
static void
test_spec_example_file(void **state)
{
	struct config_errors errs;
	struct config *cfg;
	char path[PATH_MAX];

	(void)state;
	write_file("cfg.yaml", spec_example);
	path_in_tmp(path, sizeof(path), "cfg.yaml");
	cfg = config_load(path, &errs);
	if (cfg == NULL)
		print_errors(&errs);
	assert_non_null(cfg);
	assert_string_equal(cfg->path, path);
	check_spec_example(cfg);
	config_free(cfg);
}

static void
test_defaults(void **state)
{
	struct config *cfg;
	const struct config_words *w;

	(void)state;
	cfg = load_ok(BASE);
	assert_int_equal(cfg->national_number_length, 10);
	assert_int_equal(cfg->store_map_mb, 1024);
	assert_false(cfg->has_admin);
	assert_null(cfg->admin_token);
	assert_int_equal(cfg->rejection_status, 0x401);
	assert_int_equal(cfg->categories[0].rejection_status, 0x401);
	assert_int_equal(cfg->categories[1].rejection_status, 0x401);

	assert_int_equal(cfg->accounts[0].max_window, 100);
	assert_true(cfg->accounts[0].max_rate == 0);
	assert_int_equal(cfg->accounts[0].max_burst, 1);
	assert_int_equal(cfg->accounts[0].ncategories, 1);
	assert_int_equal(cfg->accounts[0].categories[0], 0);

	assert_int_equal(cfg->upstreams[0].bind, CONFIG_BIND_TRANSCEIVER);
	assert_int_equal(cfg->upstreams[0].sessions, 1);
	assert_int_equal(cfg->upstreams[0].window, 10);
	assert_string_equal(cfg->upstreams[0].system_type, "");
	assert_false(cfg->upstreams[0].tls.enabled);
	assert_int_equal(cfg->upstreams[0].enquire_link_ms, 30000);
	assert_int_equal(cfg->upstreams[0].response_timeout_ms, 10000);
	assert_int_equal(cfg->upstreams[0].reconnect_min_ms, 1000);
	assert_int_equal(cfg->upstreams[0].reconnect_max_ms, 60000);

	/* One upstream and no routes: everything goes to it. */
	assert_int_equal(cfg->nroutes, 1);
	assert_false(cfg->routes[0].has_category);
	assert_false(cfg->routes[0].has_account);
	assert_string_equal(cfg->routes[0].destination_prefix, "");
	assert_int_equal(cfg->routes[0].upstream, 0);
	assert_int_equal(cfg->ninbound, 0);

	w = &cfg->keywords.opt_out;
	assert_int_equal(w->count, 16);
	assert_string_equal(w->words[0], "STOP");
	assert_string_equal(w->words[8], "OPT OUT");
	assert_string_equal(w->words[12], "ARR\xc3\x8aT");
	assert_string_equal(w->words[15], "\xf0\x9f\x9b\x91");
	assert_int_equal(cfg->keywords.opt_out_all.count, 2);
	assert_string_equal(cfg->keywords.opt_out_all.words[1], "STOP ALL");
	assert_int_equal(cfg->keywords.opt_out_in_text.count, 7);
	assert_int_equal(cfg->keywords.opt_in.count, 3);
	assert_string_equal(cfg->keywords.opt_in.words[0], "START");
	assert_int_equal(cfg->keywords.help.count, 4);
	assert_string_equal(cfg->keywords.help.words[3], "AYUDA");

	assert_string_equal(cfg->replies.opt_out, "You're opted out of "
	    "{categories} texts from {business}. Reply START to "
	    "resubscribe.");
	assert_string_equal(cfg->replies.opt_in, "You're subscribed again "
	    "to {categories} texts from {business}. Reply STOP to opt out.");
	assert_string_equal(cfg->replies.help, "{business}: reply STOP to "
	    "opt out, START to opt back in.");

	assert_int_equal(cfg->timeouts.bind_ms, 5000);
	assert_int_equal(cfg->timeouts.idle_ms, 300000);
	assert_int_equal(cfg->timeouts.response_ms, 30000);
	assert_int_equal(cfg->timeouts.shutdown_ms, 5000);
	assert_int_equal(cfg->timeouts.reassembly_ms, 60000);
	assert_int_equal(cfg->timeouts.admin_request_ms, 10000);
	assert_int_equal(cfg->retention.events_days, 1461);
	assert_int_equal(cfg->retention.audit_days, 1461);
	assert_int_equal(cfg->retention.receipt_map_hours, 72);
	assert_int_equal(cfg->retention.outbox_hours, 48);
	assert_int_equal(cfg->retention.outbox_max, 25000);
	assert_int_equal(cfg->max_pdu_len, 65536);
	assert_int_equal(cfg->max_sessions, 1024);
	assert_int_equal(cfg->max_unbound, 256);
	assert_int_equal(cfg->max_unbound_per_address, 32);
	assert_int_equal(cfg->upstream_queue_max, 1000);
	assert_int_equal(cfg->max_admin_connections, 64);
	config_free(cfg);
}

/* Optional blocks override their defaults. */
/*
 * References: the loader's and each config_ref() are dropped one by one,
 * the last frees (the sanitizers see a leak or a double free), and a
 * config_free() of a referenced config only drops the owner's.
 */
static void
test_refs(void **state)
{
	struct config *cfg, *held;

	(void)state;
	cfg = load_ok(BASE);
	assert_int_equal(atomic_load(&cfg->refs), 1);
	held = config_ref(cfg);
	assert_ptr_equal(held, cfg);
	assert_int_equal(atomic_load(&cfg->refs), 2);
	config_free(cfg);		/* the owner lets go */
	assert_int_equal(atomic_load(&held->refs), 1);
	assert_string_equal(held->business_name, "Acme");
	config_unref(held);		/* the last: freed */
	config_ref(NULL);
	config_unref(NULL);
	config_free(NULL);
}

static void
test_overrides(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(HEAD_NO_STORE
	    "national_number_length: 9\n"
	    "accounts:\n"
	    "  - system_id: marketing\n"
	    "    password: mkpass1\n"
	    "    default_category: promo\n"
	    "    categories: [promo, billing]\n"
	    "    service_types: { BILL: billing }\n"
	    "    max_window: 7\n"
	    "    max_rate: 5.5\n"
	    "upstreams:\n"
	    "  - name: carrier\n"
	    "    host: smsc.example.net\n"
	    "    port: 2776\n"
	    "    system_id: acme\n"
	    "    password: secret\n"
	    "    system_type: VMA\n"
	    "    bind: transmitter+receiver\n"
	    "    tls: true\n"
	    "    reconnect_min_ms: 200\n"
	    "    reconnect_max_ms: 400\n"
	    "timeouts: { bind_ms: 1000, idle_ms: 2000, response_ms: 3000, "
	    "shutdown_ms: 0, reassembly_ms: 5000, admin_request_ms: 250 }\n"
	    "retention: { events_days: 0, audit_days: 2000, "
	    "receipt_map_hours: 1, outbox_hours: 2, outbox_max: 3 }\n"
	    "limits: { max_pdu_len: 4096, max_sessions: 5, "
	    "max_unbound: 6, max_unbound_per_address: 2, "
	    "upstream_queue_max: 0, max_admin_connections: 2 }\n"
	    "store: { path: /srv/stopgate, map_mb: 64 }\n"
	    "rejection: { command_status: 1025 }\n");
	assert_int_equal(cfg->national_number_length, 9);
	assert_int_equal(cfg->accounts[0].max_window, 7);
	assert_true(cfg->accounts[0].max_rate == 5.5);
	assert_int_equal(cfg->accounts[0].max_burst, 6);
	assert_int_equal(cfg->accounts[0].ncategories, 2);
	assert_string_equal(cfg->upstreams[0].host, "smsc.example.net");
	assert_string_equal(cfg->upstreams[0].system_type, "VMA");
	assert_int_equal(cfg->upstreams[0].bind, CONFIG_BIND_TX_RX);
	assert_true(cfg->upstreams[0].tls.enabled);
	assert_true(cfg->upstreams[0].tls.verify);
	assert_null(cfg->upstreams[0].tls.ca);
	assert_null(cfg->upstreams[0].tls.cert);
	assert_int_equal(cfg->upstreams[0].reconnect_max_ms, 400);
	assert_int_equal(cfg->timeouts.bind_ms, 1000);
	assert_int_equal(cfg->timeouts.idle_ms, 2000);
	assert_int_equal(cfg->timeouts.response_ms, 3000);
	assert_int_equal(cfg->timeouts.shutdown_ms, 0);
	assert_int_equal(cfg->timeouts.reassembly_ms, 5000);
	assert_int_equal(cfg->retention.events_days, 0);
	assert_int_equal(cfg->retention.audit_days, 2000);
	assert_int_equal(cfg->retention.outbox_max, 3);
	assert_int_equal(cfg->max_pdu_len, 4096);
	assert_int_equal(cfg->max_sessions, 5);
	assert_int_equal(cfg->max_unbound, 6);
	assert_int_equal(cfg->max_unbound_per_address, 2);
	assert_int_equal(cfg->upstream_queue_max, 0);
	assert_int_equal(cfg->timeouts.admin_request_ms, 250);
	assert_int_equal(cfg->max_admin_connections, 2);
	assert_string_equal(cfg->store_path, "/srv/stopgate");
	assert_int_equal(cfg->store_map_mb, 64);
	assert_int_equal(cfg->rejection_status, 0x401);
	config_free(cfg);
}

/* Every error class, with exact positions, all reported in one run. */
static void
test_error_positions(void **state)
{
	struct config_errors errs;
	struct config *cfg;
	char buf[512];

	(void)state;
	cfg = load(
	    /* 1 */ "business_name: Acme\n"
	    /* 2 */ "default_country_code: \"1\"\n"
	    /* 3 */ "colour: blue\n"
	    /* 4 */ "store: { path: var/stopgate, map_mb: x }\n"
	    /* 5 */ "listeners:\n"
	    /* 6 */ "  - bind: 127.0.0.1:2775\n"
	    /* 7 */ "  - bind: 127.0.0.1:2775\n"
	    /* 8 */ "  - bind: localhost:80\n"
	    /* 9 */ "categories: [promo, promo, Bad]\n"
	    /* 10 */ "accounts:\n"
	    /* 11 */ "  - system_id: marketing\n"
	    /* 12 */ "    password: mkpass1\n"
	    /* 13 */ "    default_category: nope\n"
	    /* 14 */ "upstreams:\n"
	    /* 15 */ "  - name: carrier\n"
	    /* 16 */ "    host: 127.0.0.1\n"
	    /* 17 */ "    port: 99999\n"
	    /* 18 */ "    system_id: acme\n"
	    /* 19 */ "    password: secret\n"
	    /* 20 */ "    tls: { ca: nope.pem }\n"
	    /* 21 */ "routes:\n"
	    /* 22 */ "  - upstream: nowhere\n"
	    /* 23 */ "inbound:\n"
	    /* 24 */ "  - { number: \"12345\", account: ghost }\n"
	    /* 25 */ "rejection: { command_status: 0x64 }\n", &errs);
	assert_null(cfg);
	expect_error(&errs, 3, 1, "unknown key 'colour'");
	expect_error(&errs, 4, 38, "'map_mb' must be an integer");
	expect_error(&errs, 7, 11, "duplicate listener bind");
	expect_error(&errs, 8, 11, "bad address 'localhost:80'");
	expect_error(&errs, 9, 21, "duplicate category 'promo' (first at "
	    "line 9)");
	expect_error(&errs, 9, 28, "'name' must use only");
	expect_error(&errs, 13, 23, "undefined category 'nope'");
	expect_error(&errs, 17, 11, "'port' must be between 1 and 65535");
	expect_error(&errs, 20, 16, "cannot read ca file");
	expect_error(&errs, 22, 15, "undefined upstream 'nowhere'");
	expect_error(&errs, 24, 33, "undefined account 'ghost'");
	expect_error(&errs, 25, 30, "0x00000064 is not allowed");
	assert_int_equal(errs.count, 12);
	/* In file order. */
	assert_int_equal(errs.err[0].line, 3);
	assert_int_equal(errs.err[11].line, 25);
	assert_string_equal(config_error_format(&errs, 0, buf, sizeof(buf)),
	    "t.yaml:3:1: unknown key 'colour' in the top level");
}

/* Wrong types where a list, a mapping, a string or a number belongs. */
static void
test_wrong_types(void **state)
{
	(void)state;
	expect_one(BASE "inbound: 12345\n", 10, 10,
	    "'inbound' must be a list");
	expect_one(BASE "timeouts: [1, 2]\n", 10, 11,
	    "timeouts must be a mapping, not a list");
	expect_one(BASE "replies: { help: [a] }\n", 10, 18,
	    "'help' must be a string, not a list");
	expect_one(BASE "timeouts: { idle_ms: 1.5 }\n", 10, 22,
	    "'idle_ms' must be an integer");
	expect_one(BASE "timeouts: { idle_ms: \"60000\" }\n", 10, 22,
	    "'idle_ms' must be an integer, written without quotes");
	expect_one(BASE "limits: { max_sessions: -1 }\n", 10, 25,
	    "'max_sessions' must be an integer");
	expect_one(BASE "limits: { max_admin_connections: 0 }\n", 10, 34,
	    "'max_admin_connections' must be between 1 and 100000");
	expect_one(BASE "timeouts: { admin_request_ms: 50 }\n", 10, 31,
	    "'admin_request_ms' must be between 100 and 600000");
	expect_one(BASE "limits: { max_sessions: 99999999999999999999999 }\n",
	    10, 25, "'max_sessions' must be between 1 and 100000");
	expect_one(BASE "keywords: { opt_in: START }\n", 10, 21,
	    "'opt_in' must be a list of words");
	expect_one(HEAD "accounts: { system_id: x }\n" UPSTREAM, 6, 11,
	    "'accounts' must be a list, not a mapping");
	expect_one(HEAD "accounts:\n" UPSTREAM, 6, 10,
	    "'accounts' must be a list, not empty");
	expect_one(HEAD "accounts: []\n" UPSTREAM, 6, 11,
	    "'accounts' must not be empty");
	expect_one(HEAD "accounts: [marketing]\n" UPSTREAM, 6, 12,
	    "an accounts entry must be a mapping, not a scalar");
	expect_one(BASE "admin: { bind: 127.0.0.1:8775, token: t, "
	    "tls: maybe }\n", 10, 47, "'tls' must be false or a mapping "
	    "with cert and key");
	expect_one(BASE "admin: { bind: 127.0.0.1:8775, token: t, "
	    "tls: true }\n", 10, 47, "'tls' must be false or a mapping");
	expect_one(BASE "store: { path: x }\n", 10, 1, "duplicate key 'store'");
	expect_one(BASE "? [a]\n: b\n", 10, 3, "a key in the top level must "
	    "be a string");
	expect_one("- a\n- b\n", 1, 1, "the top level must be a mapping, "
	    "not a list");
	expect_one(HEAD UPSTREAM, 1, 1,
	    "missing required key 'accounts' in the top level");
}

/* YAML-level problems: syntax (libyaml's mark), aliases, documents. */
static void
test_yaml_errors(void **state)
{
	struct config_errors errs;
	char deep[200];
	size_t i;

	(void)state;
	expect_one("a: [\n", 2, 1, "YAML syntax error: did not find "
	    "expected node content");
	expect_one("a: b\n c: d\n", 2, 3, "YAML syntax error: mapping values "
	    "are not allowed");
	expect_one("business_name: \"Acme\n", 2, 1, "YAML syntax error");
	expect_one("a: \t- x\n\tb: 1\n", 1, 5, "YAML syntax error: block "
	    "sequence entries are not allowed");
	expect_one("", 1, 1, "the configuration is empty");
	expect_one("# nothing\n", 1, 1, "the configuration is empty");
	expect_one("a: &x [1]\nb: *x\n", 2, 4, "YAML aliases are not "
	    "supported");
	expect_one("a: 1\n---\nb: 2\n", 2, 1, "only one YAML document");
	expect_one("a: \xff\n", 1, 4, "YAML syntax error: invalid leading "
	    "UTF-8 octet");
	/* An embedded NUL is a control character to libyaml. */
	assert_null(config_load_string("a: b\0c\n", 7, "t.yaml", tmpdir,
	    &errs));
	assert_int_equal(errs.count, 1);
	assert_int_equal(errs.err[0].line, 1);
	for (i = 0; i < 60; i++)
		deep[i] = '[';
	deep[i] = '\0';
	expect_one(deep, 1, 33, "YAML nested too deeply");
}

/* More errors than are kept: the count goes on. */
static void
test_error_overflow(void **state)
{
	struct config_errors errs;
	char yaml[8192], buf[512];
	size_t i, off = 0;

	(void)state;
	off += (size_t)snprintf(yaml + off, sizeof(yaml) - off, "%s", BASE);
	for (i = 0; i < 100; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off,
		    "bogus%zu: 1\n", i);
	assert_null(load(yaml, &errs));
	assert_int_equal(errs.count, 100);
	assert_int_equal(errs.err[0].line, 10);
	assert_int_equal(errs.err[CONFIG_ERRORS_MAX - 1].line,
	    10 + CONFIG_ERRORS_MAX - 1);
	assert_string_equal(config_error_format(&errs, 63, buf, sizeof(buf)),
	    "t.yaml:73:1: unknown key 'bogus63' in the top level");
	assert_string_equal(config_error_format(&errs, 64, buf, sizeof(buf)),
	    "");
}

static void
test_error_format(void **state)
{
	struct config_errors errs;
	char buf[512], small[12];

	(void)state;
	assert_null(config_load("/nonexistent/stopgate.yaml", &errs));
	assert_int_equal(errs.count, 1);
	assert_int_equal(errs.err[0].line, 0);
	assert_string_equal(config_error_format(&errs, 0, buf, sizeof(buf)),
	    "/nonexistent/stopgate.yaml: cannot open: No such file or "
	    "directory");
	config_error_format(&errs, 0, small, sizeof(small));
	assert_string_equal(small, "/nonexisten");
	assert_null(config_load(tmpdir, &errs));
	assert_non_null(strstr(errs.err[0].msg, "Is a directory"));
}

static void
test_relative_paths(void **state)
{
	struct config *cfg;
	char parent[PATH_MAX], want[PATH_MAX + 32], *slash;

	(void)state;
	cfg = load_ok(HEAD_NO_STORE
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM
	    "store: { path: ../var//stopgate/./db/ }\n");
	snprintf(parent, sizeof(parent), "%s", tmpdir);
	slash = strrchr(parent, '/');
	*slash = '\0';
	snprintf(want, sizeof(want), "%s/var/stopgate/db", parent);
	assert_string_equal(cfg->store_path, want);
	config_free(cfg);

	cfg = load_ok(HEAD_NO_STORE
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM
	    "store: { path: /var/lib/../lib/stopgate }\n");
	assert_string_equal(cfg->store_path, "/var/lib/stopgate");
	config_free(cfg);
}

static void
test_password_sources(void **state)
{
	struct config_errors errs;
	struct config *cfg;

	(void)state;
	setenv("STOPGATE_TEST_PW", "envpw", 1);
	setenv("STOPGATE_TEST_EMPTY", "", 1);
	unsetenv("STOPGATE_TEST_UNSET");
	cfg = load_ok(HEAD
	    "accounts:\n"
	    "  - { system_id: a, password_file: secrets/mk.pass, "
	    "default_category: promo }\n"
	    "  - { system_id: b, password_env: STOPGATE_TEST_PW, "
	    "default_category: promo }\n"
	    "  - { system_id: c, password_file: secrets/crlf.pass, "
	    "default_category: promo }\n"
	    "upstreams:\n"
	    "  - { name: carrier, host: 127.0.0.1, port: 2776, "
	    "system_id: acme, password_env: STOPGATE_TEST_PW }\n"
	    "admin: { bind: 127.0.0.1:8775, token_file: secrets/mk.pass }\n");
	assert_string_equal(cfg->accounts[0].password, "s3cr3t");
	assert_string_equal(cfg->accounts[1].password, "envpw");
	assert_string_equal(cfg->accounts[2].password, "w1nd0ws");
	assert_string_equal(cfg->upstreams[0].password, "envpw");
	assert_string_equal(cfg->admin_token, "s3cr3t");
	config_free(cfg);

	cfg = load(HEAD
	    /* 6 */ "accounts:\n"
	    /* 7 */ "  - { system_id: a, password: x, password_env: "
	    "STOPGATE_TEST_PW, default_category: promo }\n"
	    /* 8 */ "  - { system_id: b, default_category: promo }\n"
	    /* 9 */ "  - { system_id: c, password_env: STOPGATE_TEST_UNSET, "
	    "default_category: promo }\n"
	    /* 10 */ "  - { system_id: d, password_env: STOPGATE_TEST_EMPTY, "
	    "default_category: promo }\n"
	    /* 11 */ "  - { system_id: e, password_file: secrets/none.pass, "
	    "default_category: promo }\n"
	    /* 12 */ "  - { system_id: f, password_file: secrets/empty.pass, "
	    "default_category: promo }\n"
	    /* 13 */ "  - { system_id: g, password_file: secrets/long.pass, "
	    "default_category: promo }\n"
	    /* 14 */ "  - { system_id: h, password: \"\", "
	    "default_category: promo }\n"
	    /* 15 */ "  - { system_id: i, password_file: secrets, "
	    "default_category: promo }\n"
	    UPSTREAM, &errs);
	assert_null(cfg);
	expect_error(&errs, 7, 48, "'password_env': give only one of "
	    "password, password_file, password_env");
	expect_error(&errs, 8, 5, "missing password, password_file or "
	    "password_env");
	expect_error(&errs, 9, 35, "environment variable "
	    "'STOPGATE_TEST_UNSET' is not set");
	expect_error(&errs, 10, 35, "environment variable "
	    "'STOPGATE_TEST_EMPTY' is empty");
	expect_error(&errs, 11, 36, "cannot read password_file");
	expect_error(&errs, 11, 36, "No such file or directory");
	expect_error(&errs, 12, 36, "empty or binary secret");
	expect_error(&errs, 13, 36, "longer than 8 characters");
	expect_error(&errs, 14, 31, "'password' must not be empty");
	expect_error(&errs, 15, 36, "Is a directory");
	assert_int_equal(errs.count, 9);

	expect_one(BASE "admin: { bind: 127.0.0.1:8775 }\n", 10, 8,
	    "missing token, token_file or token_env in admin");
}

/* Replaced keyword lists get STOP, START and HELP back. */
static void
test_keywords(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(BASE
	    "keywords:\n"
	    "  opt_out: [QUIT, Cancel]\n"
	    "  opt_out_all: []\n"
	    "  opt_out_in_text: [UNSUBSCRIBE]\n"
	    "  opt_in: [YES]\n"
	    "  help: [INFO]\n");
	assert_int_equal(cfg->keywords.opt_out.count, 3);
	assert_string_equal(cfg->keywords.opt_out.words[0], "QUIT");
	assert_string_equal(cfg->keywords.opt_out.words[1], "Cancel");
	assert_string_equal(cfg->keywords.opt_out.words[2], "STOP");
	assert_int_equal(cfg->keywords.opt_out_all.count, 0);
	assert_int_equal(cfg->keywords.opt_out_in_text.count, 2);
	assert_string_equal(cfg->keywords.opt_out_in_text.words[1], "STOP");
	assert_int_equal(cfg->keywords.opt_in.count, 2);
	assert_string_equal(cfg->keywords.opt_in.words[1], "START");
	assert_int_equal(cfg->keywords.help.count, 2);
	assert_string_equal(cfg->keywords.help.words[1], "HELP");
	config_free(cfg);

	/* Given in any case: not added twice. */
	cfg = load_ok(BASE "keywords: { opt_out: [stop, end] }\n");
	assert_int_equal(cfg->keywords.opt_out.count, 2);
	assert_int_equal(cfg->keywords.opt_in.count, 3);	/* default */
	config_free(cfg);

	expect_one(BASE "keywords: { opt_in: [START, STOP] }\n", 10, 29,
	    "keyword 'STOP' is in both opt_out and opt_in");
	expect_one(BASE "keywords: { help: [STOP] }\n", 10, 20,
	    "keyword 'STOP' is in both opt_out and help");
	/* START in opt_out: START comes back in the default opt_in. */
	expect_one(BASE "keywords: { opt_out: [STOP, START] }\n", 10, 29,
	    "keyword 'START' is in both opt_out and opt_in");
	expect_one(BASE "keywords: { opt_out: [STOP, stop] }\n", 10, 29,
	    "keyword 'stop' is listed twice");
	expect_one(BASE "keywords: { opt_out: [STOP, \"  \"] }\n", 10, 29,
	    "a keyword must not be blank");
	expect_one(BASE "keywords: { opt_out: [STOP, \"A\\nB\"] }\n", 10, 29,
	    "a keyword must not contain control characters");
	expect_one(BASE "keywords: { opt_out: [STOP, [X]] }\n", 10, 29,
	    "'opt_out' must be a string");
	expect_one(BASE "keywords: { optout: [STOP] }\n", 10, 13,
	    "unknown key 'optout' in keywords");
}

static void
test_categories(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners: [{ bind: 127.0.0.1:2775 }]\n"
	    "categories:\n"
	    "  - promo\n"
	    "  - { name: appointments, keywords: [APPT, Visit], "
	    "rejection_status: 0x402 }\n"
	    "  - { name: b-2_x, rejection_status: 1027 }\n"
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM
	    "rejection: { command_status: 0x00000450 }\n");
	assert_int_equal(cfg->ncategories, 3);
	assert_int_equal(cfg->categories[0].rejection_status, 0x450);
	assert_int_equal(cfg->categories[1].rejection_status, 0x402);
	assert_int_equal(cfg->categories[1].keywords.count, 2);
	assert_string_equal(cfg->categories[1].keywords.words[1], "Visit");
	assert_int_equal(cfg->categories[2].rejection_status, 0x403);
	assert_string_equal(cfg->categories[2].keywords.words[0], "B-2_X");
	config_free(cfg);

	expect_one("business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners: [{ bind: 127.0.0.1:2775 }]\n"
	    "categories: [promo, all]\n"
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM, 5, 21,
	    "'all' is reserved");
	expect_one("business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners: [{ bind: 127.0.0.1:2775 }]\n"
	    "categories: [promo, help]\n"
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM, 5, 21,
	    "category keyword 'HELP' is also a help keyword");
	expect_one("business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners: [{ bind: 127.0.0.1:2775 }]\n"
	    "categories: [promo, { name: deals, keywords: [promo] }]\n"
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM, 5, 47,
	    "category keyword 'promo' is also used by category 'promo'");
	expect_one("business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners: [{ bind: 127.0.0.1:2775 }]\n"
	    "categories: [promo, { name: deals, keywords: [] }]\n"
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM, 5, 46,
	    "'keywords' must not be empty");
	expect_one("business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners: [{ bind: 127.0.0.1:2775 }]\n"
	    "categories: [promo, { keywords: [X] }]\n"
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM, 5, 21,
	    "missing required key 'name' in a categories entry");
	expect_one("business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners: [{ bind: 127.0.0.1:2775 }]\n"
	    "categories: [promo, a_very_long_category_name_of_40_chars]\n"
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM, 5, 21,
	    "'name' is too long (at most 31 characters)");
}

/* SPEC §3: never a status clients retry, never 0x0B, never 0. */
static void
test_rejection_status(void **state)
{
	static const char *const bad[] = { "0", "0x0", "0x08", "8", "0x14",
	    "0x58", "0x61", "0x64", "100", "0x0B", "0x0b", "11" };
	struct config *cfg;
	char yaml[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), BASE
		    "rejection: { command_status: %s }\n", bad[i]);
		expect_one(yaml, 10, 30, "is not allowed");
	}
	expect_one(BASE "rejection: { command_status: 0x100000000 }\n", 10, 30,
	    "'command_status' must be between 0x00000000 and 0xffffffff");
	expect_one(BASE "rejection: { command_status: 0xZZ }\n", 10, 30,
	    "must be a (hexadecimal or decimal) integer");
	expect_one(BASE "rejection: { command_status: 0x }\n", 10, 30,
	    "must be a (hexadecimal or decimal) integer");
	cfg = load_ok(BASE "rejection: { command_status: 0x45 }\n");
	assert_int_equal(cfg->rejection_status, 0x45);
	config_free(cfg);
	cfg = load_ok(BASE "rejection: { command_status: 0XfFfF }\n");
	assert_int_equal(cfg->rejection_status, 0xffff);
	config_free(cfg);
}

static void
test_bind_addresses(void **state)
{
	static const char *const bad[] = { "127.0.0.1:0", ":2775",
	    "::1:2775", "[::1]2775", "127.0.0.1:65536", "127.0.0.1:27a",
	    "1.2.3:5", "[127.0.0.1]:5", "127.0.0.1:", "localhost:2775",
	    "127.0.0.1:+80", "[::1]:", "127.0.0.1:0002775",
	    " 127.0.0.1:2775" };
	struct config *cfg;
	char yaml[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), BASE
		    "admin: { bind: \"%s\", token: t }\n", bad[i]);
		expect_one(yaml, 10, 16, "bad address");
	}
	cfg = load_ok(HEAD
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM
	    "admin: { bind: \"[0:0:0:0:0:0:0:1]:8775\", token: t }\n");
	assert_string_equal(cfg->admin_host, "::1");
	assert_int_equal(cfg->admin_port, 8775);
	config_free(cfg);

	/* Two spellings of one address are the same bind. */
	expect_one("business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners:\n"
	    "  - bind: \"[::1]:2775\"\n"
	    "  - bind: \"[0::1]:2775\"\n"
	    "  - bind: \"[::1]:2776\"\n"
	    "  - bind: 0.0.0.0:65535\n"
	    "categories: [promo]\n"
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n" UPSTREAM, 6, 11,
	    "duplicate listener bind ::1 port 2775");
	expect_one(BASE "admin: { bind: 127.0.0.1:2775, token: t }\n", 10, 16,
	    "admin bind 127.0.0.1 port 2775 is also a listener");
}

static void
test_tls(void **state)
{
	struct config *cfg;
	char want[PATH_MAX];

	(void)state;
	cfg = load_ok(HEAD
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n"
	    "upstreams:\n"
	    "  - name: a\n"
	    "    host: 127.0.0.1\n"
	    "    port: 1\n"
	    "    system_id: s\n"
	    "    password: p\n"
	    "    tls: { ca: tls/ca.pem, cert: tls/client.pem, "
	    "key: tls/client.key, verify: false }\n"
	    "routes: [{ upstream: a }]\n"
	    "admin:\n"
	    "  bind: 127.0.0.1:8775\n"
	    "  token: t\n"
	    "  tls: { cert: tls/server.pem, key: tls/server.key }\n");
	assert_true(cfg->upstreams[0].tls.enabled);
	assert_false(cfg->upstreams[0].tls.verify);
	path_in_tmp(want, sizeof(want), "tls/ca.pem");
	assert_string_equal(cfg->upstreams[0].tls.ca, want);
	path_in_tmp(want, sizeof(want), "tls/client.key");
	assert_string_equal(cfg->upstreams[0].tls.key, want);
	assert_true(cfg->admin_tls.enabled);
	assert_null(cfg->admin_tls.client_ca);
	path_in_tmp(want, sizeof(want), "tls/server.pem");
	assert_string_equal(cfg->admin_tls.cert, want);
	config_free(cfg);

	expect_one(BASE "admin: { bind: 127.0.0.1:8775, token: t, tls: "
	    "{ cert: tls/server.pem, key: tls/nokey.pem } }\n", 10, 76,
	    "cannot read key file");
	expect_one(BASE "admin: { bind: 127.0.0.1:8775, token: t, tls: "
	    "{ cert: tls/server.pem } }\n", 10, 47,
	    "missing required key 'key' in tls");
	expect_one(BASE "admin: { bind: 127.0.0.1:8775, token: t, tls: "
	    "{ cert: tls, key: tls/server.key } }\n", 10, 55,
	    "Is a directory");
	expect_one(HEAD
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n"
	    "upstreams:\n"
	    "  - { name: a, host: h, port: 1, system_id: s, password: p, "
	    "tls: { cert: tls/client.pem } }\n", 8, 66,
	    "a client certificate needs both cert and key");
	cfg = load_ok(HEAD
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n"
	    "upstreams:\n"
	    "  - { name: a, host: h, port: 1, system_id: s, password: p, "
	    "tls: {} }\n");
	assert_true(cfg->upstreams[0].tls.enabled);
	assert_true(cfg->upstreams[0].tls.verify);
	config_free(cfg);
	expect_one(HEAD
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n"
	    "upstreams:\n"
	    "  - { name: a, host: h, port: 1, system_id: s, password: p, "
	    "tls: { verify: maybe } }\n", 8, 76,
	    "'verify' must be true or false");
}

static void
test_inbound(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(BASE
	    "inbound:\n"
	    "  - { number: \"+1 (555) 010-0000\", account: marketing }\n"
	    "  - { number: \"555.010.0001\", account: marketing, "
	    "stop_scope: [promo, billing] }\n"
	    "  - { number: 60123, account: marketing, stop_scope: all }\n");
	assert_int_equal(cfg->ninbound, 3);
	assert_string_equal(cfg->inbound[0].number, "15550100000");
	assert_true(cfg->inbound[0].scope_all);
	assert_string_equal(cfg->inbound[1].number, "15550100001");
	assert_false(cfg->inbound[1].scope_all);
	assert_int_equal(cfg->inbound[1].nscope, 2);
	assert_int_equal(cfg->inbound[1].scope[1], 1);
	assert_string_equal(cfg->inbound[2].number, "60123");
	assert_non_null(config_inbound_find(cfg, "15550100001"));
	config_free(cfg);

	expect_one(BASE "inbound:\n"
	    "  - { number: \"5550100000\", account: marketing }\n"
	    "  - { number: \"+15550100000\", account: marketing }\n",
	    12, 15, "duplicate inbound number 15550100000 (first at line 11)");
	expect_one(BASE "inbound: [{ number: \"CALL-US\", account: "
	    "marketing }]\n", 10, 21, "'number' 'CALL-US' is not a phone "
	    "number");
	expect_one(BASE "inbound: [{ number: \"1\", account: marketing, "
	    "stop_scope: [] }]\n", 10, 58, "'stop_scope' must not be empty");
	expect_one(BASE "inbound: [{ number: \"1\", account: marketing, "
	    "stop_scope: promo }]\n", 10, 58, "'stop_scope' must be all or "
	    "a list of categories");
	expect_one(BASE "inbound: [{ number: \"1\", account: marketing, "
	    "stop_scope: [promo, deals] }]\n", 10, 66,
	    "undefined category 'deals'");
	expect_one(BASE "inbound: [{ number: \"1\" }]\n", 10, 11,
	    "missing required key 'account' in an inbound entry");
}

/*
 * Bug: a stop_scope that named a category twice was accepted, and every
 * STOP to that number then built an opt-out event naming the category
 * twice, which the store refuses: the SMSC got 0x64 for ever and the
 * opt-out was never recorded. A stop_scope longer than one event holds
 * was cut short at the first STOP. Both are config errors now, as is a
 * category listed twice in an account's categories.
 */
static void
test_scope_lists_checked(void **state)
{
	char	 yaml[4096];
	size_t	 off, i;

	(void)state;
	expect_one(BASE "inbound: [{ number: \"1\", account: marketing, "
	    "stop_scope: [promo, billing, promo] }]\n", 10, 75,
	    "'stop_scope' lists category 'promo' twice");
	expect_one(HEAD "accounts: [{ system_id: m, password: p, "
	    "default_category: promo, categories: [billing, billing] }]\n"
	    "upstreams: [{ name: a, host: h, port: 1, system_id: s, "
	    "password: p }]\n", 6, 88,
	    "'categories' lists category 'billing' twice");

	off = (size_t)snprintf(yaml, sizeof(yaml), "%s",
	    "business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners: [{ bind: 127.0.0.1:2775 }]\n"
	    "categories: [");
	for (i = 0; i <= CONFIG_SCOPE_MAX; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off,
		    "%sc%zu", i > 0 ? ", " : "", i);
	off += (size_t)snprintf(yaml + off, sizeof(yaml) - off, "]\n"
	    "accounts: [{ system_id: m, password: p, default_category: c0 }]\n"
	    "upstreams: [{ name: a, host: h, port: 1, system_id: s, "
	    "password: p }]\n"
	    "inbound: [{ number: \"1\", account: m, stop_scope: [");
	for (i = 0; i <= CONFIG_SCOPE_MAX; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off,
		    "%sc%zu", i > 0 ? ", " : "", i);
	snprintf(yaml + off, sizeof(yaml) - off, "] }]\n");
	expect_one(yaml, 8, 50, "'stop_scope' lists more than 32 "
	    "categories; use all");
}

static void
test_routes(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(HEAD
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n"
	    "upstreams:\n"
	    "  - { name: a, host: h, port: 1, system_id: s, password: p }\n"
	    "  - { name: b, host: h, port: 2, system_id: s, password: p }\n"
	    "routes:\n"
	    "  - match: { account: m, category: billing, "
	    "destination_prefix: \"+44\" }\n"
	    "    upstream: b\n"
	    "  - match: {}\n"
	    "    upstream: a\n");
	assert_int_equal(cfg->nroutes, 2);
	assert_true(cfg->routes[0].has_account);
	assert_int_equal(cfg->routes[0].account, 0);
	assert_true(cfg->routes[0].has_category);
	assert_int_equal(cfg->routes[0].category, 1);
	assert_string_equal(cfg->routes[0].destination_prefix, "44");
	assert_int_equal(cfg->routes[0].upstream, 1);
	assert_false(cfg->routes[1].has_account);
	assert_int_equal(cfg->routes[1].upstream, 0);
	config_free(cfg);

	expect_one(HEAD
	    "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n"
	    "upstreams:\n"
	    "  - { name: a, host: h, port: 1, system_id: s, password: p }\n"
	    "  - { name: b, host: h, port: 2, system_id: s, password: p }\n",
	    8, 3, "'routes' is required when there is more than one "
	    "upstream");
	expect_one(BASE "routes: [{ match: { destination_prefix: 1-800 }, "
	    "upstream: carrier }]\n", 10, 41, "'destination_prefix' must be "
	    "1 to 15 digits");
	expect_one(BASE "routes: [{ match: { prefix: \"1\" }, "
	    "upstream: carrier }]\n", 10, 21, "unknown key 'prefix' in match");
	expect_one(BASE "routes: [{ match: { category: promo } }]\n", 10, 10,
	    "missing required key 'upstream' in a routes entry");
	expect_one(BASE "routes: []\n", 10, 9, "'routes' must not be empty");
}

static void
test_accounts(void **state)
{
	struct config_errors errs;
	struct config *cfg;

	(void)state;
	expect_one(HEAD "accounts:\n"
	    "  - system_id: m\n"
	    "    password: p\n"
	    "    default_category: promo\n"
	    "    categories: [billing]\n" UPSTREAM, 9, 23,
	    "default_category 'promo' is not in the account's categories");
	/* A service_type may map to a category the account may not send:
	 * policy, answered ESME_RINVSERTYP at run time, not a config error. */
	cfg = load(HEAD "accounts:\n"
	    "  - system_id: m\n"
	    "    password: p\n"
	    "    default_category: promo\n"
	    "    service_types: { BILL: billing }\n" UPSTREAM, &errs);
	assert_non_null(cfg);
	assert_int_equal(config_account_category(cfg, 0, "BILL"), 1);
	assert_false(config_account_may_send(cfg, 0, 1));
	assert_true(config_account_may_send(cfg, 0, 0));
	config_free(cfg);
	/* A non-string key is still an error. */
	assert_null(load(HEAD "accounts:\n"
	    "  - system_id: m\n"
	    "    password: p\n"
	    "    default_category: promo\n"
	    "    service_types: { [X]: promo, BILL: billing }\n" UPSTREAM,
	    &errs));
	assert_int_equal(errs.count, 1);
	expect_error(&errs, 10, 22, "'service_type' must be a string");
	expect_one(HEAD "accounts:\n"
	    "  - system_id: m\n"
	    "    password: p\n"
	    "    default_category: promo\n"
	    "    service_types: { LONGER: promo }\n" UPSTREAM, 10, 22,
	    "'service_type' is too long (at most 5 characters)");
	expect_one(HEAD "accounts:\n"
	    "  - system_id: m\n"
	    "    password: p\n"
	    "    default_category: promo\n"
	    "    service_types: [BILL]\n" UPSTREAM, 10, 20,
	    "'service_types' must be a mapping");
	expect_one(HEAD "accounts:\n"
	    "  - system_id: a_system_id_too_long\n"
	    "    password: p\n"
	    "    default_category: promo\n" UPSTREAM, 7, 16,
	    "'system_id' is too long (at most 15 characters)");
	expect_one(HEAD "accounts:\n"
	    "  - system_id: m\n"
	    "    password: p\n"
	    "    default_category: promo\n"
	    "    max_rate: fast\n" UPSTREAM, 10, 15,
	    "'max_rate' must be a number");
	expect_one(HEAD "accounts:\n"
	    "  - system_id: m\n"
	    "    password: p\n"
	    "    default_category: promo\n"
	    "    max_rate: -1\n" UPSTREAM, 10, 15,
	    "'max_rate' must be between 0 and 1000000");
	expect_one(HEAD "accounts:\n"
	    "  - system_id: m\n"
	    "    password: p\n"
	    "    default_category: promo\n"
	    "    max_rate: .nan\n" UPSTREAM, 10, 15,
	    "'max_rate' must be a number");
	expect_one(HEAD "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n"
	    "upstreams:\n"
	    "  - { name: a, host: h, port: 1, system_id: s, password: p, "
	    "reconnect_min_ms: 5000, reconnect_max_ms: 1000 }\n", 8, 103,
	    "reconnect_max_ms must not be less than reconnect_min_ms");
	expect_one(HEAD "accounts: [{ system_id: m, password: p, "
	    "default_category: promo }]\n"
	    "upstreams:\n"
	    "  - { name: a, host: \"smsc example\", port: 1, system_id: s, "
	    "password: p }\n", 8, 22, "'host' must be a host name");
}

/* Replies: only {business} and {categories}. */
static void
test_replies(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(BASE "replies: { help: \"{business} help: call us\" }\n");
	assert_string_equal(cfg->replies.help, "{business} help: call us");
	assert_non_null(strstr(cfg->replies.opt_out, "Reply START"));
	config_free(cfg);
	expect_one(BASE "replies: { opt_in: \"{business} {Business}\" }\n", 10,
	    20, "unknown placeholder '{Business}'");
	expect_one(BASE "replies: { opt_in: \"{business\" }\n", 10, 20,
	    "has a '{' without a '}'");
	expect_one(BASE "replies: { opt_in: \"\" }\n", 10, 20,
	    "'opt_in' must not be empty");
}

/* The files under config/tests/ and config/example.yaml. */
static void
test_repo_files(void **state)
{
	static const char *const invalid[] = {
	    "config/tests/invalid-keys.yaml",
	    "config/tests/invalid-refs.yaml",
	    "config/tests/invalid-values.yaml",
	    "config/tests/invalid-syntax.yaml",
	};
	static const char *const valid[] = { "config/example.yaml",
	    "config/tests/minimal.yaml", "config/tests/full.yaml" };
	struct config_errors errs;
	struct config *cfg;
	char line[512], path[PATH_MAX], msg[256];
	unsigned el, ec;
	size_t i, nexpect;
	FILE *f;

	(void)state;
	if (access("config/example.yaml", R_OK) == -1)
		skip();
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		if ((cfg = config_load(valid[i], &errs)) == NULL)
			print_errors(&errs);
		assert_non_null(cfg);
		config_free(cfg);
	}

	/* Files that need their companions in the scratch directory. */
	setenv("STOPGATE_TEST_FRONTDESK_PASSWORD", "fdenv", 1);
	setenv("STOPGATE_TEST_ADMIN_TOKEN", "tok", 1);
	assert_int_equal(copy_repo_file("config/tests/spec-example.yaml",
	    "spec-example.yaml"), 0);
	assert_int_equal(copy_repo_file("config/tests/tls.yaml", "tls.yaml"),
	    0);
	assert_int_equal(copy_repo_file("config/tests/secrets.yaml",
	    "secrets.yaml"), 0);
	path_in_tmp(path, sizeof(path), "spec-example.yaml");
	cfg = config_load(path, &errs);
	if (cfg == NULL)
		print_errors(&errs);
	assert_non_null(cfg);
	check_spec_example(cfg);
	config_free(cfg);
	path_in_tmp(path, sizeof(path), "tls.yaml");
	cfg = config_load(path, &errs);
	if (cfg == NULL)
		print_errors(&errs);
	assert_non_null(cfg);
	assert_true(cfg->listeners[1].tls.enabled);
	assert_true(cfg->upstreams[0].tls.enabled);
	config_free(cfg);
	path_in_tmp(path, sizeof(path), "secrets.yaml");
	cfg = config_load(path, &errs);
	if (cfg == NULL)
		print_errors(&errs);
	assert_non_null(cfg);
	assert_string_equal(cfg->accounts[0].password, "mkfile");
	assert_string_equal(cfg->accounts[1].password, "fdenv");
	assert_string_equal(cfg->upstreams[0].password, "upfile");
	assert_string_equal(cfg->admin_token, "tok");
	config_free(cfg);

	/* Each "# expect: LINE:COL text" line is an error, and no other. */
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		assert_null(config_load(invalid[i], &errs));
		f = fopen(invalid[i], "r");
		assert_non_null(f);
		nexpect = 0;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "# expect: %u:%u %255[^\n]", &el, &ec,
			    msg) != 3)
				continue;
			expect_error(&errs, el, ec, msg);
			nexpect++;
		}
		fclose(f);
		if (nexpect != errs.count) {
			fprintf(stderr, "%s: %zu expected, %zu errors\n",
			    invalid[i], nexpect, errs.count);
			print_errors(&errs);
		}
		assert_int_equal(nexpect, errs.count);
	}
}

/*
 * Fail each allocation in turn while loading configs that use every
 * section: each run must end in NULL with an error (never a crash, and
 * ASan checks that nothing leaks), until the allocation count is beyond
 * what a load needs and the config loads.
 */
static void
oom_walk(const char *yaml)
{
	struct config_errors errs;
	struct config *cfg;
	unsigned long n;

	for (n = 1; n < 100000; n++) {
		config_alloc_fail_at = n;
		cfg = load(yaml, &errs);
		if (config_alloc_fail_at != 0) {
			/* Fewer than n allocations: it loaded in full. */
			config_alloc_fail_at = 0;
			assert_non_null(cfg);
			config_free(cfg);
			break;
		}
		assert_null(cfg);
		assert_true(errs.count > 0);
	}
	assert_true(n > 50);
	assert_true(n < 100000);
}

static void
test_out_of_memory(void **state)
{
	(void)state;
	oom_walk(spec_example);
	oom_walk(BASE
	    "keywords: { opt_out: [QUIT], opt_in: [YES], help: [INFO] }\n"
	    "replies: { help: \"{business}\" }\n"
	    "admin: { bind: 127.0.0.1:8775, token_file: secrets/mk.pass }\n"
	    "inbound: [{ number: \"12345\", account: marketing, "
	    "stop_scope: [promo] }]\n");
}

/* The CLI's view: secrets and TLS files are not read. */
static void
test_no_secrets(void **state)
{
	struct config_errors errs;
	struct config *cfg;
	char path[PATH_MAX];

	(void)state;
	unsetenv("STOPGATE_TEST_UNSET");
	write_file("cfg.yaml", HEAD
	    "accounts:\n"
	    "  - { system_id: a, password_file: secrets/none.pass, "
	    "default_category: promo }\n"
	    "  - { system_id: b, password_env: STOPGATE_TEST_UNSET, "
	    "default_category: promo }\n"
	    "  - { system_id: c, password: lit, default_category: promo }\n"
	    "upstreams:\n"
	    "  - { name: carrier, host: 127.0.0.1, port: 2776, "
	    "system_id: acme, password: p, tls: { ca: tls/none.pem } }\n"
	    "admin: { bind: 127.0.0.1:8775, token_env: STOPGATE_TEST_UNSET, "
	    "tls: { cert: none.pem, key: none.key } }\n");
	path_in_tmp(path, sizeof(path), "cfg.yaml");
	assert_null(config_load(path, &errs));
	assert_int_equal(errs.count, 6);
	cfg = config_load_flags(path, CONFIG_LOAD_NO_SECRETS, &errs);
	if (cfg == NULL)
		print_errors(&errs);
	assert_non_null(cfg);
	assert_null(cfg->accounts[0].password);
	assert_null(cfg->accounts[1].password);
	assert_string_equal(cfg->accounts[2].password, "lit");
	assert_null(cfg->admin_token);
	assert_true(cfg->admin_tls.enabled);
	config_free(cfg);

	/* The form is still checked. */
	write_file("cfg.yaml", BASE
	    "admin: { bind: 127.0.0.1:8775, token: t, token_env: X }\n");
	assert_null(config_load_flags(path, CONFIG_LOAD_NO_SECRETS, &errs));
	assert_int_equal(errs.count, 1);
	expect_error(&errs, 10, 53, "give only one of token");
}

static void
test_lookups(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(spec_example);
	assert_int_equal(config_category_find(cfg, "billing"), 2);
	assert_int_equal(config_category_find(cfg, "Billing"), -1);
	assert_int_equal(config_category_find(cfg, ""), -1);
	assert_int_equal(config_account_find(cfg, "frontdesk"), 1);
	assert_int_equal(config_account_find(cfg, "nobody"), -1);
	assert_int_equal(config_upstream_find(cfg, "carrier"), 0);
	assert_int_equal(config_upstream_find(cfg, "other"), -1);
	assert_false(config_account_may_send(cfg, 5, 0));
	assert_int_equal(config_account_category(cfg, 5, NULL),
	    CONFIG_NO_INDEX);
	config_free(cfg);
	config_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_spec_example_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_error_positions),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_error_overflow),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_password_sources),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_rejection_status),
		cmocka_unit_test(test_bind_addresses),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_inbound),
		cmocka_unit_test(test_scope_lists_checked),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_accounts),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_repo_files),
		cmocka_unit_test(test_no_secrets),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_refs),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
