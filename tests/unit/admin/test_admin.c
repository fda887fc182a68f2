/*
 * Admin HTTP API in process: a daemon context with a real store and no
 * upstreams, the admin server on its loop, and libevent's HTTP client on
 * the same loop. Token compare, routing, auth, JSON bodies, a reload that
 * changes the token.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "config/config.h"
#include "proxy/admin/admin.h"
#include "proxy/daemon/daemon.h"
#include "store/store.h"

struct fx {
	struct daemon		*d;
	char			 dir[64];
	uint16_t		 port;
	struct evhttp_connection *conn;
	/* the last answer */
	int			 status;
	char			 body[8192];
	char			 allow[32];
	char			 www[64];
};

static uint16_t
pick_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;
	uint16_t		 port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static struct config *
load_with(uint16_t port, const char *token, const char *extra)
{
	struct config_errors	 errs;
	struct config		*cfg;
	char			 y[1024], buf[256];
	size_t			 i;

	snprintf(y, sizeof(y),
	    "business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners: [ { bind: \"127.0.0.1:1\" } ]\n"
	    "admin: { bind: \"127.0.0.1:%u\", token: \"%s\" }\n"
	    "categories: [ promo, billing ]\n"
	    "accounts:\n"
	    "  - { system_id: marketing, password: mkpass1,\n"
	    "      default_category: promo }\n"
	    "upstreams:\n"
	    "  - { name: carrier, host: 127.0.0.1, port: 2, system_id: a,\n"
	    "      password: b }\n%s", (unsigned)port, token, extra);
	cfg = config_load_string(y, strlen(y), "test.yaml", "/tmp", &errs);
	if (cfg == NULL)
		for (i = 0; i < errs.count && i < CONFIG_ERRORS_MAX; i++)
			fprintf(stderr, "%s\n",
			    config_error_format(&errs, i, buf, sizeof(buf)));
	assert_non_null(cfg);
	return cfg;
}

static struct config *
load(uint16_t port, const char *token)
{
	return load_with(port, token, "");
}

static void
rm_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[512];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int
fx_setup(void **state)
{
	struct store_params	 p = { 8, 64, false };
	struct fx		*f;
	char			 err[256];

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->d = calloc(1, sizeof(*f->d))) == NULL)
		return -1;
	TAILQ_INIT(&f->d->sessions);
	TAILQ_INIT(&f->d->closing);
	snprintf(f->dir, sizeof(f->dir), "/tmp/admin-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if ((f->d->store = store_open(f->dir, &p, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	if ((f->d->base = event_base_new()) == NULL)
		return -1;
	f->port = pick_port();
	f->d->cfg = load(f->port, "s3cret");
	if (admin_start(f->d, &f->d->fe_state) == -1 || f->d->fe_state == NULL)
		return -1;
	f->conn = evhttp_connection_base_new(f->d->base, NULL, "127.0.0.1",
	    f->port);
	if (f->conn == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx	*f = *state;

	evhttp_connection_free(f->conn);
	admin_free(f->d->fe_state);
	config_free(f->d->cfg);
	store_free(f->d->store);
	event_base_free(f->d->base);
	rm_dir(f->dir);
	free(f->d);
	free(f);
	return 0;
}

static void
done_cb(struct evhttp_request *req, void *arg)
{
	struct fx	*f = arg;
	struct evbuffer	*in;
	const char	*h;
	size_t		 n;

	f->status = -1;
	f->body[0] = f->allow[0] = f->www[0] = '\0';
	if (req != NULL && evhttp_request_get_response_code(req) != 0) {
		f->status = evhttp_request_get_response_code(req);
		in = evhttp_request_get_input_buffer(req);
		n = evbuffer_get_length(in);
		if (n >= sizeof(f->body))
			n = sizeof(f->body) - 1;
		evbuffer_remove(in, f->body, n);
		f->body[n] = '\0';
		h = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "Allow");
		snprintf(f->allow, sizeof(f->allow), "%s", h != NULL ? h : "");
		h = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "WWW-Authenticate");
		snprintf(f->www, sizeof(f->www), "%s", h != NULL ? h : "");
	}
	event_base_loopbreak(f->d->base);
}

