/*
 * RFC 4180 CSV: the reader unquotes fields in place in its own copy of the
 * input, so a field is a view into that buffer.
 */
#include "proxy/compliance/csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct csv_reader {
	char		*buf;		/* owned: the whole file, NUL-ended */
	size_t		 len;
	size_t		 off;
	unsigned	 line;		/* line of buf[off] */
	char		*fields[CSV_MAX_FIELDS];
};

/* Check and prepare c->buf (c->len bytes, NUL at c->len). */
static int
csv_reader_init(struct csv_reader *c, const char *name, char *errbuf,
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

struct csv_reader *
csv_reader_open_mem(const char *data, size_t len, char *errbuf,
    size_t errlen)
{
	struct csv_reader	*c;

	if (len >= CSV_MAX_BYTES) {
		snprintf(errbuf, errlen, "input larger than %u MiB",
		    CSV_MAX_BYTES >> 20);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->buf = malloc(len + 1)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		csv_reader_free(c);
		return NULL;
	}
	memcpy(c->buf, data, len);
	c->len = len;
	if (csv_reader_init(c, "input", errbuf, errlen) == -1) {
		csv_reader_free(c);
		return NULL;
	}
	return c;
}

struct csv_reader *
csv_reader_open(const char *path, char *errbuf, size_t errlen)
{
	struct csv_reader	*c;
	FILE			*fp;
	size_t			 n, cap = 65536;
	char			*nb;

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
	if (csv_reader_init(c, path, errbuf, errlen) == -1)
		goto err_free;
	fclose(fp);
	return c;

err_mem:
	snprintf(errbuf, errlen, "out of memory");
err_free:
	fclose(fp);
	csv_reader_free(c);
	return NULL;
}

static bool
csv_is_end(char ch)
{
	return ch == ',' || ch == '\n' || ch == '\r' || ch == '\0';
}

/*
 * One quoted field at *r (on its opening quote), unquoted to *w. Returns 0
 * with *r after the closing quote, or -1 (errbuf set).
 */
static int
csv_quoted(struct csv_reader *c, char **r, char **w, unsigned first,
    char *errbuf, size_t errlen)
{
	(*r)++;
	for (;;) {
		if (**r == '\0') {
			snprintf(errbuf, errlen, "line %u: unterminated "
			    "quoted field", first);
			return -1;
		}
		if (**r == '"' && (*r)[1] == '"') {
			*(*w)++ = '"';
			*r += 2;
		} else if (**r == '"') {
			(*r)++;
			break;
		} else {
			if (**r == '\n')
				c->line++;
			*(*w)++ = *(*r)++;
		}
	}
	if (!csv_is_end(**r)) {
		snprintf(errbuf, errlen, "line %u: text after a closing quote",
		    c->line);
		return -1;
	}
	return 0;
}

/* One unquoted field at *r, copied to *w. Returns 0, or -1 for a quote
 * inside it (errbuf set). */
static int
csv_bare(struct csv_reader *c, char **r, char **w, char *errbuf,
    size_t errlen)
{
	while (!csv_is_end(**r)) {
		if (**r == '"') {
			snprintf(errbuf, errlen, "line %u: quote inside an "
			    "unquoted field", c->line);
			return -1;
		}
		*(*w)++ = *(*r)++;
	}
	return 0;
}

/* Skip blank lines between records. */
static void
csv_skip_blank(struct csv_reader *c)
{
	while (c->off < c->len && (c->buf[c->off] == '\n' ||
	    c->buf[c->off] == '\r')) {
		if (c->buf[c->off] == '\n')
			c->line++;
		c->off++;
	}
}

int
csv_reader_next(struct csv_reader *c, char ***fields, size_t *nfields,
    unsigned *line, char *errbuf, size_t errlen)
{
	char	*r, *w, term;
	size_t	 n = 0;

	csv_skip_blank(c);
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
		if ((*r == '"' ? csv_quoted(c, &r, &w, *line, errbuf, errlen) :
		    csv_bare(c, &r, &w, errbuf, errlen)) == -1)
			return -1;
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
csv_reader_free(struct csv_reader *c)
{
	if (c == NULL)
		return;
	free(c->buf);
	free(c);
}

void
csv_field_write(FILE *fp, const char *s)
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
