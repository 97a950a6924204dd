/* faults.c - what goes wrong, chosen by the run's PRNG: kills (soft state
 * lost, raft kept as raft_uv keeps it on disk), pauses (SIGSTOP: nothing
 * runs, nothing is lost, messages wait), partitions (raft's messages and
 * the work plane's both cut; half of them isolate the leader, forcing a
 * new one), latency changes, message loss, and nodes that send wrong
 * results. At most a minority is down at once, so the cluster can make
 * progress between faults. */
#include "sim.h"

static unsigned down_count(const struct sim *s)
{
    unsigned down = 0;
    for (unsigned i = 0; i < s->n; i++)
        down += !s->nodes[i].alive || s->nodes[i].paused;
    return down;
}

/* A random server with (alive, paused) as asked, or n when none. */
static unsigned pick(struct sim *s, bool alive, bool paused)
{
    unsigned start = (unsigned)sim_rng_below(&s->rng, s->n);
    for (unsigned k = 0; k < s->n; k++) {
        unsigned i = (start + k) % s->n;
        if (s->nodes[i].alive == alive && s->nodes[i].paused == paused &&
            s->nodes[i].held_until == 0)
            return i;
    }
    return s->n;
}

static void kill_node(struct sim *s, unsigned i)
{
    sim_lead_stop(s, i);
    sim_work_stop(s, i);
    s->nodes[i].alive = false;
    s->nodes[i].known_leader = 0;
    raft_fixture_kill(&s->c.f, i);
    s->stats.kills++;
}

static void revive_node(struct sim *s, unsigned i)
{
    raft_fixture_revive(&s->c.f, i);
    s->nodes[i].alive = true;
    sim_work_start(s, i);
}

static void set_paused(struct sim *s, unsigned i, bool paused)
{
    s->nodes[i].paused = paused;
    if (paused) {
        raft_fixture_kill(&s->c.f, i);
        s->stats.pauses++;
    } else {
        raft_fixture_revive(&s->c.f, i);
    }
}

/* A slow node: its loop held for 0.1-3 s (raft and the work plane
 * stopped, its messages waiting), then its late timers all fire at once.
 * One node, or several at once (a loaded host holds all its processes):
 * not bounded to a minority. From its own stream, every 5 s on average
 * (--holds sets how often). */
static void hold_nodes(struct sim *s)
{
    struct sim_rng *r = &s->slow_rng;
    for (unsigned i = 0; i < s->n; i++) {
        struct sim_node *nd = &s->nodes[i];
        if (nd->held_until != 0 && sim_now(s) >= nd->held_until) {
            nd->held_until = 0;
            set_paused(s, i, false);
        }
    }
    if (!sim_rng_permille(r, s->hold_permille))
        return;
    unsigned count = 1 + (unsigned)sim_rng_below(r, s->n);
    unsigned start = (unsigned)sim_rng_below(r, s->n);
    unsigned leader = raft_fixture_leader_index(&s->c.f);
    s->stats.holds_leader += count >= 2 && leader < s->n && (leader + s->n - start) % s->n < count;
    for (unsigned k = 0; k < count; k++) {
        struct sim_node *nd = &s->nodes[(start + k) % s->n];
        uint64_t ms = 100 + sim_rng_below(r, 2900);
        if (!nd->alive || (nd->paused && nd->held_until == 0))
            continue;
        if (nd->held_until == 0)
            set_paused(s, nd->index, true);
        if (sim_now(s) + ms > nd->held_until)
            nd->held_until = sim_now(s) + ms;
    }
    s->stats.holds++;
}

static void set_cut(struct sim *s, unsigned i, unsigned j, bool cut)
{
    s->cut[i][j] = s->cut[j][i] = cut;
    if (cut) {
        raft_fixture_saturate(&s->c.f, i, j);
        raft_fixture_saturate(&s->c.f, j, i);
    } else {
        raft_fixture_desaturate(&s->c.f, i, j);
        raft_fixture_desaturate(&s->c.f, j, i);
    }
}

