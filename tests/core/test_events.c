/* test_events.c - the mesh event ring (src/events.h): order, sequence
 * numbers, duplicates, wrap-around and sanitising. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "events.h"

static struct events ev;   /* large: not on the stack */
static struct mesh_event out[EVENTS_RING];

static void test_order_and_since(void)
{
    events_init(&ev, 1000);
    const struct mesh_event *e = events_add(&ev, MESH_EV_JOIN, 7, 0, 1, "a", "one");
    CHECK(e != NULL && e->seq == 1 && e->origin_seq == 1001);
    events_add(&ev, MESH_EV_DRAIN, 7, 0, 2, "a", "two");
    events_add(&ev, MESH_EV_ELECTION, 9, 55, 3, "b", "three");
    CHECK_INT_EQ((int)events_since(&ev, 0, out, EVENTS_RING), 3);
    CHECK(strcmp(out[2].text, "three") == 0 && out[2].origin == 9);
    CHECK_INT_EQ((int)events_since(&ev, 2, out, EVENTS_RING), 1);
    CHECK_INT_EQ((int)events_since(&ev, 3, out, EVENTS_RING), 0);
    CHECK_INT_EQ((int)events_latest(&ev, out, 2), 2);
    CHECK(strcmp(out[0].text, "two") == 0 && strcmp(out[1].text, "three") == 0);
    CHECK(ev.by_kind[MESH_EV_DRAIN] == 1);
}

static void test_duplicates_dropped(void)
{
    events_init(&ev, 0);
    CHECK(events_add(&ev, MESH_EV_LEAVE, 9, 5, 1, "b", "x") != NULL);
    CHECK(events_add(&ev, MESH_EV_LEAVE, 9, 5, 1, "b", "x") == NULL);  /* same origin, seq */
    CHECK(events_add(&ev, MESH_EV_LEAVE, 8, 5, 1, "c", "x") != NULL);  /* other origin */
    CHECK(ev.last_seq == 2);
}

static void test_wraps_keeping_the_latest(void)
{
    events_init(&ev, 0);
    char text[32];
    for (int i = 0; i < EVENTS_RING + 10; i++) {
        snprintf(text, sizeof text, "e%d", i);
        events_add(&ev, MESH_EV_BATCH, 1, 0, (uint64_t)i, "a", text);
    }
    CHECK_INT_EQ((int)ev.count, EVENTS_RING);
    size_t k = events_since(&ev, 0, out, EVENTS_RING);
    CHECK_INT_EQ((int)k, EVENTS_RING);
    CHECK(out[0].seq == 11 && strcmp(out[0].text, "e10") == 0);
    snprintf(text, sizeof text, "e%d", EVENTS_RING + 9);
    CHECK(strcmp(out[k - 1].text, text) == 0);
}

static void test_sanitised(void)
{
    events_init(&ev, 0);
    const struct mesh_event *e = events_add(&ev, MESH_EV_REFUSED, 1, 0, 0,
                                            "evil\x1b[2J\xff", "say \x1b]2;pwned\x07 \r\n");
    CHECK(strcmp(e->origin_name, "evil?[2J?") == 0);
    CHECK(strcmp(e->text, "say ?]2;pwned? ??") == 0);
    e = events_add(&ev, (enum mesh_event_kind)200, 1, 0, 0, "a", "bad kind");
    CHECK(e->kind == MESH_EV_ERROR);
    CHECK(strcmp(events_kind_name(MESH_EV_MEMBER), "member") == 0);
    CHECK_INT_EQ(events_kind_parse("requeue"), MESH_EV_REQUEUE);
    CHECK_INT_EQ(events_kind_parse("nope"), -1);
}

int main(void)
{
    test_order_and_since();
    test_duplicates_dropped();
    test_wraps_keeping_the_latest();
    test_sanitised();
    return 0;
}
