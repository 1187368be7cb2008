/*
 * conf/fileset.c: bounded reads, recording, the sealed memfd, the parser
 * of an exported set (one test per rejection rule), and a process that
 * uses a set never reading the disk: a file made or changed after the
 * recording is not seen, a path that was not recorded is ENOENT.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf/conf.h"
#include "conf/fileset.h"
#include "conf/secrets.h"
#include "framing/wire.h"
#include "test/unit/conf/helpers.h"

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fileset.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	setenv("IKETCP_NO_DNS", "1", 1);
}

static void
teardown(void)
{
	char cmd[128];

	fs_use(NULL);
	fs_set_free(fs_record_end());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(fileset, .init = setup, .fini = teardown, .timeout = 30);

/* dir/@name, in a static buffer of its own per call slot. */
static const char *
at(const char *name)
{
	static char buf[4][256];
	static unsigned k;
	char *p = buf[k++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* dir/@name with @len bytes of @text and @mode; subdirectories made. */
static void
put_bytes(const char *name, const void *text, size_t len, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (char *s = path + strlen(dir) + 1; (s = strchr(s, '/')) != NULL;
	    s++) {
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	cr_assert_eq(close(fd), 0);
}

static void
put(const char *name, const char *text)
{
	put_bytes(name, text, strlen(text), 0644);
}

/* fs_read of dir/@name must give exactly @want. */
static void
expect_file(const char *name, const char *want)
{
	unsigned char *d;
	size_t len;

	cr_assert_eq(fs_read(at(name), &d, &len), 0, "%s: %s", name,
	    strerror(errno));
	cr_assert_eq(len, strlen(want), "%s", name);
	cr_assert_eq(memcmp(d, want, len), 0, "%s", name);
	cr_assert_eq(d[len], '\0', "%s: no NUL after the bytes", name);
	free(d);
}

static void
expect_errno(const char *name, int want)
{
	unsigned char *d = NULL;
	size_t len;

	errno = 0;
	cr_assert_eq(fs_read(at(name), &d, &len), -1, "%s read", name);
	cr_assert_eq(errno, want, "%s: %s, want %s", name, strerror(errno),
	    strerror(want));
	cr_assert_null(d);
}

/* A sealed memfd holding @len bytes of @p, as fs_set_export() makes. */
static int
sealed(const void *p, size_t len, int seals)
{
	int fd = memfd_create("fileset-test", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
	cr_assert_eq(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

#define ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static struct fs_set *
import_bytes(const void *p, size_t len)
{
	int fd = sealed(p, len, ALL_SEALS);
	struct fs_set *s = fs_set_import(fd);

	close(fd);
	return s;
}

/* The bytes of exported @s, malloc'd. */
static uint8_t *
export_bytes(const struct fs_set *s, size_t *len)
{
	int fd = fs_set_export(s);
	struct stat st;
	uint8_t *p;

	cr_assert_geq(fd, 0, "export: %s", strerror(errno));
	cr_assert_eq(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	cr_assert_not_null(p = malloc(*len));
	cr_assert_eq(pread(fd, p, *len, 0), (ssize_t)*len);
	close(fd);
	return p;
}

Test(fileset, reads_a_file_whole_with_a_nul_after_it)
{
	static const char bin[] = { 'a', '\0', 'b', '\n' };
	unsigned char *d;
	struct stat st;
	size_t len;

	put_bytes("bin", bin, sizeof(bin), 0600);
	cr_assert_eq(fs_read_stat(at("bin"), &d, &len, &st), 0);
	cr_assert_eq(len, sizeof(bin));
	cr_assert_eq(memcmp(d, bin, len), 0);
	cr_assert_eq(d[len], '\0');
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(st.st_size, (off_t)sizeof(bin));
	free(d);
	put("empty", "");
	expect_file("empty", "");
}

Test(fileset, says_why_a_file_cannot_be_read)
{
	char *big = calloc(1, FS_FILE_MAX + 1);

	cr_assert_not_null(big);
	expect_errno("missing", ENOENT);
	put("sub/x", "x");
	expect_errno("sub", EISDIR);
	put_bytes("big", big, FS_FILE_MAX + 1, 0644);
	expect_errno("big", EFBIG);
	put_bytes("max", big, FS_FILE_MAX, 0644);
	{
		unsigned char *d;
		size_t len;

		cr_assert_eq(fs_read(at("max"), &d, &len), 0);
		cr_assert_eq(len, FS_FILE_MAX);
		free(d);
	}
	cr_assert_str_eq(fs_strerror(EFBIG), "larger than " FS_FILE_MAX_TEXT
	    " bytes");
	free(big);
}

Test(fileset, reads_a_pipe_up_to_the_bound)
{
	int p[2];
	char path[64];
	unsigned char *d;
	size_t len;

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "through a pipe\n", 15), 15);
	close(p[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
	cr_assert_eq(fs_read(path, &d, &len), 0, "%s", strerror(errno));
	cr_assert_eq(len, 15);
	cr_assert_eq(memcmp(d, "through a pipe\n", 15), 0);
	free(d);
	close(p[0]);
}

Test(fileset, globs_in_sorted_order_and_nothing_is_no_error)
{
	char **v;
	size_t n;

	put("d/b.conf", "b");
	put("d/a.conf", "a");
	put("d/c.txt", "c");
	cr_assert_eq(fs_glob(at("d/*.conf"), &v, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0], at("d/a.conf"));
	cr_assert_str_eq(v[1], at("d/b.conf"));
	fs_glob_free(v, n);
	cr_assert_eq(fs_glob(at("none/*.conf"), &v, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(v);
}

/*
 * The round trip: what was read while recording, exported, imported and
 * used, answers exactly as the disk did then, whatever the disk holds
 * now.  Failures replay with their errno.
 */
Test(fileset, a_used_set_answers_as_the_disk_did_when_recorded)
{
	struct fs_set *s;
	unsigned char *d;
	struct stat st;
	size_t len, n;
	char **v;
	int fd, seals;

	put("main.conf", "main\n");
	put("d/1.conf", "one\n");
	put("d/2.conf", "two\n");
	put_bytes("key", "secret\n", 7, 0600);
	fs_record_begin();
	expect_file("main.conf", "main\n");
	cr_assert_eq(fs_glob(at("d/*.conf"), &v, &n), 0);
	cr_assert_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(fs_read(v[i], &d, &len), 0);
		free(d);
	}
	fs_glob_free(v, n);
	cr_assert_eq(fs_glob(at("e/*.conf"), &v, &n), 0);
	cr_assert_eq(n, 0);
	expect_file("key", "secret\n");
	expect_errno("missing", ENOENT);
	expect_errno("d", EISDIR);
	cr_assert_not_null(s = fs_record_end());
	cr_assert_eq(fs_set_count(s), 8);
	cr_assert_null(fs_record_end(), "recording stopped");

	fd = fs_set_export(s);
	cr_assert_geq(fd, 0, "%s", strerror(errno));
	fs_set_free(s);
	seals = fcntl(fd, F_GET_SEALS);
	cr_assert_eq(seals & ALL_SEALS, ALL_SEALS, "seals %#x", seals);
	cr_assert_eq(write(fd, "x", 1), -1, "a sealed set cannot be written");
	cr_assert_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	cr_assert_not_null(s = fs_set_import(fd));
	close(fd);
	cr_assert_eq(fs_set_count(s), 8);

	/* The disk changes after the recording. */
	put("main.conf", "changed\n");
	put("d/3.conf", "three\n");
	put("missing", "made later\n");
	put("late", "made later\n");
	cr_assert_eq(unlink(at("key")), 0);

	fs_use(s);
	cr_assert(fs_is_used());
	expect_file("main.conf", "main\n");
	expect_file("d/1.conf", "one\n");
	expect_file("d/2.conf", "two\n");
	cr_assert_eq(fs_read_stat(at("key"), &d, &len, &st), 0);
	cr_assert_eq(len, 7);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode recorded");
	cr_assert(S_ISREG(st.st_mode));
	free(d);
	expect_errno("missing", ENOENT);
	expect_errno("d", EISDIR);
	expect_errno("late", ENOENT);		/* never recorded */
	expect_errno("d/3.conf", ENOENT);
	cr_assert_eq(fs_glob(at("d/*.conf"), &v, &n), 0);
	cr_assert_eq(n, 2, "the recorded result, not today's three");
	cr_assert_str_eq(v[1], at("d/2.conf"));
	fs_glob_free(v, n);
	cr_assert_eq(fs_glob(at("e/*.conf"), &v, &n), 0);
	cr_assert_eq(n, 0);
	errno = 0;
	cr_assert_eq(fs_glob(at("d/*"), &v, &n), -1);
	cr_assert_eq(errno, ENOENT, "a pattern never recorded");

	fs_use(NULL);
	cr_assert_not(fs_is_used());
	expect_file("main.conf", "changed\n");
	expect_file("late", "made later\n");
}

/* A used set is recorded from too (a worker's reload may record), and
 * the last read of a path wins. */
Test(fileset, recording_keeps_the_last_read_of_a_path)
{
	struct fs_set *s;

	put("f", "first");
	fs_record_begin();
	expect_file("f", "first");
	put("f", "second");
	expect_file("f", "second");
	cr_assert_not_null(s = fs_record_end());
	cr_assert_eq(fs_set_count(s), 1);
	fs_use(s);
	expect_file("f", "second");
	fs_record_begin();
	expect_file("f", "second");
	cr_assert_not_null(s = fs_record_end());
	fs_use(s);
	expect_file("f", "second");
}

Test(fileset, a_recording_past_its_bound_fails)
{
	char name[32];

	fs_record_begin();
	for (int i = 0; i <= FS_ENTRIES_MAX; i++) {
		snprintf(name, sizeof(name), "no-%d", i);
		expect_errno(name, ENOENT);
	}
	errno = 0;
	cr_assert_null(fs_record_end());
	cr_assert_eq(errno, E2BIG);
}

/* conf_load() and its include globs through a set: the whole tree may go,
 * the worker still parses what the master read. */
Test(fileset, conf_load_reads_through_the_set)
{
	struct capture cap;
	struct conf *c;
	struct fs_set *s;
	char main_conf[256];
	int fd;

	put("main.conf", "[relay a]\nlisten = 127.0.0.1:4430\n"
	    "gateway = 192.0.2.1\ninclude = d/*.conf\n");
	put("d/b.conf", "[relay b]\nlisten = 127.0.0.1:4431\n"
	    "gateway = 192.0.2.1\n");
	put_bytes("s.secrets", "a.test : PSK \"k\"\n", 17, 0600);
	snprintf(main_conf, sizeof(main_conf), "%s", at("main.conf"));
	fs_record_begin();
	cr_assert_not_null(c = conf_load(main_conf));
	cr_assert_eq(c->nrelays, 2);
	conf_unref(c);
	secrets_free(secrets_load(at("s.secrets")));
	cr_assert_not_null(s = fs_record_end());
	fd = fs_set_export(s);
	fs_set_free(s);
	cr_assert_not_null(s = fs_set_import(fd));
	close(fd);

	put("d/c.conf", "this would be a syntax error\n");
	cr_assert_eq(chmod(at("s.secrets"), 0644), 0);
	fs_use(s);
	capture_start(&cap);
	c = conf_load(main_conf);
	capture_end(&cap);
	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->nrelays, 2);
	cr_assert_eq(c->nfiles, 2);
	conf_unref(c);
	{
		struct secrets *sec = secrets_load(at("s.secrets"));

		cr_assert_not_null(sec, "the recorded mode was 0600");
		cr_assert_eq(secrets_count(sec), 1);
		secrets_free(sec);
	}
	capture_start(&cap);
	c = conf_load(at("d/c.conf"));
	capture_end(&cap);
	cr_assert_null(c);
	cr_assert_not_null(strstr(cap.text, "No such file or directory"), "%s",
	    cap.text);
}

/* A valid set for the rejection tests: a file, a failed read, a glob. */
static uint8_t *
valid_set(size_t *len)
{
	struct fs_set *s;
	uint8_t *p;
	char **v;
	size_t n;

	put("a", "alpha");
	put("g/x", "x");
	fs_record_begin();
	expect_file("a", "alpha");
	expect_errno("missing", ENOENT);
	cr_assert_eq(fs_glob(at("g/*"), &v, &n), 0);
	fs_glob_free(v, n);
	cr_assert_not_null(s = fs_record_end());
	p = export_bytes(s, len);
	fs_set_free(s);
	return p;
}

Test(fileset, imports_what_it_exported)
{
	size_t len, len2;
	uint8_t *p = valid_set(&len), *q;
	struct fs_set *s;

	cr_assert_not_null(s = import_bytes(p, len));
	cr_assert_eq(fs_set_count(s), 3);
	q = export_bytes(s, &len2);
	cr_assert_eq(len2, len);
	cr_assert_eq(memcmp(p, q, len), 0, "export is canonical");
	fs_set_free(s);
	free(p);
	free(q);
}

Test(fileset, refuses_every_truncation_and_a_trailing_byte)
{
	size_t len;
	uint8_t *p = valid_set(&len), *q = malloc(len + 1);

	cr_assert_not_null(q);
	memcpy(q, p, len);
	for (size_t i = 0; i < len; i++) {
		errno = 0;
		cr_assert_null(import_bytes(p, i), "%zu of %zu bytes", i, len);
		cr_assert_eq(errno, EINVAL, "%zu bytes", i);
	}
	q[len] = 0;
	cr_assert_null(import_bytes(q, len + 1));
	free(p);
	free(q);
}

Test(fileset, refuses_an_unsealed_or_writable_memfd)
{
	size_t len;
	uint8_t *p = valid_set(&len);
	char path[256];
	int fd;

	fd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
	errno = 0;
	cr_assert_null(fs_set_import(fd));
	cr_assert_eq(errno, EINVAL);
	close(fd);
	fd = sealed(p, len, F_SEAL_SHRINK | F_SEAL_GROW);
	cr_assert_null(fs_set_import(fd), "writable");
	close(fd);
	fd = sealed(p, len, F_SEAL_WRITE | F_SEAL_GROW);
	cr_assert_null(fs_set_import(fd), "can shrink");
	close(fd);
	snprintf(path, sizeof(path), "%s", at("plain"));
	put_bytes("plain", p, len, 0600);
	cr_assert_geq(fd = open(path, O_RDONLY), 0);
	cr_assert_null(fs_set_import(fd), "a plain file");
	close(fd);
	cr_assert_null(fs_set_import(-1));
	free(p);
}

/* Hand-built sets: header, then entries written with struct wr. */
struct vec {
	uint8_t		 buf[16384];
	struct wr	 w;
};

static struct wr *
vec_start(struct vec *v, uint32_t version, uint32_t count)
{
	v->w = wr_make(v->buf, sizeof(v->buf));
	wr_bytes(&v->w, "iketcpfs", 8);
	wr_be32(&v->w, version);
	wr_be32(&v->w, count);
	return &v->w;
}

static void
wr_name(struct wr *w, const char *s)
{
	wr_be16(w, (uint16_t)strlen(s));
	wr_bytes(w, s, strlen(s));
}

/* A file entry: kind 1, path, errno 0, meta, @len and @len bytes of 'x'. */
static void
wr_file(struct wr *w, const char *path, uint32_t len, size_t have)
{
	wr_u8(w, 1);
	wr_name(w, path);
	wr_be32(w, 0);
	wr_be32(w, 0100600);		/* mode */
	wr_be32(w, 0);			/* uid */
	wr_be32(w, 0);			/* gid */
	wr_be64(w, 1);			/* dev */
	wr_be64(w, 2);			/* ino */
	wr_be32(w, len);
	for (size_t i = 0; i < have; i++)
		wr_u8(w, 'x');
}

static void
refused(struct vec *v, const char *what)
{
	cr_assert(wr_ok(&v->w), "%s: vector too big", what);
	errno = 0;
	cr_assert_null(import_bytes(v->buf, v->w.len), "%s", what);
	cr_assert_eq(errno, EINVAL, "%s: %s", what, strerror(errno));
}

static void
accepted(struct vec *v, const char *what, size_t count)
{
	struct fs_set *s;

	cr_assert(wr_ok(&v->w), "%s: vector too big", what);
	cr_assert_not_null(s = import_bytes(v->buf, v->w.len), "%s", what);
	cr_assert_eq(fs_set_count(s), count, "%s", what);
	fs_set_free(s);
}

Test(fileset, refuses_a_bad_header)
{
	struct vec v;
	struct wr *w;

	w = vec_start(&v, 1, 0);
	accepted(&v, "an empty set", 0);
	w = vec_start(&v, 1, 0);
	v.buf[0] = 'I';
	refused(&v, "magic");
	w = vec_start(&v, 2, 0);
	refused(&v, "version 2");
	w = vec_start(&v, 1, FS_ENTRIES_MAX + 1);
	refused(&v, "more entries than FS_ENTRIES_MAX");
	w = vec_start(&v, 1, 2);
	wr_file(w, "/a", 1, 1);
	refused(&v, "fewer entries than counted");
	w = vec_start(&v, 1, 1000);
	wr_file(w, "/a", 1, 1);
	refused(&v, "a count the bytes cannot hold");
}

Test(fileset, refuses_a_bad_entry)
{
	struct vec v;
	struct wr *w;

	w = vec_start(&v, 1, 1);
	wr_file(w, "/a", 3, 3);
	accepted(&v, "a file", 1);

	w = vec_start(&v, 1, 1);
	wr_u8(w, 3);
	wr_name(w, "/a");
	wr_be32(w, 2);
	refused(&v, "kind 3");

	w = vec_start(&v, 1, 1);
	wr_u8(w, 0);
	wr_name(w, "/a");
	wr_be32(w, 2);
	refused(&v, "kind 0");

	w = vec_start(&v, 1, 1);
	wr_u8(w, 1);
	wr_be16(w, 0);
	wr_be32(w, 2);
	refused(&v, "an empty path");

	w = vec_start(&v, 1, 1);
	wr_u8(w, 1);
	wr_be16(w, 3);
	wr_bytes(w, "/\0a", 3);
	wr_be32(w, 2);
	refused(&v, "a NUL in a path");

	w = vec_start(&v, 1, 1);
	wr_u8(w, 1);
	wr_be16(w, FS_PATH_MAX - 1);
	memset(w->p + w->len, 'a', FS_PATH_MAX - 1);
	wr_reserve(w, FS_PATH_MAX - 1);
	wr_be32(w, 2);
	accepted(&v, "a path of FS_PATH_MAX - 1 bytes", 1);

	w = vec_start(&v, 1, 1);
	wr_u8(w, 1);
	wr_be16(w, FS_PATH_MAX);
	memset(w->p + w->len, 'a', FS_PATH_MAX);
	wr_reserve(w, FS_PATH_MAX);
	wr_be32(w, 2);
	refused(&v, "a path of FS_PATH_MAX bytes");

	w = vec_start(&v, 1, 1);
	wr_u8(w, 1);
	wr_name(w, "/a");
	wr_be32(w, 2);			/* ENOENT, nothing follows */
	accepted(&v, "a failed read", 1);

	w = vec_start(&v, 1, 1);
	wr_u8(w, 1);
	wr_name(w, "/a");
	wr_be32(w, 4096);
	refused(&v, "errno 4096");

	w = vec_start(&v, 1, 1);
	wr_file(w, "/a", FS_FILE_MAX + 1, 0);
	refused(&v, "a file above FS_FILE_MAX");

	w = vec_start(&v, 1, 1);
	wr_file(w, "/a", 10, 9);
	refused(&v, "a file shorter than its length");

	w = vec_start(&v, 1, 2);
	wr_file(w, "/a", 1, 1);
	wr_file(w, "/a", 1, 1);
	refused(&v, "a path twice");

	w = vec_start(&v, 1, 2);
	wr_file(w, "/a", 1, 1);
	wr_u8(w, 2);
	wr_name(w, "/a");
	wr_be32(w, 0);
	wr_be32(w, 0);
	accepted(&v, "a file and a glob of the same text", 2);
}

Test(fileset, refuses_a_bad_glob)
{
	struct vec v;
	struct wr *w;

	w = vec_start(&v, 1, 1);
	wr_u8(w, 2);
	wr_name(w, "/d/*");
	wr_be32(w, 0);
	wr_be32(w, 2);
	wr_name(w, "/d/a");
	wr_name(w, "/d/b");
	accepted(&v, "a glob of two", 1);

	w = vec_start(&v, 1, 1);
	wr_u8(w, 2);
	wr_name(w, "/d/*");
	wr_be32(w, 0);
	wr_be32(w, FS_GLOB_MAX);
	for (int i = 0; i < FS_GLOB_MAX; i++)
		wr_name(w, "/d/a");
	accepted(&v, "FS_GLOB_MAX names", 1);

	w = vec_start(&v, 1, 1);
	wr_u8(w, 2);
	wr_name(w, "/d/*");
	wr_be32(w, 0);
	wr_be32(w, FS_GLOB_MAX + 1);
	for (int i = 0; i <= FS_GLOB_MAX; i++)
		wr_name(w, "/d/a");
	refused(&v, "more names than FS_GLOB_MAX");

	w = vec_start(&v, 1, 1);
	wr_u8(w, 2);
	wr_name(w, "/d/*");
	wr_be32(w, 0);
	wr_be32(w, 3);
	wr_name(w, "/d/a");
	wr_name(w, "/d/b");
	refused(&v, "fewer names than counted");

	w = vec_start(&v, 1, 1);
	wr_u8(w, 2);
	wr_name(w, "/d/*");
	wr_be32(w, 0);
	wr_be32(w, 1);
	wr_be16(w, 0);
	refused(&v, "an empty name");

	w = vec_start(&v, 1, 1);
	wr_u8(w, 2);
	wr_name(w, "/d/*");
	wr_be32(w, 0);
	wr_be32(w, 1);
	wr_be16(w, 2);
	wr_bytes(w, "a\0", 2);
	refused(&v, "a NUL in a name");
}