static void heal_partition(struct sim *s)
{
    for (unsigned i = 0; i < s->n; i++)
        for (unsigned j = i + 1; j < s->n; j++)
            set_cut(s, i, j, false);
    s->heal_at = 0;
}

/* Two sides: the leader alone, or a random split. */
static void partition(struct sim *s)
{
    bool side[SIM_MAX_SERVERS];
    unsigned leader = raft_fixture_leader_index(&s->c.f);
    bool isolate = leader < s->n && sim_rng_below(&s->rng, 2) == 0;
    for (unsigned i = 0; i < s->n; i++)
        side[i] = isolate ? i == leader : sim_rng_below(&s->rng, 2) == 0;
    for (unsigned i = 0; i < s->n; i++)
        for (unsigned j = i + 1; j < s->n; j++)
            if (side[i] != side[j])
                set_cut(s, i, j, true);
    s->heal_at = sim_now(s) + 500 + sim_rng_below(&s->rng, 8000);
    s->stats.partitions++;
}

static void set_latency(struct sim *s, unsigned i, unsigned ms)
{
    s->nodes[i].latency_ms = ms;
    raft_fixture_set_network_latency(&s->c.f, i, ms);
}

void sim_faults_step(struct sim *s)
{
    struct sim_rng *r = &s->rng;
    unsigned i;
    if (s->heal_at != 0 && sim_now(s) >= s->heal_at)
        heal_partition(s);
    if (sim_rng_permille(r, 3) && down_count(s) < (s->n - 1) / 2 &&
        (i = pick(s, true, false)) < s->n)
        kill_node(s, i);
    if (sim_rng_permille(r, 6) && (i = pick(s, false, false)) < s->n)
        revive_node(s, i);
    if (sim_rng_permille(r, 2) && down_count(s) < (s->n - 1) / 2 &&
        (i = pick(s, true, false)) < s->n)
        set_paused(s, i, true);
    if (sim_rng_permille(r, 5) && (i = pick(s, true, true)) < s->n)
        set_paused(s, i, false);
    if (sim_rng_permille(r, 2) && s->heal_at == 0)
        partition(s);
    if (sim_rng_permille(r, 3)) {
        i = (unsigned)sim_rng_below(r, s->n); /* one draw per statement: see client.c */
        set_latency(s, i, 2 + (unsigned)sim_rng_below(r, 250));
    }
    if (sim_rng_permille(r, 2))
        s->loss_pct = (unsigned)sim_rng_below(r, 31);
    hold_nodes(s);
    if (sim_rng_permille(r, 1)) {
        i = (unsigned)sim_rng_below(r, s->n);
        /* Mostly a few seconds; one in five until the faults end. */
        s->nodes[i].liar_until = sim_rng_below(r, 5) == 0 || s->lasting_liars
                                     ? UINT64_MAX
                                     : sim_now(s) + 200 + sim_rng_below(r, 5000);
    }
}

void sim_faults_kill(struct sim *s, unsigned i)
{
    kill_node(s, i);
}

void sim_faults_revive(struct sim *s, unsigned i)
{
    revive_node(s, i);
}

void sim_faults_isolate(struct sim *s, unsigned i, bool cut)
{
    for (unsigned j = 0; j < s->n; j++)
        if (j != i)
            set_cut(s, i, j, cut);
}

void sim_faults_heal(struct sim *s)
{
    heal_partition(s);
    for (unsigned i = 0; i < s->n; i++) {
        if (!s->nodes[i].alive)
            revive_node(s, i);
        if (s->nodes[i].paused)
            set_paused(s, i, false);
        s->nodes[i].held_until = 0;
        set_latency(s, i, 15);
        s->nodes[i].liar_until = 0;
    }
    s->loss_pct = 0;
}
