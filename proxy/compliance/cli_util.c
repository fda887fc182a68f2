/*
 * Shared helpers of the compliance CLI.
 */
#include "proxy/compliance/cli_util.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"

#define CSV_MAX_FIELDS	32
#define CSV_MAX_BYTES	(64u << 20)	/* refuse absurd imports */

/* Options that take a value, and where it goes. */
static const char **
cli_opt_slot(struct cli_args *a, const char *name)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} opts[] = {
		{ "-c", offsetof(struct cli_args, config) },
		{ "--config", offsetof(struct cli_args, config) },
		{ "--format", offsetof(struct cli_args, format) },
		{ "--source", offsetof(struct cli_args, source) },
		{ "--note", offsetof(struct cli_args, note) },
		{ "--consent", offsetof(struct cli_args, consent) },
		{ "--actor", offsetof(struct cli_args, actor) },
		{ "--since", offsetof(struct cli_args, since) },
		{ "--until", offsetof(struct cli_args, until) },
		{ "--number", offsetof(struct cli_args, number) },
		{ "--account", offsetof(struct cli_args, account) },
	};
	size_t	 i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(name, opts[i].name) == 0)
			return (const char **)(void *)((char *)a +
			    opts[i].off);
	return NULL;
}

int
cli_args_parse(struct cli_args *a, int argc, char *argv[], int first)
{
	const char	**slot, *arg, *val, *eq;
	char		  name[32];
	int		  i;
	bool		  only_pos = false;

	memset(a, 0, sizeof(*a));
	for (i = first; i < argc; i++) {
		arg = argv[i];
		if (only_pos || arg[0] != '-' || arg[1] == '\0') {
			if (a->npos == CLI_MAX_ARGS)
				goto err_many;
			a->pos[a->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(arg, "--all") == 0) {
			a->all = true;
			continue;
		}
		if (strcmp(arg, "--optout") == 0) {
			a->optout = true;
			continue;
		}
		if (strcmp(arg, "--dismiss") == 0) {
			a->dismiss = true;
			continue;
		}
		/* --name=value or --name value */
		val = NULL;
		if ((eq = strchr(arg, '=')) != NULL && arg[1] == '-') {
			if ((size_t)(eq - arg) >= sizeof(name))
				goto err_unknown;
			memcpy(name, arg, (size_t)(eq - arg));
			name[eq - arg] = '\0';
			val = eq + 1;
		} else {
			if (strlen(arg) >= sizeof(name))
				goto err_unknown;
			memcpy(name, arg, strlen(arg) + 1);
		}
		if (val == NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "stopgate: option %s needs a "
				    "value\n", name);
				return -1;
			}
			val = argv[++i];
		}
		if (strcmp(name, "--category") == 0) {
			if (a->ncategories == CLI_MAX_ARGS)
				goto err_many;
			a->categories[a->ncategories++] = val;
			a->category = val;
			continue;
		}
		if ((slot = cli_opt_slot(a, name)) == NULL) {
			arg = name;
			goto err_unknown;
		}
		*slot = val;
	}
	return 0;

err_unknown:
	fprintf(stderr, "stopgate: unknown option: %s\n", arg);
	return -1;
err_many:
	fprintf(stderr, "stopgate: too many arguments\n");
	return -1;
}

int
cli_format_parse(const char *s, bool csv_ok, enum cli_format *out)
{
	if (s == NULL || strcmp(s, "text") == 0)
		*out = CLI_FORMAT_TEXT;
	else if (strcmp(s, "jsonl") == 0)
		*out = CLI_FORMAT_JSONL;
	else if (csv_ok && strcmp(s, "csv") == 0)
		*out = CLI_FORMAT_CSV;
	else {
		fprintf(stderr, "stopgate: --format must be text, jsonl%s\n",
		    csv_ok ? " or csv" : "");
		return -1;
	}
	return 0;
}

const char *
cli_time_format(int64_t t, char *buf, size_t cap)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld", (long long)t);
	return buf;
}

