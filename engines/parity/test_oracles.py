#!/usr/bin/env python3
"""Parity harness: the upstream post-processing oracles against fcos4j. Exit status 1 on a failure.

1. Self-checks of the re-stated NMS against torchvision.ops (where the kernels are equivalent).
2. The committed Java-generated fixtures engines/fixtures/postprocess/*.json (torchvision ones against
   torchvision itself, as in part 3):
   - oracle with the fcos4j decisions (variant FCOS4J) must reproduce `expected` in order
     (tolerance 1e-6 relative: the only arithmetic difference left is the double exp() library);
   - oracle as upstream runs (variant UPSTREAM) is compared order-insensitively (scores 2e-6 relative:
     torch's float32 sigmoid is within a few ulps of the correctly rounded one; boxes 1e-6: they do not
     depend on the sigmoid). Differences are attributed to the documented decisions by switching one
     decision at a time; they are reported, not failures.
3. Random heads (random_heads.SPECS x {mmdet, fcos, torchvision}): written as HEADS.npz, run through
   `fcos4j postprocess` (env FCOS4J_CLI, default bin/fcos4j of this checkout) and compared the same way;
   torchvision's oracle is torchvision itself (order-insensitive, informational for exact ties).
   If the command line is not built, part 3 prints SKIPPED and does not fail.

Usage: python3 engines/parity/test_oracles.py [-v] [--no-cli] [--keep DIR]
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ROOT = os.path.dirname(os.path.dirname(HERE))

try:
    import numpy as np  # noqa: E402,F401
    import torch  # noqa: E402
    import torchvision  # noqa: E402
except ImportError as e:  # the oracles are PyTorch code: nothing to compare without it
    print(f"SKIPPED engines/parity/test_oracles.py: {e}; it needs numpy, torch and torchvision "
          "(Debian: python3-torch python3-torchvision)")
    sys.exit(0)

import oracle_fcos  # noqa: E402
import oracle_mmdet  # noqa: E402
import oracle_torchvision  # noqa: E402
import decision_cases  # noqa: E402
import random_heads  # noqa: E402
from parity_common import compare, load_fixture, read_cli_detections  # noqa: E402

ORACLES = {"mmdet": oracle_mmdet, "fcos": oracle_fcos}
EXACT = dict(score_tol=1e-6, box_tol=1e-6)
UPSTREAM_TOL = dict(score_tol=2e-6, box_tol=1e-6)

torch.set_num_threads(1)


class Report:
    def __init__(self, verbose):
        self.verbose = verbose
        self.failures = 0
        self.stats = {}
        self.backend = "reference"

    def count(self, key, ok):
        if self.backend != "reference":
            key += f" [{self.backend}]"
        agree, total = self.stats.get(key, (0, 0))
        self.stats[key] = (agree + (1 if ok else 0), total + 1)

    def fail(self, line, details=()):
        self.failures += 1
        print("FAIL " + line)
        for d in list(details)[:8]:
            print("     " + d)

    def info(self, line, details=()):
        print(line)
        if self.verbose:
            for d in list(details)[:8]:
                print("     " + d)


def self_checks(rep):
    """The re-stated greedy NMS equals torchvision's CPU kernels where they are the same algorithm:
    offset 0, float-exact threshold (0.5: torchvision compares in double, mmcv in float), distinct scores
    (mmcv's sort is unstable, torchvision's stable)."""
    g = torch.Generator().manual_seed(7)
    ok = True
    for trial in range(20):
        n = 50 + 40 * trial
        xy = torch.rand(n, 2, generator=g) * 200
        wh = torch.rand(n, 2, generator=g) * 60
        boxes = torch.cat([xy, xy + wh], 1)
        scores = torch.randperm(n, generator=g).float() / n + 0.001
        labels = torch.randint(0, 4, (n,), generator=g)
        mine = oracle_mmdet.nms(boxes, scores, 0.5, stable_ties=True)
        ok &= torch.equal(mine, torchvision.ops.nms(boxes, scores, 0.5))
        if n <= 1000:  # torchvision's coordinate trick (the mmcv one) is used below 1000 boxes on the CPU
            _, keep = oracle_mmdet.batched_nms(boxes, scores, labels, 0.5,
                                               {"stable_ties": True, "class_offset": True})
            ok &= torch.equal(keep, torchvision.ops.batched_nms(boxes, scores, labels, 0.5))
    if ok:
        rep.info("self-check: re-stated nms / batched_nms == torchvision.ops.nms / batched_nms on 20 random sets: OK")
    else:
        rep.fail("self-check: re-stated nms differs from torchvision.ops.nms")


def attribute(module, case, reference):
    """Which single fcos4j decision, switched to upstream's behaviour, changes the oracle's result."""
    culprits = []
    for knob, upstream_value in module.UPSTREAM.items():
        if module.FCOS4J[knob] == upstream_value:
            continue
        variant = dict(module.FCOS4J)
        variant[knob] = upstream_value
        if compare(module.run_case(case, variant), reference, ordered=False, **UPSTREAM_TOL):
            culprits.append(knob)
    return culprits


def check_against(rep, label, case, produced):
    """produced = fcos4j's detections for case (fixture expected or CLI output). In the difference lines
    the fcos4j detection comes first and the oracle's is the "expected" one."""
    conv = case["convention"]
    if conv == "torchvision":
        upstream = oracle_torchvision.run_case(case)
        diffs = compare(produced, upstream, ordered=False, **UPSTREAM_TOL)
        rep.count("torchvision upstream", not diffs)
        n = sum(map(len, produced))
        switched = None
        if diffs:  # torchvision with the switchable fcos4j decisions (class-id NMS, float32 threshold)
            switched = oracle_torchvision.run_case(case, oracle_torchvision.FCOS4J)
        if not diffs:
            rep.info(f"{label}: torchvision itself agrees ({n} detections)")
        elif not compare(produced, switched, ordered=False, **UPSTREAM_TOL):
            culprits = attribute(oracle_torchvision, case, switched)
            rep.info(f"{label}: torchvision itself differs in {len(diffs)} places, from the documented "
                     f"decision(s): {', '.join(culprits) or 'a combination'}", diffs)
        elif "ties" in case["name"]:
            rep.info(f"{label}: torchvision itself differs in {len(diffs)} places [exact score ties: tie order "
                     f"is unspecified upstream; informational]", diffs)
        else:
            rep.fail(f"{label}: torchvision itself differs ({n} detections)", diffs)
        return
    module = ORACLES[conv]
    mine = module.run_case(case, module.FCOS4J)
    diffs = compare(produced, mine, ordered=True, **EXACT)
    rep.count(f"{conv} fcos4j-decisions", not diffs)
    n = sum(map(len, produced))
    if diffs:
        rep.fail(f"{label}: oracle with the fcos4j decisions disagrees with fcos4j ({n} detections)", diffs)
        return
    upstream = module.run_case(case, module.UPSTREAM)
    udiffs = compare(produced, upstream, ordered=False, **UPSTREAM_TOL)
    rep.count(f"{conv} upstream", not udiffs)
    if not udiffs:
        rep.info(f"{label}: OK ({n} detections; upstream oracle agrees too)")
        return
    culprits = attribute(module, case, mine)
    why = ", ".join(culprits) if culprits else "a combination of decisions"
    rep.info(f"{label}: OK with the fcos4j decisions ({n} detections); upstream as it runs differs in "
             f"{len(udiffs)} places, from the documented decision(s): {why}", udiffs)