/* One request; waits (bounded) for the answer. Returns the status. */
static int
call(struct fx *f, enum evhttp_cmd_type m, const char *path,
    const char *token, const char *body)
{
	struct evhttp_request	*req;
	struct evkeyvalq	*oh;
	struct timeval		 tv = { 5, 0 };
	char			 auth[128];

	f->status = 0;
	req = evhttp_request_new(done_cb, f);
	assert_non_null(req);
	oh = evhttp_request_get_output_headers(req);
	evhttp_add_header(oh, "Host", "127.0.0.1");
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Bearer %s", token);
		evhttp_add_header(oh, "Authorization", auth);
	}
	if (body != NULL)
		evbuffer_add(evhttp_request_get_output_buffer(req), body,
		    strlen(body));
	assert_int_equal(evhttp_make_request(f->conn, req, m, path), 0);
	event_base_loopexit(f->d->base, &tv);
	event_base_dispatch(f->d->base);
	assert_int_not_equal(f->status, 0);	/* answered in time */
	return f->status;
}

static void
test_token_ok(void **state)
{
	(void)state;
	assert_true(admin_token_ok("tok", "Bearer tok"));
	assert_true(admin_token_ok("tok", "bearer  tok"));
	assert_true(admin_token_ok("tok", "  BEARER\ttok"));
	assert_false(admin_token_ok("tok", "Bearer tok "));
	assert_false(admin_token_ok("tok", "Bearer to"));
	assert_false(admin_token_ok("tok", "Bearer toka"));
	assert_false(admin_token_ok("tok", "Bearer TOK"));
	assert_false(admin_token_ok("tok", "Bearertok"));
	assert_false(admin_token_ok("tok", "Basic tok"));
	assert_false(admin_token_ok("tok", "tok"));
	assert_false(admin_token_ok("tok", "Bearer "));
	assert_false(admin_token_ok("tok", ""));
	assert_false(admin_token_ok("tok", NULL));
	assert_false(admin_token_ok("", "Bearer "));
	assert_false(admin_token_ok(NULL, "Bearer x"));
}

static void
test_health_and_auth(void **state)
{
	struct fx	*f = *state;

	assert_int_equal(call(f, EVHTTP_REQ_GET, "/healthz", NULL, NULL),
	    200);
	assert_non_null(strstr(f->body, "\"status\":\"ok\""));
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/metrics", NULL, NULL),
	    401);
	assert_non_null(strstr(f->www, "Bearer"));
	assert_non_null(strstr(f->body, "\"error\""));
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/metrics", "nope", NULL),
	    401);
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/metrics", "s3cret", NULL),
	    200);
	assert_non_null(strstr(f->body, "\nstopgate_store_up 1\n"));
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/v1/nothing", "s3cret",
	    NULL), 404);
	assert_int_equal(call(f, EVHTTP_REQ_GET, "//v1//events", "s3cret",
	    NULL), 404);
	assert_int_equal(call(f, EVHTTP_REQ_PUT, "/v1/optouts", "s3cret",
	    "{}"), 405);
	assert_string_equal(f->allow, "POST");
}

