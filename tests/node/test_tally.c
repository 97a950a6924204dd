/* test_tally.c - the node's life-long count of factored numbers
 * (src/node/tally.c), through its narrow handle: no node, a temp data dir,
 * the time passed in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "node/tally.h"

static char dir[64];
static char file[128];

static int read_file(char *buf, size_t len)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return -1;
    size_t got = fread(buf, 1, len - 1, f);
    buf[got] = '\0';
    fclose(f);
    return 0;
}

static void write_file(const char *text)
{
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    fputs(text, f);
    CHECK(fclose(f) == 0);
}

/* A changed count waits 5 s between saves, unless asked now. */
static void test_save_and_load(struct mesh_log *log)
{
    struct tally t = {.data_dir = dir, .log = log};
    uint64_t done = 0;
    node_tally_load(&t, &done);           /* no file yet: from 0 */
    CHECK(done == 0 && t.saved == 0);
    char buf[64];
    node_tally_save(&t, 0, 9000, false);  /* unchanged: nothing written */
    CHECK(read_file(buf, sizeof buf) != 0);
    node_tally_save(&t, 5, 1000, false);  /* changed, but < 5 s since 0 */
    CHECK(read_file(buf, sizeof buf) != 0);
    node_tally_save(&t, 5, 6000, false);
    CHECK(read_file(buf, sizeof buf) == 0);
    CHECK_STR_EQ(buf, "5\n");
    CHECK(t.saved == 5 && t.saved_ms == 6000);
    node_tally_save(&t, 7, 7000, false);  /* 1 s later: waits */
    CHECK(read_file(buf, sizeof buf) == 0);
    CHECK_STR_EQ(buf, "5\n");
    node_tally_save(&t, 7, 7000, true);   /* at shutdown: at once */
    CHECK(read_file(buf, sizeof buf) == 0);
    CHECK_STR_EQ(buf, "7\n");

    struct tally again = {.data_dir = dir, .log = log};
    done = 0;
    node_tally_load(&again, &done);
    CHECK(done == 7 && again.saved == 7);
}

/* A damaged file counts from 0 and is replaced by the next save. */
static void test_damaged(struct mesh_log *log)
{
    write_file("12abc\n");
    struct tally t = {.data_dir = dir, .log = log};
    uint64_t done = 0;
    node_tally_load(&t, &done);
    CHECK(done == 0 && t.saved == 0);
    node_tally_save(&t, 3, 5000, false);
    char buf[64];
    CHECK(read_file(buf, sizeof buf) == 0);
    CHECK_STR_EQ(buf, "3\n");
}

/* A data dir that cannot be written: nothing saved, retried 5 s later
 * rather than every tick. */
static void test_unwritable(struct mesh_log *log)
{
    struct tally t = {.data_dir = "/nonexistent-mesh-tally-dir", .log = log};
    node_tally_save(&t, 4, 8000, false);
    CHECK(t.saved == 0 && t.saved_ms == 8000);
    uint64_t done = 11;
    node_tally_load(&t, &done);
    CHECK(done == 11);
}

/* Runs on every exit, a failed CHECK's too: the temp dir goes. */
static void remove_dir(void)
{
    char tmp[140];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    unlink(file);
    unlink(tmp);
    rmdir(dir);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/mesh-tally-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof file, "%s/factored", dir);
    atexit(remove_dir);
    struct mesh_log *log = calloc(1, sizeof *log);
    CHECK(log != NULL);
    log->out = fopen("/dev/null", "w");
    log->level = LOG_DEBUG;
    test_save_and_load(log);
    test_damaged(log);
    test_unwritable(log);
    fclose(log->out);
    free(log);
    puts("ok");
    return 0;
}
