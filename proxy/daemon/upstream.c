/*
 * Upstream pools: one per configured SMSC, a set of connections
 * (upstream_conn.c) kept bound, each request given to one of them, reply
 * handles checked by value, reconfigure and graceful shutdown. See
 * upstream.h for the contract, upstream_int.h for the parts.
 */
#include "proxy/daemon/upstream_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "proxy/io/log.h"
#include "proxy/io/tls.h"
#include "smpp/frame.h"

/* Every live pool, so a reply handle can be checked by value. One thread. */
static struct upstream_pool	*ups_pools;
static uint64_t			 ups_last_pool_id;

/* --- pool-level notifications -------------------------------------- */

void
ups_pool_update_bound(struct upstream_pool *p)
{
	bool	any = false;

	for (unsigned i = 0; i < p->nconns; i++) {
		if (p->conns[i]->state == UPS_BOUND &&
		    ups_conn_can_tx(p->conns[i])) {
			any = true;
			break;
		}
	}
	if (any == p->is_any_bound)
		return;
	p->is_any_bound = any;
	log_info("upstream=%s event=%s", p->cfg.name,
	    any ? "available" : "unavailable");
	if (!p->is_freeing && p->cbs.on_state != NULL)
		p->cbs.on_state(p->arg, any);
}

/* Tell the downstream once that a refused submit may now succeed. */
void
ups_pool_maybe_window(struct upstream_pool *p, const struct ups_conn *c)
{
	if (!p->wants_window || p->is_freeing || p->is_shutting_down ||
	    !ups_conn_has_room(c))
		return;
	p->wants_window = false;
	if (p->cbs.on_window != NULL)
		p->cbs.on_window(p->arg);
}

/* --- pool -------------------------------------------------------------- */

static void
ups_cfg_clear(struct config_upstream *cfg)
{
	if (cfg->password != NULL) {
		explicit_bzero(cfg->password, strlen(cfg->password));
		free(cfg->password);
	}
	free(cfg->tls.cert);
	free(cfg->tls.key);
	free(cfg->tls.client_ca);
	free(cfg->tls.ca);
	memset(cfg, 0, sizeof(*cfg));
}

static int
ups_strdup(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	if ((*dst = strdup(src)) == NULL)
		return -1;
	return 0;
}

/* Validate src and copy it, strings included, into *dst. */
static int
ups_cfg_copy(struct config_upstream *dst, const struct config_upstream *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src->host[0] == '\0' || src->port == 0 || src->sessions == 0 ||
	    src->window == 0 || src->response_timeout_ms == 0 ||
	    src->enquire_link_ms == 0) {
		log_warnx("upstream=%s event=bad-config", src->name);
		errno = EINVAL;
		return -1;
	}
	if (src->password != NULL &&
	    strlen(src->password) >= SMPP_PASSWORD_LEN) {
		/* §4.1.1: password is a C-Octet string of at most 9. */
		log_warnx("upstream=%s event=bad-config reason=\"password "
		    "longer than %d characters\"", src->name,
		    SMPP_PASSWORD_LEN - 1);
		errno = EINVAL;
		return -1;
	}
	*dst = *src;
	dst->password = NULL;
	dst->tls.cert = dst->tls.key = dst->tls.client_ca = dst->tls.ca = NULL;
	if (ups_strdup(&dst->password, src->password ? src->password : "") ||
	    ups_strdup(&dst->tls.cert, src->tls.cert) ||
	    ups_strdup(&dst->tls.key, src->tls.key) ||
	    ups_strdup(&dst->tls.client_ca, src->tls.client_ca) ||
	    ups_strdup(&dst->tls.ca, src->tls.ca)) {
		ups_cfg_clear(dst);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static bool
ups_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* True if a and b differ in anything a connection is made with. */
static bool
ups_cfg_conn_differs(const struct config_upstream *a,
    const struct config_upstream *b)
{
	return strcmp(a->host, b->host) != 0 || a->port != b->port ||
	    strcmp(a->system_id, b->system_id) != 0 ||
	    !ups_str_eq(a->password, b->password) ||
	    strcmp(a->system_type, b->system_type) != 0 ||
	    a->tls.enabled != b->tls.enabled ||
	    a->tls.verify != b->tls.verify ||
	    !ups_str_eq(a->tls.cert, b->tls.cert) ||
	    !ups_str_eq(a->tls.key, b->tls.key) ||
	    !ups_str_eq(a->tls.ca, b->tls.ca);
}

static SSL_CTX *
ups_ssl_ctx(const struct config_upstream *cfg, int *errp)
{
	SSL_CTX	*ctx;
	char	 err[256];

	*errp = 0;
	if (!cfg->tls.enabled)
		return NULL;
	if ((ctx = tls_client_ctx_new(&cfg->tls, err, sizeof(err))) == NULL) {
		log_warnx("upstream=%s event=tls-config error=\"%s\"",
		    cfg->name, err);
		*errp = EINVAL;
	}
	return ctx;
}

/* Append n connections for the pool's bind mode; start them at once. */
static int
ups_pool_add_conns(struct upstream_pool *p, unsigned sessions)
{
	unsigned		 per = p->cfg.bind == CONFIG_BIND_TX_RX ? 2 : 1;
	struct ups_conn		**nc;
	struct ups_conn		*c;

	nc = reallocarray(p->conns, p->nconns + (size_t)sessions * per,
	    sizeof(*nc));
	if (nc == NULL)
		return -1;
	p->conns = nc;
	for (unsigned i = 0; i < sessions * per; i++) {
		c = ups_conn_new(p, per == 1 ? UPS_ROLE_TRX :
		    (i % 2 == 0 ? UPS_ROLE_TX : UPS_ROLE_RX));
		if (c == NULL)
			return -1;
		p->conns[p->nconns++] = c;
		/* From the loop, so no callback runs inside pool_new. */
		ups_conn_schedule(c, 0);
	}
	return 0;
}

static void
ups_pool_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_pool	*p = arg;

	(void)fd;
	(void)what;
	if (p->done != NULL)
		p->done(p, p->done_arg);
}

