/* siqs_mp_rel.c - the multi-precision SIQS's relations and the graph of
 * their large primes.
 *
 * A relation with large primes is an edge of a graph whose vertices are
 * the large primes and 1 (a partial p is the edge 1-p, a partial-partial
 * p*q the edge p-q). A cycle's relations multiply to a square times
 * smooth numbers, so each cycle is one usable set, like a full relation.
 * Union-find counts cycles as relations arrive (an edge inside one
 * component closes one); siqs_mp_build_sets lists them at the end from a
 * spanning forest. */
#include <stdlib.h>
#include <string.h>

#include "siqs_internal.h"
#include "siqs_mp_internal.h"

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

/* The same y from two A indices that drew the same A (or a merged range
 * sieved twice) would give a useless dependency: drop repeats. The key is
 * y's low limbs and size; a clash of different y only loses a relation. */
static bool seen_before(struct mp_relations *r, const mpz_t y)
{
    if (2 * (r->nseen + 1) > r->seen_mask) {
        size_t size = r->seen_mask ? 2 * (r->seen_mask + 1) : 4096;
        uint64_t *t = calloc(size, sizeof *t);
        if (t == NULL)
            return true; /* out of memory: drop it, harmless */
        for (size_t i = 0; r->seen && i <= r->seen_mask; i++) {
            if (r->seen[i] == 0)
                continue;
            size_t h = hash64(r->seen[i]) & (size - 1);
            while (t[h] != 0)
                h = (h + 1) & (size - 1);
            t[h] = r->seen[i];
        }
        free(r->seen);
        r->seen = t;
        r->seen_mask = size - 1;
    }
    uint64_t key = mpz_getlimbn(y, 0) ^ hash64((uint64_t)mpz_size(y) << 1 | (mpz_sgn(y) < 0));
    key |= 1; /* 0 marks an empty slot */
    size_t h = hash64(key) & r->seen_mask;
    for (; r->seen[h] != 0; h = (h + 1) & r->seen_mask)
        if (r->seen[h] == key)
            return true;
    r->seen[h] = key;
    r->nseen++;
    return false;
}

static uint32_t find_root(uint32_t *parent, uint32_t v)
{
    while (parent[v] != v) {
        parent[v] = parent[parent[v]];
        v = parent[v];
    }
    return v;
}

static bool grow_vertices(struct mp_graph *g)
{
    uint32_t size = g->mask ? 2 * (g->mask + 1) : 4096;
    uint32_t *key = calloc(size, sizeof *key), *vertex = calloc(size, sizeof *vertex);
    uint32_t *parent = realloc(g->parent, size / 2 * sizeof *parent);
    if (key == NULL || vertex == NULL || parent == NULL) {
        free(key);
        free(vertex);
        if (parent != NULL)
            g->parent = parent;
        return false;
    }
    for (uint32_t i = 0; g->mask && i <= g->mask; i++) {
        if (g->key[i] == 0)
            continue;
        uint32_t h = (uint32_t)hash64(g->key[i]) & (size - 1);
        while (key[h] != 0)
            h = (h + 1) & (size - 1);
        key[h] = g->key[i];
        vertex[h] = g->vertex_of[i];
    }
    free(g->key);
    free(g->vertex_of);
    g->key = key, g->vertex_of = vertex, g->parent = parent;
    g->mask = size - 1;
    g->cap = size / 2;
    return true;
}

/* The vertex of large prime p (1 is vertex 0), added if new; UINT32_MAX
 * when out of memory. */
static uint32_t vertex_of(struct mp_graph *g, uint32_t p)
{
    if (g->nvertices + 1 >= g->cap && !grow_vertices(g))
        return UINT32_MAX;
    if (g->nvertices == 0)
        g->parent[g->nvertices++] = 0; /* vertex 0: the prime 1 */
    if (p == 1)
        return 0;
    uint32_t h = (uint32_t)hash64(p) & g->mask;
    for (; g->key[h] != 0; h = (h + 1) & g->mask)
        if (g->key[h] == p)
            return g->vertex_of[h];
    uint32_t v = g->nvertices++;
    g->key[h] = p;
    g->vertex_of[h] = v;
    g->parent[v] = v;
    return v;
}

