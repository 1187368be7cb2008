/*
 * conf/fileset.c: a placeholder of conf/fileset.h until the fileset
 * branch is merged: no recording, and the disk is always read.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/fileset.h"

struct fs_set {
	int	 unused;
};

static struct fs_set *in_use;

int
fs_read(const char *path, unsigned char **data, size_t *len)
{
	(void)path;
	*data = NULL;
	*len = 0;
	errno = ENOSYS;
	return -1;
}

int
fs_read_stat(const char *path, unsigned char **data, size_t *len,
    struct stat *st)
{
	(void)st;
	return fs_read(path, data, len);
}

int
fs_glob(const char *pattern, char ***paths, size_t *n)
{
	(void)pattern;
	*paths = NULL;
	*n = 0;
	errno = ENOSYS;
	return -1;
}

void
fs_glob_free(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

const char *
fs_strerror(int err)
{
	return strerror(err);
}

void
fs_record_begin(void)
{
}

struct fs_set *
fs_record_end(void)
{
	return calloc(1, sizeof(struct fs_set));
}

int
fs_set_export(const struct fs_set *s)
{
	(void)s;
	return memfd_create("iketcpd-fileset", MFD_CLOEXEC);
}

struct fs_set *
fs_set_import(int fd)
{
	(void)fd;
	return calloc(1, sizeof(struct fs_set));
}

void
fs_use(struct fs_set *s)
{
	free(in_use);
	in_use = s;
}

bool
fs_is_used(void)
{
	return in_use != NULL;
}

size_t
fs_set_count(const struct fs_set *s)
{
	(void)s;
	return 0;
}

void
fs_set_free(struct fs_set *s)
{
	free(s);
}