static void
test_optout_and_status(void **state)
{
	struct fx	*f = *state;
	struct store_block why;

	assert_int_equal(call(f, EVHTTP_REQ_POST, "/v1/optouts", "s3cret",
	    "{\"number\":\"(555) 010-0000\",\"categories\":[\"billing\"],"
	    "\"actor\":\"dana\"}"), 201);
	assert_non_null(strstr(f->body, "\"number\":\"15550100000\""));
	assert_non_null(strstr(f->body, "\"source\":\"api\""));
	assert_int_equal(store_optout_check(f->d->store, "15550100000",
	    "billing", &why), 1);
	assert_int_equal(store_optout_check(f->d->store, "15550100000",
	    "promo", &why), 0);
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/v1/numbers/5550100000",
	    "s3cret", NULL), 200);
	assert_non_null(strstr(f->body,
	    "\"billing\":{\"status\":\"blocked\""));
	assert_non_null(strstr(f->body,
	    "\"promo\":{\"status\":\"allowed\"}"));
	/* Malformed, unknown field, opt-in without consent: nothing. */
	assert_int_equal(call(f, EVHTTP_REQ_POST, "/v1/optouts", "s3cret",
	    "{\"number\":"), 400);
	assert_non_null(strstr(f->body, "malformed JSON"));
	assert_int_equal(call(f, EVHTTP_REQ_POST, "/v1/optouts", "s3cret",
	    "{\"number\":\"5550100001\",\"all\":true,\"x\":1}"), 400);
	assert_int_equal(call(f, EVHTTP_REQ_POST, "/v1/optins", "s3cret",
	    "{\"number\":\"5550100000\",\"all\":true}"), 422);
	assert_int_equal(store_optout_check(f->d->store, "15550100001",
	    "billing", &why), 0);
	assert_int_equal(store_optout_check(f->d->store, "15550100000",
	    "billing", &why), 1);
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/v1/events?after=0&limit=5",
	    "s3cret", NULL), 200);
	assert_non_null(strstr(f->body, "\"next\":1,\"more\":false"));
}

static void
test_history_and_audit(void **state)
{
	struct fx	*f = *state;

	assert_int_equal(call(f, EVHTTP_REQ_POST, "/v1/optouts", "s3cret",
	    "{\"number\":\"5550100000\",\"all\":true,\"note\":\"n\"}"),
	    201);
	assert_int_equal(call(f, EVHTTP_REQ_GET,
	    "/v1/numbers/15550100000/history", "s3cret", NULL), 200);
	assert_non_null(strstr(f->body, "{\"number\":\"15550100000\","
	    "\"events\":[{\"event_id\":1,"));
	assert_non_null(strstr(f->body, "\"scope\":\"all\",\"all\":true,"
	    "\"categories\":[],\"source\":\"api\""));
	assert_non_null(strstr(f->body, "\"actor\":\"api\",\"note\":\"n\""));
	assert_non_null(strstr(f->body, "],\"truncated\":false}"));
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/v1/audit?limit=5",
	    "s3cret", NULL), 200);
	assert_string_equal(f->body, "{\"records\":[],\"more\":false}\n");
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/v1/audit?until=x",
	    "s3cret", NULL), 400);
	assert_non_null(strstr(f->body, "until \\\"x\\\" is not RFC 3339"));
	/* Two pages of one. */
	assert_int_equal(call(f, EVHTTP_REQ_POST, "/v1/optins", "s3cret",
	    "{\"number\":\"5550100000\",\"all\":true,\"consent\":\"c\"}"),
	    201);
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/v1/events?limit=1",
	    "s3cret", NULL), 200);
	assert_non_null(strstr(f->body, "],\"next\":1,\"more\":true}"));
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/v1/events?after=1",
	    "s3cret", NULL), 200);
	assert_non_null(strstr(f->body, "\"consent\":\"c\""));
	assert_non_null(strstr(f->body, "],\"next\":2,\"more\":false}"));
}