static bool add_edge(struct mp_graph *g, uint32_t p, uint32_t q)
{
    uint32_t u = vertex_of(g, p), v = vertex_of(g, q);
    if (u == UINT32_MAX || v == UINT32_MAX)
        return false;
    u = find_root(g->parent, u);
    v = find_root(g->parent, v);
    if (u == v)
        g->cycles++;
    else
        g->parent[u] = v;
    return true;
}

bool siqs_mp_add_relation(struct mp_ctx *ctx, struct mp_origin at, const mpz_t y, const uint32_t *factors,
                          uint32_t nfactors, uint32_t large0, uint32_t large1)
{
    struct mp_relations *r = &ctx->rels;
    if (seen_before(r, y))
        return true;
    size_t ysize = mpz_size(y);
    if (!siqs_reserve((void **)&r->rel, &r->rel_cap, r->nrel + 1, sizeof *r->rel) ||
        !siqs_reserve((void **)&r->factors, &r->factors_cap, r->nfactors + nfactors,
                 sizeof *r->factors) ||
        !siqs_reserve((void **)&r->ylimbs, &r->ylimbs_cap, r->nylimbs + ysize, sizeof *r->ylimbs))
        return false;
    if (large1 != 1 && !add_edge(&r->graph, large0, large1))
        return false;
    memcpy(r->factors + r->nfactors, factors, nfactors * sizeof *factors);
    for (size_t i = 0; i < ysize; i++)
        r->ylimbs[r->nylimbs + i] = mpz_getlimbn(y, (mp_size_t)i);
    r->rel[r->nrel++] = (struct mp_rel){
        .at = at,
        .first = (uint32_t)r->nfactors, .nfactors = nfactors, .large = {large0, large1},
        .y_first = (uint32_t)r->nylimbs,
        .y_size = mpz_sgn(y) < 0 ? -(int32_t)ysize : (int32_t)ysize};
    r->nfactors += nfactors;
    r->nylimbs += ysize;
    r->fulls += large1 == 1;
    return true;
}

size_t siqs_mp_sets(const struct mp_relations *r)
{
    return r->fulls + r->graph.cycles;
}

void siqs_mp_relations_free(struct mp_relations *r)
{
    free(r->rel);
    free(r->factors);
    free(r->ylimbs);
    free(r->seen);
    free(r->graph.key);
    free(r->graph.vertex_of);
    free(r->graph.parent);
    memset(r, 0, sizeof *r);
}

/* The spanning forest, breadth first from each unvisited vertex: each
 * vertex's parent edge (relation) and depth. Adjacency in CSR form. */
struct forest {
    uint32_t *adj_start, *adj;   /* adj holds relation indices */
    uint32_t *up_rel, *up_vertex, *depth;
    uint8_t *tree_edge;          /* per relation */
    uint32_t *edge_u, *edge_v;   /* per relation: its vertices */
};

static void forest_free(struct forest *f)
{
    free(f->adj_start);
    free(f->adj);
    free(f->up_rel);
    free(f->up_vertex);
    free(f->depth);
    free(f->tree_edge);
    free(f->edge_u);
    free(f->edge_v);
}

/* Vertex numbers are found again from the hash table (a const lookup). */
static uint32_t lookup_vertex(const struct mp_graph *g, uint32_t p)
{
    if (p == 1)
        return 0;
    uint32_t h = (uint32_t)hash64(p) & g->mask;
    while (g->key[h] != p)
        h = (h + 1) & g->mask;
    return g->vertex_of[h];
}

