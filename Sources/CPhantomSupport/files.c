// Image locking and atomic creation: the few file-system calls whose flags
// Swift's Glibc module does not expose (F_OFD_*, renameat2's RENAME_NOREPLACE
// are behind _GNU_SOURCE).
#define _GNU_SOURCE
#include "CPhantomSupport.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#if defined(__linux__) && defined(F_OFD_SETLK)
static int set_lock(int fd, short type, int64_t start, int64_t length) {
    struct flock lock;
    memset(&lock, 0, sizeof lock);
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    lock.l_start = (off_t)start;
    lock.l_len = (off_t)length;
    return fcntl(fd, F_OFD_SETLK, &lock);
}

int phantom_ofd_lock(int fd, int exclusive, int64_t start, int64_t length) {
    return set_lock(fd, exclusive ? F_WRLCK : F_RDLCK, start, length);
}

int phantom_ofd_unlock(int fd, int64_t start, int64_t length) {
    return set_lock(fd, F_UNLCK, start, length);
}

int phantom_ofd_probe(int fd, int64_t start, int64_t length, int64_t *found_start) {
    struct flock lock;
    memset(&lock, 0, sizeof lock);
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = (off_t)start;
    lock.l_len = (off_t)length;
    if (fcntl(fd, F_OFD_GETLK, &lock) != 0) return -1;
    if (lock.l_type == F_UNLCK) return 0;
    *found_start = (int64_t)lock.l_start;
    return 1;
}

int phantom_ofd_locks_supported(void) { return 1; }
#else
int phantom_ofd_lock(int fd, int exclusive, int64_t start, int64_t length) {
    (void)fd; (void)exclusive; (void)start; (void)length;
    errno = ENOSYS;
    return -1;
}
int phantom_ofd_unlock(int fd, int64_t start, int64_t length) {
    (void)fd; (void)start; (void)length;
    errno = ENOSYS;
    return -1;
}
int phantom_ofd_probe(int fd, int64_t start, int64_t length, int64_t *found_start) {
    (void)fd; (void)start; (void)length; (void)found_start;
    errno = ENOSYS;
    return -1;
}
int phantom_ofd_locks_supported(void) { return 0; }
#endif

int phantom_rename_noreplace(const char *from, const char *to) {
#if defined(__linux__) && defined(SYS_renameat2)
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */);
#else
    (void)from; (void)to;
    errno = ENOSYS;
    return -1;
#endif
}
