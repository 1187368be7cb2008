/*
 * Every file the daemon reads for its configuration goes through here:
 * the configuration file and its includes (and include globs), TLS
 * certificates, chains, keys and CA files, IKE certificates, CA
 * certificates and CRLs, private keys, the secrets file,
 * radius-secret-file and connect-auth-file.
 *
 * Why: a privileged process (the master) reads the files, and processes
 * that dropped their privileges (the workers) get the bytes, never the
 * paths.  A root-only 0600 key then loads in a worker as it does in a
 * single process, at start and at every reload.  The master brackets a
 * load with fs_record_begin() / fs_record_end(), exports what was read as
 * a sealed memfd (fs_set_export), and a worker imports it
 * (fs_set_import) and fs_use()s it: from then on fs_read() and fs_glob()
 * in that worker answer from the set alone and never touch the disk, so
 * the same loading code (conf_load, tls/ctx.c, ike/cert.c, ...) runs in
 * both and builds the same objects.  A single process never records or
 * uses a set: fs_read() is then a bounded read of the file.
 *
 * A set replays what the master saw, failures included: a path whose
 * read failed is kept with its errno, a glob with its sorted result.
 * Bounds: FS_FILE_MAX a file, FS_SET_MAX an exported set, FS_ENTRIES_MAX
 * paths and globs in it, FS_GLOB_MAX names a glob yields.  File bytes in
 * a set are wiped (OPENSSL_cleanse) when it is freed: keys and secrets
 * are among them.
 *
 * An exported set is read by fs_set_import() as untrusted input (it is
 * fuzzed, test/fuzz/fileset_fuzz.c): every length is checked against what
 * is left and against its bound, paths are NUL-free, a path appears once
 * per kind, nothing trails the last entry, and the memfd must carry the
 * write, grow and shrink seals so that nobody changes it under the reader.
 *
 * Like framing/wire.h and relay/log.h this is a leaf header: libc only, so
 * tls/ and ike/ may include it to read their files.
 */
#ifndef IKETCP_CONF_FILESET_H
#define IKETCP_CONF_FILESET_H

#include <sys/stat.h>

#include <stdbool.h>
#include <stddef.h>

enum {
	FS_FILE_MAX = 1 << 20,		/* bytes of one file */
	FS_SET_MAX = 64 << 20,		/* bytes of an exported set */
	FS_ENTRIES_MAX = 4096,		/* paths and globs in a set */
	FS_GLOB_MAX = 1024,		/* names one glob yields */
	FS_PATH_MAX = 4096,		/* a path or pattern, NUL included */
};
#define FS_FILE_MAX_TEXT "1048576"	/* FS_FILE_MAX, for messages */

/* Reads a whole file: *data is malloc'd with a NUL after the last byte (not
 * counted in *len).  -1 with errno set (ENOENT, EACCES, EISDIR, EFBIG above
 * FS_FILE_MAX ...).  Served from disk, or, in a process that fs_use()d a
 * set, from that set only (a path not in the set: -1, ENOENT; the disk is
 * never touched).  A caller that read a key or a secret wipes *data before
 * it frees it (OPENSSL_clear_free(*data, *len)). */
int	fs_read(const char *path, unsigned char **data, size_t *len);
/* fs_read(), and @st (when not NULL) filled as fstat(2) saw the file:
 * st_mode, st_uid, st_gid, st_dev, st_ino and st_size; the rest is 0.  On
 * -1 @st is left as it was. */
int	fs_read_stat(const char *path, unsigned char **data, size_t *len,
	    struct stat *st);
/* glob(3) for include patterns: sorted paths (glob's order), *n of them,
 * *paths NULL when nothing matches (0, *n = 0); from the set when one is
 * used (a pattern not in it: -1, ENOENT).  -1 with errno (ENOMEM, EIO,
 * E2BIG above FS_GLOB_MAX names) otherwise. */
int	fs_glob(const char *pattern, char ***paths, size_t *n);
void	fs_glob_free(char **paths, size_t n);
/* strerror(@err), and for EFBIG the bound ("larger than 1048576 bytes"). */
const char	*fs_strerror(int err);

struct fs_set;				/* paths, glob results and bytes */

/* From now on fs_read/fs_glob also record (a recording already running
 * starts again, empty). */
void	fs_record_begin(void);
/* What was read since fs_record_begin(), the last read of a path winning
 * (NULL on ENOMEM, or when no recording runs); recording stops. */
struct fs_set	*fs_record_end(void);
/* A sealed memfd (close-on-exec) holding the set; -1 with errno. */
int	fs_set_export(const struct fs_set *s);
/* Parses an exported set (bounded, fuzzed): NULL with errno EINVAL when
 * @fd is no sealed memfd or does not hold a well-formed set.  @fd stays
 * open: the caller closes it. */
struct fs_set	*fs_set_import(int fd);
/* This process reads only from @s from now on (takes ownership and frees
 * the set used before; NULL: back to disk). */
void	fs_use(struct fs_set *s);
/* Whether fs_use() gave this process a set. */
bool	fs_is_used(void);
/* Files and globs in @s (for logs and tests). */
size_t	fs_set_count(const struct fs_set *s);
/* Wipes the file bytes, then frees; NULL is a no-op. */
void	fs_set_free(struct fs_set *s);

#endif
