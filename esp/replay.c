/*
 * RFC 4303 §3.4.3 anti-replay window as a ring of 64-bit words, and the
 * ESN high-order bit inference of RFC 4303 Appendix A2.2.
 */
#include <string.h>

#include "esp/replay.h"
#include "relay/log.h"

int
esp_replay_init(struct esp_replay *w, uint32_t size, bool esn)
{
	if (size == 0)
		size = ESP_REPLAY_WINDOW_DEFAULT;
	if (size < ESP_REPLAY_WINDOW_MIN || size > ESP_REPLAY_WINDOW_MAX) {
		log_warnx("esp: replay window %u not in %d..%d", size,
		    ESP_REPLAY_WINDOW_MIN, ESP_REPLAY_WINDOW_MAX);
		return -1;
	}
	memset(w, 0, sizeof(*w));
	w->size = size;
	/*
	 * The window [top - size + 1, top] touches at most size / 64 + 1
	 * words (rounded up), so that many words never alias.
	 */
	w->words = (size + 63) / 64 + 1;
	w->esn = esn;
	return 0;
}

static bool
has_bit(const struct esp_replay *w, uint64_t seq)
{
	uint64_t word = w->ring[(seq >> 6) % w->words];

	return (word >> (seq & 63)) & 1;
}

/*
 * RFC 4303 A2.2: Tl, Th are the low and high halves of the top of the
 * window, W its size.  If the window lies within one 2^32 subspace
 * (Tl >= W - 1), a Seql below the window's bottom belongs to the next
 * subspace; otherwise (the window spans two), a Seql at or above the
 * bottom (mod 2^32) belongs to the previous one.
 */
static bool
infer(const struct esp_replay *w, uint32_t seql, uint64_t *seq)
{
	uint32_t tl = (uint32_t)w->top, th = (uint32_t)(w->top >> 32);
	uint32_t bottom = tl - w->size + 1;	/* mod 2^32 */
	uint32_t sh;

	if (tl >= w->size - 1) {
		if (seql >= bottom)
			sh = th;
		else if (th == UINT32_MAX)
			return false;	/* would cycle the 64-bit space */
		else
			sh = th + 1;
	} else {
		if (seql >= bottom) {
			if (th == 0)
				return false;	/* below sequence number 1 */
			sh = th - 1;
		} else
			sh = th;
	}
	*seq = (uint64_t)sh << 32 | seql;
	return true;
}

enum esp_replay_verdict
esp_replay_check(const struct esp_replay *w, uint32_t seq_low, uint64_t *seq)
{
	uint64_t s = seq_low;

	*seq = 0;
	if (w->esn && !infer(w, seq_low, &s))
		return ESP_REPLAY_OLD;
	if (s == 0)
		return ESP_REPLAY_OLD;
	if (s > w->top) {
		*seq = s;
		return ESP_REPLAY_OK;
	}
	if (w->top - s >= w->size)
		return ESP_REPLAY_OLD;
	if (has_bit(w, s))
		return ESP_REPLAY_SEEN;
	*seq = s;
	return ESP_REPLAY_OK;
}

void
esp_replay_update(struct esp_replay *w, uint64_t seq)
{
	uint64_t cur = w->top >> 6, next = seq >> 6, i, n;

	if (seq > w->top) {
		/* Clear the words the window slides into. */
		n = next - cur;
		if (n > w->words)
			n = w->words;
		for (i = 1; i <= n; i++)
			w->ring[(cur + i) % w->words] = 0;
		w->top = seq;
	}
	w->ring[(seq >> 6) % w->words] |= (uint64_t)1 << (seq & 63);
}
