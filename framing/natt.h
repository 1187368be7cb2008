/*
 * What the connector does with a datagram from an unmodified initiator,
 * and with a stream message on its way back.  Port 500 carries bare IKE
 * (RFC 7296 §2.23); port 4500 carries IKE behind the 4-octet Non-ESP
 * marker, ESP, and 1-octet NAT keepalives (RFC 3948 §2).  A stream frame
 * always has the port-4500 form (RFC 9329 §3), so IKE from port 500 gains
 * the marker on the way in and loses it on the way back.
 */
#ifndef IKETCP_NATT_H
#define IKETCP_NATT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framing/classify.h"
#include "framing/wire.h"

enum natt_in {
	NATT_IN_INVALID,	/* neither IKE nor ESP: drop and count */
	NATT_IN_KEEPALIVE,	/* 0xFF: never put on a stream */
	NATT_IN_IKE_INIT,	/* IKE_SA_INIT request: may start a session */
	NATT_IN_IKE,		/* other IKE: session by SPIi */
	NATT_IN_ESP,		/* session by the flow's address */
};

enum {
	IKE_EXCH_SA_INIT = 34,	/* RFC 7296 §3.1 */
};

/* A datagram that arrived on a port-500 (@bare) or port-4500 socket. */
enum natt_in natt_classify(bool bare, const uint8_t *p, size_t n,
    struct msg_info *m);
/* True when @m is an initiator's IKE_SA_INIT request (RFC 7296 §1.2). */
bool	natt_is_init_request(const struct msg_info *m);
/*
 * A stream message (port-4500 form) as a bare IKE message for a port-500
 * flow: false unless it is IKE behind a marker.
 */
bool	natt_strip_marker(const uint8_t *p, size_t n, struct rd *out);

#endif /* IKETCP_NATT_H */
