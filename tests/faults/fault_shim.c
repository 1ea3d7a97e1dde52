/* LD_PRELOAD shim for fault tests, loaded into `hongbao serve` only:
 *  - storage: write, pwrite and fsync/fdatasync fail with EIO on files under $HB_FAULT_PATH
 *    while the file $HB_FAULT_CONTROL says so ("write" or "fsync"; anything else, or no
 *    file, lets every call through) (tests/faults/test_storage_faults.c);
 *  - clock: the wall clock (CLOCK_REALTIME, time, gettimeofday) runs ahead by the number of
 *    seconds in the file $HB_CLOCK_OFFSET (negative: behind) (tests/faults/test_clock_faults.c).
 * Monotonic clocks are left alone, as a jumping wall clock leaves them. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*sync_fn)(int);

/* The mode the control file asks for: 'w' (write), 's' (fsync) or 0. */
static char mode(void)
{
    const char *control = getenv("HB_FAULT_CONTROL");
    if (control == NULL) return 0;
    int fd = open(control, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char text[16] = "";
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return 0;
    if (strncmp(text, "write", 5) == 0) return 'w';
    if (strncmp(text, "fsync", 5) == 0) return 's';
    return 0;
}

/* Is fd a file under $HB_FAULT_PATH? */
static int watched(int fd)
{
    const char *prefix = getenv("HB_FAULT_PATH");
    if (prefix == NULL || prefix[0] == '\0') return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = '\0';
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

static int fails(int fd, char what)
{
    return watched(fd) && mode() == what;
}

ssize_t write(int fd, const void *buf, size_t count)
{
    static write_fn real;
    if (real == NULL) real = (write_fn)dlsym(RTLD_NEXT, "write");
    if (fails(fd, 'w')) {
        errno = EIO;
        return -1;
    }
    return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
    static pwrite_fn real;
    if (real == NULL) real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
    if (fails(fd, 'w')) {
        errno = EIO;
        return -1;
    }
    return real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset)
{
    static pwrite_fn real;
    if (real == NULL) real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite64");
    if (fails(fd, 'w')) {
        errno = EIO;
        return -1;
    }
    return real(fd, buf, count, offset);
}

int fsync(int fd)
{
    static sync_fn real;
    if (real == NULL) real = (sync_fn)dlsym(RTLD_NEXT, "fsync");
    if (fails(fd, 's')) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd)
{
    static sync_fn real;
    if (real == NULL) real = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
    if (fails(fd, 's')) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

/* ---- the wall clock ---------------------------------------------------------------------- */

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static long long offset_s(void)
{
    const char *path = getenv("HB_CLOCK_OFFSET");
    if (path == NULL) return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char text[32] = "";
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    return n > 0 ? strtoll(text, NULL, 10) : 0;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    static clock_gettime_fn real;
    if (real == NULL) real = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        ts->tv_sec += (time_t)offset_s();
    }
    return rc;
}

time_t time(time_t *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out != NULL) *out = ts.tv_sec;
    return ts.tv_sec;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    tv->tv_sec = ts.tv_sec; /* glibc declares tv nonnull */
    tv->tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
    return rc;
}
