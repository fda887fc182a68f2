/*
 * GET /v1/export: the whole opt-out state (what `stopgate export`
 * prints), streamed as a chunked answer, CSV or JSON lines. A store of
 * millions of numbers is never held in memory: each chunk is one short
 * walk of the admin thread's store handle (store_state_after, from the
 * number after the last one sent), and the next is made only once the
 * connection has sent most of what it holds. Each chunk reads its own
 * snapshot, so a number changed during a long export shows as it was
 * when its chunk was read. Nothing runs on the SMPP loop.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "proxy/admin/admin.h"
#include "proxy/admin/admin_int.h"
#include "proxy/compliance/encode.h"
#include "proxy/io/log.h"
#include "store/store.h"

#define EXPORT_CHUNK		2000		/* state entries a chunk */
#define EXPORT_OUT_HIGH		(256u * 1024u)	/* wait above this */
#define EXPORT_WAIT_MS		20

/* One export being streamed. [A] */
struct admin_export {
	TAILQ_ENTRY(admin_export) entry;
	struct admin		*a;		/* borrowed */
	struct evhttp_request	*req;		/* borrowed until the end */
	struct event		*ev;		/* owned: the next step */
	enum encode_format	 format;
	char			 after[STORE_NUMBER_MAX];
	uint64_t		 rows;
	bool			 is_first;	/* the CSV header is due */
	bool			 is_failed;	/* the connection failed */
};

/* The walk of one chunk. */
struct export_walk {
	struct admin_export	*x;
	struct encode_list	 l;
	char			 last[STORE_NUMBER_MAX];
	size_t			 n;
	bool			 is_stopped;	/* more to come */
};

static void export_step(evutil_socket_t, short, void *);

/* Free x (its request is libevent's again, or gone). */
static void
export_free(struct admin_export *x)
{
	TAILQ_REMOVE(&x->a->exports, x, entry);
	event_free(x->ev);
	free(x);
}

/* End x's answer: the last chunk, or drop the connection. */
static void
export_end(struct admin_export *x, bool is_ok)
{
	struct evhttp_connection *evcon;

	evcon = evhttp_request_get_connection(x->req);
	if (is_ok || evcon == NULL)
		evhttp_send_reply_end(x->req);	/* frees a detached req */
	else
		evhttp_connection_free(evcon);	/* frees x->req */
	if (!is_ok)
		log_info("event=admin_export_cut rows=%llu",
		    (unsigned long long)x->rows);
	export_free(x);
}

static int
export_entry(const struct store_state_entry *e, void *arg)
{
	struct export_walk	*w = arg;

	/* Stop between two numbers only: the next chunk starts after the
	 * last number written. */
	if (w->n >= EXPORT_CHUNK && strcmp(e->number, w->last) != 0) {
		w->is_stopped = true;
		return 1;
	}
	if (strcmp(e->number, w->last) != 0)
		snprintf(w->last, sizeof(w->last), "%s", e->number);
	w->n++;
	return encode_list_state(e, &w->l);
}

/* Read and send the next chunk. Returns 1 more to come, 0 done, -1
 * failed. */
static int
export_chunk(struct admin_export *x)
{
	struct export_walk	 w;
	struct evbuffer		*b;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*fp;
	int			 rc;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return -1;
	memset(&w, 0, sizeof(w));
	w.x = x;
	encode_list_init(&w.l, fp, x->format, 0, (int64_t)time(NULL),
	    x->is_first ? ENCODE_STATE_CSV_HEADER : NULL);
	x->is_first = false;
	rc = store_state_after(x->a->store, x->after, export_entry, &w);
	fclose(fp);
	if (rc == -1 || (b = evbuffer_new()) == NULL) {
		if (rc == -1)
			log_warnx("event=admin_export_failed error=\"%s\"",
			    store_errmsg(x->a->store));
		free(buf);
		return -1;
	}
	evbuffer_add(b, buf, len);
	free(buf);
	if (len > 0)
		evhttp_send_reply_chunk(x->req, b);
	evbuffer_free(b);
	x->rows += w.n;
	snprintf(x->after, sizeof(x->after), "%s", w.last);
	return w.is_stopped ? 1 : 0;
}

/* Run the next step after ms. */
static void
export_later(struct admin_export *x, unsigned ms)
{
	struct timeval	 tv = { 0, (suseconds_t)ms * 1000 };

	evtimer_add(x->ev, &tv);
}

static void
export_step(evutil_socket_t fd, short what, void *arg)
{
	struct admin_export	*x = arg;
	struct evhttp_connection *evcon;
	struct bufferevent	*bev;
	int			 rc;

	(void)fd;
	(void)what;
	evcon = evhttp_request_get_connection(x->req);
	if (x->is_failed || evcon == NULL) {
		export_end(x, false);
		return;
	}
	/* A slow reader: wait until most of what is queued has gone. */
	bev = evhttp_connection_get_bufferevent(evcon);
	if (bev != NULL && evbuffer_get_length(bufferevent_get_output(bev)) >
	    EXPORT_OUT_HIGH) {
		export_later(x, EXPORT_WAIT_MS);
		return;
	}
	if ((rc = export_chunk(x)) == 1)
		export_later(x, 0);
	else
		export_end(x, rc == 0);
}

bool
admin_export_claim(struct admin *a, const struct evhttp_request *req)
{
	struct admin_export	*x;

	TAILQ_FOREACH(x, &a->exports, entry)
		if (x->req == req) {
			x->is_failed = true;
			export_later(x, 0);
			return true;
		}
	return false;
}

void
admin_export_drop_all(struct admin *a)
{
	struct admin_export	*x;

	/* evhttp_free frees the requests with their connections. */
	while ((x = TAILQ_FIRST(&a->exports)) != NULL)
		export_free(x);
}

void
admin_h_export(struct areq *r)
{
	static const char *const params[] = { "format", NULL };
	struct evkeyvalq	*oh = evhttp_request_get_output_headers(r->req);
	struct admin_export	*x = NULL;
	struct evkeyvalq	 q;
	const char		*fmt;

	if (admin_query(r, &q, params) == -1)
		goto out;
	fmt = evhttp_find_header(&q, "format");
	if (fmt != NULL && strcmp(fmt, "csv") != 0 &&
	    strcmp(fmt, "jsonl") != 0) {
		admin_fail(r, 400, "format must be csv or jsonl");
		goto out;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->ev = evtimer_new(r->a->base, export_step, x)) == NULL) {
		free(x);
		admin_fail(r, 500, "out of memory");
		goto out;
	}
	x->a = r->a;
	x->req = r->req;
	x->format = fmt != NULL && strcmp(fmt, "jsonl") == 0 ? ENCODE_JSONL :
	    ENCODE_CSV;
	x->is_first = x->format == ENCODE_CSV;
	TAILQ_INSERT_TAIL(&r->a->exports, x, entry);
	r->ctype = x->format == ENCODE_CSV ? "text/csv; charset=utf-8" :
	    "application/x-ndjson";
	evhttp_add_header(oh, "Content-Type", r->ctype);
	evhttp_add_header(oh, "Cache-Control", "no-store");
	evhttp_add_header(oh, "Content-Disposition", x->format == ENCODE_CSV ?
	    "attachment; filename=\"stopgate-export.csv\"" :
	    "attachment; filename=\"stopgate-export.jsonl\"");
	admin_web_headers(r, oh);
	r->code = 200;
	r->is_streamed = true;
	evhttp_send_reply_start(r->req, 200, "OK");
	export_later(x, 0);
out:
	evhttp_clear_headers(&q);
}
