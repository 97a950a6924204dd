/* spread_cofactor.h - a composite cofactor of a spread batch's N sieved by
 * the whole mesh again (doc/DESIGN.md, "A composite cofactor goes to the
 * whole mesh").
 *
 * When ECM's curves (or SIQS's combine) split spread batch B's N into a
 * prime P and a composite cofactor C that cofactor_rule.h says to spread,
 * the leader (spread.c) ends B's curve and range jobs and proposes the
 * SUBMIT of a spread batch of C named "cofactor:B" (its token derived from
 * B and P). B's last index, N, is held from the scheduler meanwhile (it
 * would go to one worker). On the cluster tick, a "cofactor:B" batch DONE
 * with C's factors has N's line (P and C's factors, checked by
 * cofactor_combine, then by factor_verify like any result) handed to the
 * leader's own result path as B's result at N; one cancelled or done
 * without the factors releases N to one worker; one still running when B
 * ended otherwise is cancelled. Everything but this leadership's
 * proposals is read from the log each tick, so a new leader carries on
 * (its coordinator finds P again in the committed curve results). */
#ifndef MESH_NODE_SPREAD_COFACTOR_H
#define MESH_NODE_SPREAD_COFACTOR_H

struct node;

/* The cluster tick (routes.c): leader only. */
void node_cofactor_tick(struct node *n);

#endif