def fixtures_part(rep):
    paths = sorted(glob.glob(os.path.join(ROOT, "engines", "fixtures", "postprocess", "*.json")))
    if not paths:
        rep.fail("no fixtures found under engines/fixtures/postprocess")
    for p in paths:
        case = load_fixture(p)
        check_against(rep, "fixture " + case["name"], case, case["expected"])


def cli_command():
    cli = os.environ.get("FCOS4J_CLI", os.path.join(ROOT, "bin", "fcos4j"))
    if not os.path.exists(cli):
        return None, f"{cli} does not exist"
    probe = subprocess.run([cli, "--version"], capture_output=True, text=True)
    if probe.returncode != 0:
        text = (probe.stderr + probe.stdout).strip()
        if "not built" in text:  # bin/fcos4j's own message when the jar or target/lib is missing
            return None, text.splitlines()[0]
        # built but broken (no java, bad jar...): a failure, not a skip
        return False, f"{cli} --version exited {probe.returncode}: {text}"
    return cli, None


def cli_part(rep, cli, work, backend, seeds):
    cases = [c for seed in seeds for c in random_heads.all_cases(["mmdet", "fcos", "torchvision"], seed)]
    suffix = "" if backend == "reference" else f" [{backend}]"
    if len(seeds) > 1:
        for case in cases:
            case["name"] += f"_s{case['seed']}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [(case, pool.submit(run_cli, cli, work, case, backend)) for case in cases]
        for case, fut in futures:
            produced, err = fut.result()
            label = f"random {case['name']}{suffix}"
            if produced is None:
                rep.fail(f"{label}: fcos4j postprocess failed", err.splitlines())
                continue
            check_against(rep, label, case, produced)


