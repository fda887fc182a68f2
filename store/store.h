/*
 * The opt-out store: one LMDB environment behind a small API. MDB_* never
 * leaks out of store/.
 *
 * Several processes (the proxy, the CLI, the admin API) open the same
 * environment at once; a change committed by one is seen by the next lookup
 * in another. Opt-outs are committed with fsync before the write call
 * returns. Numbers are normalised E.164 digits (smpp_number_normalize) and
 * categories are names from the config; the store does not know the config.
 *
 * Conventions: actions return int (0, or -1 with the reason in
 * store_errmsg()); lookups that can fail return int with 1/0 for yes/no
 * and -1 for error; constructors return a pointer or NULL.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_NUMBER_MAX	24	/* normalised number with NUL */
#define STORE_NAME_MAX		32	/* category / account / upstream */
#define STORE_CATEGORY_ALL	"*"	/* the global (every category) scope */
#define STORE_SCOPE_MAX		32	/* categories in one event */

struct store;

struct store_params {
	size_t		 map_mb;	/* initial map size; grows on MAP_FULL */
	size_t		 map_max_mb;	/* growth limit; default 65536 */
	bool		 read_only;	/* CLI queries */
};

enum store_action {
	STORE_OPT_OUT = 0,
	STORE_OPT_IN,
};

enum store_source {
	STORE_SRC_SMS_KEYWORD = 0,
	STORE_SRC_STAFF,
	STORE_SRC_API,
	STORE_SRC_IMPORT,
};

/* The last message sent to a number, for attribution of an opt-out. */
struct store_lastsent {
	int64_t		 time;				/* unix seconds; 0 = none */
	char		 account[STORE_NAME_MAX];
	char		 category[STORE_NAME_MAX];
	char		 service_type[8];
};

/* One opt-out / opt-in event (append-only history). */
struct store_event {
	uint64_t	 id;		/* assigned by the store, increasing */
	int64_t		 time;		/* unix seconds (set by caller) */
	char		 number[STORE_NUMBER_MAX];
	enum store_action action;
	bool		 all;		/* every category (global flag) */
	size_t		 ncategories;	/* when !all */
	char		 categories[STORE_SCOPE_MAX][STORE_NAME_MAX];
	enum store_source source;
	char		 inbound[STORE_NUMBER_MAX];	/* SMS: number written to */
	char		 text[512];	/* SMS: raw text (UTF-8) */
	char		 rule[32];	/* SMS: matched rule */
	char		 actor[64];	/* staff/api/import: who */
	char		 note[256];
	char		 consent[256];	/* opt-in: consent evidence */
	struct store_lastsent last;	/* filled by the store on opt-out */
};

/* Why a number is blocked for a category. */
struct store_block {
	bool		 is_global;	/* blocked by an all-categories opt-out */
	int64_t		 since;		/* unix seconds */
	uint64_t	 event_id;
};

/* One rejected send (audit log). */
struct store_audit {
	uint64_t	 id;		/* assigned by the store */
	int64_t		 time;
	char		 account[STORE_NAME_MAX];
	char		 category[STORE_NAME_MAX];
	char		 service_type[8];
	char		 source[24];	/* source_addr of the submit */
	char		 destination[STORE_NUMBER_MAX];
	uint32_t	 status;	/* command_status sent back */
	uint64_t	 event_id;	/* the blocking event */
	uint32_t	 body_len;	/* message length, octets */
	uint8_t		 body_sha256[32];
};

/*
 * Open (creating the directory and databases if missing) the environment
 * at path. Refuses a newer schema version with a clear message. Returns a
 * new store or NULL with a message in err.
 */
struct store *store_open(const char *path, const struct store_params *p,
    char *err, size_t errlen);

/* Close; accepts NULL. */
void store_free(struct store *st);

/* The message of the last failed call on st (borrowed, valid until the
 * next call). */
const char *store_errmsg(const struct store *st);

/*
 * Hot path: is number blocked for category? Reuses one read transaction
 * (reset/renew), allocates nothing. Returns 1 blocked (with *why filled if
 * non-NULL), 0 allowed, -1 the store could not be read (fail closed).
 */
int store_optout_check(struct store *st, const char *number,
    const char *category, struct store_block *why);

/*
 * Record an opt-out or opt-in event and update the current state in one
 * transaction, committed with fsync before returning. Sets ev->id and, for
 * opt-outs, ev->last from the attribution table. Idempotent in effect: an
 * opt-out of something already opted out still records the event but
 * changes no since-time. Returns 0 or -1.
 */
int store_optout_apply(struct store *st, struct store_event *ev);

#endif /* STORE_STORE_H */
