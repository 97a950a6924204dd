/* memwatch.c - see memwatch.h. Why: a soak's anonymous RSS says how much,
 * not whose; this line names the holders a node knows the size of, and
 * malloc's own count tells what is in use from what it keeps free. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "node.h"
#include "memwatch.h"
#include "lead.h"
#include "work.h"
#include "consensus.h"

static unsigned long long mib(size_t b)
{
    return (unsigned long long)(b >> 20);
}

/* VmRSS and RssAnon from /proc/self/status, in KiB (0 when unknown). */
static void read_rss(unsigned long long *rss, unsigned long long *anon)
{
    *rss = *anon = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return;
    char line[128];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            sscanf(line + 6, "%llu", rss);
        else if (strncmp(line, "RssAnon:", 8) == 0)
            sscanf(line + 8, "%llu", anon);
    }
    fclose(f);
}

void node_memwatch_tick(struct node *n)
{
    if (n->log.level < LOG_DEBUG)
        return;
    unsigned long long rss, anon;
    read_rss(&rss, &anon);
    struct mallinfo2 mi = mallinfo2();
    struct consensus_log_memory lm;
    consensus_log_memory(n->cons, &lm);
    mlog(&n->log, LOG_DEBUG, "memory: rss %llu MiB, anonymous %llu; heap %llu MiB in use, %llu free, %llu mmapped; raft log "
         "%llu entries %llu MiB (%llu since snapshot); inline results %llu MiB; outbox %llu MiB; "
         "pending %llu MiB", rss >> 10, anon >> 10, mib(mi.uordblks), mib(mi.fordblks), mib(mi.hblkhd),
         (unsigned long long)lm.entries, mib(lm.bytes), mib(lm.since_snapshot),
         mib(n->queue != NULL ? queue_inline_bytes(n->queue) : 0),
         mib(n->work != NULL ? work_outbox_bytes(n->work) : 0),
         mib(n->lead != NULL ? lead_pending_bytes(n->lead) : 0));
}
