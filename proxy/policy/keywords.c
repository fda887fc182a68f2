/*
 * Subscriber reply keywords: normalisation (libunistring) and the rules of
 * SPEC §4. See keywords.h for the rules in order.
 */
#include "proxy/policy/keywords.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "config/config.h"

#define KW_TEXT_MAX	1024	/* longest text normalised without malloc */
#define KW_NORM_MAX	(4 * KW_TEXT_MAX)
#define KW_SYM_MAX	16	/* code points in a symbol-only keyword */

/* One compiled keyword: its normalised words, or its symbols. */
struct kw_entry {
	char	*norm;			/* owned; "" for a symbol keyword */
	size_t	 normlen;
	ucs4_t	 sym[KW_SYM_MAX];	/* symbol keyword (🛑) */
	size_t	 nsym;
	size_t	 category;		/* category lists only */
};

struct kw_list {
	struct kw_entry	*e;		/* owned */
	size_t		 n;
};

struct keywords {
	struct kw_list	 opt_out_all;
	struct kw_list	 opt_out;
	struct kw_list	 opt_in;
	struct kw_list	 help;
	struct kw_list	 less;		/* LESS, FEWER */
	struct kw_list	 opt_in_all;	/* ALL */
	struct kw_list	 in_text;	/* unambiguous inside a sentence */
	struct kw_list	 ambiguous;	/* opt_out words that are not */
	struct kw_list	 category;
};

const char *
keyword_action_name(enum keyword_action a)
{
	switch (a) {
	case KEYWORD_NONE:
		return "none";
	case KEYWORD_OPT_OUT:
		return "opt_out";
	case KEYWORD_OPT_IN:
		return "opt_in";
	case KEYWORD_ONLY:
		return "only";
	case KEYWORD_HELP:
		return "help";
	case KEYWORD_REVIEW:
		return "review";
	case KEYWORD_LESS:
		return "less";
	}
	return "unknown";
}

/* True for code points that only shape the symbol before them. */
static bool
is_symbol_modifier(ucs4_t uc)
{
	return uc == 0xFE0E || uc == 0xFE0F || uc == 0x200D ||
	    (uc >= 0x1F3FB && uc <= 0x1F3FF);	/* skin tones */
}

/*
 * Decode UTF-8 into code points; an invalid sequence becomes a space (a
 * word break). Returns the count, or -1 if out is too small.
 */
static ssize_t
kw_decode(const char *text, size_t len, ucs4_t *out, size_t cap)
{
	const uint8_t	*s = (const uint8_t *)text;
	size_t		 i = 0, n = 0;
	ucs4_t		 uc;
	int		 k;

	while (i < len) {
		k = u8_mbtoucr(&uc, s + i, len - i);
		if (k < 0) {
			uc = ' ';
			k = 1;
		}
		if (n == cap)
			return -1;
		out[n++] = uc;
		i += (size_t)k;
	}
	return (ssize_t)n;
}

/* Collect the symbol-only form of u (every non-space, non-modifier code
 * point). Returns its length, or -1 if it is longer than cap. */
static ssize_t
kw_symbols(const ucs4_t *u, size_t n, ucs4_t *out, size_t cap)
{
	size_t	 i, k = 0;

	for (i = 0; i < n; i++) {
		if (uc_is_space(u[i]) || is_symbol_modifier(u[i]))
			continue;
		if (k == cap)
			return -1;
		out[k++] = u[i];
	}
	return (ssize_t)k;
}

/*
 * keywords_normalize() into out; when is_cut, a text whose normalised form
 * does not fit is cut after its last whole word instead of failing.
 */