/* Read exactly n digits at *p into *v. */
static bool
cli_digits(const char **p, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
cli_days(int y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
cli_time_parse(const char *s, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	const char	*p = s;
	int		 y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0;
	int		 sign = 0;

	if (!cli_digits(&p, 4, &y) || *p++ != '-' || !cli_digits(&p, 2, &mo) ||
	    *p++ != '-' || !cli_digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0)))
		return -1;
	if (*p == '\0')
		goto done;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (!cli_digits(&p, 2, &h) || *p++ != ':' || !cli_digits(&p, 2, &mi) ||
	    *p++ != ':' || !cli_digits(&p, 2, &se))
		return -1;
	if (h > 23 || mi > 59 || se > 60)
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!cli_digits(&p, 2, &oh) || *p++ != ':' ||
		    !cli_digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
	} else
		return -1;
	if (*p != '\0')
		return -1;
done:
	*out = cli_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
	    sign * (oh * 3600 + om * 60);
	return 0;
}

void
cli_json_str(FILE *fp, const char *s)
{
	const unsigned char	*p;

	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (*p < 0x20)
				fprintf(fp, "\\u%04x", *p);
			else
				fputc(*p, fp);
		}
	}
	fputc('"', fp);
}

void
cli_csv_field(FILE *fp, const char *s)
{
	const char	*p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', fp);
		fputc(*p, fp);
	}
	fputc('"', fp);
}

struct cli_csv {
	char		*buf;		/* owned: the whole file, NUL-ended */
	size_t		 len;
	size_t		 off;
	unsigned	 line;		/* line of buf[off] */
	char		*fields[CSV_MAX_FIELDS];
};

/* Check and prepare c->buf (c->len bytes, NUL at c->len). */
static int
cli_csv_init(struct cli_csv *c, const char *name, char *errbuf,
    size_t errlen)
{
	c->buf[c->len] = '\0';
	if (memchr(c->buf, '\0', c->len) != NULL) {
		snprintf(errbuf, errlen, "%s: binary data (NUL byte), not CSV",
		    name);
		return -1;
	}
	/* A UTF-8 byte order mark, as spreadsheets write. */
	if (c->len >= 3 && memcmp(c->buf, "\xef\xbb\xbf", 3) == 0)
		c->off = 3;
	c->line = 1;
	return 0;
}

struct cli_csv *
cli_csv_open_mem(const char *data, size_t len, char *errbuf, size_t errlen)
{
	struct cli_csv	*c;

	if (len >= CSV_MAX_BYTES) {
		snprintf(errbuf, errlen, "input larger than %u MiB",
		    CSV_MAX_BYTES >> 20);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->buf = malloc(len + 1)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		cli_csv_free(c);
		return NULL;
	}
	memcpy(c->buf, data, len);
	c->len = len;
	if (cli_csv_init(c, "input", errbuf, errlen) == -1) {
		cli_csv_free(c);
		return NULL;
	}
	return c;
}

struct cli_csv *
cli_csv_open(const char *path, char *errbuf, size_t errlen)
{
	struct cli_csv	*c;
	FILE		*fp;
	size_t		 n, cap = 65536;
	char		*nb;

	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->buf = malloc(cap)) == NULL)
		goto err_mem;
	while ((n = fread(c->buf + c->len, 1, cap - c->len - 1, fp)) > 0) {
		c->len += n;
		if (c->len + 1 == cap) {
			if (cap >= CSV_MAX_BYTES) {
				snprintf(errbuf, errlen, "%s: larger than %u "
				    "MiB", path, CSV_MAX_BYTES >> 20);
				goto err_free;
			}
			if ((nb = realloc(c->buf, cap * 2)) == NULL)
				goto err_mem;
			c->buf = nb;
			cap *= 2;
		}
	}
	if (ferror(fp)) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		goto err_free;
	}
	if (cli_csv_init(c, path, errbuf, errlen) == -1)
		goto err_free;
	fclose(fp);
	return c;

err_mem:
	snprintf(errbuf, errlen, "out of memory");
err_free:
	fclose(fp);
	cli_csv_free(c);
	return NULL;
}

