/*
 * Text from outside, printed for people without letting it forge output.
 *
 * An MO's text is written by anyone with a phone, and a note, an actor or
 * a service_type by any API client or department: a newline in one would
 * print a line that looks like another event, an escape sequence would
 * drive the operator's terminal, and a bidirectional override would show
 * the line in another order than it is stored. The CLI's text output
 * passes every such field through cli_put_text().
 */
#include "proxy/cli/cli_int.h"

#include <stdint.h>
#include <stdio.h>

/* Length of the UTF-8 sequence s starts (1-4) and its code point, or 0
 * when s does not start a valid, shortest-form sequence. */
static size_t
utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t		 n, i;
	uint32_t	 c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Code points that change how the rest of a line is shown: C1 controls,
 * line and paragraph separators, bidirectional embeddings, overrides and
 * isolates. */
static bool
is_format_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

void
cli_put_text(FILE *out, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 n;

	while (*p != '\0') {
		switch (*p) {
		case '\n':
			fputs("\\n", out);
			p++;
			continue;
		case '\r':
			fputs("\\r", out);
			p++;
			continue;
		case '\t':
			fputs("\\t", out);
			p++;
			continue;
		case '\\':
		case '"':
			fputc('\\', out);
			fputc(*p++, out);
			continue;
		default:
			break;
		}
		if ((n = utf8_decode(p, &cp)) == 0) {
			fprintf(out, "\\x%02x", *p++);
			continue;
		}
		if (cp < 0x20 || cp == 0x7f)
			fprintf(out, "\\x%02x", (unsigned)cp);
		else if (is_format_control(cp))
			fprintf(out, "\\u{%04x}", (unsigned)cp);
		else
			fwrite(p, 1, n, out);
		p += n;
	}
}
