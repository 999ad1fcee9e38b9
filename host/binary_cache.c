/* The on-disk program binary cache: where it lives, whether it may be
 * trusted, and what an entry file holds.  Plain POSIX file handling, no
 * OpenCL (program_cache.c turns entries into programs and logs what
 * happened): whatever fails here only means compiling from source.
 *
 * Entry file <name>-<key>.bin, native byte order:
 *   0  magic "clconvPB"          24 payload length (u64)
 *   8  format version (u32)      32 FNV-1a of identity + payload (u64)
 *   12 identity length (u32)     40 identity text, then the payload
 *   16 key (u64)
 * The identity text names everything the binary depends on (see
 * cache_id_make); the key is its hash.  An entry is used only if the file
 * is exactly as long as its header says, and magic, version, key, identity
 * and checksum all match, so truncated, corrupt and foreign files are
 * ignored (and then replaced).  Writers write a private temporary file in
 * the same directory and rename() it into place, so concurrent writers
 * and readers only ever see a whole entry.
 *
 * Trust: an entry is native code that runs in this process, and its
 * checksum is no signature (anyone can compute it).  So the directory must
 * be one that only this user (or root) can change - owned by the effective
 * user or root, not writable by group or others, as ssh demands of its key
 * files - and an entry must be a regular file under the same rule, opened
 * without following a symbolic link or blocking on a FIFO. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

#define ENTRY_MAGIC "clconvPB"
#define ENTRY_VERSION 1u
#define HEADER_BYTES 40
#define MAX_IDENTITY (64u << 10)
#define MAX_PAYLOAD ((size_t)256 << 20)
/* The largest entry file read at all (the header's own bound). */
#define MAX_ENTRY (HEADER_BYTES + MAX_IDENTITY + MAX_PAYLOAD)
/* What the longest entry or temporary file name needs after the directory. */
#define NAME_ROOM (sizeof ((cache_id *)0)->file + 16)

/* ---- where: CLCONV_CACHE, CLCONV_CACHE_DIR, XDG_CACHE_HOME, HOME ---- */

static int cache_disabled(void)
{
    return env_says_off(getenv("CLCONV_CACHE"));
}

/* No length limit here: cache_dir_check reports a path too long to use,
 * where a silent NULL would turn the cache off unnoticed. */
static char *join(const char *base, const char *tail)
{
    size_t a = strlen(base), b = strlen(tail);
    char *p = malloc(a + b + 1);
    if (p) {
        memcpy(p, base, a);
        memcpy(p + a, tail, b + 1);
    }
    return p;
}

static int set(const char *v) { return v && *v; }

char *cache_dir_from_env(void)
{
    if (cache_disabled())
        return NULL;
    const char *dir = getenv("CLCONV_CACHE_DIR");
    if (set(dir))
        return join(dir, "");
    const char *xdg = getenv("XDG_CACHE_HOME");
    /* XDG: a relative XDG_CACHE_HOME is invalid and must be ignored */
    if (set(xdg) && xdg[0] == '/')
        return join(xdg, "/clconv");
    const char *home = getenv("HOME");
    return set(home) ? join(home, "/.cache/clconv") : NULL;
}

/* mkdir -p: create each missing component, mode 0700 whatever the umask
 * (the mode is masked, never widened); *sb: the directory's stat. */
static int make_dirs(const char *dir, struct stat *sb)
{
    char p[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof p)
        return -1;
    memcpy(p, dir, n + 1);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return -1;
    return stat(p, sb) == 0 && S_ISDIR(sb->st_mode) ? 0 : -1;
}

/* Why a file or directory may be changed by someone else than this user
 * and root (then it must not be trusted), or NULL. */
static const char *untrusted(const struct stat *sb)
{
    if (sb->st_uid != geteuid() && sb->st_uid != 0)
        return "owned by another user";
    if (sb->st_mode & (S_IWGRP | S_IWOTH))
        return "writable by group or others";
    return NULL;
}