static int
kw_normalize(const char *text, size_t len, char *out, size_t cap,
    bool is_cut)
{
	ucs4_t		 raw[KW_TEXT_MAX], foldbuf[KW_NORM_MAX];
	ucs4_t		*fold;
	size_t		 nfold = KW_NORM_MAX, i, o = 0;
	ssize_t		 nraw;
	bool		 need_space = false;
	int		 rc = -1, k;

	if (cap == 0)
		return -1;
	if (len > KW_TEXT_MAX)
		len = KW_TEXT_MAX;	/* keywords live at the start */
	if ((nraw = kw_decode(text, len, raw, KW_TEXT_MAX)) < 0)
		return -1;
	/* Fold case and decompose compatibility forms (fullwidth letters,
	 * ligatures) and accents, UAX #15 NFKD. */
	fold = u32_casefold(raw, (size_t)nraw, NULL, UNINORM_NFKD, foldbuf,
	    &nfold);
	if (fold == NULL)
		return -1;
	for (i = 0; i < nfold; i++) {
		if (uc_is_general_category(fold[i], UC_CATEGORY_M))
			continue;	/* a combining accent: dropped */
		if (!uc_is_alnum(fold[i])) {
			need_space = o > 0;
			continue;
		}
		if (need_space) {
			if (o + 1 >= cap)
				goto full;
			out[o++] = ' ';
			need_space = false;
		}
		if (o + 6 >= cap)
			goto full;
		k = u8_uctomb((uint8_t *)out + o, fold[i], (int)(cap - o - 1));
		if (k < 0)
			goto out;
		o += (size_t)k;
	}
	out[o] = '\0';
	rc = (int)o;
	goto out;
full:
	/*
	 * A few code points can decompose into many (U+FDFA into 18
	 * letters), so a short text may not fit: matching keeps the whole
	 * words that did, rather than sending a STOP to review. The word
	 * being written is dropped: "stopping" must not end as "stop".
	 */
	if (is_cut) {
		while (o > 0 && out[o - 1] != ' ')
			o--;
		while (o > 0 && out[o - 1] == ' ')
			o--;
		out[o] = '\0';
		rc = (int)o;
	}
out:
	if (fold != foldbuf)
		free(fold);
	return rc;
}

int
keywords_normalize(const char *text, size_t len, char *out, size_t cap)
{
	return kw_normalize(text, len, out, cap, false);
}

/* Compile one keyword into e. Returns 0 or -1. */
static int
kw_entry_init(struct kw_entry *e, const char *word, size_t category)
{
	char		 norm[KW_NORM_MAX];
	ucs4_t		 raw[KW_TEXT_MAX];
	ssize_t		 nraw, nsym;
	int		 n;

	memset(e, 0, sizeof(*e));
	e->category = category;
	if ((n = keywords_normalize(word, strlen(word), norm,
	    sizeof(norm))) < 0)
		return -1;
	if (n == 0) {
		nraw = kw_decode(word, strlen(word), raw, KW_TEXT_MAX);
		if (nraw < 0)
			return -1;
		nsym = kw_symbols(raw, (size_t)nraw, e->sym, KW_SYM_MAX);
		if (nsym <= 0)
			return -1;
		e->nsym = (size_t)nsym;
	}
	if ((e->norm = strdup(norm)) == NULL)
		return -1;
	e->normlen = (size_t)n;
	return 0;
}

static void
kw_list_free(struct kw_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->e[i].norm);
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

/* True if norm is one of l's words. */
static const struct kw_entry *
kw_list_find(const struct kw_list *l, const char *norm, size_t len)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (l->e[i].normlen > 0 && l->e[i].normlen == len &&
		    memcmp(l->e[i].norm, norm, len) == 0)
			return &l->e[i];
	return NULL;
}

/* Append the words of w (skipping those in `except`) to l. */
static int
kw_list_add(struct kw_list *l, const struct config_words *w,
    const struct config_words *except, size_t category)
{
	struct kw_entry	*ne;
	size_t		 i, j;
	bool		 skip;

	ne = realloc(l->e, (l->n + w->count) * sizeof(*ne));
	if (ne == NULL && l->n + w->count > 0)
		return -1;
	l->e = ne;
	for (i = 0; i < w->count; i++) {
		skip = false;
		for (j = 0; except != NULL && j < except->count; j++)
			if (strcmp(w->words[i], except->words[j]) == 0)
				skip = true;
		if (skip)
			continue;
		if (kw_entry_init(&l->e[l->n], w->words[i], category) == -1)
			return -1;
		l->n++;
	}
	return 0;
}

