#!/usr/bin/env python3
"""runtime_graph.py - the call graph between the files of the node runtime.

An arrow A -> B when A.c names a function that B.c defines (not static);
comments are left out. Prints the arrows, each file's floor (1 + the
highest floor it calls; files in one circle share one) and how many files
call each; exits 1 when files call each other in a circle (doc/DESIGN.md,
"The runtime's floors": the runtime has none).

    python3 tests/node/runtime_graph.py [SRC_DIR] [--quiet]

SRC_DIR defaults to src/node beside this test's tree. Text, not a
compiler: a name in a string would count too (none does today)."""
import os
import re
import sys

DEF_RE = re.compile(r"^(?!static\b)[A-Za-z_][^;{}()]*?\b(\w+)\s*\([^;{}]*\)\s*\{", re.M)


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def read_graph(src_dir):
    texts = {}
    for name in sorted(os.listdir(src_dir)):
        if name.endswith(".c"):
            with open(os.path.join(src_dir, name), encoding="utf-8") as f:
                texts[name] = strip_comments(f.read())
    defined = {}
    for name, text in texts.items():
        for m in DEF_RE.finditer(text):
            defined.setdefault(m.group(1), name)
    arrows = {name: {} for name in texts}
    words = {name: set(re.findall(r"\b\w+\b", text)) for name, text in texts.items()}
    for name in texts:
        for func, home in defined.items():
            if home != name and func in words[name]:
                arrows[name].setdefault(home, []).append(func)
    return arrows


def circles(arrows):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = 0
    for root in arrows:
        if root in index:
            continue
        work = [(root, iter(sorted(arrows[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(arrows[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                comps.append(sorted(comp))
    return comps


def floors(arrows, comps):
    comp_of = {f: i for i, c in enumerate(comps) for f in c}
    floor = {}
    for i, comp in enumerate(comps):  # Tarjan emits callees before callers
        below = [floor[comp_of[t]] for f in comp for t in arrows[f] if comp_of[t] != i]
        floor[i] = 1 + max(below, default=0)
    return {f: floor[comp_of[f]] for f in arrows}


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    args = [a for a in argv[1:] if not a.startswith("--")]
    src_dir = args[0] if args else os.path.join(here, "..", "..", "src", "node")
    arrows = read_graph(src_dir)
    comps = circles(arrows)
    floor = floors(arrows, comps)
    fan_in = {f: 0 for f in arrows}
    for targets in arrows.values():
        for t in targets:
            fan_in[t] += 1
    if "--quiet" not in argv:
        for f in sorted(arrows, key=lambda f: (-floor[f], f)):
            print(f"floor {floor[f]:2}  {f:18} called by {fan_in[f]:2}  calls "
                  + (", ".join(sorted(arrows[f])) or "-"))
    loops = [c for c in comps if len(c) > 1]
    print(f"{len(arrows)} files, {sum(len(t) for t in arrows.values())} arrows, "
          f"{max(floor.values(), default=0)} floors, "
          f"largest circle {max((len(c) for c in loops), default=0)} files")
    for c in loops:
        print("circle: " + " ".join(c))
    return 1 if loops else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
