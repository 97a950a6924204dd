/* dispatch.c - walks the route tables (dispatch.h says why it is a table). */
#include "dispatch.h"

#include "node.h"

static void run_all(const struct node_tick_route *rows, struct node *n)
{
    for (const struct node_tick_route *row = rows; row->tick != NULL; row++)
        row->tick(n);
}

static bool routes(const struct node_msg_route *row, uint8_t type)
{
    return type >= row->first && type <= row->last;
}

static bool is_end(const struct node_msg_route *row)
{
    return row->handle == NULL && row->handle_range == NULL;
}

size_t dispatch_message(const struct node_routes *r, struct node *n, uint64_t peer,
                        uint8_t type, const uint8_t *data, size_t len)
{
    /* Asked once: a handler that restarts consensus does not take the
     * message from the rows after it (REPLY: the write, then a merge). */
    bool cons_open = n->cons != NULL;
    size_t handled = 0;
    for (const struct node_msg_route *row = r->messages; !is_end(row); row++) {
        if (!routes(row, type) || (!cons_open && !row->any_time))
            continue;
        if (row->handle != NULL)
            row->handle(n, peer, data, len);
        else
            row->handle_range(n, peer, type, data, len);
        handled++;
    }
    return handled;
}

size_t dispatch_routes_of(const struct node_routes *r, uint8_t type)
{
    size_t count = 0;
    for (const struct node_msg_route *row = r->messages; !is_end(row); row++)
        count += routes(row, type);
    return count;
}

void dispatch_tick(const struct node_routes *r, struct node *n)
{
    run_all(r->ticks, n);
}

void dispatch_applied(const struct node_routes *r, struct node *n,
                      const struct consensus_applied *a)
{
    for (const struct node_applied_route *row = r->applied;
         row->entry != NULL || row->then != NULL; row++) {
        if (row->entry != NULL)
            row->entry(n, a);
        else
            row->then(n);
    }
}

void dispatch_restored(const struct node_routes *r, struct node *n)
{
    run_all(r->restored, n);
}

void dispatch_leader(const struct node_routes *r, struct node *n)
{
    run_all(r->leader, n);
}

void dispatch_readable(const struct node_routes *r, struct node *n)
{
    if (r->readable != NULL)
        run_all(r->readable, n);
}

void dispatch_peer(const struct node_routes *r, struct node *n, uint64_t peer, bool up)
{
    if (n->cons == NULL)
        return;
    for (const struct node_peer_route *row = up ? r->peer_up : r->peer_down; row->on_peer != NULL;
         row++)
        row->on_peer(n, peer);
}

void dispatch_stop(struct node *n)
{
    n->routes->stop(n);
}

void dispatch_restart(struct node *n, bool discard)
{
    n->routes->restart(n, discard);
}

void dispatch_own_lease(struct node *n, const struct msg_lease *l)
{
    n->routes->own_lease(n, n->keys.node_id, l);
}

void dispatch_own_results(struct node *n, uint64_t batch, const struct msg_result *items,
                          size_t count)
{
    n->routes->own_results(n, n->keys.node_id, batch, items, count);
}

void dispatch_own_lease_end(struct node *n, const struct msg_lease_end *e)
{
    n->routes->own_lease_end(n, n->keys.node_id, e);
}
