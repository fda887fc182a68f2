/*
 * Subscriber reply keywords (SPEC §4): turn the decoded text of an MO into
 * an action — opt out, opt in, only one category, help, a person's review,
 * or nothing.
 *
 * Text and keywords are normalised the same way before they are compared:
 * Unicode case fold with compatibility decomposition (so "ＳＴＯＰ" is
 * "stop"), accents dropped ("Arrêt" is "arret"), and every run of
 * characters that are neither letters nor digits taken as one word break
 * (so "Stop.", "STOP 🛑" and "  stop  " are all "stop", and "OPT-OUT" is
 * "opt out"). A keyword with no letters or digits at all (🛑) matches a
 * message made of nothing but that symbol.
 *
 * Rules, first match wins:
 *   1. whole message is an opt_out_all keyword          -> OPT_OUT, all
 *   2. whole message is an opt_out keyword               -> OPT_OUT, scope
 *   3. whole message is an opt_in keyword                -> OPT_IN, scope
 *   4. whole message is a help keyword                   -> HELP
 *  4a. whole message is a less keyword (LESS, FEWER)     -> LESS, scope
 *  4b. whole message is an opt_in_all keyword (ALL)      -> OPT_IN, all
 *   5. opt_out keyword then category keywords            -> OPT_OUT, those
 *   6. opt_in keyword then category keywords             -> OPT_IN, those
 *   7. whole message is category keywords                -> ONLY, those
 *   8. an opt_out_in_text keyword inside the text        -> OPT_OUT, scope
 *   9. any other opt_out keyword inside the text         -> REVIEW
 *  10. otherwise                                         -> NONE
 * "scope" is the stop_scope of the number written to; the caller applies it.
 */
#ifndef PROXY_POLICY_KEYWORDS_H
#define PROXY_POLICY_KEYWORDS_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct keywords;

enum keyword_action {
	KEYWORD_NONE = 0,	/* an ordinary reply: forward it */
	KEYWORD_OPT_OUT,
	KEYWORD_OPT_IN,
	KEYWORD_ONLY,		/* opt in to these, out of the rest */
	KEYWORD_HELP,
	KEYWORD_REVIEW,		/* ambiguous: forward and queue for staff */
	KEYWORD_LESS,		/* fewer texts (SPEC §9) */
};

#define KEYWORD_CATEGORIES_MAX	32

struct keyword_match {
	enum keyword_action action;
	bool		 all;		/* every category (STOPALL, ALL) */
	bool		 has_categories; /* categories[] names the scope;
					  * otherwise the inbound number's */
	size_t		 ncategories;
	/* config indices */
	size_t		 categories[KEYWORD_CATEGORIES_MAX];
	const char	*rule;		/* static name of the rule matched */
};

/*
 * Compile the keyword lists and category keywords of cfg. cfg is only read
 * during the call. Returns a new matcher (free with keywords_free()) or
 * NULL on allocation failure.
 */
struct keywords *keywords_new(const struct config *cfg);

/* Free a matcher; accepts NULL. */
void keywords_free(struct keywords *kw);

/*
 * Match the UTF-8 text (len bytes; invalid sequences are word breaks) and
 * fill *m. Never allocates for texts up to 1 KiB. Returns 0, or -1 if the
 * text could not be normalised (m->action is then KEYWORD_REVIEW so a
 * person looks at it).
 */
int keywords_match(const struct keywords *kw, const char *text, size_t len,
    struct keyword_match *m);

/* Name of an action ("opt_out", ...). */
const char *keyword_action_name(enum keyword_action a);

/*
 * Normalise text into out (NUL-terminated, words separated by one space).
 * Returns the length, or -1 if out is too small or normalisation failed.
 * Exposed for tests and for the review queue's display.
 */
int keywords_normalize(const char *text, size_t len, char *out,
    size_t cap);

#endif /* PROXY_POLICY_KEYWORDS_H */
