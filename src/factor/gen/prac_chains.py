#!/usr/bin/env python3
"""Writes src/factor/prac_chains.h: ECM stage 1 as precomputed differential
addition chains (P. Montgomery's PRAC, "Evaluating recurrences of form
X_{m+n} = f(X_m, X_n, X_{m-n}) via Lucas chains", 1992), one per B1 used by
ecm_u64.c.

Why: a Montgomery ladder over the B1 product costs one xadd and one xdbl per
bit (~10 products); PRAC chains cost ~8-9 per bit and the power of 2 costs
one xdbl (5) per bit. Precomputing the chains (as micro-ecm in YAFU does
for its fixed B1 values) moves the chain search out of the hot path, so we
can afford an exhaustive search for the best PRAC ratio per prime and a
greedy search for pairs of primes whose product has a cheaper chain than
both apart. The code is our own.

The chain is emitted as register-machine ops over a small point file:
  DBL dst, src          dst = 2 src
  ADD dst, p, q, diff   dst = p + q given diff = p - q (or q - p)
Every op is checked here symbolically (each register's multiple of the
input point) and the whole chain must multiply by exactly the B1 product.
usage: src/factor/gen/prac_chains.py > src/factor/prac_chains.h"""
import math
import sys

DBL_COST, ADD_COST = 5, 6
NREGS = 6
B1_VALUES = (47, 85, 125, 165, 205, 250)
# Stage 2 of ecm_u64.c: (B1, B2) pairs params_for picks, giant step D.
STAGE2 = ((47, 20 * 47), (85, 20 * 85), (125, 20 * 125), (205, 25 * 205))
D = 210
MAX_GIANTS = 48


def primes_upto(n):
    s = bytearray([1]) * (n + 1)
    s[0] = s[1] = 0
    for i in range(2, int(n ** 0.5) + 1):
        if s[i]:
            s[i * i::i] = bytearray(len(s[i * i::i]))
    return [i for i in range(n + 1) if s[i]]


def b1_product(b1):
    """The product of the largest power of each prime that is <= b1."""
    k = 1
    for p in primes_upto(b1):
        pe = p
        while pe * p <= b1:
            pe *= p
        k *= pe
    return k


def prac_ops(k, r):
    """PRAC chain for odd k with first ratio r; symbolic ops on names, or
    None when (k, r) does not give a valid chain."""
    if math.gcd(k, r) != 1 or not 0 < r < k:
        return None
    d, e = k - r, 2 * r - k
    if e <= 0:
        return None
    # Logical registers A, B, C are renamed, never copied (swaps are free);
    # every computed value gets a unique name. Start: A = 2P, B = C = P.
    fresh = [0]

    def new():
        fresh[0] += 1
        return "v%d" % fresh[0]

    ops = []
    steps = 0

    def dbl(src):
        t = new()
        ops.append(("dbl", t, src))
        return t

    def add(p, q, diff):
        t = new()
        ops.append(("add", t, p, q, diff))
        return t

    A, B, C = "in", "in", "in"
    A = dbl(A)
    while d != e:
        steps += 1
        if steps > 200:
            return None
        if d < e:
            d, e = e, d
            A, B = B, A
        if 4 * d <= 5 * e and (d + e) % 3 == 0:
            d, e = (2 * d - e) // 3, e
            e = (e - d) // 2
            T = add(A, B, C)
            T2 = add(T, A, B)
            B = add(B, T, A)
            A = T2
        elif 4 * d <= 5 * e and (d - e) % 6 == 0:
            d = (d - e) // 2
            B = add(A, B, C)
            A = dbl(A)
        elif d <= 4 * e:
            d -= e
            T = add(B, A, C)
            C, B = B, T
        elif (d + e) % 2 == 0:
            d = (d - e) // 2
            B = add(B, A, C)
            A = dbl(A)
        elif d % 2 == 0:
            d //= 2
            C = add(C, A, B)
            A = dbl(A)
        elif d % 3 == 0:
            d = d // 3 - e
            T = dbl(A)
            T2 = add(A, B, C)
            A = add(T, A, A)
            T = add(T, T2, C)
            C, B = B, T
        elif (d + e) % 3 == 0:
            d = (d - 2 * e) // 3
            T = add(A, B, C)
            B = add(T, A, B)
            T = dbl(A)
            A = add(A, T, A)
        elif (d - e) % 3 == 0:
            d = (d - e) // 3
            T = add(A, B, C)
            C = add(C, A, B)
            B = T
            T = dbl(A)
            A = add(A, T, A)
        else:
            e //= 2
            C = add(C, B, A)
            B = dbl(B)
        if e <= 0 or d <= 0:
            return None
    A = add(A, B, C)
    if not check(ops, A, k):
        return None
    return ops, A


