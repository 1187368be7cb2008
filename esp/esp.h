/*
 * ESP tunnel mode (RFC 4303) packet processing for one SA: encapsulate an
 * inner IP packet, decapsulate and check an ESP packet.
 *
 * Wire format (RFC 4303 §2):
 *
 *   SPI (4) | Sequence Number (4, low 32 bits with ESN) | IV (8 or 16) |
 *   ciphertext of [ inner packet | Padding 1,2,3.. | Pad Length | Next
 *   Header ] | ICV (16 AEAD tag, or the truncated HMAC)
 *
 * Associated data / ICV coverage: AEAD (RFC 4106 §5, RFC 7634 §2.1):
 * AAD = SPI | Sequence Number, or with ESN SPI | high 32 bits | low 32 bits;
 * the nonce is salt | IV and the IV is the 64-bit sequence number, unique
 * per key.  CBC + HMAC: the ICV covers SPI .. the end of the ciphertext,
 * followed with ESN by the high 32 bits, which are not sent (RFC 4303
 * §2.2.1).  CBC IVs are 16 random octets (RFC 3602 §3).
 *
 * Buffers: esp_encap() appends to the caller's struct wr and never writes
 * past its capacity; the inner packet may already be in place there.
 * esp_decap() reads @pkt and writes the plaintext to @out (apart from
 * @pkt, or in place; @cap >= the packet length is always enough); on
 * success rx->inner points into @out.  Nothing allocates, logs per packet,
 * or keeps pointers.
 */
#ifndef IKETCP_ESP_ESP_H
#define IKETCP_ESP_ESP_H

#include <stddef.h>
#include <stdint.h>

struct esp_sa;
struct wr;

enum {
	ESP_HDR_LEN	= 8,	/* SPI + Sequence Number */
	ESP_NH_IPV4	= 4,	/* IP-in-IP, Next Header for an IPv4 inner */
	ESP_NH_IPV6	= 41,	/* IPv6 inner */
	ESP_NH_NONE	= 59	/* dummy packet (RFC 4303 §2.6) */
};

/* Decapsulation outcomes; every drop is counted in sa->drops[]. */
#define ESP_RESULTS(X)							\
	X(ESP_OK,		"ok")					\
	X(ESP_DROP_MALFORMED,	"malformed")	/* too short, unaligned */ \
	X(ESP_DROP_SPI,		"spi")		/* not this SA's SPI */	\
	X(ESP_DROP_REPLAY,	"replay")	/* already received */	\
	X(ESP_DROP_OLD,		"old")		/* left of the window */ \
	X(ESP_DROP_AUTH,	"auth")		/* ICV / tag mismatch */ \
	X(ESP_DROP_PAD_LEN,	"pad-length")	/* beyond the payload */ \
	X(ESP_DROP_PAD,		"padding")	/* not 1, 2, 3, ... */	\
	X(ESP_DROP_DUMMY,	"dummy")	/* Next Header 59 */	\
	X(ESP_DROP_NEXT_HDR,	"next-header")	/* not 4 or 41 */	\
	X(ESP_DROP_INNER,	"inner")	/* bad inner IP header */ \
	X(ESP_DROP_TS,		"ts")		/* source not allowed */ \
	X(ESP_DROP_NO_SPACE,	"no-space")	/* @cap too small */

#define ESP_RESULT_ENUM(e, s)	e,
enum esp_result {
	ESP_RESULTS(ESP_RESULT_ENUM)
	ESP_RESULT_COUNT
};
#undef ESP_RESULT_ENUM

enum esp_encap_result {
	ESP_ENCAP_OK,
	ESP_ENCAP_SEQ_EXHAUSTED,	/* RFC 4303 §3.3.3: rekey the SA */
	ESP_ENCAP_NO_SPACE,		/* the writer's capacity */
	ESP_ENCAP_BAD_INNER,		/* not an IPv4 / IPv6 packet */
	ESP_ENCAP_CRYPTO,		/* OpenSSL failed */
};

/* A decapsulated packet; inner points into the caller's @out. */
struct esp_rx {
	const uint8_t	*inner;		/* inner IP packet */
	size_t		 len;		/* octets, TFC padding removed */
	uint8_t		 next_header;	/* ESP_NH_IPV4 / ESP_NH_IPV6 */
	uint64_t	 seq;		/* full (ESN) sequence number */
};

const char	*esp_result_name(enum esp_result r);

/* ESP packet octets for an inner packet of @inner_len octets. */
size_t	esp_encap_len(const struct esp_sa *sa, size_t inner_len);

/*
 * Where the inner packet goes in the ESP packet: SPI, Sequence Number and
 * IV come first.  A caller that reads the inner packet (from the TUN fd)
 * to w->p + w->len + esp_encap_offset(sa) saves esp_encap() a copy.
 */
size_t	esp_encap_offset(const struct esp_sa *sa);

/*
 * Appends the ESP packet for @inner (an IPv4 or IPv6 packet; its version
 * picks Next Header 4 or 41) to @w.  @inner may overlap the space being
 * written (it is moved first), e.g. sit at esp_encap_offset().  Takes the
 * next sequence number; on anything but ESP_ENCAP_OK nothing is appended
 * (the writer's error flag is set on ESP_ENCAP_NO_SPACE), and after
 * ESP_ENCAP_CRYPTO an inner packet that was in place is gone.
 */
enum esp_encap_result esp_encap(struct esp_sa *sa, const uint8_t *inner,
	    size_t inner_len, struct wr *w);

/*
 * Appends a dummy packet (Next Header 59) with @len random octets of
 * payload: RFC 4303 §2.6, "A transmitter MUST be capable of generating
 * dummy packets marked with this value in the next protocol field".
 */
enum esp_encap_result esp_encap_dummy(struct esp_sa *sa, size_t len,
	    struct wr *w);

/*
 * Checks and decrypts one ESP packet of an inbound SA, in RFC 4303 §3.4
 * order: length, SPI, replay pre-check, ICV, window update, padding, Next
 * Header, inner header and selectors.  On ESP_OK *rx describes the inner
 * packet.  After an ICV failure @out is cleansed.  @out either does not
 * overlap @pkt or is exactly pkt + esp_encap_offset(sa) (decryption in
 * place, no copy).
 */
enum esp_result esp_decap(struct esp_sa *sa, const uint8_t *pkt, size_t len,
	    uint8_t *out, size_t cap, struct esp_rx *rx);

#endif /* IKETCP_ESP_ESP_H */