struct keywords *
keywords_new(const struct config *cfg)
{
	struct keywords	*kw;
	size_t		 i;

	if ((kw = calloc(1, sizeof(*kw))) == NULL)
		return NULL;
	if (kw_list_add(&kw->opt_out_all, &cfg->keywords.opt_out_all, NULL,
	    0) == -1 ||
	    kw_list_add(&kw->opt_out, &cfg->keywords.opt_out, NULL, 0) == -1 ||
	    kw_list_add(&kw->opt_in, &cfg->keywords.opt_in, NULL, 0) == -1 ||
	    kw_list_add(&kw->help, &cfg->keywords.help, NULL, 0) == -1 ||
	    kw_list_add(&kw->less, &cfg->keywords.less, NULL, 0) == -1 ||
	    kw_list_add(&kw->opt_in_all, &cfg->keywords.opt_in_all, NULL,
	    0) == -1 ||
	    kw_list_add(&kw->in_text, &cfg->keywords.opt_out_in_text, NULL,
	    0) == -1 ||
	    kw_list_add(&kw->ambiguous, &cfg->keywords.opt_out,
	    &cfg->keywords.opt_out_in_text, 0) == -1)
		goto err_free;
	for (i = 0; i < cfg->ncategories; i++)
		if (kw_list_add(&kw->category, &cfg->categories[i].keywords,
		    NULL, i) == -1)
			goto err_free;
	return kw;

err_free:
	keywords_free(kw);
	return NULL;
}

void
keywords_free(struct keywords *kw)
{
	if (kw == NULL)
		return;
	kw_list_free(&kw->opt_out_all);
	kw_list_free(&kw->opt_out);
	kw_list_free(&kw->opt_in);
	kw_list_free(&kw->help);
	kw_list_free(&kw->less);
	kw_list_free(&kw->opt_in_all);
	kw_list_free(&kw->in_text);
	kw_list_free(&kw->ambiguous);
	kw_list_free(&kw->category);
	free(kw);
}

/* True if sym (n code points) is one or more repetitions of e's symbol. */
static bool
kw_symbol_match(const struct kw_entry *e, const ucs4_t *sym, size_t n)
{
	size_t	 i;

	if (e->nsym == 0 || n == 0 || n % e->nsym != 0)
		return false;
	for (i = 0; i < n; i++)
		if (sym[i] != e->sym[i % e->nsym])
			return false;
	return true;
}

/*
 * Parse s (len bytes of normalised words) as one or more category
 * keywords separated by spaces; fill m's categories. Returns true if the
 * whole of s was category keywords.
 */
static bool
kw_parse_categories(const struct keywords *kw, const char *s, size_t len,
    struct keyword_match *m)
{
	const struct kw_entry	*e, *best;
	size_t			 i, j;
	bool			 dup;

	m->ncategories = 0;
	while (len > 0) {
		/* Longest category keyword that is a whole-word prefix. */
		best = NULL;
		for (i = 0; i < kw->category.n; i++) {
			e = &kw->category.e[i];
			if (e->normlen == 0 || e->normlen > len ||
			    memcmp(e->norm, s, e->normlen) != 0)
				continue;
			if (e->normlen < len && s[e->normlen] != ' ')
				continue;
			if (best == NULL || e->normlen > best->normlen)
				best = e;
		}
		if (best == NULL)
			return false;
		dup = false;
		for (j = 0; j < m->ncategories; j++)
			if (m->categories[j] == best->category)
				dup = true;
		if (!dup && m->ncategories < KEYWORD_CATEGORIES_MAX)
			m->categories[m->ncategories++] = best->category;
		s += best->normlen;
		len -= best->normlen;
		if (len > 0) {	/* skip the separating space */
			s++;
			len--;
		}
	}
	return m->ncategories > 0;
}

/* Rules 5 and 6: a word of l, then category keywords. */
static bool
kw_prefix_categories(const struct keywords *kw, const struct kw_list *l,
    const char *n, size_t len, struct keyword_match *m)
{
	size_t	 i, k;

	for (i = 0; i < l->n; i++) {
		k = l->e[i].normlen;
		if (k == 0 || k + 1 >= len || memcmp(l->e[i].norm, n, k) != 0 ||
		    n[k] != ' ')
			continue;
		if (kw_parse_categories(kw, n + k + 1, len - k - 1, m))
			return true;
	}
	return false;
}