static void
test_review_resolve(void **state)
{
	struct fx		*f = *state;
	struct store_review	 rv;
	char			 path[64];

	memset(&rv, 0, sizeof(rv));
	rv.time = 1000;
	snprintf(rv.number, sizeof(rv.number), "15557770001");
	snprintf(rv.inbound, sizeof(rv.inbound), "12345");
	snprintf(rv.account, sizeof(rv.account), "marketing");
	snprintf(rv.text, sizeof(rv.text), "maybe stop");
	assert_int_equal(store_review_add(f->d->store, &rv), 0);
	snprintf(path, sizeof(path), "/v1/review/%llu/resolve",
	    (unsigned long long)rv.id);
	assert_int_equal(call(f, EVHTTP_REQ_POST, path, "s3cret",
	    "{\"decision\":\"optout\"}"), 422);
	assert_non_null(strstr(f->body, "note"));
	assert_int_equal(call(f, EVHTTP_REQ_POST, path, "s3cret",
	    "{\"decision\":\"dismiss\",\"note\":\"x\",\"all\":true}"),
	    422);
	assert_int_equal(call(f, EVHTTP_REQ_POST, "/v1/review/99/resolve",
	    "s3cret", "{\"decision\":\"dismiss\",\"note\":\"x\"}"), 404);
	assert_int_equal(call(f, EVHTTP_REQ_POST, "/v1/review/x/resolve",
	    "s3cret", "{\"decision\":\"dismiss\",\"note\":\"x\"}"), 400);
	assert_int_equal(call(f, EVHTTP_REQ_POST, path, "s3cret",
	    "{\"decision\":\"optout\",\"note\":\"wants out\","
	    "\"categories\":[\"billing\",\"billing\"],\"actor\":\"carol\"}"),
	    200);
	assert_non_null(strstr(f->body, "{\"item\":{\"id\":"));
	assert_non_null(strstr(f->body, "\"status\":\"opted_out\""));
	assert_non_null(strstr(f->body, ",\"event\":{\"event_id\":"));
	assert_non_null(strstr(f->body, "\"categories\":[\"billing\"],"));
	assert_non_null(strstr(f->body, "\"rule\":\"review\""));
	assert_int_equal(call(f, EVHTTP_REQ_POST, path, "s3cret",
	    "{\"decision\":\"dismiss\",\"note\":\"x\"}"), 409);
	assert_non_null(strstr(f->body, "already resolved by carol"));
}

static void
test_reload_token(void **state)
{
	struct fx	*f = *state;
	struct config	*old = f->d->cfg;

	f->d->cfg = load(f->port, "n3w");
	config_free(old);
	admin_reload(f->d, &f->d->fe_state);
	assert_non_null(f->d->fe_state);
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/v1/review", "s3cret",
	    NULL), 401);
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/v1/review", "n3w", NULL),
	    200);
	assert_string_equal(f->body, "{\"items\":[],\"more\":false}\n");
}

/* A connection to the admin port from this thread, with a timeout. */
static int
raw_connect(struct fx *f)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 5, 0 };
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(f->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/*
 * The daemon's loop does not run (this thread does not dispatch it):
 * /healthz, which needs its figures, says so with a 503 once the call
 * times out, instead of hanging; the admin thread goes on serving.
 */
static void
test_loop_stalled(void **state)
{
	struct fx	*f = *state;
	const char	 req[] = "GET /healthz HTTP/1.0\r\n\r\n";
	char		 buf[1024];
	ssize_t		 n, got = 0;
	int		 fd;

	fd = raw_connect(f);
	assert_int_equal(write(fd, req, sizeof(req) - 1),
	    (ssize_t)sizeof(req) - 1);
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	assert_non_null(strstr(buf, "HTTP/1.0 503"));
	assert_non_null(strstr(buf, "\"status\":\"loop_stalled\""));
	/* With the loop running again, all is well. */
	assert_int_equal(call(f, EVHTTP_REQ_GET, "/healthz", NULL, NULL),
	    200);
}

/* limits.max_admin_connections (from a reload): one more connection is
 * closed at once, the ones within the cap stay. */
static void
test_connection_cap(void **state)
{
	struct fx	*f = *state;
	struct config	*old = f->d->cfg;
	char		 ch;
	int		 fd1, fd2;

	f->d->cfg = load_with(f->port, "s3cret",
	    "limits: { max_admin_connections: 1 }\n");
	config_free(old);
	admin_reload(f->d, &f->d->fe_state);
	/* The client connection of the fixture is not open yet. */
	fd1 = raw_connect(f);
	usleep(100000);
	fd2 = raw_connect(f);
	assert_int_equal(read(fd2, &ch, 1), 0);		/* closed */
	close(fd2);
	assert_int_equal(write(fd1, "GET /healthz HTTP/1.0\r\n\r\n", 26),
	    26);
	close(fd1);
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_ok),
		T(test_health_and_auth),
		T(test_optout_and_status),
		T(test_history_and_audit),
		T(test_review_resolve),
		T(test_reload_token),
		T(test_loop_stalled),
		T(test_connection_cap),
	};
#undef T

	return cmocka_run_group_tests_name("proxy/admin", tests, NULL, NULL);
}
