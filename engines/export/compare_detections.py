#!/usr/bin/python3
"""Compare two sets of detections image by image: a reference (the source framework's own pipeline, e.g. the
JSON of parity_torchvision.py) and a candidate (fcos4j's `detect` output, detections.json).

Per image it matches detections one to one (same class, every box coordinate within --box-tol pixels, score
within --score-tol), best-scored reference first, and reports matched / missing (reference only) / extra
(candidate only) detections with the largest box and score differences among the matched ones.

Two frameworks that compute the same thing in a different order (ONNX Runtime vs torch kernels, OpenCV vs
torch resizing) produce head outputs that differ by ~1e-6 relative. That can legitimately move a detection
across a hard cut, and only there:
- the score threshold: a detection within --borderline of it may exist on one side only;
- the max_detections cap: when a side holds exactly max_detections detections, one within --borderline of its
  last kept score may be replaced by another equally close one on the other side.
Such unmatched detections are counted as `borderline`; any other unmatched detection is a failure.
A failure also happens when an image is missing on one side or its original size differs.

Usage:
  compare_detections.py REFERENCE.json CANDIDATE.json [--report R.json] [--box-tol 0.01] [--score-tol 1e-4]
Exit status 0 when every image agrees, 1 otherwise, 2 on unreadable input.
Image keys: the file name without directories (both tools are given the same files).
"""
import argparse
import json
import math
import os
import sys