def check(ops, result, k):
    mult = {"in": 1}
    for op in ops:
        if op[0] == "dbl":
            mult[op[1]] = 2 * mult[op[2]]
        else:
            _, t, p, q, dd = op
            if mult[dd] == 0 or abs(mult[p] - mult[q]) != mult[dd]:
                return False
            mult[t] = mult[p] + mult[q]
    return mult[result] == k


def cost(ops):
    return sum(DBL_COST if op[0] == "dbl" else ADD_COST for op in ops)


def best_chain(k, exhaustive):
    phi = (math.sqrt(5) - 1) / 2
    if exhaustive:
        cands = range(max(1, k // 2), k)
    else:
        ratios = (phi, 0.723606797749978936, 0.580178728295464130,
                  0.548409048446403258, 0.556250337855490828,
                  0.552936068843375, 0.632839806088706269,
                  0.612429949509495031, 0.551390822543526449,
                  0.640157392785047019, 0.522786351415446049)
        cands = set()
        for v in ratios:
            r0 = int(k * v + 0.5)
            for off in range(-40, 41):
                cands.add(r0 + off)
    best = None
    for r in sorted(cands):
        res = prac_ops(k, r)
        if res is not None and (best is None or cost(res[0]) < cost(best[0])):
            best = res
    return best


def stage1_factors(b1):
    """Odd prime factors of the B1 product with multiplicity, and the power
    of 2."""
    odd = []
    twos = 0
    for p in primes_upto(b1):
        pe, e = p, 1
        while pe * p <= b1:
            pe *= p
            e += 1
        if p == 2:
            twos = e
        else:
            odd += [p] * e
    return twos, odd


def plan(b1, cache):
    """Chooses the multipliers: single primes, or pairs when their product
    has a cheaper chain (greedy by saving)."""
    twos, odd = stage1_factors(b1)

    def single(p):
        if p not in cache:
            cache[p] = best_chain(p, True)
        return cache[p]

    for p in set(odd):
        single(p)
    pool = sorted(odd)
    savings = []
    for i in range(len(pool)):
        for j in range(i + 1, len(pool)):
            p, q = pool[i], pool[j]
            if p == q:
                continue
            key = p * q
            if key not in cache:
                cache[key] = best_chain(key, False)
            if cache[key] is None:
                continue
            s = cost(single(p)[0]) + cost(single(q)[0]) - cost(cache[key][0])
            if s > 0:
                savings.append((s, p, q))
    savings.sort(reverse=True)
    left = list(pool)
    mults = []
    for s, p, q in savings:
        if p in left and q in left and p != q:
            left.remove(p)
            left.remove(q)
            mults.append(p * q)
    mults += left
    return twos, sorted(mults, reverse=True)


def allocate(chains, twos):
    """Register allocation over the concatenated chains: each op gets a
    destination register that holds no live value and is none of its own
    inputs (the C point ops may read inputs after writing)."""
    out = []
    cur = 0  # register holding the running point
    for _ in range(twos):
        out.append((0, cur, cur, 0, 0))  # DBL in place is safe
    total_cost = twos * DBL_COST
    for ops, result in chains:
        total_cost += cost(ops)
        # last use of each value
        last = {}
        for i, op in enumerate(ops):
            for v in op[2:]:
                last[v] = i
        reg = {"in": cur}
        live = {"in"}
        for i, op in enumerate(ops):
            used = {reg[v] for v in op[2:]}
            busy = {reg[v] for v in live}
            dst = next(r for r in range(NREGS) if r not in busy and r not in used)
            reg[op[1]] = dst
            if op[0] == "dbl":
                out.append((0, dst, reg[op[2]], 0, 0))
            else:
                out.append((1, dst, reg[op[2]], reg[op[3]], reg[op[4]]))
            live.add(op[1])
            for v in list(live):
                if v != result and last.get(v, -1) <= i:
                    live.discard(v)
        cur = reg[result]
    return out, cur, total_cost


def verify(ops, final, b1):
    mult = {0: 1}
    for op, dst, a, b, c in ops:
        if op == 0:
            mult[dst] = 2 * mult[a]
        else:
            assert abs(mult[a] - mult[b]) == mult[c] and mult[c] != 0
            mult[dst] = mult[a] + mult[b]
    k = b1_product(b1)
    assert mult[final] == k, (b1, mult[final], k)


def main():
    cache = {}
    w = sys.stdout.write
    w("/* prac_chains.h - generated by src/factor/gen/prac_chains.py; do not\n"
      " * edit. ECM stage 1 chains (PRAC, see the script) for each B1. */\n")
    w("#ifndef MESH_FACTOR_PRAC_CHAINS_H\n#define MESH_FACTOR_PRAC_CHAINS_H\n\n")
    w("#include <stdint.h>\n\n")
    w("enum { PRAC_REGS = %d };\n\n" % NREGS)
    w("/* op: 0 = dst <- 2 a; 1 = dst <- a + b given a - b = c. */\n")
    w("struct prac_op {\n    uint8_t op, dst, a, b, c;\n};\n\n")
    w("struct prac_chain {\n    uint32_t b1;\n    uint16_t count;\n"
      "    uint8_t result; /* register holding [k]P at the end */\n"
      "    uint16_t products; /* modular products, for the record */\n"
      "    const struct prac_op *ops;\n};\n\n")
    names = []
    for b1 in B1_VALUES:
        twos, mults = plan(b1, cache)
        chains = [best_chain(m, True) if m < 5000 else cache[m] for m in mults]
        ops, final, total = allocate(chains, twos)
        verify(ops, final, b1)
        name = "prac_b1_%d" % b1
        names.append((b1, name, len(ops), final, total))
        w("static const struct prac_op %s[%d] = {\n" % (name, len(ops)))
        for i in range(0, len(ops), 6):
            w("    " + " ".join("{%d,%d,%d,%d,%d}," % o for o in ops[i:i + 6]) + "\n")
        w("};\n\n")
        sys.stderr.write("B1=%d: %d ops, %d products (ladder ~%d)\n"
                         % (b1, len(ops), total,
                            10 * int(sum(math.log2(m) for m in mults) + twos)))
    w("static const struct prac_chain prac_chains[%d] = {\n" % len(names))
    for b1, name, count, final, total in names:
        w("    {%d, %d, %d, %d, %s},\n" % (b1, count, final, total, name))
    w("};\n\n")
    write_stage2_plans(w)
    w("#endif\n")


def write_stage2_plans(w):
    """Which stage 2 terms each (B1, B2) needs with D = 210: the same for
    every curve and every n, so computed here rather than per call (the
    prime walk did not overlap with the arithmetic any more once the terms
    got cheap). ecm_u64.c recomputes them at run time for any other pair,
    and test_u64 checks these against that computation."""
    w("enum { STAGE2_MAX_GIANTS = %d };\n\n" % MAX_GIANTS)
    w("/* Stage 2 terms for one (B1, B2), giant step D = %d. */\n" % D)
    w("struct stage2_plan {\n"
      "    uint32_t b1, b2;\n"
      "    uint64_t giants; /* last window g used */\n"
      "    uint64_t low;    /* bit p/2: prime p < D/2 in (B1, B2] */\n"
      "    /* bit j/2: g*D - j or g*D + j is a prime in (B1, B2] */\n"
      "    uint64_t mask[STAGE2_MAX_GIANTS];\n};\n\n")
    w("static const struct stage2_plan stage2_plans[%d] = {\n" % len(STAGE2))
    for b1, b2 in STAGE2:
        giants, low, mask = 0, 0, [0] * MAX_GIANTS
        for p in primes_upto(b2):
            if p <= b1:
                continue
            g = (p + D // 2) // D
            assert g < MAX_GIANTS
            if g == 0:
                low |= 1 << (p // 2)
                continue
            j = abs(p - g * D)
            mask[g] |= 1 << (j // 2)
            giants = g
        w("    {%d, %d, %d, 0x%xULL, {\n" % (b1, b2, giants, low))
        used = mask[:giants + 1]
        for i in range(0, len(used), 3):
            w("        " + " ".join("0x%xULL," % v for v in used[i:i + 3]) + "\n")
        w("    }},\n")
    w("};\n\n")


if __name__ == "__main__":
    main()
