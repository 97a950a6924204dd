/* datadir.c - see datadir.h. */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int datadir_default(char *out, size_t outlen)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(out, outlen, "%s/mesh", xdg);
    else if (geteuid() == 0)
        n = snprintf(out, outlen, "/var/lib/mesh");
    else if (home != NULL && home[0] == '/')
        n = snprintf(out, outlen, "%s/.local/state/mesh", home);
    else
        return -1;
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int datadir_ensure(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        snprintf(err, errlen, "data dir path too long");
        return -1;
    }
    /* mkdir -p: create each missing parent in turn. */
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data dir %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "data dir %s is not a directory", path);
        return -1;
    }
    return 0;
}

static long read_lock_owner(int fd)
{
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

int datadir_lock(const char *dir, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        long pid = read_lock_owner(fd);
        snprintf(err, errlen, "another node (pid %ld) is running on data dir %s",
                 pid, dir);
        close(fd);
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int datadir_control_path(const char *dir, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/control.sock", dir);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int datadir_raft_path(const char *dir, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/raft", dir);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}