def load(path):
    """Returns {image_key: {"width", "height", "detections": [(x1,y1,x2,y2,score,cls,label)]}} and the settings."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"compare_detections: cannot read {path}: {e}")
    if "images" not in doc or not isinstance(doc["images"], list):
        sys.exit(f"compare_detections: {path} has no 'images' list (expected parity_torchvision.py or "
                 f"fcos4j detect JSON)")
    info = doc.get("info", doc)
    settings = {}
    for k in ("score_threshold", "max_detections"):
        if k in info:
            settings[k] = float(info[k])
    images = {}
    for i, im in enumerate(doc["images"]):
        name = im.get("file", im.get("source"))
        if name is None:
            sys.exit(f"compare_detections: {path}: image #{i} has neither 'file' nor 'source'")
        key = os.path.basename(name)
        if key in images:
            sys.exit(f"compare_detections: {path}: two images are named {key}")
        width = im.get("original_width", im.get("width"))
        height = im.get("original_height", im.get("height"))
        dets = []
        for d in im.get("detections", []):
            x1, y1, x2, y2 = (float(v) for v in d["box"])
            dets.append((x1, y1, x2, y2, float(d["score"]), int(d["class"]), d.get("label", "")))
        images[key] = {"width": width, "height": height, "detections": dets}
    return images, settings


def compare_image(ref, cand, box_tol, score_tol, threshold, cap, borderline):
    """One image: returns a dict with counts, differences and the unmatched detections."""
    order = sorted(range(len(ref)), key=lambda i: -ref[i][4])
    used = [False] * len(cand)
    matched = []
    missing = []
    for i in order:
        a = ref[i]
        best, best_diff = -1, math.inf
        for j, b in enumerate(cand):
            if used[j] or b[5] != a[5] or abs(b[4] - a[4]) > score_tol:
                continue
            diff = max(abs(a[k] - b[k]) for k in range(4))
            if diff <= box_tol and diff < best_diff:
                best, best_diff = j, diff
        if best < 0:
            missing.append(a)
        else:
            used[best] = True
            matched.append((a, cand[best], best_diff))
    extra = [cand[j] for j in range(len(cand)) if not used[j]]

    def tolerated(det, own, other):
        s = det[4]
        if threshold is not None and abs(s - threshold) <= borderline:
            return True
        if cap is not None:
            for side in (own, other):
                if len(side) >= cap and side and abs(s - min(d[4] for d in side)) <= borderline:
                    return True
        return False

    bad_missing = [d for d in missing if not tolerated(d, ref, cand)]
    bad_extra = [d for d in extra if not tolerated(d, cand, ref)]
    return {
        "reference": len(ref), "candidate": len(cand), "matched": len(matched),
        "missing": len(missing), "extra": len(extra),
        "borderline": len(missing) - len(bad_missing) + len(extra) - len(bad_extra),
        "max_box_diff": max((m[2] for m in matched), default=0.0),
        "max_score_diff": max((abs(m[0][4] - m[1][4]) for m in matched), default=0.0),
        "unexplained_missing": [fmt(d) for d in bad_missing],
        "unexplained_extra": [fmt(d) for d in bad_extra],
        "ok": not bad_missing and not bad_extra,
    }


def fmt(d):
    return {"box": [round(v, 4) for v in d[:4]], "score": d[4], "class": d[5], "label": d[6]}


def main(argv=None):
    ap = argparse.ArgumentParser(description="per-image agreement of two detection JSON files")
    ap.add_argument("reference")
    ap.add_argument("candidate")
    ap.add_argument("--report", help="write the per-image report as JSON here")
    ap.add_argument("--box-tol", type=float, default=0.01, help="max |coordinate difference| in pixels")
    ap.add_argument("--score-tol", type=float, default=1e-5, help="max |score difference|")
    ap.add_argument("--borderline", type=float, default=1e-5,
                    help="an unmatched detection this close to the threshold or to the cap's last score is tolerated")
    ap.add_argument("--quiet", action="store_true", help="print only the summary and failures")
    args = ap.parse_args(argv)

    ref, ref_settings = load(args.reference)
    cand, cand_settings = load(args.candidate)
    threshold = ref_settings.get("score_threshold", cand_settings.get("score_threshold"))
    cap = ref_settings.get("max_detections", cand_settings.get("max_detections"))
    cap = int(cap) if cap is not None else None

    rows = []
    ok = True
    for key in sorted(set(ref) | set(cand)):
        if key not in cand or key not in ref:
            rows.append({"image": key, "ok": False, "error": "only in " + ("reference" if key in ref else "candidate")})
            ok = False
            continue
        r, c = ref[key], cand[key]
        if (r["width"], r["height"]) != (c["width"], c["height"]):
            rows.append({"image": key, "ok": False,
                         "error": f"original size {r['width']}x{r['height']} vs {c['width']}x{c['height']}"})
            ok = False
            continue
        row = {"image": key}
        row.update(compare_image(r["detections"], c["detections"], args.box_tol, args.score_tol,
                                 threshold, cap, args.borderline))
        ok &= row["ok"]
        rows.append(row)

    total = {k: sum(r.get(k, 0) for r in rows) for k in ("reference", "candidate", "matched", "missing",
                                                           "extra", "borderline")}
    total["max_box_diff"] = max((r.get("max_box_diff", 0.0) for r in rows), default=0.0)
    total["max_score_diff"] = max((r.get("max_score_diff", 0.0) for r in rows), default=0.0)
    total["images"] = len(rows)
    total["failed_images"] = sum(1 for r in rows if not r["ok"])

    for r in rows:
        if "error" in r:
            print(f"FAIL {r['image']}: {r['error']}")
            continue
        if args.quiet and r["ok"]:
            continue
        print(f"{'ok  ' if r['ok'] else 'FAIL'} {r['image']}: {r['reference']} vs {r['candidate']} detections, "
              f"{r['matched']} matched (box <= {r['max_box_diff']:.2g} px, score <= {r['max_score_diff']:.2g}), "
              f"{r['missing']} missing, {r['extra']} extra ({r['borderline']} borderline)")
        for d in r["unexplained_missing"]:
            print(f"     missing: {d}")
        for d in r["unexplained_extra"]:
            print(f"     extra:   {d}")
    print(f"{'agree' if ok else 'DISAGREE'}: {total['images']} images, {total['reference']} reference / "
          f"{total['candidate']} candidate detections, {total['matched']} matched, {total['missing']} missing, "
          f"{total['extra']} extra ({total['borderline']} borderline at the threshold or the cap); "
          f"max box difference {total['max_box_diff']:.3g} px, max score difference {total['max_score_diff']:.3g}")
    if args.report:
        os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
        with open(args.report, "w") as f:
            json.dump({"reference": args.reference, "candidate": args.candidate,
                       "tolerances": {"box": args.box_tol, "score": args.score_tol, "borderline": args.borderline},
                       "summary": total, "images": rows}, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