static bool build_forest(const struct mp_relations *r, struct forest *f)
{
    const struct mp_graph *g = &r->graph;
    uint32_t nv = g->nvertices ? g->nvertices : 1;
    size_t nrel = r->nrel ? r->nrel : 1;
    f->adj_start = calloc(nv + 1, sizeof *f->adj_start);
    f->adj = malloc(2 * nrel * sizeof *f->adj);
    f->up_rel = malloc(nv * sizeof *f->up_rel);
    f->up_vertex = malloc(nv * sizeof *f->up_vertex);
    f->depth = malloc(nv * sizeof *f->depth);
    f->tree_edge = calloc(nrel, 1);
    f->edge_u = malloc(nrel * sizeof *f->edge_u);
    f->edge_v = malloc(nrel * sizeof *f->edge_v);
    uint32_t *queue = malloc(nv * sizeof *queue);
    if (!(f->adj_start && f->adj && f->up_rel && f->up_vertex && f->depth && f->tree_edge &&
          f->edge_u && f->edge_v && queue)) {
        free(queue);
        return false;
    }
    for (size_t i = 0; i < r->nrel; i++) {
        if (r->rel[i].large[1] == 1)
            continue;
        f->edge_u[i] = lookup_vertex(g, r->rel[i].large[0]);
        f->edge_v[i] = lookup_vertex(g, r->rel[i].large[1]);
        f->adj_start[f->edge_u[i] + 1]++;
        f->adj_start[f->edge_v[i] + 1]++;
    }
    for (uint32_t v = 0; v < nv; v++)
        f->adj_start[v + 1] += f->adj_start[v];
    uint32_t *fill = f->up_rel; /* borrowed as a cursor, reset below */
    memcpy(fill, f->adj_start, nv * sizeof *fill);
    for (size_t i = 0; i < r->nrel; i++) {
        if (r->rel[i].large[1] == 1)
            continue;
        f->adj[fill[f->edge_u[i]]++] = (uint32_t)i;
        f->adj[fill[f->edge_v[i]]++] = (uint32_t)i;
    }
    for (uint32_t v = 0; v < nv; v++)
        f->depth[v] = UINT32_MAX, f->up_rel[v] = UINT32_MAX;
    for (uint32_t root = 0; root < nv; root++) {
        if (f->depth[root] != UINT32_MAX)
            continue;
        uint32_t head = 0, tail = 0;
        f->depth[root] = 0;
        f->up_vertex[root] = root;
        queue[tail++] = root;
        while (head < tail) {
            uint32_t u = queue[head++];
            for (uint32_t k = f->adj_start[u]; k < f->adj_start[u + 1]; k++) {
                uint32_t e = f->adj[k], w = f->edge_u[e] == u ? f->edge_v[e] : f->edge_u[e];
                if (f->depth[w] != UINT32_MAX)
                    continue;
                f->depth[w] = f->depth[u] + 1;
                f->up_vertex[w] = u;
                f->up_rel[w] = e;
                f->tree_edge[e] = 1;
                queue[tail++] = w;
            }
        }
    }
    free(queue);
    return true;
}

/* The relations of the cycle that edge e closes: e and the tree paths
 * from its ends to where they meet. */
static bool append_cycle(const struct forest *f, uint32_t e, uint32_t **members,
                         size_t *n, size_t *cap)
{
    uint32_t u = f->edge_u[e], v = f->edge_v[e];
    size_t need = *n + 1 + 2 * (size_t)(f->depth[u] + f->depth[v]);
    if (!siqs_reserve((void **)members, cap, need, sizeof **members))
        return false;
    (*members)[(*n)++] = e;
    while (u != v) {
        if (f->depth[u] >= f->depth[v]) {
            (*members)[(*n)++] = f->up_rel[u];
            u = f->up_vertex[u];
        } else {
            (*members)[(*n)++] = f->up_rel[v];
            v = f->up_vertex[v];
        }
    }
    return true;
}

long siqs_mp_build_sets(const struct mp_relations *r, uint32_t **start_out,
                        uint32_t **members_out)
{
    struct forest f = {0};
    size_t nsets = siqs_mp_sets(r), n = 0, cap = 0, k = 0;
    uint32_t *start = malloc((nsets + 1) * sizeof *start), *members = NULL;
    bool ok = start != NULL && build_forest(r, &f);
    for (size_t i = 0; ok && i < r->nrel; i++) {
        if (r->rel[i].large[1] != 1)
            continue;
        ok = siqs_reserve((void **)&members, &cap, n + 1, sizeof *members);
        if (ok && k < nsets) {
            start[k++] = (uint32_t)n;
            members[n++] = (uint32_t)i;
        }
    }
    for (size_t i = 0; ok && i < r->nrel && k < nsets; i++) {
        if (r->rel[i].large[1] == 1 || f.tree_edge[i])
            continue;
        start[k++] = (uint32_t)n;
        ok = append_cycle(&f, (uint32_t)i, &members, &n, &cap);
    }
    forest_free(&f);
    if (!ok) {
        free(start);
        free(members);
        return -1;
    }
    start[k] = (uint32_t)n;
    *start_out = start;
    *members_out = members;
    return (long)k;
}
