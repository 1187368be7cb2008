/*
 * libFuzzer target for ike/eap.c: the EAP packets a peer sends to the
 * local backend (EAP-Identity, then EAP-MSCHAPv2).  The input is a
 * sequence of records, each a 2-octet big-endian length and that many
 * octets, fed in order as the peer's responses to one conversation;
 * a record's Identifier (and an MSCHAPv2 packet's MS-CHAPv2-ID) is
 * replaced by that of our last request so that the fuzzer gets past
 * those checks.  Every packet we answer with must split as EAP, and without
 * the challenge's password no conversation may succeed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/eap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
pw_of(void *arg, const char *user, size_t len, uint8_t *pw, size_t cap,
    size_t *pw_len)
{
	(void)arg;
	if (len == 0 || user[0] != 'U' || cap < 4)
		return -1;
	memcpy(pw, "pass", 4);
	*pw_len = 4;
	return 0;
}

static const struct ike_eap_local_conf lconf = { pw_of, NULL, "fuzz" };

static void
check_out(const struct ike_eap_out *o)
{
	uint8_t code, id, type;
	const uint8_t *d;
	size_t n;

	if (o->len == 0)
		return;
	if (o->len > sizeof(o->pkt) ||
	    !ike_eap_split(o->pkt, o->len, &code, &id, &type, &d, &n))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_eap_out *o = malloc(sizeof(*o));
	void *conv = ike_eap_local.start((void *)&lconf, NULL);
	uint8_t last_id = 0;
	enum ike_eap_result r;

	if (o == NULL || conv == NULL)
		goto out;
	r = ike_eap_local.input(conv, NULL, 0, o);
	check_out(o);
	while (r == IKE_EAP_CONTINUE && size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];
		uint8_t *pkt;

		last_id = o->pkt[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		/* Exactly sized, so ASan sees any read past the end. */
		if ((pkt = malloc(len > 0 ? len : 1)) == NULL)
			break;
		memcpy(pkt, data, len);
		if (len >= 2)
			pkt[1] = last_id;
		if (len >= 7 && pkt[4] == IKE_EAP_TYPE_MSCHAPV2)
			pkt[6] = last_id;	/* MS-CHAPv2-ID too */
		r = ike_eap_local.input(conv, pkt, len, o);
		free(pkt);
		check_out(o);
		if (r == IKE_EAP_ACCEPT || r == IKE_EAP_PENDING)
			__builtin_trap();
		if (r == IKE_EAP_REJECT && o->reason[0] == '\0')
			__builtin_trap();
		data += len;
		size -= len;
	}
	(void)ike_eap_local.identity(conv);
out:
	ike_eap_local.free(conv);
	free(o);
	return 0;
}
