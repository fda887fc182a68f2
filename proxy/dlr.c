/*
 * Receipts and MOs from the SMSC to the departments.
 */
#include "proxy/dlr.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "proxy/daemon.h"
#include "proxy/inbound.h"
#include "proxy/log.h"
#include "proxy/session.h"
#include "proxy/upstream.h"
#include "smpp/number.h"
#include "smpp/receipt.h"

/* Copy the string src into dst (cap bytes), truncating; always
 * NUL-terminated when cap > 0. */
static void
str_copy(char *dst, size_t cap, const char *src)
{
	size_t	n;

	if (cap == 0)
		return;
	n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
dlr_receipt_id(const struct smpp_pdu *pdu, char *out, size_t cap)
{
	const struct smpp_tlv	*t;
	const uint8_t		*text = NULL;
	struct smpp_receipt	 r;
	size_t			 n, textlen = 0;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	t = smpp_pdu_tlv_find(pdu, SMPP_TLV_RECEIPTED_MESSAGE_ID);
	if (t != NULL && t->len > 0) {
		/* Some SMSCs omit the NUL (see smpp/pdu.c leniency). */
		n = strnlen((const char *)t->value, t->len);
		if (n > 0 && n < cap) {
			memcpy(out, t->value, n);
			out[n] = '\0';
			return 0;
		}
	}
	if (pdu->sm_length > 0) {
		text = pdu->short_message;
		textlen = pdu->sm_length;
	} else if ((t = smpp_pdu_tlv_find(pdu, SMPP_TLV_MESSAGE_PAYLOAD)) !=
	    NULL) {
		text = t->value;
		textlen = t->len;
	}
	if (text == NULL ||
	    smpp_receipt_parse((const char *)text, textlen, &r) == -1)
		return -1;
	if (strlen(r.id) >= cap)
		return -1;
	str_copy(out, cap, r.id);
	return 0;
}

int
dlr_account_find(struct daemon *d, const char *upstream, const char *id,
    char account[STORE_NAME_MAX])
{
	char	variants[SMPP_MSGID_VARIANTS_MAX][SMPP_RECEIPT_ID_LEN];
	char	norm[SMPP_RECEIPT_ID_LEN];
	size_t	i;
	int	n, v, r, result = 0;

	n = smpp_msgid_variants(id, variants, SMPP_MSGID_VARIANTS_MAX);
	/* The receipt may beat the batch that records its message. */
	for (i = 0; i < d->nmsgmap; i++) {
		if (strcmp(d->msgmap[i].upstream, upstream) != 0)
			continue;
		smpp_msgid_normalize(d->msgmap[i].message_id, norm,
		    sizeof(norm));
		for (v = 0; v < n; v++)
			if (strcmp(norm, variants[v]) == 0) {
				str_copy(account, STORE_NAME_MAX,
				    d->msgmap[i].account);
				return 1;
			}
	}
	for (v = 0; v < n; v++) {
		r = store_msgmap_get(d->store, upstream, variants[v], account);
		if (r == 1)
			return 1;
		if (r == -1)
			result = -1;
	}
	return result;
}

static void
answer(const struct upstream_reply *reply, uint32_t status)
{
	upstream_reply_send(reply, status, NULL);
}

void
dlr_on_deliver(void *arg, struct upstream_pool *p,
    const struct smpp_pdu *pdu, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply)
{
	struct daemon			*d = arg;
	const char			*upstream = upstream_pool_name(p);
	char				 id[SMPP_RECEIPT_ID_LEN];
	char				 account[STORE_NAME_MAX];
	unsigned			 type;
	int				 r;

	type = pdu->esm_class & SMPP_ESM_MSG_TYPE_MASK;
	if (type != SMPP_ESM_MSG_TYPE_MO) {
		/* A receipt or notification: never keyword-matched. */
		if (dlr_receipt_id(pdu, id, sizeof(id)) == -1) {
			log_warnx("event=receipt_unroutable upstream=%s "
			    "reason=no_id doing=receipt", upstream);
			answer(reply, SMPP_OK);
			return;
		}
		r = dlr_account_find(d, upstream, id, account);
		if (r == -1) {
			log_warnx("event=receipt_deferred upstream=%s "
			    "message_id=%s reason=store doing=receipt",
			    upstream, id);
			answer(reply, SMPP_ESME_RX_T_APPN);
			return;
		}
		if (r == 0) {
			/* Unknown or expired: nobody to give it to, and a
			 * temporary error would make the SMSC retry it
			 * forever. Logged, acknowledged. */
			log_warnx("event=receipt_unroutable upstream=%s "
			    "message_id=%s reason=unknown doing=receipt",
			    upstream, id);
			answer(reply, SMPP_OK);
			return;
		}
		log_debug("event=receipt upstream=%s message_id=%s account=%s",
		    upstream, id, account);
		/* To a receiver of the account, else the outbox. */
		inbound_deliver(d->inbound, account, raw, len, reply,
		    "receipt");
		return;
	}

	/* MO: the keyword step (an opt-out is committed before the SMSC
	 * is answered), then the account of the number written to. */
	inbound_on_mo(d->inbound, p, pdu, raw, len, reply);
}
