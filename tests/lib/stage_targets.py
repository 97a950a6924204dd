#!/usr/bin/env python3
"""stage_targets.py BUILDDIR [--suite S]... [--no-suite S]... - the ninja
targets (paths relative to BUILDDIR) that the tests a `meson test` with the
same --suite/--no-suite options would run need: each test's program and the
build targets in its arguments. contrib/test.sh builds only these in the
stages that run a few tests of a tree another stage compiles whole (the
fuzz targets, the packager's kernel tests), then runs them with
--no-rebuild. Selection as meson's: a test is taken when it is in one of
the --suite suites (every test when none is given) and in no --no-suite.
"""
import json
import os
import subprocess
import sys


def introspect(builddir, what):
    out = subprocess.run(['meson', 'introspect', builddir, what],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def in_suite(test_suites, wanted):
    # Introspection spells a suite 'project:suite'; meson test accepts both.
    names = set(test_suites) | {s.split(':', 1)[-1] for s in test_suites}
    return bool(names & set(wanted))


def main(argv):
    if not argv or argv[0].startswith('-'):
        sys.exit(__doc__)
    builddir, suites, no_suites = argv[0], [], []
    args = iter(argv[1:])
    for a in args:
        if a == '--suite':
            suites.append(next(args))
        elif a == '--no-suite':
            no_suites.append(next(args))
        else:
            sys.exit('stage_targets.py: unknown argument ' + a)
    files = {}
    for t in introspect(builddir, '--targets'):
        files[t['id']] = t['filename']
    root = os.path.realpath(builddir)
    wanted = set()
    for t in introspect(builddir, '--tests'):
        if suites and not in_suite(t['suite'], suites):
            continue
        if in_suite(t['suite'], no_suites):
            continue
        for dep in t['depends']:
            for f in files.get(dep, []):
                wanted.add(os.path.relpath(f, root))
    if not wanted:
        sys.exit('stage_targets.py: no test selected in ' + builddir)
    print('\n'.join(sorted(wanted)))


if __name__ == '__main__':
    main(sys.argv[1:])
