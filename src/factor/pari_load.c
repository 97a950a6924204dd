/* pari_load.c - opens mesh-pari.so, the PARI path (why a module, and
 * where it is looked for: pari_path.h). */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pari_path.h"

#ifndef MESH_PARI_MODULE_RELDIR
#error "MESH_PARI_MODULE_RELDIR comes from src/factor/meson.build"
#endif

/* The directory of the running executable, with a trailing '/'; "" when
 * /proc is not mounted. */
static void exe_dir(char *out, size_t len)
{
    out[0] = '\0';
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return;
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (slash != NULL && (size_t)(slash - path) + 2 <= len) {
        slash[1] = '\0';
        snprintf(out, len, "%s", path);
    }
}

/* Opens the module at path; NULL after saying why on stderr. */
static const struct pari_module *open_module(const char *path)
{
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        fprintf(stderr, "mesh: cannot open the PARI module: %s\n", why != NULL ? why : path);
        return NULL;
    }
    const struct pari_module *m = dlsym(handle, PARI_MODULE_SYMBOL);
    if (m == NULL)
        fprintf(stderr, "mesh: %s has no %s\n", path, PARI_MODULE_SYMBOL);
    return m;
}

const struct pari_module *pari_module_open(void)
{
    const char *given = getenv("MESH_PARI_MODULE");
    if (given != NULL && given[0] != '\0')
        return open_module(given);
    char dir[PATH_MAX];
    exe_dir(dir, sizeof dir);
    char beside[PATH_MAX + 32], installed[2 * PATH_MAX];
    snprintf(beside, sizeof beside, "%s%s", dir, PARI_MODULE_FILE);
    /* An absolute module directory (a libdir outside the prefix) is used
     * as it is. */
    snprintf(installed, sizeof installed, "%s%s/%s",
             MESH_PARI_MODULE_RELDIR[0] == '/' ? "" : dir, MESH_PARI_MODULE_RELDIR,
             PARI_MODULE_FILE);
    /* Only absolute paths of files that are there: dlopen's own search
     * (the library path) must not pick up some other mesh-pari.so. */
    const char *paths[] = {beside, installed};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (paths[i][0] == '/' && access(paths[i], F_OK) == 0)
            return open_module(paths[i]);
    fprintf(stderr, "mesh: no PARI module at %s or %s: numbers beyond the built-in "
            "methods stay unfactored\n", beside, installed);
    return NULL;
}
