/*
 * The records staff see, as JSON objects and CSV rows: one shape each,
 * printed alike by `stopgate ... --format jsonl|csv` and the admin API.
 * Each encoder writes one record to fp, with no line end (the caller
 * adds "\n" for a JSON line or a CSV row, or "," inside a JSON array).
 */
#ifndef PROXY_COMPLIANCE_ENCODE_H
#define PROXY_COMPLIANCE_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

/* Room for an event's scope as text ("promo,billing" or "all"). */
#define ENCODE_SCOPE_MAX	(STORE_SCOPE_MAX * STORE_NAME_MAX)

/* An event's scope as text into buf (cap bytes): "all", or its
 * categories joined by commas. Returns buf. */
const char *encode_scope_text(const struct store_event *ev, char *buf,
    size_t cap);

/* The reason column of a rejected-send audit record into buf (cap bytes):
 * the blocking event, or (event_id 0) a fleet opt-out the node enforced
 * before its store had it (proxy/cluster/early.c). Returns buf. */
const char *encode_audit_reason(uint64_t event_id, char *buf, size_t cap);

/* The same for a record: its cause when not an opt-out (frequency_cap,
 * quiet_hours: SPEC §9), else encode_audit_reason(). Returns buf. */
const char *encode_audit_why(const struct store_audit *a, char *buf,
    size_t cap);

/* "open", "opted_out" or "dismissed". */
const char *encode_review_status_name(enum store_review_status s);

/* Seconds since t at now, never negative. */
int64_t encode_age(int64_t t, int64_t now);

/*
 * A number's status for one category, as the members of a JSON object
 * without its braces: "status":"allowed", or "status":"blocked" with
 * "since", "event_id" and "scope" ("all" or "category") from why.
 */
void encode_status_members(FILE *fp, bool is_blocked,
    const struct store_block *why);

/* The same as a JSON object of its own, after "number" and "category". */
void encode_status_json(FILE *fp, const char *number, const char *category,
    bool is_blocked, const struct store_block *why);

/*
 * A capped category's preferences (SPEC §9) as JSON members, each after
 * a comma: less, sent and left in the window, max, per_s, and less_since
 * when less. The CLI's status line and the admin API's status share it.
 */
struct freqstat;
void encode_prefs_members(FILE *fp, const struct freqstat *fs);

/* encode_status_json() with encode_prefs_members(). */
void encode_status_json_prefs(FILE *fp, const char *number,
    const char *category, bool is_blocked, const struct store_block *why,
    const struct freqstat *fs);

#define ENCODE_STATUS_CSV_HEADER \
	"number,category,status,since,event_id,scope"
/* The same as one CSV row, after the number and category. */
void encode_status_csv(FILE *fp, const char *number, const char *category,
    bool is_blocked, const struct store_block *why);

/*
 * One opt-out / opt-in event as a JSON object: event_id, time, number,
 * action, scope (text), all and categories (JSON types), source, inbound,
 * rule, text, actor, note, consent, and last_sent (account, time,
 * category, service_type) when the store named the message sent before.
 */
void encode_event_json(FILE *fp, const struct store_event *ev);

#define ENCODE_EVENT_CSV_HEADER \
	"event_id,time,number,action,scope,source,inbound,rule,text,actor," \
	"note,consent,last_sent_time,last_sent_account,last_sent_category"
void encode_event_csv(FILE *fp, const struct store_event *ev);

/* One rejected send: id, time, account, category, service_type, source,
 * destination, status (hex), reason, event_id, body_len, body_sha256. */
void encode_audit_json(FILE *fp, const struct store_audit *a);

#define ENCODE_AUDIT_CSV_HEADER \
	"time,account,category,service_type,source,destination,status," \
	"reason,event_id,body_len,body_sha256"
void encode_audit_csv(FILE *fp, const struct store_audit *a);

/* One review item with its age at now: id, time, age_seconds, number,
 * inbound, account, text, status, and once resolved resolved_time,
 * actor, note and event_id (when it opted the number out). */
void encode_review_json(FILE *fp, const struct store_review *rv,
    int64_t now);

#define ENCODE_REVIEW_CSV_HEADER \
	"id,time,age_seconds,number,inbound,account,text"
void encode_review_csv(FILE *fp, const struct store_review *rv,
    int64_t now);

/* One entry of the opt-out state (export): number, category ("all" for
 * every category), state (opted_out or opted_in), since, event_id. */
void encode_state_json(FILE *fp, const struct store_state_entry *e);

#define ENCODE_STATE_CSV_HEADER "number,category,state,since,event_id"
void encode_state_csv(FILE *fp, const struct store_state_entry *e);

/* How a list of records is written. */
enum encode_format {
	ENCODE_JSONL = 0,	/* a JSON object a line */
	ENCODE_JSON_ARRAY,	/* objects separated by commas, no brackets */
	ENCODE_CSV,		/* a row a line, after a header row */
};

/*
 * A list being written: the encode_list_* walk callbacks below append
 * each record the store hands them, in format, up to max records (0: no
 * limit); one more sets is_more and stops the walk (the callback returns
 * 1, as the store's walks ask).
 */
struct encode_list {
	FILE			*fp;		/* borrowed */
	enum encode_format	 format;
	size_t			 n, max;
	bool			 is_more;
	uint64_t		 last_id;	/* events: the last one's id */
	int64_t			 now;		/* review: for ages */
};

/* Start a list on fp; with ENCODE_CSV, header is its first row. */
void encode_list_init(struct encode_list *l, FILE *fp,
    enum encode_format format, size_t max, int64_t now, const char *header);

/* Walk callbacks (store_event_fn, store_audit_fn, store_review_fn,
 * store_state_fn); arg is the struct encode_list. */
int encode_list_event(const struct store_event *ev, void *arg);
int encode_list_audit(const struct store_audit *a, void *arg);
int encode_list_review(const struct store_review *rv, void *arg);
int encode_list_state(const struct store_state_entry *e, void *arg);

#endif /* PROXY_COMPLIANCE_ENCODE_H */
