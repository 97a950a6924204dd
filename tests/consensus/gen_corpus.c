/* gen_corpus.c - writes the seed corpus of fuzz_entry: every queue command
 * seed of tests/core/corpus_qcmd wrapped in the log entry envelope.
 * Run by hand after a format change (after tests/core's gen_corpus):
 *   build-test/tests/consensus/gen_entry_corpus tests/core/corpus_qcmd \
 *       tests/consensus/corpus_entry */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include <raft.h>

#include "entry.h"

static void wrap(const char *in_dir, const char *out_dir, const char *name)
{
    char path[4096];
    static uint8_t data[ENTRY_MAX_BYTES];
    snprintf(path, sizeof path, "%s/%s", in_dir, name);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(data, 1, sizeof data, f) : 0;
    if (f)
        fclose(f);
    struct qcmd c;
    void *buf;
    size_t len;
    if (qcmd_decode(data, n, &c) != 0)
        return;  /* regression seeds that must not decode stay in core */
    if (entry_encode(&c, &buf, &len) != 0) {
        fprintf(stderr, "gen_corpus: cannot wrap %s\n", name);
        exit(1);
    }
    qcmd_free(&c);
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len) {
        perror(path);
        exit(1);
    }
    fclose(f);
    raft_free(buf);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_entry_corpus QCMD_CORPUS_DIR ENTRY_CORPUS_DIR\n");
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        perror(argv[1]);
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            wrap(argv[1], argv[2], e->d_name);
    closedir(d);
    return 0;
}
