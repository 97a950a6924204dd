/* stall_watch.c - see stall_watch.h. */
#include "stall_watch.h"

bool stall_watch_look(struct stall_watch *w, uint64_t match, uint64_t applied, uint64_t commit,
                      bool answered, uint64_t now_ms, uint64_t bound_ms)
{
    uint64_t reached = applied < match ? applied : match;
    if (answered) {
        w->heard = true;
        w->heard_ms = now_ms;
    }
    /* raft marks a follower's answers per election timeout: a look can miss
     * one, so "answering" is having answered within STALL_WATCH_ANSWER_MS. */
    bool answering = w->heard && now_ms - w->heard_ms <= STALL_WATCH_ANSWER_MS;
    if (!answering || reached >= commit) {
        w->behind = false;
        return false;
    }
    if (!w->behind || reached != w->reached) {
        w->behind = true;
        w->reached = reached;
        w->since_ms = now_ms;
        return false;
    }
    if (now_ms - w->since_ms < bound_ms)
        return false;
    w->since_ms = now_ms;
    return true;
}