/* True if one of l's words stands as whole words inside n. */
static bool
kw_contains(const struct kw_list *l, const char *n, size_t len)
{
	size_t	 i, k, off;

	for (i = 0; i < l->n; i++) {
		k = l->e[i].normlen;
		if (k == 0 || k > len)
			continue;
		/* Words start at 0 or after a space; n is short. */
		for (off = 0; off + k <= len; off++) {
			if (off > 0 && n[off - 1] != ' ')
				continue;
			if (memcmp(n + off, l->e[i].norm, k) == 0 &&
			    (off + k == len || n[off + k] == ' '))
				return true;
		}
	}
	return false;
}

/* Whole-message symbol keywords (🛑) of l. */
static bool
kw_list_symbol(const struct kw_list *l, const ucs4_t *sym, size_t nsym)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (kw_symbol_match(&l->e[i], sym, nsym))
			return true;
	return false;
}

static void
kw_set(struct keyword_match *m, enum keyword_action a, const char *rule)
{
	m->action = a;
	m->rule = rule;
}

int
keywords_match(const struct keywords *kw, const char *text, size_t len,
    struct keyword_match *m)
{
	char	 n[KW_NORM_MAX];
	ucs4_t	 raw[KW_TEXT_MAX], sym[KW_TEXT_MAX];
	ssize_t	 nraw, nsym;
	size_t	 nl;
	int	 r;

	memset(m, 0, sizeof(*m));
	kw_set(m, KEYWORD_NONE, "none");
	if ((r = kw_normalize(text, len, n, sizeof(n), true)) < 0) {
		kw_set(m, KEYWORD_REVIEW, "unreadable");
		return -1;
	}
	nl = (size_t)r;

	if (nl == 0) {
		/* No words: maybe a symbol keyword such as 🛑. */
		nraw = kw_decode(text, len > KW_TEXT_MAX ? KW_TEXT_MAX : len,
		    raw, KW_TEXT_MAX);
		nsym = nraw < 0 ? -1 :
		    kw_symbols(raw, (size_t)nraw, sym, KW_TEXT_MAX);
		if (nsym <= 0)
			return 0;
		if (kw_list_symbol(&kw->opt_out_all, sym, (size_t)nsym)) {
			m->all = true;
			kw_set(m, KEYWORD_OPT_OUT, "opt_out_all");
		} else if (kw_list_symbol(&kw->opt_out, sym, (size_t)nsym))
			kw_set(m, KEYWORD_OPT_OUT, "opt_out");
		else if (kw_list_symbol(&kw->opt_in, sym, (size_t)nsym))
			kw_set(m, KEYWORD_OPT_IN, "opt_in");
		else if (kw_list_symbol(&kw->help, sym, (size_t)nsym))
			kw_set(m, KEYWORD_HELP, "help");
		return 0;
	}

	if (kw_list_find(&kw->opt_out_all, n, nl)) {
		m->all = true;
		kw_set(m, KEYWORD_OPT_OUT, "opt_out_all");
	} else if (kw_list_find(&kw->opt_out, n, nl))
		kw_set(m, KEYWORD_OPT_OUT, "opt_out");
	else if (kw_list_find(&kw->opt_in, n, nl))
		kw_set(m, KEYWORD_OPT_IN, "opt_in");
	else if (kw_list_find(&kw->help, n, nl))
		kw_set(m, KEYWORD_HELP, "help");
	else if (kw_list_find(&kw->less, n, nl))
		kw_set(m, KEYWORD_LESS, "less");
	else if (kw_list_find(&kw->opt_in_all, n, nl)) {
		m->all = true;
		kw_set(m, KEYWORD_OPT_IN, "opt_in_all");
	} else if (kw_prefix_categories(kw, &kw->opt_out, n, nl, m)) {
		m->has_categories = true;
		kw_set(m, KEYWORD_OPT_OUT, "opt_out_category");
	} else if (kw_prefix_categories(kw, &kw->opt_in, n, nl, m)) {
		m->has_categories = true;
		kw_set(m, KEYWORD_OPT_IN, "opt_in_category");
	} else if (kw_parse_categories(kw, n, nl, m)) {
		m->has_categories = true;
		kw_set(m, KEYWORD_ONLY, "category_only");
	} else {
		m->ncategories = 0;
		if (kw_contains(&kw->in_text, n, nl))
			kw_set(m, KEYWORD_OPT_OUT, "opt_out_in_text");
		else if (kw_contains(&kw->ambiguous, n, nl))
			kw_set(m, KEYWORD_REVIEW, "ambiguous_in_text");
	}
	return 0;
}
