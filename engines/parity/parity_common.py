"""Shared helpers of the parity harness: cases (fixture JSON / random heads), sigmoid variants, comparison.

A *case* is a dict shaped like a post-processing fixture (engines/POSTPROCESS.md section 7) except that
"cls", "reg", "ctr" hold one float32 numpy array per level, shaped [N, C, H, W], [N, 4, H, W], [N, 1, H, W].
A *result* is, per image, a list of detections (x1, y1, x2, y2, score, class) with float32 values and a
0-based class id.
"""
import json
import math

import numpy as np
import torch

F32 = np.float32


def f32(v):
    """The float32 value of a Python number (as torch compares a float32 tensor with a Python scalar)."""
    return float(np.float32(v))


def load_fixture(path):
    with open(path) as fh:
        fx = json.load(fh)
    return from_fixture(fx)


def from_fixture(fx):
    case = dict(fx)
    n, c = fx["batch"], fx["num_classes"]
    for key, ch in (("cls", c), ("reg", 4), ("ctr", 1)):
        case[key] = [np.asarray(vals, dtype=np.float64).astype(F32).reshape(n, ch, lv["height"], lv["width"])
                     for vals, lv in zip(fx[key], fx["levels"])]
    if fx.get("expected") is not None:
        case["expected"] = [[(*[F32(v) for v in d["box"]], F32(d["score"]), int(d["class"])) for d in img]
                            for img in fx["expected"]]
    return case


def sigmoid(x, mode):
    """mode "torch": torch's float32 sigmoid (what upstream runs); "double": (float)(1 / (1 + exp(-(double)x)))
    (engines/POSTPROCESS.md section 2, what fcos4j computes)."""
    if mode == "torch":
        return torch.sigmoid(x)
    if mode == "double":
        return (1.0 / (1.0 + torch.exp(-x.double()))).float()
    raise ValueError(mode)


def sort_desc(values, stable):
    """Descending sort; stable=False is torch's default (unspecified order among ties), stable=True keeps the
    input order among ties (the fcos4j decision)."""
    if stable:
        return torch.sort(values, descending=True, stable=True)
    return torch.sort(values, descending=True)


def result_to_json(result):
    return [[{"box": [float(d[0]), float(d[1]), float(d[2]), float(d[3])], "score": float(d[4]), "class": int(d[5])}
             for d in img] for img in result]


def read_cli_detections(path):
    with open(path) as fh:
        doc = json.load(fh)
    return [[(*[F32(v) for v in d["box"]], F32(d["score"]), int(d["class"])) for d in img["detections"]]
            for img in doc["images"]]


def _close(a, b, rel):
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= rel * max(1.0, abs(b))


def compare(got, expected, score_tol, box_tol, ordered):
    """Differences between two results (empty list when they agree).

    ordered=True: same count and the i-th detections agree (class exact, box/score within the relative
    tolerances). ordered=False: order-insensitive, each expected detection must be matched by a distinct
    produced one (for upstream orders that are unspecified among equal scores or not score-sorted)."""
    problems = []
    if len(got) != len(expected):
        return [f"{len(got)} images, expected {len(expected)}"]
    for n, (g, e) in enumerate(zip(got, expected)):
        if len(g) != len(e):
            problems.append(f"image {n}: {len(g)} detections, expected {len(e)}")
        if ordered:
            for k, (a, b) in enumerate(zip(g, e)):
                if not _same(a, b, score_tol, box_tol):
                    problems.append(f"image {n} detection {k}: {fmt(a)} vs expected {fmt(b)}")
            continue
        unused = list(range(len(g)))
        for b in e:
            hit = next((j for j in unused if _same(g[j], b, score_tol, box_tol)), None)
            if hit is None:
                problems.append(f"image {n}: expected {fmt(b)} not produced")
            else:
                unused.remove(hit)
        for j in unused:
            problems.append(f"image {n}: extra {fmt(g[j])}")
    return problems


def _same(a, b, score_tol, box_tol):
    return a[5] == b[5] and _close(a[4], b[4], score_tol) and all(_close(a[i], b[i], box_tol) for i in range(4))


def fmt(d):
    return "class %d box [%s, %s, %s, %s] score %s" % (d[5], *(repr(float(v)) for v in d[:5]))


def level_shapes(height, width, strides=(8, 16, 32, 64, 128)):
    """Level sizes of the model contract for a padded input H x W (multiple of 32): H/8, H/16, H/32, then
    ceil(prev/2) for the stride-2 convolutions of P6/P7 (engines/CONTRACT.md)."""
    out = []
    h, w = height, width
    for i, s in enumerate(strides):
        if s <= 32:
            h, w = height // s, width // s
        else:
            h, w = -(-h // 2), -(-w // 2)
        out.append({"stride": s, "height": h, "width": w})
    return out