def decisions_part(rep, cli, work, backend):
    """The minimal cases of decision_cases.py: upstream and fcos4j counts as documented, and the command
    line equal to the fcos4j-decision oracle."""
    for case, expect, what in decision_cases.cases():
        conv = case["convention"]
        label = f"decision {case['name']}" + ("" if backend == "reference" else f" [{backend}]")
        if conv == "torchvision":
            upstream = oracle_torchvision.run_case(case)
            mine = None  # torchvision keeps its float32 sigmoid: only the counts are compared
            switched = oracle_torchvision.run_case(case, oracle_torchvision.FCOS4J)
            if [len(i) for i in switched] != expect["fcos4j"]:
                rep.fail(f"{label}: torchvision with the fcos4j decisions gives {[len(i) for i in switched]}, "
                         f"expected {expect['fcos4j']}")
                continue
        else:
            module = ORACLES[conv]
            upstream, mine = module.run_case(case, module.UPSTREAM), module.run_case(case, module.FCOS4J)
        counts_up = [len(i) for i in upstream]
        if counts_up != expect["upstream"]:
            rep.fail(f"{label}: upstream oracle gives {counts_up} detections, the demo expects {expect['upstream']}")
            continue
        if mine is not None and [len(i) for i in mine] != expect["fcos4j"]:
            rep.fail(f"{label}: fcos4j-decision oracle gives {[len(i) for i in mine]}, expected {expect['fcos4j']}")
            continue
        if cli is None:
            rep.info(f"{label}: upstream {counts_up}, fcos4j rules {expect['fcos4j']} ({what}) [CLI skipped]")
            continue
        produced, err = run_cli(cli, work, case, backend)
        if produced is None:
            rep.fail(f"{label}: fcos4j postprocess failed", err.splitlines())
            continue
        got = [len(i) for i in produced]
        if mine is not None:
            diffs = compare(produced, mine, ordered=True, **EXACT)
            if diffs:
                rep.fail(f"{label}: fcos4j postprocess disagrees with the fcos4j-decision oracle", diffs)
                continue
        if got != expect["fcos4j"]:
            rep.fail(f"{label}: fcos4j postprocess gives {got} detections, the documented fcos4j rule {expect['fcos4j']}")
            continue
        tag = "same as upstream" if got == counts_up else "DIFFERS from upstream (documented)"
        rep.info(f"{label}: fcos4j {got} vs upstream {counts_up} detections: {tag}; {what}")


def run_cli(cli, work, case, backend):
    npz = os.path.join(work, case["name"] + ".npz")
    out = os.path.join(work, f"{case['name']}.{backend}.json")
    if not os.path.exists(npz):
        random_heads.write_npz(case, npz)
    proc = subprocess.run([cli] + random_heads.cli_args(case, npz, out) + ["--backend", backend],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None, proc.stderr.strip() or proc.stdout.strip()
    return read_cli_detections(out), None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="print the individual differences")
    ap.add_argument("--no-cli", action="store_true", help="only the self-checks and the committed fixtures")
    ap.add_argument("--keep", metavar="DIR", help="keep the random HEADS.npz and CLI outputs in DIR")
    ap.add_argument("--backend", action="append", choices=["reference", "emulated", "cuda"],
                    help="fcos4j postprocess --backend to check (repeatable; default: reference, or the "
                         "comma-separated list in env FCOS4J_PARITY_BACKENDS)")
    ap.add_argument("--seeds", type=int, default=1, metavar="K",
                    help="random-head sets to draw (K x 39 cases; default 1)")
    args = ap.parse_args()
    rep = Report(args.verbose)
    t0 = time.time()
    self_checks(rep)
    fixtures_part(rep)
    cli = None
    if not args.no_cli:
        cli, why = cli_command()
        if cli is None:
            print(f"SKIPPED the comparisons with the fcos4j command line: not built ({why}); "
                  "build it with: mvn -B -ntp -q package -DskipTests -pl java/fcos4j-cli -am")
        elif cli is False:
            rep.fail("the fcos4j command line does not run", why.splitlines())
            cli = None
    work = args.keep or tempfile.mkdtemp(prefix="fcos4j-parity-")
    os.makedirs(work, exist_ok=True)
    backends = args.backend or os.environ.get("FCOS4J_PARITY_BACKENDS", "reference").split(",")
    seeds = [random_heads.SEED + 7919 * k for k in range(args.seeds)]
    try:
        for backend in backends if cli is not None else ["reference"]:
            rep.backend = backend
            decisions_part(rep, cli, work, backend)
            if cli is not None:
                cli_part(rep, cli, work, backend, seeds)
    finally:
        if not args.keep:
            for f in glob.glob(os.path.join(work, "*")):
                os.remove(f)
            os.rmdir(work)
    print("summary (cases agreeing / compared):")
    for key, (agree, total) in sorted(rep.stats.items()):
        print(f"  {key:36s} {agree}/{total}")
    print(f"{'FAILED' if rep.failures else 'PASSED'}: {rep.failures} failure(s) in {time.time() - t0:.1f} s")
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