void
ups_pool_check_done(struct upstream_pool *p)
{
	if (!p->is_shutting_down || p->is_done || p->is_freeing)
		return;
	for (unsigned i = 0; i < p->nconns; i++)
		if (p->conns[i]->state != UPS_CLOSED)
			return;
	p->is_done = true;
	if (p->shutdown_timer != NULL)
		evtimer_del(p->shutdown_timer);
	log_info("upstream=%s event=shutdown-done", p->cfg.name);
	event_active(p->done_ev, EV_TIMEOUT, 0);
}

static void
ups_pool_shutdown_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_pool	*p = arg;
	struct ups_conn		*c;

	(void)fd;
	(void)what;
	log_warnx("upstream=%s event=shutdown-timeout", p->cfg.name);
	for (unsigned i = 0; i < p->nconns; i++) {
		c = p->conns[i];
		if (c->state == UPS_CLOSING)
			ups_conn_finish(c);
		else if (c->state == UPS_IDLE)
			ups_conn_drain(c);
		else
			ups_conn_close(c, "shutdown timeout", false);
	}
}

struct upstream_pool *
upstream_pool_new(struct event_base *base, const struct config_upstream *cfg,
    const struct upstream_cbs *cbs, void *arg)
{
	struct upstream_pool	*p;
	int			 e;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (ups_cfg_copy(&p->cfg, cfg) == -1) {
		e = errno;
		free(p);
		errno = e;
		return NULL;
	}
	p->base = base;
	if (cbs != NULL)
		p->cbs = *cbs;
	p->arg = arg;
	p->ssl_ctx = ups_ssl_ctx(&p->cfg, &e);
	if (e != 0)
		goto err_free;
	e = ENOMEM;
	p->rx = malloc(sizeof(*p->rx));
	p->tx = malloc(sizeof(*p->tx));
	p->done_ev = event_new(base, -1, 0, ups_pool_done_cb, p);
	p->shutdown_timer = evtimer_new(base, ups_pool_shutdown_timer_cb, p);
	if (p->rx == NULL || p->tx == NULL || p->done_ev == NULL ||
	    p->shutdown_timer == NULL)
		goto err_free;
	p->id = ++ups_last_pool_id;
	if (ups_pool_add_conns(p, p->cfg.sessions) == -1)
		goto err_free;
	p->next = ups_pools;
	ups_pools = p;
	log_info("upstream=%s event=start host=%s port=%u bind=%s sessions=%u "
	    "window=%u tls=%s", p->cfg.name, p->cfg.host,
	    (unsigned)p->cfg.port, p->cfg.bind == CONFIG_BIND_TX_RX ?
	    "transmitter+receiver" : "transceiver", p->cfg.sessions,
	    p->cfg.window, p->ssl_ctx != NULL ? "yes" : "no");
	return p;

err_free:
	/* Not linked yet, no request in flight: the free undoes the rest. */
	upstream_pool_free(p);
	errno = e;
	return NULL;
}

