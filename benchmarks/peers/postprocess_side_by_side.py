#!/usr/bin/python3
"""fcos4j's Java post-processing side by side with what a CPU user would otherwise run, same inputs, same run.

Peers (Python, CPU, torch.set_num_threads(--threads)):
  torchvision  torchvision's own FCOS.postprocess_detections (score, top-k, BoxLinearCoder decode, clip,
               batched_nms) followed by GeneralizedRCNNTransform.postprocess (resize_boxes), on a real
               torchvision FCOS object with its default test settings (0.2 / 1000 / 0.6 / 100).
  mmdet        engines/parity/oracle_mmdet.py: a PyTorch RE-STATEMENT of mmdetection 3.x's
               BaseDenseHead._predict_by_feat_single for FCOSHead (mmdetection and mmcv cannot be installed
               here, so this is NOT mmdetection itself), upstream variant (torch sigmoid, torch sort, mmcv's
               class-offset batched_nms), settings 0.05 / 1000 / 0.5 / 100. Its mmcv nms_cpu re-statement is a
               Python loop; for timing it is replaced by torchvision.ops.nms, the C++ CPU kernel of the same
               greedy algorithm (offset 0, IoU > thr), so the peer is not handicapped by the Python loop.

Steps: (1) generate the "few" and "dense" R-50 head maps once (shapes and value distributions of
PostProcessBenchmark: 800x1344 input, 80 classes, 22,400 points; 8 images each, batch 1 = image 0) and write
them to OUT_DIR/{few,dense}.npz; (2) fcos4j's detections on them (dev.fcos4j.bench.PeerInputs);
(3) each peer's detections on the same tensors, compared with fcos4j's (count, boxes within --box-tol,
scores within --score-tol); (4) each peer timed in Python (layout conversion outside the timed region);
(5) fcos4j timed with JMH (PeerSideBySideBenchmark, sample-time mode, -prof gc) on the same files;
(6) one table, written to benchmarks/results/<date>-<machine>-postprocess-peers.md with the raw JMH JSON and
the Python samples beside it.

Run through `make bench-peers` (builds the benchmarks module first). --quick for a smoke run.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "engines" / "parity"))

# PostProcessBenchmark's R-50 shapes: 1000x600 image -> 1333x800, padded 800x1344
CLASSES = 80
LEVELS = [(8, 100, 168), (16, 50, 84), (32, 25, 42), (64, 13, 21), (128, 7, 11)]
PADDED = (800, 1344)
IMAGE = (600, 1000, 800, 1333)  # original H, W, resized H, W
FEW_CANDIDATES = 300  # per image
MAPS = ("few", "dense")
BATCHES = (1, 8)
PEERS = (("torchvision", "torchvision"), ("mmdet", "mmdet"))  # (peer, fcos4j convention)
BENCH_CP = "benchmarks/target/classes:benchmarks/target/lib/*"


# ----------------------------------------------------------------------------------------------- inputs

def make_map(kind, batch, seed):
    """R-50 head maps with PostProcessBenchmark's distributions. few: background logits min(-3.5, N(-7, 1.5))
    (below logit(0.05) and the torchvision prefilter) plus FEW_CANDIDATES per image uniform in [-2.9, 3];
    dense: every logit uniform in [-2.9, 3]. Distances uniform in [0, 12 * stride], centerness N(0, 1.5)."""
    rng = np.random.default_rng(seed)
    arrays = {"strides": np.array([s for s, _, _ in LEVELS], np.float32),
              "images": np.array([IMAGE] * batch, np.float32)}
    for l, (s, h, w) in enumerate(LEVELS):
        if kind == "dense":
            cls = rng.uniform(-2.9, 3.0, (batch, CLASSES, h, w))
        else:
            cls = np.minimum(-3.5, -7.0 + 1.5 * rng.standard_normal((batch, CLASSES, h, w)))
        arrays[f"cls_{l}"] = cls.astype(np.float32)
        arrays[f"reg_{l}"] = rng.uniform(0, 12 * s, (batch, 4, h, w)).astype(np.float32)
        arrays[f"ctr_{l}"] = (1.5 * rng.standard_normal((batch, 1, h, w))).astype(np.float32)
    if kind == "few":
        sizes = [CLASSES * h * w for _, h, w in LEVELS]
        bounds = np.cumsum([0] + sizes)
        for n in range(batch):
            for pick in rng.choice(bounds[-1], FEW_CANDIDATES, replace=False):
                l = int(np.searchsorted(bounds, pick, side="right") - 1)
                arrays[f"cls_{l}"][n].reshape(-1)[pick - bounds[l]] = np.float32(rng.uniform(-2.9, 3.0))
    return arrays


def load_map(path, batch):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    heads = {k: [torch.from_numpy(np.ascontiguousarray(arrays[f"{k}_{l}"][:batch])) for l in range(len(LEVELS))]
             for k in ("cls", "reg", "ctr")}
    images = [tuple(int(v) for v in row) for row in arrays["images"][:batch]]
    return heads, images


# ----------------------------------------------------------------------------------------------- peers

def torchvision_peer(heads, images):
    """Returns (timed callable, detections of one call). Everything before the callable - the FCOS object,
    the anchors (made by FCOS.forward before post-processing) and the contract -> torchvision layout
    conversion - is outside the timed region."""
    from torchvision.models.detection.fcos import FCOS
    from torchvision.models.detection.image_list import ImageList

    backbone = torch.nn.Module()
    backbone.out_channels = 32  # only the (unused) head is sized by it (GroupNorm(32, .))
    model = FCOS(backbone, num_classes=CLASSES).eval()  # defaults: 0.2 / 1000 / 0.6 / 100
    n = len(images)
    sizes = [(rh, rw) for _, _, rh, rw in images]
    originals = [(oh, ow) for oh, ow, _, _ in images]
    feats = [torch.empty(n, 1, h, w) for _, h, w in LEVELS]
    anchors = model.anchor_generator(ImageList(torch.empty(n, 3, *PADDED), sizes), feats)
    hw = [h * w for _, h, w in LEVELS]
    anchors = [list(a.split(hw)) for a in anchors]
    # FCOSHead.forward output: per level [N, HW, C] / [N, HW, 4] (distances in anchor-size units) / [N, HW, 1],
    # concatenated over levels; FCOS.forward splits them back per level (views)
    to_tv = lambda t: t.permute(0, 2, 3, 1).reshape(n, -1, t.shape[1])
    head = {"cls_logits": torch.cat([to_tv(c) for c in heads["cls"]], 1).split(hw, 1),
            "bbox_regression": torch.cat([to_tv(r / s) for r, (s, _, _) in zip(heads["reg"], LEVELS)], 1).split(hw, 1),
            "bbox_ctrness": torch.cat([to_tv(t) for t in heads["ctr"]], 1).split(hw, 1)}
    head = {k: list(v) for k, v in head.items()}

    def run():
        detections = model.postprocess_detections(head, anchors, sizes)
        return model.transform.postprocess(detections, sizes, originals)

    def to_list(result):
        return [[(*b.tolist(), float(s), int(l)) for b, s, l in zip(d["boxes"], d["scores"], d["labels"])]
                for d in result]
    return run, to_list


def mmdet_peer(heads, images):
    """The mmdetection re-statement (engines/parity/oracle_mmdet.py, upstream variant): priors made on every
    call (as predict_by_feat does), then _predict_by_feat_single per image. Contract NCHW is mmdet's layout."""
    import oracle_mmdet as om
    import torchvision

    def cpp_nms(boxes, scores, iou_threshold, offset=0, stable_ties=False, labels=None):
        # mmcv nms_cpu and torchvision's CPU nms kernel: same greedy pass, offset 0, `iou > threshold`
        assert offset == 0 and labels is None and not stable_ties
        return torchvision.ops.nms(boxes, scores, float(np.float32(iou_threshold)))
    om.nms = cpp_nms  # batched_nms looks it up in the module at call time
    metas = [{"img_shape": (rh, rw), "scale_factor": (rw / ow, rh / oh)} for oh, ow, rh, rw in images]
    cfg = {"nms_pre": 1000, "score_thr": 0.05, "min_bbox_size": 0, "iou_threshold": 0.5, "max_per_img": 100}
    cls, reg, ctr = heads["cls"], heads["reg"], heads["ctr"]
    strides = [s for s, _, _ in LEVELS]

    def run():
        priors = [om.single_level_grid_priors(c.shape[-2:], s) for c, s in zip(cls, strides)]
        return [om._predict_by_feat_single([c[i] for c in cls], [r[i] for r in reg], [t[i] for t in ctr], priors,
                                           meta, cfg, om.UPSTREAM) for i, meta in enumerate(metas)]

    def to_list(result):
        return [[(*b[k].tolist(), float(s[k]), int(l[k])) for k in range(b.size(0))] for b, s, l in result]
    return run, to_list


