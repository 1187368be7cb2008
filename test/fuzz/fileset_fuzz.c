/*
 * libFuzzer target for conf/fileset.c: the input is an exported file set,
 * put in a sealed memfd and parsed by fs_set_import(), the entry point a
 * worker uses.  A set that parses must export again to as many bytes
 * (the form is canonical up to the order of entries), and that export
 * must parse to as many entries; a set is then used for a read and a
 * glob.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/fileset.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
sealed(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fileset_fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t off = 0;

	if (fd == -1)
		abort();
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE) == -1)
		abort();
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fs_set *s, *again;
	unsigned char *d;
	struct stat st;
	size_t len, n;
	char **v;
	int fd, fd2;

	fd = sealed(data, size);
	s = fs_set_import(fd);
	close(fd);
	if (s == NULL)
		return 0;
	if ((fd2 = fs_set_export(s)) == -1)
		abort();
	if (fstat(fd2, &st) == -1 || (size_t)st.st_size != size)
		abort();
	if ((again = fs_set_import(fd2)) == NULL ||
	    fs_set_count(again) != fs_set_count(s))
		abort();
	close(fd2);
	fs_set_free(again);
	fs_use(s);
	/* Served from the set alone: a path it lacks is ENOENT. */
	if (fs_read("/etc/passwd", &d, &len) == 0)
		free(d);
	if (fs_glob("/etc/*", &v, &n) == 0)
		fs_glob_free(v, n);
	fs_use(NULL);
	return 0;
}
