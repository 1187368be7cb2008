/*
 * Bounded byte reader and writer: every parser and builder in iketcp reads
 * and writes wire bytes through these, never through casts or pointer sums.
 *
 * A failed read returns false and does not advance.  A failed write returns
 * false, writes nothing and sets the writer's sticky error flag, so a builder
 * may issue a sequence of writes and check wr_ok() once.
 */
#ifndef IKETCP_WIRE_H
#define IKETCP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t	*p;	/* next unread byte */
	size_t		 n;	/* bytes left */
};

struct wr {
	uint8_t		*p;	/* start of the buffer */
	size_t		 cap;	/* buffer size, bytes */
	size_t		 len;	/* bytes written */
	bool		 err;	/* a write did not fit */
};

static inline struct rd
rd_make(const void *p, size_t n)
{
	struct rd r = { p, n };

	return r;
}

static inline bool
rd_skip(struct rd *r, size_t len)
{
	if (r->n < len)
		return false;
	r->p += len;
	r->n -= len;
	return true;
}

static inline bool
rd_bytes(struct rd *r, void *dst, size_t len)
{
	if (r->n < len)
		return false;
	if (len > 0)
		memcpy(dst, r->p, len);
	r->p += len;
	r->n -= len;
	return true;
}

/* Take the next @len bytes as a sub-reader. */
static inline bool
rd_sub(struct rd *r, size_t len, struct rd *out)
{
	if (r->n < len)
		return false;
	out->p = r->p;
	out->n = len;
	r->p += len;
	r->n -= len;
	return true;
}

static inline bool
rd_u8(struct rd *r, uint8_t *v)
{
	if (r->n < 1)
		return false;
	*v = r->p[0];
	r->p++;
	r->n--;
	return true;
}

static inline bool
rd_be16(struct rd *r, uint16_t *v)
{
	if (r->n < 2)
		return false;
	*v = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->n -= 2;
	return true;
}

static inline bool
rd_be32(struct rd *r, uint32_t *v)
{
	if (r->n < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->n -= 4;
	return true;
}

static inline bool
rd_be64(struct rd *r, uint64_t *v)
{
	uint32_t hi, lo;
	struct rd save = *r;

	if (!rd_be32(r, &hi) || !rd_be32(r, &lo)) {
		*r = save;
		return false;
	}
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

/* Big-endian loads from a buffer the caller has already bounds-checked. */
static inline uint16_t
load_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
load_be64(const uint8_t *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static inline void
store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

static inline struct wr
wr_make(void *p, size_t cap)
{
	struct wr w = { p, cap, 0, false };

	return w;
}

static inline bool
wr_ok(const struct wr *w)
{
	return !w->err;
}

/* Reserve @len bytes and return where they start, or NULL if they do not fit. */
static inline uint8_t *
wr_reserve(struct wr *w, size_t len)
{
	uint8_t *at;

	if (w->err || w->cap - w->len < len) {
		w->err = true;
		return NULL;
	}
	at = w->p + w->len;
	w->len += len;
	return at;
}

static inline bool
wr_bytes(struct wr *w, const void *src, size_t len)
{
	uint8_t *at = wr_reserve(w, len);

	if (at == NULL)
		return false;
	if (len > 0)
		memcpy(at, src, len);
	return true;
}

static inline bool
wr_zero(struct wr *w, size_t len)
{
	uint8_t *at = wr_reserve(w, len);

	if (at == NULL)
		return false;
	memset(at, 0, len);
	return true;
}

static inline bool
wr_u8(struct wr *w, uint8_t v)
{
	return wr_bytes(w, &v, 1);
}

static inline bool
wr_be16(struct wr *w, uint16_t v)
{
	uint8_t *at = wr_reserve(w, 2);

	if (at == NULL)
		return false;
	store_be16(at, v);
	return true;
}

static inline bool
wr_be32(struct wr *w, uint32_t v)
{
	uint8_t *at = wr_reserve(w, 4);

	if (at == NULL)
		return false;
	store_be32(at, v);
	return true;
}

static inline bool
wr_be64(struct wr *w, uint64_t v)
{
	uint8_t *at = wr_reserve(w, 8);

	if (at == NULL)
		return false;
	store_be32(at, (uint32_t)(v >> 32));
	store_be32(at + 4, (uint32_t)v);
	return true;
}

/* Patch a 16-bit field written earlier at offset @off (e.g. a length). */
static inline bool
wr_patch_be16(struct wr *w, size_t off, uint16_t v)
{
	if (off > w->len || w->len - off < 2)
		return false;
	store_be16(w->p + off, v);
	return true;
}

static inline bool
wr_patch_be32(struct wr *w, size_t off, uint32_t v)
{
	if (off > w->len || w->len - off < 4)
		return false;
	store_be32(w->p + off, v);
	return true;
}

#endif /* IKETCP_WIRE_H */