int cache_dir_check(const char *dir, char *why, size_t cap)
{
    size_t n = strlen(dir);
    if (n + NAME_ROOM >= PATH_MAX) {
        snprintf(why, cap, "its path is too long (%zu bytes; entry paths must fit in %d)", n,
                 PATH_MAX);
        return -1;
    }
    struct stat sb;
    if (make_dirs(dir, &sb) != 0)
        return 0; /* nothing to load from; saving fails (logged at debug level) */
    const char *bad = untrusted(&sb);
    if (bad) {
        snprintf(why, cap, "it is %s (owner uid %u, mode %04o): whoever can write it can run "
                 "code in this process", bad, (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* ---- entries ---- */

static uint64_t checksum(const cache_id *id, const void *payload, size_t len)
{
    return hash64_update(hash64(id->identity, strlen(id->identity)), payload, len);
}

static void header_write(unsigned char *h, const cache_id *id, size_t len, uint64_t sum)
{
    uint32_t ver = ENTRY_VERSION, idlen = (uint32_t)strlen(id->identity);
    uint64_t key = id->key, plen = len;
    memcpy(h, ENTRY_MAGIC, 8);
    memcpy(h + 8, &ver, 4);
    memcpy(h + 12, &idlen, 4);
    memcpy(h + 16, &key, 8);
    memcpy(h + 24, &plen, 8);
    memcpy(h + 32, &sum, 8);
}

static int read_all(int fd, void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int entry_path(const char *dir, const cache_id *id, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, id->file);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The header of an open entry file of `size` bytes, checked against id;
 * the payload length on success. */
static int header_check(int fd, off_t size, const cache_id *id, size_t *len, uint64_t *sum)
{
    unsigned char h[HEADER_BYTES];
    if (size < HEADER_BYTES || read_all(fd, h, sizeof h) != 0)
        return -1;
    uint32_t ver, idlen;
    uint64_t key, plen;
    memcpy(&ver, h + 8, 4);
    memcpy(&idlen, h + 12, 4);
    memcpy(&key, h + 16, 8);
    memcpy(&plen, h + 24, 8);
    memcpy(sum, h + 32, 8);
    if (memcmp(h, ENTRY_MAGIC, 8) || ver != ENTRY_VERSION || key != id->key ||
        idlen != strlen(id->identity) || plen == 0 || plen > MAX_PAYLOAD)
        return -1;
    if ((uint64_t)size != HEADER_BYTES + (uint64_t)idlen + plen)
        return -1;
    *len = (size_t)plen;
    return 0;
}

static cache_result read_entry(int fd, off_t size, const cache_id *id, unsigned char **payload,
                               size_t *len)
{
    uint64_t sum;
    size_t idlen = strlen(id->identity), plen;
    if (header_check(fd, size, id, &plen, &sum) != 0)
        return CACHE_BAD;
    char *ident = malloc(idlen + 1);
    unsigned char *data = malloc(plen);
    cache_result r = CACHE_BAD;
    if (ident && data && read_all(fd, ident, idlen) == 0 && read_all(fd, data, plen) == 0) {
        ident[idlen] = 0;
        if (!strcmp(ident, id->identity) && checksum(id, data, plen) == sum)
            r = CACHE_HIT;
    }
    free(ident);
    if (r != CACHE_HIT) {
        free(data);
        return r;
    }
    *payload = data;
    *len = plen;
    return CACHE_HIT;
}

/* What stands at an entry's name when open() failed: nothing, or
 * something that is no entry file. */
static cache_result open_failure(int err, const char **why)
{
    if (err == ENOENT)
        return CACHE_MISS;
    *why = err == ELOOP ? "a symbolic link" : err == ENXIO ? "not a regular file" : NULL;
    return *why ? CACHE_REFUSED : CACHE_BAD;
}

/* Why the open file is not one to read, or NULL. */
static const char *not_an_entry(const struct stat *sb)
{
    if (S_ISDIR(sb->st_mode))
        return "a directory";
    if (!S_ISREG(sb->st_mode))
        return "not a regular file (a FIFO, socket or device)";
    if (sb->st_size > (off_t)MAX_ENTRY)
        return "larger than an entry can be (256 MiB)";
    return untrusted(sb);
}

cache_result cache_entry_load(const char *dir, const cache_id *id, unsigned char **payload,
                              size_t *len, const char **why)
{
    char path[PATH_MAX];
    *why = NULL;
    if (entry_path(dir, id, path, sizeof path) != 0)
        return CACHE_MISS;
    /* Whoever planted a FIFO here must not block us, nor a link lead us
     * out of the directory: open neither waits nor follows, then fstat
     * decides on the file actually opened (no race with a rename). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return open_failure(errno, why);
    struct stat sb;
    cache_result r = CACHE_BAD;
    if (fstat(fd, &sb) == 0) {
        *why = not_an_entry(&sb);
        r = *why ? CACHE_REFUSED : read_entry(fd, sb.st_size, id, payload, len);
    }
    close(fd);
    return r;
}

int cache_entry_store(const char *dir, const cache_id *id, const void *payload, size_t len)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    size_t idlen = strlen(id->identity);
    struct stat sb;
    if (len == 0 || len > MAX_PAYLOAD || idlen > MAX_IDENTITY || make_dirs(dir, &sb) != 0 ||
        entry_path(dir, id, path, sizeof path) != 0)
        return -1;
    int n = snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, id->file);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned char h[HEADER_BYTES];
    header_write(h, id, len, checksum(id, payload, len));
    int bad = write_all(fd, h, sizeof h) || write_all(fd, id->identity, idlen) ||
              write_all(fd, payload, len);
    bad |= close(fd) != 0;
    /* rename() replaces the old entry atomically: readers see old or new */
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}
