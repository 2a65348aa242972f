#!/usr/bin/env python3
"""Measures the same scenarios on an earlier revision and on this tree, in
one run, alternating (ABBA order per pair of rounds, so a machine that
drifts during the run weighs on both sides alike).

    python3 bench/before_after.py REV [--rounds N] [-- scripts/bench options]
    python3 bench/before_after.py ee20e0d --rounds 3 -- --scenarios c,f --no-limits

REV is checked out into build/before-REV (a detached git worktree) with this
tree's bench/ copied in, so both sides run the same load and seed; each side
then runs its own scripts/bench --no-record (own stack, torn down after).
Prints one row per round and the medians; writes nothing to results.md.
"""
import os
import re
import statistics
import subprocess
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
LINE = re.compile(r"^bench: (\w): (\d+) req/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms, non-2xx (\d+), errors (\d+);(?: RSS [\d.]+ MiB;)? other processes ([\d.]+) cores")
# "write statements the app ran during each scenario (...): c 0, f 822"
WRITES = re.compile(r"write statements the app ran during each scenario \([^)]*\): (.*)$")


def sh(*cmd, cwd=ROOT, **kw):
    return subprocess.run(cmd, cwd=cwd, check=True, **kw)


def prepare(rev):
    tree = os.path.join(ROOT, "build", "before-" + rev)
    if not os.path.isdir(tree):
        sh("git", "worktree", "add", "--detach", tree, rev, stdout=subprocess.DEVNULL)
    # The earlier tree measures with today's bench (scenarios it lacks the
    # routes for must be left out by the caller).
    sh("rm", "-rf", os.path.join(tree, "bench"))
    sh("cp", "-r", BENCH, os.path.join(tree, "bench"))
    return tree


def run(tree, args, label, rnd):
    log = os.path.join(ROOT, "build", "before-after-%s-%d.log" % (label, rnd))
    with open(log, "w") as f:
        rc = subprocess.run([os.path.join(tree, "scripts", "bench"), "--no-record"] + args,
                            cwd=tree, stdout=f, stderr=subprocess.STDOUT).returncode
    rows, writes = {}, {}
    with open(log) as f:
        for line in f:
            w = WRITES.search(line)
            if w:
                writes.update((k, int(v)) for k, v in re.findall(r"(\w) (\d+)", w.group(1)))
            m = LINE.match(line.strip())
            if m:
                rows[m.group(1)] = (int(m.group(2)), float(m.group(3)), float(m.group(4)),
                                    int(m.group(5)) + int(m.group(6)), float(m.group(7)))
    rows = {k: v + (writes.get(k, -1),) for k, v in rows.items()}
    if rc != 0 or not rows:
        sys.exit("before_after: %s round %d failed (rc %d), see %s" % (label, rnd, rc, log))
    return rows


def main(argv):
    if "--" in argv:
        i = argv.index("--")
        own, args = argv[1:i], argv[i + 1:]
    else:
        own, args = argv[1:], []
    if not own:
        sys.exit(__doc__)
    rev, rounds = own[0], 2
    if len(own) >= 3 and own[1] == "--rounds":
        rounds = int(own[2])
    old = prepare(rev)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    res = {"before": [], "after": []}
    for rnd in range(1, rounds + 1):
        order = [("before", old), ("after", ROOT)]
        if rnd % 2 == 0:
            order.reverse()
        for label, tree in order:
            print("before_after: round %d, %s" % (rnd, label), flush=True)
            res[label].append(run(tree, args, label, rnd))
    scen = sorted(res["before"][0])
    print()
    print("before = %s, after = %s (%s); %d rounds, ABBA order" % (rev, head, " ".join(args), rounds))
    print()
    print("| scenario | round | before req/s | after req/s | after/before | before p50/p99 ms | after p50/p99 ms | errors b/a | app writes b/a | other cores b/a |")
    print("|---|---:|---:|---:|---:|---|---|---|---|---|")
    for s in scen:
        for i in range(rounds):
            b, a = res["before"][i][s], res["after"][i][s]
            print("| %s | %d | %d | %d | %.2f | %.2f / %.2f | %.2f / %.2f | %d / %d | %d / %d | %.2f / %.2f |" % (
                s, i + 1, b[0], a[0], a[0] / b[0], b[1], b[2], a[1], a[2], b[3], a[3], b[5], a[5],
                b[4], a[4]))
        mb = statistics.median(r[s][0] for r in res["before"])
        ma = statistics.median(r[s][0] for r in res["after"])
        print("| %s | median | %d | %d | %.2f | | | | | |" % (s, mb, ma, ma / mb))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