void
upstream_pool_free(struct upstream_pool *p)
{
	struct upstream_pool	**pp;
	struct ups_conn		*c;

	if (p == NULL)
		return;
	for (pp = &ups_pools; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->is_freeing = true;
	for (unsigned i = 0; i < p->nconns; i++) {
		c = p->conns[i];
		/* Only on_fail: the caller releases its ctxs. */
		ups_conn_fail_all(c);
		ups_conn_free(c);
	}
	free(p->conns);
	if (p->done_ev != NULL)
		event_free(p->done_ev);
	if (p->shutdown_timer != NULL)
		event_free(p->shutdown_timer);
	free(p->rx);
	free(p->tx);
	SSL_CTX_free(p->ssl_ctx);
	if (p->dns != NULL)
		evdns_base_free(p->dns, 1);	/* no lookup left: conns */
	ups_cfg_clear(&p->cfg);
	free(p);
}

int
upstream_pool_reconfigure(struct upstream_pool *p,
    const struct config_upstream *cfg)
{
	struct config_upstream	 ncfg, old;
	SSL_CTX			*nctx;
	struct ups_conn		*c;
	bool			 conn_changed, mode_changed;
	unsigned		 per, live, want, j;
	int			 e;

	if (p->is_shutting_down) {
		errno = ESHUTDOWN;
		return -1;
	}
	if (ups_cfg_copy(&ncfg, cfg) == -1)
		return -1;
	nctx = ups_ssl_ctx(&ncfg, &e);
	if (e != 0) {
		ups_cfg_clear(&ncfg);
		errno = e;
		return -1;
	}
	conn_changed = ups_cfg_conn_differs(&p->cfg, &ncfg);
	mode_changed = p->cfg.bind != ncfg.bind;
	old = p->cfg;
	p->cfg = ncfg;
	ups_cfg_clear(&old);
	if (conn_changed || nctx != NULL) {
		/* Live SSLs keep their own reference to the old context. */
		SSL_CTX_free(p->ssl_ctx);
		p->ssl_ctx = nctx;
	}

	/* Drop connections retired earlier; nothing refers to them. */
	for (unsigned i = j = 0; i < p->nconns; i++) {
		c = p->conns[i];
		if (c->state == UPS_CLOSED)
			ups_conn_free(c);
		else
			p->conns[j++] = c;
	}
	p->nconns = j;

	per = p->cfg.bind == CONFIG_BIND_TX_RX ? 2 : 1;
	live = 0;
	for (unsigned i = 0; i < p->nconns; i++) {
		c = p->conns[i];
		backoff_set_bounds(&c->backoff, p->cfg.reconnect_min_ms,
		    p->cfg.reconnect_max_ms);
		if (c->in_flight == 0)
			(void)ups_conn_slots_fit(c);
		if (c->is_retiring)
			continue;
		if (mode_changed) {
			c->is_retiring = true;
			ups_conn_drain(c);
			continue;
		}
		live++;
		if (live > p->cfg.sessions * per) {
			c->is_retiring = true;
			ups_conn_drain(c);
		} else if (conn_changed) {
			c->is_stale = true;
			ups_conn_drain(c);
		}
	}
	want = p->cfg.sessions * per;
	log_info("upstream=%s event=reconfigure connection_changed=%s "
	    "sessions=%u window=%u", p->cfg.name, conn_changed ? "yes" : "no",
	    p->cfg.sessions, p->cfg.window);
	if (live < want && ups_pool_add_conns(p, (want - live) / per) == -1) {
		errno = ENOMEM;
		return -1;
	}
	/* A bigger window may let a refused sender in again. */
	for (unsigned i = 0; i < p->nconns; i++)
		ups_pool_maybe_window(p, p->conns[i]);
	return 0;
}

const char *
upstream_pool_name(const struct upstream_pool *p)
{
	return p->cfg.name;
}

bool
upstream_pool_is_bound(const struct upstream_pool *p)
{
	return p->is_any_bound;
}

bool
upstream_cmd_is_forwardable(uint32_t cmd)
{
	switch (cmd) {
	case SMPP_CMD_SUBMIT_SM:
	case SMPP_CMD_DATA_SM:
	case SMPP_CMD_SUBMIT_MULTI:
	case SMPP_CMD_QUERY_SM:
	case SMPP_CMD_CANCEL_SM:
	case SMPP_CMD_REPLACE_SM:
		return true;
	default:
		return false;
	}
}

/* splitmix64 finaliser: spreads nearby reference numbers. */
static uint64_t
ups_hash(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBULL;
	x ^= x >> 31;
	return x;
}

static struct ups_conn *
ups_pool_pick(struct upstream_pool *p, uint64_t affinity, int *errp)
{
	struct ups_conn	*c, *best = NULL;
	unsigned	 nbound = 0, k, room, best_room = 0;

	for (unsigned i = 0; i < p->nconns; i++) {
		c = p->conns[i];
		if (c->state != UPS_BOUND || !ups_conn_can_tx(c))
			continue;
		nbound++;
		if (affinity != 0 || !ups_conn_has_room(c))
			continue;
		room = ups_conn_window(c) - c->in_flight;
		if (room > best_room) {
			best = c;
			best_room = room;
		}
	}
	if (nbound == 0) {
		*errp = ENOTCONN;
		return NULL;
	}
	if (affinity != 0) {
		k = (unsigned)(ups_hash(affinity) % nbound);
		for (unsigned i = 0; i < p->nconns; i++) {
			c = p->conns[i];
			if (c->state != UPS_BOUND || !ups_conn_can_tx(c))
				continue;
			if (k-- == 0) {
				best = ups_conn_has_room(c) ? c : NULL;
				break;
			}
		}
	}
	if (best == NULL)
		*errp = EAGAIN;
	return best;
}

void
upstream_pool_flush(struct upstream_pool *p)
{
	unsigned	i;

	if (p == NULL)
		return;
	/* The flush event stays active and finds the output empty. */
	for (i = 0; i < p->nconns; i++)
		if (p->conns[i]->io.is_flush_queued)
			ups_conn_flush(p->conns[i]);
}

int
upstream_pool_submit(struct upstream_pool *p, const uint8_t *pdu,
    size_t len, const struct upstream_req_cbs *rcb, void *ctx,
    uint64_t affinity)
{
	struct ups_conn	*c;
	uint32_t	 cmd;
	int		 e = 0;

	if (p->is_shutting_down) {
		errno = ESHUTDOWN;
		return -1;
	}
	if (len < SMPP_HEADER_LEN || len > SMPP_MAX_PDU_LEN ||
	    smpp_frame_peek_len(pdu) != len) {
		errno = EINVAL;
		return -1;
	}
	/* command_id, read as the codec reads command_length. */
	cmd = smpp_frame_peek_len(pdu + 4);
	if (!upstream_cmd_is_forwardable(cmd)) {
		errno = EINVAL;
		return -1;
	}
	if ((c = ups_pool_pick(p, affinity, &e)) == NULL) {
		p->wants_window = true;
		errno = e;
		return -1;
	}
	if (ups_conn_submit(c, pdu, len, rcb, ctx, cmd) == -1)
		return -1;
	p->st.submits_sent++;
	return 0;
}

size_t
upstream_pool_cancel(struct upstream_pool *p, const void *ctx)
{
	size_t	n = 0;

	for (unsigned i = 0; i < p->nconns; i++)
		n += ups_conn_cancel(p->conns[i], ctx);
	return n;
}

int
upstream_reply_send(const struct upstream_reply *r, uint32_t status,
    const char *message_id)
{
	struct upstream_pool	*p;
	struct ups_conn		*c = NULL;
	uint32_t		 cmd;

	for (p = ups_pools; p != NULL; p = p->next)
		if (p->id == r->pool_id)
			break;
	if (p != NULL) {
		for (unsigned i = 0; i < p->nconns; i++) {
			if (p->conns[i]->id == r->conn_id) {
				c = p->conns[i];
				break;
			}
		}
	}
	if (c == NULL || c->io.bev == NULL || c->state < UPS_BOUND ||
	    c->state > UPS_UNBINDING) {
		errno = ENOTCONN;
		return -1;
	}
	cmd = smpp_cmd_resp_id(r->command_id);
	/* §4.6.2: deliver_sm_resp's message_id is unused, set to NULL. */
	if (r->command_id != SMPP_CMD_DATA_SM || message_id == NULL)
		message_id = "";
	if (ups_conn_write_simple(c, cmd, status, r->sequence_number,
	    message_id) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
upstream_pool_shutdown(struct upstream_pool *p, unsigned timeout_ms,
    upstream_done_fn *done, void *done_arg)
{
	struct timeval	tv;

	if (p->is_shutting_down) {
		errno = EALREADY;
		return -1;
	}
	p->is_shutting_down = true;
	p->done = done;
	p->done_arg = done_arg;
	log_info("upstream=%s event=shutdown timeout_ms=%u", p->cfg.name,
	    timeout_ms);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(p->shutdown_timer, &tv);
	for (unsigned i = 0; i < p->nconns; i++)
		ups_conn_drain(p->conns[i]);
	ups_pool_check_done(p);
	return 0;
}

void
upstream_pool_stats(const struct upstream_pool *p, struct upstream_stats *st)
{
	*st = p->st;
	st->in_flight = 0;
	st->bound = 0;
	st->connections = 0;
	for (unsigned i = 0; i < p->nconns; i++) {
		const struct ups_conn *c = p->conns[i];

		st->in_flight += c->in_flight;
		if (c->state >= UPS_BOUND && c->state <= UPS_UNBINDING)
			st->bound++;
		if (!c->is_retiring)
			st->connections++;
	}
}
