/* fuzz_replay.c - a main() for fuzz targets in non-libFuzzer builds.
 * Runs every file named on the command line (or inside a named directory)
 * through LLVMFuzzerTestOneInput, then a bounded number of pseudo-random and
 * mutated inputs from a fixed seed, so the run is reproducible. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A seed that cannot be read is a failure, not an empty corpus: a corpus
 * directory that moved or was never committed must not pass silently. */
static void fail_path(const char *path)
{
    fprintf(stderr, "fuzz replay: cannot read %s\n", path);
    exit(1);
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_path(path);
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fail_path(path);
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *e;
    size_t seeds = 0;
    if (d == NULL)
        fail_path(path);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        run_file(full);
        seeds++;
    }
    closedir(d);
    if (seeds == 0) {
        fprintf(stderr, "fuzz replay: no seeds in %s\n", path);
        exit(1);
    }
}

static uint64_t next_random(uint64_t *s)
{
    /* splitmix64: fixed seed, reproducible inputs. */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-')
            run_path(argv[i]);
    uint64_t seed = 12345;
    static uint8_t buf[4096];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = next_random(&seed) % sizeof buf;
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)next_random(&seed);
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("fuzz replay: done\n");
    return 0;
}
