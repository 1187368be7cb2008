/*
 * ESP anti-replay window (RFC 4303 §3.4.3) with Extended Sequence Numbers
 * (RFC 4303 Appendix A).
 *
 * The window remembers which of the last @size sequence numbers, ending at
 * the highest one authenticated so far, have been received.  Use it in two
 * steps around the integrity check:
 *
 *	if (esp_replay_check(&w, seq_low, &seq) != ESP_REPLAY_OK)
 *		drop;			(before any decryption)
 *	... verify the ICV / AEAD tag with the 64-bit @seq ...
 *	esp_replay_update(&w, seq);	(only once the ICV verified)
 *
 * Without ESN the sequence number is the 32 bits on the wire.  With ESN
 * esp_replay_check() infers the high-order 32 bits from the window
 * (Appendix A2.2); a wrong guess simply fails the ICV check.  Sequence
 * number 0 is never valid: the sender's counter starts at 0 and is
 * incremented before each packet (RFC 4303 §3.3.3).
 *
 * Embedded, no allocation: esp_replay_init().
 */
#ifndef IKETCP_ESP_REPLAY_H
#define IKETCP_ESP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

enum {
	ESP_REPLAY_WINDOW_DEFAULT	= 1024,	/* packets; `replay-window` */
	ESP_REPLAY_WINDOW_MIN		= 32,	/* RFC 4303 §3.4.3 minimum */
	ESP_REPLAY_WINDOW_MAX		= 4096,	/* packets */
	/* One spare word so the window never aliases in the ring. */
	ESP_REPLAY_WORDS		= ESP_REPLAY_WINDOW_MAX / 64 + 1
};

enum esp_replay_verdict {
	ESP_REPLAY_OK,		/* new or inside the window and not seen */
	ESP_REPLAY_SEEN,	/* already received (a replay) */
	ESP_REPLAY_OLD,		/* left of the window, or sequence number 0 */
};

struct esp_replay {
	uint64_t	top;		/* highest authenticated seq; 0 none */
	uint32_t	size;		/* window, packets */
	uint32_t	words;		/* ring words in use */
	bool		esn;		/* 64-bit sequence numbers */
	uint64_t	ring[ESP_REPLAY_WORDS];	/* bit (seq % (64 * words)) */
};

/* @size in [ESP_REPLAY_WINDOW_MIN, ESP_REPLAY_WINDOW_MAX]; 0 picks default. */
int	esp_replay_init(struct esp_replay *w, uint32_t size, bool esn);

/*
 * Pre-decryption check of the 32 bits on the wire; changes nothing.  On
 * ESP_REPLAY_OK *seq is the full (ESN: inferred 64-bit) sequence number to
 * authenticate with and then pass to esp_replay_update().
 */
enum esp_replay_verdict esp_replay_check(const struct esp_replay *w,
	    uint32_t seq_low, uint64_t *seq);

/* Marks @seq received; call only after its ICV verified. */
void	esp_replay_update(struct esp_replay *w, uint64_t seq);

#endif /* IKETCP_ESP_REPLAY_H */
