/*
 * The one door to configuration files (fileset.h): bounded reads from
 * disk, recording, a set exported as a sealed memfd and parsed back.
 *
 * Exported form, every number big-endian:
 *
 *	magic "iketcpfs" (8), version 1 (u32), entries (u32), then each:
 *	kind (u8: 1 file, 2 glob), path or pattern length (u16, 1 ..
 *	FS_PATH_MAX - 1) and its bytes (no NUL), errno (u32: 0, or what the
 *	read failed with, 1 .. 4095); when 0:
 *	  file: mode, uid, gid (u32 each), dev, ino (u64 each), length (u32,
 *	        at most FS_FILE_MAX) and the bytes;
 *	  glob: names (u32, at most FS_GLOB_MAX), each a length (u16, 1 ..
 *	        FS_PATH_MAX - 1) and its bytes (no NUL).
 *	Nothing follows the last entry.
 *
 * The exporter is the privileged master and the importer a worker that
 * dropped its privileges, so the importer trusts nothing it did not check:
 * a worker taken over by a peer must not turn a malformed set into a
 * write out of bounds in another worker (each worker parses its own copy,
 * and the memfd is sealed against writes before any worker sees it).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf/fileset.h"
#include "framing/wire.h"

enum {
	FS_KIND_FILE = 1,
	FS_KIND_GLOB = 2,
	FS_VERSION = 1,
	FS_ERRNO_MAX = 4095,		/* errno values the kernel uses */
	FS_HDR_LEN = 8 + 4 + 4,		/* magic, version, entries */
	FS_META_LEN = 3 * 4 + 2 * 8,	/* mode, uid, gid, dev, ino */
	FS_ENTRY_MIN = 1 + 2 + 1 + 4,	/* kind, a 1-byte path, errno */
	FS_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE,
};

static const char fs_magic[8] = { 'i', 'k', 'e', 't', 'c', 'p', 'f', 's' };

struct fs_entry {
	char		*path;		/* file path or glob pattern */
	uint8_t		 kind;		/* FS_KIND_FILE, FS_KIND_GLOB */
	int		 err;		/* 0, or errno of the failed read */
	unsigned char	*data;		/* file: len bytes and a NUL */
	size_t		 len;		/* file bytes */
	uint32_t	 mode, uid, gid;
	uint64_t	 dev, ino;
	char		**names;	/* glob: its result, in order */
	size_t		 nnames;
};

struct fs_set {
	struct fs_entry	*v;
	size_t		 n, cap;	/* entries, allocated */
	size_t		 bytes;		/* the exported size */
	bool		 sorted;	/* by kind and path: bsearch */
};

/* This process's state: a set it reads from, a recording. */
static struct fs_set *used;
static struct fs_set *rec;
static int rec_err;			/* 0, or why the recording failed */

static void
entry_clear(struct fs_entry *e)
{
	free(e->path);
	if (e->data != NULL)
		OPENSSL_clear_free(e->data, e->len + 1);
	fs_glob_free(e->names, e->nnames);
	memset(e, 0, sizeof(*e));
}

void
fs_set_free(struct fs_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_clear(&s->v[i]);
	free(s->v);
	free(s);
}

size_t
fs_set_count(const struct fs_set *s)
{
	return s == NULL ? 0 : s->n;
}

static size_t
entry_bytes(const struct fs_entry *e)
{
	size_t n = 1 + 2 + strlen(e->path) + 4;

	if (e->err != 0)
		return n;
	if (e->kind == FS_KIND_FILE)
		return n + FS_META_LEN + 4 + e->len;
	n += 4;
	for (size_t i = 0; i < e->nnames; i++)
		n += 2 + strlen(e->names[i]);
	return n;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct fs_entry *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* Sorted once complete (recorded or imported), so that a worker's look-ups
 * and the importer's duplicate check cost O(log n) comparisons each. */
static void
set_sort(struct fs_set *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), entry_cmp);
	s->sorted = true;
}