PEER_FACTORIES = {"torchvision": torchvision_peer, "mmdet": mmdet_peer}


def time_calls(fn, warmup, min_reps, min_seconds, max_seconds):
    """Times single calls (ms): `warmup` untimed calls (fewer if they take over max_seconds / 4, at least 2),
    then at least min_reps calls and min_seconds, but stop at max_seconds (after at least 20 calls)."""
    start = time.perf_counter()
    for i in range(warmup):
        fn()
        if i >= 1 and time.perf_counter() - start > max_seconds / 4:
            break
    samples = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t0)
        elapsed = time.perf_counter() - start
        if len(samples) >= min_reps and elapsed >= min_seconds:
            break
        if elapsed >= max_seconds and len(samples) >= 20:
            break
    return np.array(samples, dtype=np.float64) / 1e6


# ----------------------------------------------------------------------------------------------- comparison

def compare(got, want, box_tol, score_tol):
    """Problems (empty when equal): same count per image; detection i of `got` matches detection i of `want`
    (class exact, |box| <= box_tol, |score| <= score_tol); where the order differs only among equal scores,
    an order-free match is accepted and noted."""
    problems, notes = [], []
    same = lambda a, b: (a[5] == b[5] and abs(a[4] - b[4]) <= score_tol
                         and all(abs(a[i] - b[i]) <= box_tol for i in range(4)))
    for n, (g, w) in enumerate(zip(got, want)):
        if len(g) != len(w):
            problems.append(f"image {n}: {len(g)} detections, fcos4j {len(w)}")
            continue
        if all(same(a, b) for a, b in zip(g, w)):
            continue
        unused = list(range(len(g)))
        for b in w:
            hit = next((j for j in unused if same(g[j], b)), None)
            if hit is None:
                k = next(i for i, (a, c) in enumerate(zip(g, w)) if not same(a, c))
                problems.append(f"image {n}: detection {k} {fmt(g[k])} vs fcos4j {fmt(w[k])}")
                break
            unused.remove(hit)
        else:
            notes.append(f"image {n}: same set, order differs")
    return problems, notes


