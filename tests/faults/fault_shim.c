/* LD_PRELOAD shim for storage fault tests: makes write, pwrite and fsync/fdatasync fail with
 * EIO on files under $HB_FAULT_PATH while the file $HB_FAULT_CONTROL says so ("write" or
 * "fsync"; anything else, or no file, lets every call through). Built as a shared library
 * and loaded into `hongbao serve` only (tests/faults/test_storage_faults.c). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
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
