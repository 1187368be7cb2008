/*
 * IKE fragment reassembly (RFC 7383 §2.6).  Fragment bodies are stored in
 * arrival order in the set's one buffer and concatenated in fragment order
 * when the set is taken.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike/frag.h"

void
ike_reasm_init(struct ike_reasm *r, size_t max_bytes, uint32_t timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->max_bytes = max_bytes;
	r->timeout_ms = timeout_ms;
}

static void
set_free(struct ike_frag_set *s)
{
	/* Decrypted IKE payloads (IDs, AUTH, EAP) do not outlive the set. */
	if (s->buf != NULL)
		OPENSSL_cleanse(s->buf, s->used);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

void
ike_reasm_cleanup(struct ike_reasm *r)
{
	for (size_t i = 0; i < IKE_REASM_SLOTS; i++)
		set_free(&r->set[i]);
}

void
ike_reasm_expire(struct ike_reasm *r, uint64_t now_ms)
{
	for (size_t i = 0; i < IKE_REASM_SLOTS; i++) {
		struct ike_frag_set *s = &r->set[i];

		if (s->active && (now_ms < s->started ||
		    now_ms - s->started >= r->timeout_ms))
			set_free(s);
	}
}

static struct ike_frag_set *
set_find(struct ike_reasm *r, uint32_t msgid)
{
	for (size_t i = 0; i < IKE_REASM_SLOTS; i++)
		if (r->set[i].active && r->set[i].msgid == msgid)
			return &r->set[i];
	return NULL;
}

void
ike_reasm_drop(struct ike_reasm *r, uint32_t msgid)
{
	struct ike_frag_set *s = set_find(r, msgid);

	if (s != NULL)
		set_free(s);
}

/* A free slot, or the oldest set evicted to make one. */
static struct ike_frag_set *
set_slot(struct ike_reasm *r)
{
	struct ike_frag_set *old = &r->set[0];

	for (size_t i = 0; i < IKE_REASM_SLOTS; i++) {
		if (!r->set[i].active)
			return &r->set[i];
		if (r->set[i].started < old->started)
			old = &r->set[i];
	}
	set_free(old);
	return old;
}

static bool
set_start(struct ike_reasm *r, struct ike_frag_set *s, uint64_t now_ms,
    uint32_t msgid, uint16_t total)
{
	memset(s, 0, sizeof(*s));
	if ((s->buf = malloc(r->max_bytes > 0 ? r->max_bytes : 1)) == NULL)
		return false;
	s->active = true;
	s->msgid = msgid;
	s->total = total;
	s->started = now_ms;
	return true;
}

enum ike_frag_result
ike_reasm_add(struct ike_reasm *r, uint64_t now_ms, uint32_t msgid,
    uint16_t num, uint16_t total, uint8_t next, const uint8_t *body,
    size_t len)
{
	struct ike_frag_set *s;

	ike_reasm_expire(r, now_ms);
	if (num == 0 || num > total)
		return IKE_FRAG_IGNORED;
	s = set_find(r, msgid);
	if (s != NULL && total < s->total)
		return IKE_FRAG_IGNORED;	/* §2.6.2: stale sender view */
	if (total > IKE_FRAG_MAX) {
		if (s != NULL)
			set_free(s);
		return IKE_FRAG_DROPPED;
	}
	if (s != NULL && total > s->total)
		set_free(s);		/* §2.6.2: start again with this one */
	else if (s != NULL && s->frag[num - 1].got)
		return IKE_FRAG_IGNORED;
	if (s == NULL || !s->active) {
		if (s == NULL)
			s = set_slot(r);
		if (!set_start(r, s, now_ms, msgid, total))
			return IKE_FRAG_NOMEM;
	}
	if (len > r->max_bytes - s->used) {
		set_free(s);
		return IKE_FRAG_DROPPED;
	}
	if (len > 0)
		memcpy(s->buf + s->used, body, len);
	s->frag[num - 1].off = s->used;
	s->frag[num - 1].len = len;
	s->frag[num - 1].got = true;
	s->used += len;
	s->have++;
	if (num == 1)
		s->first = next;
	return s->have == s->total ? IKE_FRAG_COMPLETE : IKE_FRAG_MORE;
}

int
ike_reasm_take(struct ike_reasm *r, uint32_t msgid, uint8_t *out,
    size_t cap, size_t *len, uint8_t *first)
{
	struct ike_frag_set *s = set_find(r, msgid);
	size_t n = 0;

	if (s == NULL || s->have != s->total || cap < s->used)
		return -1;
	for (size_t i = 0; i < s->total; i++) {
		if (s->frag[i].len > 0)
			memcpy(out + n, s->buf + s->frag[i].off,
			    s->frag[i].len);
		n += s->frag[i].len;
	}
	*len = n;
	*first = s->first;
	set_free(s);
	return 0;
}