def fmt(d):
    return "class %d [%.4f %.4f %.4f %.4f] %.7f" % (d[5], *d[:5])


# ----------------------------------------------------------------------------------------------- Java side

def java_detections(out_dir, classpath):
    dump = out_dir / "fcos4j-detections.json"
    subprocess.run(["java", "-cp", classpath, "dev.fcos4j.bench.PeerInputs", str(out_dir), str(dump), ",".join(MAPS),
                    ",".join(c for _, c in PEERS), ",".join(map(str, BATCHES))], check=True, cwd=ROOT)
    with open(dump) as fh:
        return {k: [[tuple(d) for d in img] for img in v] for k, v in json.load(fh).items()}


def run_jmh(out_dir, json_path, classpath, jmh_args):
    cmd = ["java", f"-Dfcos4j.bench.out={json_path}", "-cp", classpath, "dev.fcos4j.bench.BenchMain",
           "PeerSideBySideBenchmark", "-p", f"dir={out_dir}"] + jmh_args
    print("+ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)
    with open(json_path) as fh:
        rows = json.load(fh)
    out = {}
    for r in rows:
        p = r["params"]
        pm = r["primaryMetric"]
        assert pm["scoreUnit"] == "ms/op", pm["scoreUnit"]
        alloc = next((m["score"] for k, m in r.get("secondaryMetrics", {}).items() if k.endswith("gc.alloc.rate.norm")),
                     None)
        out[(p["convention"], p["map"], int(p["batch"]))] = {
            "median": pm["scorePercentiles"]["50.0"], "p99": pm["scorePercentiles"]["99.0"],
            "samples": sum(sum(n for _, n in it) for it in pm["rawDataHistogram"][0]) if pm.get("rawDataHistogram") else None,
            "alloc_b_per_op": alloc}
    return out


# ----------------------------------------------------------------------------------------------- main

def machine_name():
    model = platform.processor() or ""
    try:
        model = next(l.split(":", 1)[1] for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    words = [w for w in re.sub(r"\(.*?\)|@.*", " ", model).lower().split() if w not in ("processor", "cpu")]
    return "-".join(words[:3] + [f"{os.cpu_count()}c"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default="out/bench-peers", help="inputs and dumps (git-ignored)")
    ap.add_argument("--results-dir", default="benchmarks/results")
    ap.add_argument("--machine", default=None, help="name in the result file name (default: from the CPU model)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads for the peers")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--warmup", type=int, default=10, help="untimed peer calls per cell")
    ap.add_argument("--min-reps", type=int, default=200, help="timed peer calls per cell, at least")
    ap.add_argument("--min-seconds", type=float, default=10.0, help="timed seconds per cell, at least")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="timed seconds per cell, at most (>= 20 calls)")
    ap.add_argument("--jmh", default="", help="extra JMH options, e.g. '-wi 2 -i 3'")
    ap.add_argument("--box-tol", type=float, default=1e-3)
    ap.add_argument("--score-tol", type=float, default=1e-5)
    ap.add_argument("--quick", action="store_true", help="smoke run: few repetitions, short JMH, no result file")
    ap.add_argument("--note", default="", help="a line for the result file (e.g. 'loaded machine')")
    args = ap.parse_args()
    if args.quick:
        args.warmup, args.min_reps, args.min_seconds, args.max_seconds = 2, 5, 0.0, 0.0
        args.jmh = args.jmh or "-wi 1 -w 300ms -i 1 -r 500ms"
    torch.set_num_threads(args.threads)
    out_dir = (ROOT / args.out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    classpath = BENCH_CP
    if not (ROOT / "benchmarks/target/classes/dev/fcos4j/bench/PeerInputs.class").exists():
        sys.exit("benchmarks module not built: mvn -B -ntp -o -q -pl benchmarks -am package -DskipTests (make bench-peers does it)")
    started = time.time()
    load = os.getloadavg()[0]  # recorded: the peers' OpenMP threads suffer badly on a busy machine
    date = datetime.date.today().isoformat()
    machine = args.machine or machine_name()
    command = " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).as_posix()] + sys.argv[1:])

    # (1) inputs, once
    for i, kind in enumerate(MAPS):
        np.savez(out_dir / f"{kind}.npz", **make_map(kind, max(BATCHES), args.seed + i))
    print(f"inputs: {out_dir}/{{{','.join(MAPS)}}}.npz ({max(BATCHES)} images each)", flush=True)

    # (2) fcos4j's detections on them
    java = java_detections(out_dir, classpath)

    # (3) + (4) peers: agreement, then timing
    py, checks, samples_out = {}, {}, {}
    with torch.inference_mode():
        for peer, convention in PEERS:
            for kind in MAPS:
                for batch in BATCHES:
                    heads, images = load_map(out_dir / f"{kind}.npz", batch)
                    run, to_list = PEER_FACTORIES[peer](heads, images)
                    got = to_list(run())
                    want = java[f"{convention}/{kind}/{batch}"]
                    problems, notes = compare(got, want, args.box_tol, args.score_tol)
                    counts = "/".join(str(len(img)) for img in want) if batch == 1 else f"{sum(map(len, want))} in {batch}"
                    checks[(peer, kind, batch)] = (problems, notes, counts)
                    t = time_calls(run, args.warmup, args.min_reps, args.min_seconds, args.max_seconds)
                    py[(peer, kind, batch)] = {"median": float(np.median(t)), "p99": float(np.percentile(t, 99)),
                                               "samples": len(t)}
                    samples_out[f"{peer}/{kind}/{batch}"] = [round(v, 4) for v in t.tolist()]
                    verdict = "same" if not problems else "DIFFERENT: " + "; ".join(problems[:3])
                    print(f"{peer:12s} {kind:5s} b{batch}: median {np.median(t) / batch:8.3f} ms/img over {len(t)} calls,"
                          f" detections {verdict} ({counts}){' ' + '; '.join(notes) if notes else ''}", flush=True)

    # (5) fcos4j with JMH on the same files
    stem = f"{date}-{machine}-postprocess-peers"
    results = ROOT / args.results_dir
    jmh_json = (out_dir if args.quick else results) / f"{stem}-jmh.json"
    jmh = run_jmh(out_dir, jmh_json, classpath, shlex.split(args.jmh))

    # (6) the table
    lines = [f"- machine: {machine} ({platform.machine()}, {os.cpu_count()} cores), "
             f"Python {platform.python_version()}, torch {torch.__version__}, "
             f"torchvision {__import__('torchvision').__version__}, torch threads {args.threads}; "
             f"fcos4j: Java {java_version()}, 1 thread",
             f"- date: {date}, load average (1 min) at start: {load:.2f}", f"- command: `{command}`"] + ([f"- note: {args.note}"] if args.note else []) + ["",
             "| peer | convention | map | batch | median ms/img | p99 ms/img | ratio peer/fcos4j (median) |"
             " calls timed | alloc B/img | same detections as fcos4j |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for peer, convention in PEERS:
        for kind in MAPS:
            for batch in BATCHES:
                j = jmh[(convention, kind, batch)]
                alloc = "%.0f" % (j["alloc_b_per_op"] / batch) if j["alloc_b_per_op"] is not None else "?"
                lines.append(f"| fcos4j (Java) | {convention} | {kind} | {batch} | {j['median'] / batch:.3f} |"
                             f" {j['p99'] / batch:.3f} | 1 | {j['samples'] or '?'} | {alloc} | |")
                p = py[(peer, kind, batch)]
                problems, notes, counts = checks[(peer, kind, batch)]
                same = ("yes" if not problems else "**NO**: " + "; ".join(problems[:2])) + f" ({counts} dets"
                same += (", " + "; ".join(notes) + ")") if notes else ")"
                name = "torchvision 0.14" if peer == "torchvision" else "mmdet re-statement"
                lines.append(f"| {name} | {convention} | {kind} | {batch} | {p['median'] / batch:.3f} |"
                             f" {p['p99'] / batch:.3f} | {p['median'] / j['median']:.1f} | {p['samples']} | - | {same} |")
    table = "\n".join(lines)
    print("\n" + table + "\n")
    print(f"wall time {time.time() - started:.0f} s")
    if args.quick:
        print("(--quick: no result file written)")
        return 1 if any(c[0] for c in checks.values()) else 0
    with open(results / f"{stem}-python.json", "w") as fh:
        json.dump({"unit": "ms per call (batch images)", "threads": args.threads, "samples": samples_out}, fh)
    with open(results / f"{stem}.md", "w") as fh:
        fh.write(f"# Post-processing side by side with CPU peers ({date}, {machine})\n\n"
                 "Written by `benchmarks/peers/postprocess_side_by_side.py` (method: benchmarks/results/README.md,"
                 " \"Side by side with CPU peers\"). Raw data: "
                 f"`{stem}-jmh.json` (fcos4j, JMH) and `{stem}-python.json` (peer call times).\n\n"
                 "\"mmdet re-statement\" is engines/parity/oracle_mmdet.py, a PyTorch re-statement of mmdetection's"
                 " `_predict_by_feat_single`, not mmdetection itself (it cannot be installed here).\n\n"
                 + table + "\n\n"
                 "alloc B/img: JMH's gc.alloc.rate.norm / batch. In sample-time mode it includes JMH's own bookkeeping"
                 " (a roughly constant rate at any op rate, gc.count 0); fcos4j's `processInto` itself allocates ~0"
                 " (AverageTime figures in postprocess-jmh.json).\n")
    print(f"wrote {results / (stem + '.md')}, {jmh_json.name}, {stem}-python.json")
    return 1 if any(c[0] for c in checks.values()) else 0


def java_version():
    out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "([^"]+)"', out)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    sys.exit(main())
