/*
 * libFuzzer target for ike/radius.c: a datagram taken as the answer to
 * our request, as relay/radclient.c hands it over.  Each input is tried
 * twice: as it came (an attacker without the secret: nothing may pass
 * the authenticators), and signed with the secret -- its Response
 * Authenticator and, when a Message-Authenticator attribute is found,
 * that too -- so that the attribute parser, the EAP reassembly and the
 * MS-MPPE decryption behind the checks are reached.  A reply taken must
 * hold an EAP packet whose Length is what was reassembled.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing/wire.h"
#include "ike/radius.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t secret[] = "fuzz-secret";
static const uint8_t auth[RADIUS_AUTH_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void
check(const uint8_t *p, size_t n)
{
	static struct radius_reply out;

	if (radius_decode_response(p, n, n > 1 ? p[1] : 0, auth, secret,
	    sizeof(secret) - 1, &out) != RADIUS_OK)
		return;
	if (out.eap_len > 0 && (out.eap_len < 4 ||
	    load_be16(out.eap + 2) != out.eap_len))
		abort();
	if (out.msk_len != 0 && out.msk_len != RADIUS_MSK_LEN)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t p[RADIUS_PKT_MAX];
	size_t len, off, ma_off = 0;
	static struct radius_reply out;

	if (radius_decode_response(data, size, size > 1 ? data[1] : 0, auth,
	    secret, sizeof(secret) - 1, &out) == RADIUS_OK)
		abort();	/* forged without the secret */
	if (size < RADIUS_HDR_LEN || size > sizeof(p))
		return 0;
	memcpy(p, data, size);
	len = size;
	store_be16(p + 2, (uint16_t)len);
	for (off = RADIUS_HDR_LEN; off + 2 <= len && p[off + 1] >= 2;
	    off += p[off + 1])
		if (p[off] == RADIUS_A_MSG_AUTH && p[off + 1] == 18 &&
		    off + 18 <= len && ma_off == 0)
			ma_off = off + 2;
	if (ma_off != 0)
		radius_sign_response(p, len, ma_off, auth, secret,
		    sizeof(secret) - 1);
	check(p, len);
	return 0;
}
