/*
 * Confirmation text and submit_sm encoding. See confirm.h.
 */
#include "proxy/policy/confirm.h"

#include <string.h>

#include "smpp/text.h"

/* Bytes of s that may be appended in room bytes without cutting a UTF-8
 * sequence in two. */
static size_t
utf8_fit(const char *s, size_t len, size_t room)
{
	if (len <= room)
		return len;
	len = room;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	return len;
}

size_t
confirm_expand(const char *tmpl, const char *business,
    const char *categories, char *out, size_t cap)
{
	static const char	 kbus[] = "{business}";
	static const char	 kcat[] = "{categories}";
	const char		*p = tmpl, *add;
	size_t			 off = 0, addlen, skip, n;

	if (cap == 0)
		return 0;
	while (*p != '\0') {
		if (strncmp(p, kbus, sizeof(kbus) - 1) == 0) {
			add = business;
			addlen = strlen(business);
			skip = sizeof(kbus) - 1;
		} else if (strncmp(p, kcat, sizeof(kcat) - 1) == 0) {
			add = categories;
			addlen = strlen(categories);
			skip = sizeof(kcat) - 1;
		} else {
			add = p;
			addlen = 1;
			skip = 1;
		}
		n = utf8_fit(add, addlen, cap - 1 - off);
		memcpy(out + off, add, n);
		off += n;
		if (n < addlen)
			break;		/* out is full */
		p += skip;
	}
	/* A template byte at a time can leave half a character at the cut. */
	n = off;
	while (n > 0 && ((unsigned char)out[n - 1] & 0x80) != 0) {
		unsigned char	 c;
		size_t		 start = n - 1, need;

		while (start > 0 && ((unsigned char)out[start] & 0xC0) == 0x80)
			start--;
		c = (unsigned char)out[start];
		need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
		if (n - start >= need)
			break;
		n = start;
	}
	out[n] = '\0';
	return n;
}

static int
addr_copy(struct smpp_addr *dst, const struct smpp_addr *src)
{
	size_t	 n = strnlen(src->addr, sizeof(src->addr));

	/* submit_sm addresses are C-Octet strings of at most 21 octets
	 * (SMPP v3.4 §4.4.1); a data_sm may bring up to 65. */
	if (n == 0 || n >= SMPP_ADDR_LEN)
		return -1;
	dst->ton = src->ton;
	dst->npi = src->npi;
	memcpy(dst->addr, src->addr, n);
	dst->addr[n] = '\0';
	return 0;
}

int
confirm_encode(const struct smpp_addr *from, const struct smpp_addr *to,
    const char *text, uint8_t ref, struct confirm_pdu *pdus, size_t max,
    size_t *count)
{
	struct smpp_text_parts	 parts;
	struct smpp_pdu		 pdu;
	size_t			 len, i;
	ssize_t			 n;

	*count = 0;
	if (max == 0)
		return -1;
	smpp_pdu_init(&pdu, SMPP_CMD_SUBMIT_SM, 0);
	if (addr_copy(&pdu.source, from) == -1 ||
	    addr_copy(&pdu.dest, to) == -1)
		return -1;
	len = strlen(text);
	for (;;) {
		if (smpp_text_encode(text, len, ref, &parts) == -1 &&
		    !smpp_text_utf8_valid((const uint8_t *)text, len))
			return -1;
		if (parts.count > 0 && parts.count <= max)
			break;
		if (len == 0)
			return -1;
		/* Too long: shorten by a tenth, at a character boundary. */
		len = utf8_fit(text, len, len - len / 10 - 1);
	}
	for (i = 0; i < parts.count; i++) {
		pdu.esm_class = parts.parts[i].has_udh ? SMPP_ESM_UDHI : 0;
		pdu.data_coding = parts.data_coding;
		pdu.registered_delivery = 0;
		pdu.sm_length = (uint8_t)parts.parts[i].len;
		pdu.short_message = parts.parts[i].bytes;
		n = smpp_pdu_encode(&pdu, pdus[i].bytes,
		    sizeof(pdus[i].bytes));
		if (n <= 0) {
			*count = 0;
			return -1;
		}
		pdus[i].len = (size_t)n;
	}
	*count = parts.count;
	return 0;
}
