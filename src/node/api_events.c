/* api_events.c - the "events" control request behind `mesh events`.
 *
 * A long poll, like `results --wait`: {"cmd": "events", "after": SEQ,
 * "wait": true} is answered with the events recorded after SEQ, at once
 * when there are some, else as soon as one arrives. The CLI asks again
 * with the last seq it got, so it streams until interrupted, and the
 * control socket keeps its one-request-one-answer rule. */
#include <stdlib.h>
#include <time.h>

#include "node.h"
#include "api_events.h"

enum { EVENTS_PER_ANSWER = 64 }; /* at most EVENTS_RING */

struct events_waiter {
    struct events_waiter *next;
    struct control_conn *conn;
    uint64_t after;
};

static json_t *event_json(const struct mesh_event *e)
{
    char stamp[40], id[MESH_ID_HEX_LEN + 1];
    time_t t = (time_t)(e->time_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t len = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + len, sizeof stamp - len, ".%03uZ", (unsigned)(e->time_ms % 1000));
    mesh_id_to_hex(e->origin, id);
    return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s}", "seq", (json_int_t)e->seq,
                     "time", stamp, "time_ms", (json_int_t)e->time_ms,
                     "kind", events_kind_name(e->kind), "node", e->origin_name,
                     "node_id", id, "text", e->text);
}

static void answer(struct node *n, struct control_conn *c, uint64_t after)
{
    struct mesh_event *got = malloc(EVENTS_PER_ANSWER * sizeof *got);
    if (got == NULL) {
        control_reply_error(c, "out of memory");
        return;
    }
    size_t k = events_since(&n->events, after, got, EVENTS_PER_ANSWER);
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(list, event_json(&got[i]));
    /* events that fell out of the ring before the client asked for them */
    uint64_t oldest = k > 0 ? got[0].seq : n->events.last_seq + 1;
    uint64_t lost = oldest > after + 1 ? oldest - after - 1 : 0;
    free(got);
    control_reply(c, json_pack("{s:b, s:o, s:I, s:I}", "ok", 1, "events", list, "last",
                               (json_int_t)n->events.last_seq, "lost", (json_int_t)lost));
}

void api_events(struct node *n, struct control_conn *c, json_t *req)
{
    json_t *a = json_object_get(req, "after");
    if (a != NULL && (!json_is_integer(a) || json_integer_value(a) < 0)) {
        control_reply_error(c, "after must be a non-negative integer");
        return;
    }
    uint64_t after = a != NULL ? (uint64_t)json_integer_value(a) : 0;
    if (after < n->events.last_seq || !json_is_true(json_object_get(req, "wait"))) {
        answer(n, c, after);
        return;
    }
    struct events_waiter *w = malloc(sizeof *w);
    if (w == NULL) {
        control_reply_error(c, "out of memory");
        return;
    }
    *w = (struct events_waiter){n->event_waiters, c, after};
    n->event_waiters = w;
}

void api_events_wake(struct node *n)
{
    struct events_waiter *list = n->event_waiters;
    n->event_waiters = NULL;
    while (list != NULL) {
        struct events_waiter *w = list;
        list = w->next;
        answer(n, w->conn, w->after);
        free(w);
    }
}

void api_events_forget(struct node *n, struct control_conn *c)
{
    for (struct events_waiter **pp = &n->event_waiters; *pp != NULL;) {
        struct events_waiter *w = *pp;
        if (w->conn == c) {
            *pp = w->next;
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

void api_events_drop(struct node *n)
{
    while (n->event_waiters != NULL) {
        struct events_waiter *w = n->event_waiters;
        n->event_waiters = w->next;
        free(w);
    }
}