static struct fs_entry *
find(const struct fs_set *s, uint8_t kind, const char *path)
{
	struct fs_entry key;

	if (s->sorted) {
		memset(&key, 0, sizeof(key));
		key.kind = kind;
		key.path = (char *)path;
		return s->n == 0 ? NULL :
		    bsearch(&key, s->v, s->n, sizeof(*s->v), entry_cmp);
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].kind == kind && strcmp(s->v[i].path, path) == 0)
			return &s->v[i];
	return NULL;
}

/* A copy of @len bytes at @p with a NUL after them; NULL on ENOMEM. */
static unsigned char *
copy0(const void *p, size_t len)
{
	unsigned char *d = malloc(len + 1);

	if (d == NULL)
		return NULL;
	if (len > 0)
		memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

/* Takes @e (moved into @s, replacing an entry of its kind and path) or
 * clears it; -1 with errno when @s would pass its bounds. */
static int
set_put(struct fs_set *s, struct fs_entry *e)
{
	struct fs_entry *old = find(s, e->kind, e->path);
	size_t bytes = entry_bytes(e), was = old ? entry_bytes(old) : 0;

	if (s->bytes - was + bytes > FS_SET_MAX ||
	    (old == NULL && s->n == FS_ENTRIES_MAX)) {
		entry_clear(e);
		errno = E2BIG;
		return -1;
	}
	if (old == NULL && s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct fs_entry *v = reallocarray(s->v, cap, sizeof(*v));

		if (v == NULL) {
			entry_clear(e);
			errno = ENOMEM;
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	if (old != NULL)
		entry_clear(old);
	else
		old = &s->v[s->n++];
	*old = *e;
	s->sorted = false;
	s->bytes = s->bytes - was + bytes;
	memset(e, 0, sizeof(*e));
	return 0;
}

static struct fs_set *
set_new(void)
{
	struct fs_set *s = calloc(1, sizeof(*s));

	if (s != NULL)
		s->bytes = FS_HDR_LEN;
	return s;
}

/* A recording that failed stays failed until fs_record_end(). */
static void
record(struct fs_entry *e)
{
	if (rec == NULL || rec_err != 0) {
		entry_clear(e);
		return;
	}
	if (set_put(rec, e) == -1)
		rec_err = errno;
}

/* The bytes of @fd, at most FS_FILE_MAX, into *data with a NUL after them.
 * Grown by copying so that no part of a key is left in freed memory. */
static int
read_fd(int fd, const struct stat *st, unsigned char **data, size_t *len)
{
	size_t cap = S_ISREG(st->st_mode) && st->st_size >= 0 &&
	    (uint64_t)st->st_size <= FS_FILE_MAX ?
	    (size_t)st->st_size + 2 : 4096;
	unsigned char *buf, *grown;
	size_t n = 0;
	ssize_t got;

	if ((buf = malloc(cap)) == NULL)
		return -1;
	for (;;) {
		if (n + 1 == cap) {
			size_t ncap = cap * 2;

			if (n > FS_FILE_MAX)
				goto big;
			if (ncap > FS_FILE_MAX + 2)
				ncap = FS_FILE_MAX + 2;
			if ((grown = malloc(ncap)) == NULL)
				goto fail;
			memcpy(grown, buf, n);
			OPENSSL_clear_free(buf, cap);
			buf = grown;
			cap = ncap;
		}
		got = read(fd, buf + n, cap - 1 - n);
		if (got == 0)
			break;
		if (got < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		n += (size_t)got;
	}
	if (n > FS_FILE_MAX)
		goto big;
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
big:
	errno = EFBIG;
fail:
	{
		int saved = errno;

		OPENSSL_clear_free(buf, cap);
		errno = saved;
	}
	return -1;
}

static int
disk_read(const char *path, unsigned char **data, size_t *len,
    struct stat *st)
{
	int fd, rc = -1, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	if (fstat(fd, st) == -1)
		goto out;
	if (S_ISDIR(st->st_mode)) {
		errno = EISDIR;
		goto out;
	}
	if (S_ISREG(st->st_mode) && st->st_size > FS_FILE_MAX) {
		errno = EFBIG;
		goto out;
	}
	rc = read_fd(fd, st, data, len);
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static void
stat_fill(struct stat *st, const struct fs_entry *e)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = (mode_t)e->mode;
	st->st_uid = (uid_t)e->uid;
	st->st_gid = (gid_t)e->gid;
	st->st_dev = (dev_t)e->dev;
	st->st_ino = (ino_t)e->ino;
	st->st_size = (off_t)e->len;
}

/* A copy of @path for an entry, or NULL (ENOMEM, ENAMETOOLONG). */
static char *
path_dup(const char *path)
{
	if (strlen(path) >= FS_PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return strdup(path);
}

/* Records the outcome of a read of @path: @err, or the bytes and @sb. */
static void
record_file(const char *path, int err, const unsigned char *d, size_t n,
    const struct stat *sb)
{
	struct fs_entry e;

	if (rec == NULL || rec_err != 0)
		return;
	memset(&e, 0, sizeof(e));
	e.kind = FS_KIND_FILE;
	e.err = err;
	if ((e.path = path_dup(path)) == NULL ||
	    (err == 0 && (e.data = copy0(d, n)) == NULL)) {
		rec_err = errno;
		entry_clear(&e);
		return;
	}
	if (err == 0) {
		e.len = n;
		e.mode = (uint32_t)sb->st_mode;
		e.uid = (uint32_t)sb->st_uid;
		e.gid = (uint32_t)sb->st_gid;
		e.dev = (uint64_t)sb->st_dev;
		e.ino = (uint64_t)sb->st_ino;
	}
	record(&e);
}

int
fs_read_stat(const char *path, unsigned char **data, size_t *len,
    struct stat *st)
{
	struct stat sb;
	unsigned char *d = NULL;
	size_t n = 0;
	int err = 0;

	memset(&sb, 0, sizeof(sb));
	if (used != NULL) {
		const struct fs_entry *u = find(used, FS_KIND_FILE, path);

		if (u == NULL)
			err = ENOENT;
		else if (u->err != 0)
			err = u->err;
		else if ((d = copy0(u->data, u->len)) == NULL)
			return -1;	/* not the file's failure: no record */
		else {
			n = u->len;
			stat_fill(&sb, u);
		}
	} else if (disk_read(path, &d, &n, &sb) == -1)
		err = errno;
	record_file(path, err, d, n, &sb);
	if (err != 0) {
		errno = err;
		return -1;
	}
	if (st != NULL) {
		memset(st, 0, sizeof(*st));
		st->st_mode = sb.st_mode;
		st->st_uid = sb.st_uid;
		st->st_gid = sb.st_gid;
		st->st_dev = sb.st_dev;
		st->st_ino = sb.st_ino;
		st->st_size = (off_t)n;
	}
	*data = d;
	*len = n;
	return 0;
}

int
fs_read(const char *path, unsigned char **data, size_t *len)
{
	return fs_read_stat(path, data, len, NULL);
}

const char *
fs_strerror(int err)
{
	_Static_assert(FS_FILE_MAX == 1048576, "FS_FILE_MAX_TEXT");
	return err == EFBIG ? "larger than " FS_FILE_MAX_TEXT " bytes" :
	    strerror(err);
}

void
fs_glob_free(char **paths, size_t n)
{
	if (paths == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* A copy of @n names; NULL with @n 0. */
static int
names_dup(char *const *v, size_t n, char ***out)
{
	char **p;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((p = calloc(n, sizeof(*p))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((p[i] = path_dup(v[i])) == NULL) {
			fs_glob_free(p, i);
			return -1;
		}
	*out = p;
	return 0;
}

static int
disk_glob(const char *pattern, char ***paths, size_t *n)
{
	glob_t g;
	int rc;

	memset(&g, 0, sizeof(g));
	rc = glob(pattern, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		globfree(&g);
		*paths = NULL;
		*n = 0;
		return 0;
	}
	if (rc != 0) {
		globfree(&g);
		errno = rc == GLOB_NOSPACE ? ENOMEM : EIO;
		return -1;
	}
	if (g.gl_pathc > FS_GLOB_MAX) {
		globfree(&g);
		errno = E2BIG;
		return -1;
	}
	rc = names_dup(g.gl_pathv, g.gl_pathc, paths);
	*n = rc == 0 ? g.gl_pathc : 0;
	globfree(&g);
	if (rc == -1)
		errno = ENOMEM;
	return rc;
}

static void
record_glob(const char *pattern, int err, char *const *v, size_t nv)
{
	struct fs_entry e;

	if (rec == NULL || rec_err != 0)
		return;
	memset(&e, 0, sizeof(e));
	e.kind = FS_KIND_GLOB;
	e.err = err;
	if ((e.path = path_dup(pattern)) == NULL ||
	    (err == 0 && names_dup(v, nv, &e.names) == -1)) {
		rec_err = errno;
		entry_clear(&e);
		return;
	}
	e.nnames = err == 0 ? nv : 0;
	record(&e);
}

int
fs_glob(const char *pattern, char ***paths, size_t *n)
{
	char **v = NULL;
	size_t nv = 0;
	int err = 0;

	if (used != NULL) {
		const struct fs_entry *u = find(used, FS_KIND_GLOB, pattern);

		if (u == NULL)
			err = ENOENT;
		else if (u->err != 0)
			err = u->err;
		else if (names_dup(u->names, u->nnames, &v) == -1)
			return -1;
		else
			nv = u->nnames;
	} else if (disk_glob(pattern, &v, &nv) == -1)
		err = errno;
	record_glob(pattern, err, v, nv);
	if (err != 0) {
		errno = err;
		return -1;
	}
	*paths = v;
	*n = nv;
	return 0;
}

void
fs_record_begin(void)
{
	fs_set_free(rec);
	rec = set_new();
	rec_err = rec == NULL ? ENOMEM : 0;
}

struct fs_set *
fs_record_end(void)
{
	struct fs_set *s = rec;

	rec = NULL;
	if (s == NULL || rec_err != 0) {
		fs_set_free(s);
		errno = s == NULL ? ENOMEM : rec_err;
		rec_err = 0;
		return NULL;
	}
	set_sort(s);
	return s;
}

void
fs_use(struct fs_set *s)
{
	fs_set_free(used);
	used = s;
}

bool
fs_is_used(void)
{
	return used != NULL;
}

static void
wr_path(struct wr *w, const char *p)
{
	size_t len = strlen(p);

	wr_be16(w, (uint16_t)len);
	wr_bytes(w, p, len);
}

int
fs_set_export(const struct fs_set *s)
{
	uint8_t *buf;
	struct wr w;
	size_t off = 0;
	int fd = -1, saved;

	if (s->bytes > FS_SET_MAX) {
		errno = E2BIG;
		return -1;
	}
	if ((buf = malloc(s->bytes)) == NULL)
		return -1;
	w = wr_make(buf, s->bytes);
	wr_bytes(&w, fs_magic, sizeof(fs_magic));
	wr_be32(&w, FS_VERSION);
	wr_be32(&w, (uint32_t)s->n);
	for (size_t i = 0; i < s->n; i++) {
		const struct fs_entry *e = &s->v[i];

		wr_u8(&w, e->kind);
		wr_path(&w, e->path);
		wr_be32(&w, (uint32_t)e->err);
		if (e->err != 0)
			continue;
		if (e->kind == FS_KIND_FILE) {
			wr_be32(&w, e->mode);
			wr_be32(&w, e->uid);
			wr_be32(&w, e->gid);
			wr_be64(&w, e->dev);
			wr_be64(&w, e->ino);
			wr_be32(&w, (uint32_t)e->len);
			wr_bytes(&w, e->data, e->len);
		} else {
			wr_be32(&w, (uint32_t)e->nnames);
			for (size_t j = 0; j < e->nnames; j++)
				wr_path(&w, e->names[j]);
		}
	}
	if (!wr_ok(&w) || w.len != s->bytes) {
		errno = EINVAL;		/* our own sum is wrong */
		goto fail;
	}
	if ((fd = memfd_create("iketcpd-fileset",
	    MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1)
		goto fail;
	while (off < w.len) {
		ssize_t n = write(fd, buf + off, w.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, FS_SEALS) == -1)
		goto fail;
	OPENSSL_clear_free(buf, s->bytes);
	return fd;
fail:
	saved = errno;
	OPENSSL_clear_free(buf, s->bytes);
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

/* A path or name: 1 .. FS_PATH_MAX - 1 bytes, no NUL. */
static char *
rd_path(struct rd *r)
{
	uint16_t len;
	struct rd p;

	if (!rd_be16(r, &len) || len == 0 || len >= FS_PATH_MAX ||
	    !rd_sub(r, len, &p) || memchr(p.p, '\0', len) != NULL)
		return NULL;
	return (char *)copy0(p.p, len);
}

static int
parse_entry(struct rd *r, struct fs_entry *e)
{
	uint32_t err, len, n;
	struct rd d;

	if (!rd_u8(r, &e->kind) || (e->kind != FS_KIND_FILE &&
	    e->kind != FS_KIND_GLOB) || (e->path = rd_path(r)) == NULL ||
	    !rd_be32(r, &err) || err > FS_ERRNO_MAX)
		return -1;
	e->err = (int)err;
	if (err != 0)
		return 0;
	if (e->kind == FS_KIND_FILE) {
		if (!rd_be32(r, &e->mode) || !rd_be32(r, &e->uid) ||
		    !rd_be32(r, &e->gid) || !rd_be64(r, &e->dev) ||
		    !rd_be64(r, &e->ino) || !rd_be32(r, &len) ||
		    len > FS_FILE_MAX || !rd_sub(r, len, &d) ||
		    (e->data = copy0(d.p, len)) == NULL)
			return -1;
		e->len = len;
		return 0;
	}
	/* Each name takes at least 3 bytes: a count beyond what is left
	 * is refused before anything is allocated for it. */
	if (!rd_be32(r, &n) || n > FS_GLOB_MAX || n > r->n / 3)
		return -1;
	if (n == 0)
		return 0;
	if ((e->names = calloc(n, sizeof(*e->names))) == NULL)
		return -1;
	for (e->nnames = 0; e->nnames < n; e->nnames++)
		if ((e->names[e->nnames] = rd_path(r)) == NULL)
			return -1;
	return 0;
}

/* The set in @buf; NULL (EINVAL) unless every rule above holds. */
static struct fs_set *
parse(const uint8_t *buf, size_t len)
{
	struct rd r = rd_make(buf, len);
	uint8_t magic[sizeof(fs_magic)];
	uint32_t version, count;
	struct fs_set *s;
	struct fs_entry e;

	if (len > FS_SET_MAX || !rd_bytes(&r, magic, sizeof(magic)) ||
	    memcmp(magic, fs_magic, sizeof(magic)) != 0 ||
	    !rd_be32(&r, &version) || version != FS_VERSION ||
	    !rd_be32(&r, &count) || count > FS_ENTRIES_MAX ||
	    count > r.n / FS_ENTRY_MIN) {
		errno = EINVAL;
		return NULL;
	}
	if ((s = set_new()) == NULL)
		return NULL;
	memset(&e, 0, sizeof(e));
	if (count > 0 && (s->v = calloc(count, sizeof(*s->v))) == NULL)
		goto fail;
	s->cap = count;
	for (uint32_t i = 0; i < count; i++) {
		if (parse_entry(&r, &e) == -1)
			goto bad;
		s->bytes += entry_bytes(&e);
		s->v[s->n++] = e;
		memset(&e, 0, sizeof(e));
	}
	if (r.n != 0)
		goto bad;
	set_sort(s);
	for (size_t i = 1; i < s->n; i++)
		if (entry_cmp(&s->v[i - 1], &s->v[i]) == 0)
			goto bad;
	return s;
bad:
	errno = EINVAL;
fail:
	{
		int saved = errno;

		entry_clear(&e);
		fs_set_free(s);
		errno = saved;
	}
	return NULL;
}

struct fs_set *
fs_set_import(int fd)
{
	struct fs_set *s;
	struct stat st;
	void *p;
	int seals, saved;

	if ((seals = fcntl(fd, F_GET_SEALS)) == -1 ||
	    (seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)) !=
	    (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size < FS_HDR_LEN || st.st_size > FS_SET_MAX) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	s = parse(p, (size_t)st.st_size);
	saved = errno;
	munmap(p, (size_t)st.st_size);
	errno = saved;
	return s;
}