int
cli_csv_next(struct cli_csv *c, char ***fields, size_t *nfields,
    unsigned *line, char *errbuf, size_t errlen)
{
	char	*r, *w, term;
	size_t	 n = 0;
	bool	 quoted;

	/* Skip blank lines between records. */
	while (c->off < c->len && (c->buf[c->off] == '\n' ||
	    c->buf[c->off] == '\r')) {
		if (c->buf[c->off] == '\n')
			c->line++;
		c->off++;
	}
	if (c->off >= c->len)
		return 0;
	*line = c->line;
	r = w = c->buf + c->off;
	for (;;) {
		if (n == CSV_MAX_FIELDS) {
			snprintf(errbuf, errlen, "line %u: more than %d fields",
			    *line, CSV_MAX_FIELDS);
			return -1;
		}
		c->fields[n++] = w;
		quoted = *r == '"';
		if (quoted) {
			r++;
			for (;;) {
				if (*r == '\0') {
					snprintf(errbuf, errlen, "line %u: "
					    "unterminated quoted field", *line);
					return -1;
				}
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					if (*r == '\n')
						c->line++;
					*w++ = *r++;
				}
			}
			if (*r != ',' && *r != '\n' && *r != '\r' &&
			    *r != '\0') {
				snprintf(errbuf, errlen, "line %u: text after "
				    "a closing quote", c->line);
				return -1;
			}
		} else {
			while (*r != ',' && *r != '\n' && *r != '\r' &&
			    *r != '\0') {
				if (*r == '"') {
					snprintf(errbuf, errlen, "line %u: "
					    "quote inside an unquoted field",
					    c->line);
					return -1;
				}
				*w++ = *r++;
			}
		}
		if (*r == ',') {
			*w++ = '\0';
			r++;
			continue;
		}
		/* End of record: CRLF, LF, CR or end of file. w may be r:
		 * read the terminator before writing the NUL. */
		term = *r;
		*w = '\0';
		if (term == '\r') {
			r++;
			if (*r == '\n')
				r++;
			c->line++;
		} else if (term == '\n') {
			r++;
			c->line++;
		}
		break;
	}
	c->off = (size_t)(r - c->buf);
	*fields = c->fields;
	*nfields = n;
	return 1;
}

void
cli_csv_free(struct cli_csv *c)
{
	if (c == NULL)
		return;
	free(c->buf);
	free(c);
}

const char *
cli_default_actor(void)
{
	static char	 name[64];
	struct passwd	*pw;
	const char	*s;

	if ((s = getenv("SUDO_USER")) != NULL && *s != '\0')
		return s;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name != NULL) {
		snprintf(name, sizeof(name), "%s", pw->pw_name);
		return name;
	}
	snprintf(name, sizeof(name), "uid:%u", (unsigned)getuid());
	return name;
}

void
cli_hex(const uint8_t *b, size_t n, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

const char *
cli_audit_reason(uint64_t event_id, char *buf, size_t cap)
{
	if (event_id != 0)
		snprintf(buf, cap, "opted out (event %llu)",
		    (unsigned long long)event_id);
	else
		snprintf(buf, cap, "opt-out store unreadable");
	return buf;
}

void
cli_review_optout(const struct config *cfg, const struct store_review *rv,
    bool has_scope, enum store_source source, const char *actor,
    const char *note, int64_t now, struct store_event *ev)
{
	const struct config_inbound	*in;
	size_t				 i;

	if (!has_scope) {
		in = config_inbound_find(cfg, rv->inbound);
		if (in == NULL || in->scope_all)
			ev->all = true;
		else
			for (i = 0; i < in->nscope && i < STORE_SCOPE_MAX; i++)
				snprintf(ev->categories[ev->ncategories++],
				    STORE_NAME_MAX, "%s",
				    cfg->categories[in->scope[i]].name);
	}
	ev->time = now;
	ev->action = STORE_OPT_OUT;
	ev->source = source;
	snprintf(ev->number, sizeof(ev->number), "%s", rv->number);
	snprintf(ev->inbound, sizeof(ev->inbound), "%s", rv->inbound);
	snprintf(ev->text, sizeof(ev->text), "%s", rv->text);
	snprintf(ev->rule, sizeof(ev->rule), "review");
	snprintf(ev->actor, sizeof(ev->actor), "%s", actor);
	snprintf(ev->note, sizeof(ev->note), "%s", note);
}
