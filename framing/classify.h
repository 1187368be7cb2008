/*
 * Message classification, for stream frames and for UDP-4500 datagrams,
 * which carry the same bytes (RFC 9329 §3, RFC 3948 §2):
 *   - 4 zero octets (the Non-ESP marker) then an IKE header: IKE;
 *   - a non-zero 32-bit SPI: ESP;
 *   - the single octet 0xFF: NAT keepalive (RFC 3948 §2.3).
 * classify_ike() checks a bare IKE message (UDP 500, no marker).
 */
#ifndef IKETCP_CLASSIFY_H
#define IKETCP_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum msg_kind {
	MSG_INVALID,
	MSG_IKE,
	MSG_ESP,
	MSG_KEEPALIVE,
};

enum msg_error {
	MSG_ERR_NONE,
	MSG_ERR_EMPTY,		/* zero-length message */
	MSG_ERR_SHORT,		/* too short for a marker or an ESP header */
	MSG_ERR_IKE_TRUNCATED,	/* marker, but less than an IKE header */
	MSG_ERR_IKE_VERSION,	/* IKE major version is not 2 */
	MSG_ERR_IKE_LENGTH,	/* IKE length disagrees with the frame */
	MSG_ERR_IKE_SPI,	/* initiator SPI is zero */
};

enum {
	NON_ESP_MARKER_LEN = 4,
	IKE_HDR_LEN = 28,	/* RFC 7296 §3.1 */
	ESP_HDR_MIN = 8,	/* SPI + sequence number, RFC 4303 §2 */
	IKE_FLAG_I = 0x08,	/* Initiator */
	IKE_FLAG_R = 0x20,	/* Response */
};

struct msg_info {
	enum msg_kind	 kind;
	enum msg_error	 err;		/* with MSG_INVALID */
	uint64_t	 spi_i;		/* IKE initiator SPI */
	uint64_t	 spi_r;		/* IKE responder SPI, 0 in IKE_SA_INIT */
	uint32_t	 msgid;		/* IKE message ID */
	uint8_t		 exchange;	/* IKE exchange type */
	uint8_t		 flags;		/* IKE flags */
	uint32_t	 esp_spi;	/* ESP SPI */
};

/* A stream frame's payload or a UDP-4500 datagram. */
enum msg_kind classify_msg(const uint8_t *p, size_t n, struct msg_info *out);
/* A bare IKE message, as on UDP 500. */
enum msg_kind classify_ike(const uint8_t *p, size_t n, struct msg_info *out);
const char *classify_strerror(enum msg_error err);

static inline bool
msg_is_request(const struct msg_info *m)
{
	return (m->flags & IKE_FLAG_R) == 0;
}

#endif /* IKETCP_CLASSIFY_H */
