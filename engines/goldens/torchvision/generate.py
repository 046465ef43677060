#!/usr/bin/python3
"""Generate the torchvision post-processing goldens (fixture format of engines/POSTPROCESS.md).

For every case below this script builds torchvision's own FCOS (fcos_resnet50_fpn, no weights), makes
seeded random head outputs shaped exactly as FCOSHead returns them (cls_logits [N, sum HW, C],
bbox_regression [N, sum HW, 4] >= 0 in anchor-size units, bbox_ctrness [N, sum HW, 1]), makes the anchors
with torchvision's AnchorGenerator for the batch's padded ImageList, and runs torchvision's
FCOS.postprocess_detections + GeneralizedRCNNTransform.postprocess on them. The JSON written holds the
per-level NCHW tensors of the model contract (regression x anchor size = input pixels) and torchvision's
detections.

Before a case is written, the script checks (asserts) that the numbers obey the written spec:
  * regression x anchor size is exact in float32 (powers of two);
  * torchvision's BoxLinearCoder.decode equals px - l, py - t, px + r, py + b in float32 for every point,
    with px = x * (padded_W // W_l), py = y * (padded_H // H_l) (torchvision's AnchorGenerator strides;
    they equal the nominal strides 8..128 unless the padded size is not a multiple of 64 / 128, see README);
  * an independent numpy implementation of the spec (sigmoid in double, float32 elsewhere, stable ranks,
    class-aware greedy NMS without the coordinate-offset trick) reproduces torchvision's detections
    exactly in count, class and order, boxes and scores to 1e-6;
  * no decision is within rounding distance of a threshold (score threshold, top-k boundary, IoU
    threshold) and no two different kept detections tie in score, so any correct float32
    implementation must give the same answer. A seed that fails these margins is replaced by the next.

Usage: /usr/bin/python3 engines/goldens/torchvision/generate.py [--out DIR] [--check]
  --check  regenerate in memory and compare with the committed files instead of writing.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torchvision
from torchvision.models.detection import fcos_resnet50_fpn
from torchvision.models.detection.image_list import ImageList

NOMINAL_STRIDES = (8, 16, 32, 64, 128)
HERE = os.path.dirname(os.path.abspath(__file__))

# Each case: batch of images as (original_h, original_w, resized_h, resized_w); the padded input is the
# batch maximum rounded up to 32 (torchvision's batch_images with size_divisible=32).
# profile picks how the head outputs are drawn (see make_heads).
CASES = [
    dict(name="tv_c91_b1", num_classes=91, images=[(300, 600, 64, 128)], profile="sparse", hot=40,
         note="torchvision's default 91 classes (COCO with N/A slots), one image, defaults 0.2/1000/0.6/100"),
    dict(name="tv_c5_b3_mixed_sizes", num_classes=5, images=[(400, 300, 128, 96), (250, 320, 100, 128),
                                                            (64, 64, 64, 64)],
         profile="sparse", hot=60,
         note="batch of 3 different resized sizes padded to 128x128; clipping per image; one unscaled image"),
    dict(name="tv_c8_b1_max_cap", num_classes=8, images=[(512, 512, 128, 128)], profile="many_small", hot=500,
         note="more than 100 detections survive NMS: the max_detections cap decides"),
    dict(name="tv_c3_b1_topk", num_classes=3, images=[(600, 600, 256, 256)], profile="dense_level0", hot=1800,
         note="more than topk_candidates (1000) candidates on level 0: the per-level top-k decides"),
    dict(name="tv_c4_b2_duplicates", num_classes=4, images=[(256, 256, 128, 128), (200, 100, 128, 64)],
         profile="duplicates", hot=30,
         note="exact duplicate boxes (same class: one kept; other class: both kept) from different points"),
    dict(name="tv_c7_b2_p6p7_strides", num_classes=7, images=[(192, 320, 96, 160), (160, 300, 80, 150)],
         profile="upper_levels", hot=40,
         note="padded 96x160: torchvision's P6/P7 point spacing is padded//size (48/53, 96/80), not 64/128"),
    dict(name="tv_c6_b1_custom_config", num_classes=6, images=[(333, 260, 128, 100)], profile="many_small", hot=200,
         score_threshold=0.3, nms_pre=50, iou_threshold=0.5, max_detections=20,
         note="non-default thresholds: score 0.3, top-k 50 per level, IoU 0.5, at most 20"),
    dict(name="tv_c2_b1_empty", num_classes=2, images=[(70, 90, 64, 64)], profile="sparse", hot=0,
         note="no candidate above the threshold: no detections"),
]

DEFAULTS = dict(score_threshold=0.2, nms_pre=1000, iou_threshold=0.6, max_detections=100)


def level_shapes(ph, pw):
    """FPN level sizes for a padded input: P3..P5 by division, P6/P7 by stride-2 3x3 convs (ceil)."""
    hs = [ph // 8, ph // 16, ph // 32]
    ws = [pw // 8, pw // 16, pw // 32]
    for _ in range(2):
        hs.append((hs[-1] + 1) // 2)
        ws.append((ws[-1] + 1) // 2)
    return list(zip(hs, ws))


def f32(x):
    return np.float32(x)


def sigmoid_spec(x):
    """The spec's sigmoid: (float)(1 / (1 + exp(-(double) x)))."""
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)


def make_heads(rng, case, shapes, n):
    """Head outputs as torchvision's FCOSHead returns them, per level (before concatenation)."""
    c = case["num_classes"]
    profile = case["profile"]
    cls, reg, ctr = [], [], []
    for l, (h, w) in enumerate(shapes):
        hw = h * w
        cls.append(rng.normal(-6.0, 1.0, size=(n, hw, c)).astype(np.float32))
        # distances in anchor-size units, ReLU'd like the head: some exact zeros
        r = rng.uniform(0.1, 2.5, size=(n, hw, 4)).astype(np.float32)
        r[rng.random(size=r.shape) < 0.03] = 0.0
        reg.append(r)
        ctr.append(rng.normal(0.0, 1.0, size=(n, hw, 1)).astype(np.float32))

    def heat(i, l, p, k, lo=-1.0, hi=3.0):
        cls[l][i, p, k] = f32(rng.uniform(lo, hi))
        ctr[l][i, p, 0] = f32(rng.normal(0.5, 1.0))

    hot = case["hot"]
    for i in range(n):
        if profile == "sparse":
            for _ in range(hot):
                l = rng.integers(0, 5)
                heat(i, l, rng.integers(0, cls[l].shape[1]), rng.integers(0, c))
        elif profile == "many_small":
            # small boxes on P3/P4, many classes: little suppression
            for _ in range(hot):
                l = rng.integers(0, 2)
                p = rng.integers(0, cls[l].shape[1])
                heat(i, l, p, rng.integers(0, c), 0.0, 4.0)
                reg[l][i, p] = rng.uniform(0.2, 0.9, size=4).astype(np.float32)
        elif profile == "dense_level0":
            hw = cls[0].shape[1]
            flat = rng.choice(hw * c, size=min(hot, hw * c), replace=False)
            for f in flat:
                heat(i, 0, f // c, f % c, -0.5, 5.0)
            for p in range(hw):
                reg[0][i, p] = rng.uniform(0.2, 0.8, size=4).astype(np.float32)
            for _ in range(20):
                l = rng.integers(1, 5)
                heat(i, l, rng.integers(0, cls[l].shape[1]), rng.integers(0, c))
        elif profile == "upper_levels":
            for _ in range(hot):
                l = rng.integers(3, 5) if rng.random() < 0.7 else rng.integers(0, 3)
                heat(i, l, rng.integers(0, cls[l].shape[1]), rng.integers(0, c), 0.0, 4.0)
            # the last point of P6 and P7 (largest x and y) always hot, so the spacing shows
            for l in (3, 4):
                heat(i, l, cls[l].shape[1] - 1, rng.integers(0, c), 2.0, 4.0)
        elif profile == "duplicates":
            for _ in range(hot):
                l = rng.integers(0, 3)
                heat(i, l, rng.integers(0, cls[l].shape[1]), rng.integers(0, c))
        else:
            raise ValueError(profile)
    return cls, reg, ctr


def add_duplicates(cls, reg, ctr, shapes, strides_eff, anchor_sizes, n, c):
    """Make points whose decoded boxes are bit-identical to another point's (same and other class)."""
    for i in range(n):
        # P3 point (x=4, y=4) and P4 point (x=2, y=2) share the position (32, 32) when strides are 8 / 16
        (h0, w0), (h1, w1) = shapes[0], shapes[1]
        p0 = 4 * w0 + 4
        p1 = 2 * w1 + 2
        assert 4 * strides_eff[0][0] == 2 * strides_eff[1][0] == 32
        d = np.array([1.5, 1.25, 2.0, 0.75], dtype=np.float32)  # P3 units; P4 units are half (exact)
        reg[0][i, p0] = d
        reg[1][i, p1] = d * f32(anchor_sizes[0] / anchor_sizes[1])
        # same class 1, same logits: identical box and score -> one survives
        cls[0][i, p0, 1] = cls[1][i, p1, 1] = f32(2.25)
        ctr[0][i, p0, 0] = ctr[1][i, p1, 0] = f32(1.0)
        # class 2 at the P4 point too: same box, different class -> kept as well
        cls[1][i, p1, 2] = f32(1.5)
        # a second same-class duplicate pair with different scores: the lower one is suppressed
        p0b = 10 * w0 + 3 if h0 > 10 else 3 * w0 + 10
        y0b, x0b = divmod(p0b, w0)
        if y0b % 2 == 0 and x0b % 2 == 0:
            raise AssertionError("pick an odd P3 point")
        p0c = (y0b + 1) * w0 + (x0b + 1)  # neighbour 8 px right/down; its distances shifted by 1 unit
        e = np.array([2.0, 2.0, 1.0, 1.0], dtype=np.float32)
        reg[0][i, p0b] = e
        reg[0][i, p0c] = e + np.array([1, 1, -1, -1], dtype=np.float32)
        cls[0][i, p0b, 0] = f32(1.75)
        cls[0][i, p0c, 0] = f32(0.5)
        ctr[0][i, p0b, 0] = ctr[0][i, p0c, 0] = f32(0.25)


def to_nchw(t, n, h, w):
    return np.ascontiguousarray(t.reshape(n, h, w, -1).transpose(0, 3, 1, 2))


def iou_f32(bq, bj):
    iw = max(f32(0), min(bq[2], bj[2]) - max(bq[0], bj[0]))
    ih = max(f32(0), min(bq[3], bj[3]) - max(bq[1], bj[1]))
    inter = f32(iw * ih)
    union = f32(f32((bq[2] - bq[0]) * (bq[3] - bq[1])) + f32((bj[2] - bj[0]) * (bj[3] - bj[1]))) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return f32(inter / union)


def reference(case_cfg, c, levels_nchw, shapes, strides_eff, metas):
    """Independent numpy implementation of the torchvision rules of the spec. Returns detections and
    the smallest distances of any decision to its threshold (for the margin checks)."""
    thr = f32(case_cfg["score_threshold"])
    nms_pre = case_cfg["nms_pre"]
    iou_thr = f32(case_cfg["iou_threshold"])
    max_det = case_cfg["max_detections"]
    out = []
    margins = dict(score=math.inf, topk=math.inf, iou=math.inf, tie=math.inf)
    cls_l, reg_l, ctr_l = levels_nchw
    for i, (oh, ow, rh, rw) in enumerate(metas):
        boxes, scores, labels = [], [], []
        for l, (h, w) in enumerate(shapes):
            cl = cls_l[l][i].transpose(1, 2, 0).reshape(-1)  # flat p*C + c
            ct = ctr_l[l][i].reshape(-1)
            s = np.sqrt(sigmoid_spec(cl) * np.repeat(sigmoid_spec(ct), c))
            rel = np.abs(s.astype(np.float64) - float(thr)) / float(thr)
            margins["score"] = min(margins["score"], float(rel.min()))
            idx = np.nonzero(s > thr)[0]
            order = np.argsort(-s[idx], kind="stable")
            if len(order) > nms_pre:
                a, b = s[idx[order[nms_pre - 1]]], s[idx[order[nms_pre]]]
                margins["topk"] = min(margins["topk"], float(a - b) / float(a))
                margins["most_candidates"] = max(margins.get("most_candidates", 0), len(idx))
            idx = idx[order[:nms_pre]]
            p, k = idx // c, idx % c
            y, x = p // w, p % w
            sy, sx = strides_eff[l]
            px = (x * sx).astype(np.float32)
            py = (y * sy).astype(np.float32)
            r = reg_l[l][i].reshape(4, -1)[:, p]
            b = np.stack([px - r[0], py - r[1], px + r[2], py + r[3]], axis=1).astype(np.float32)
            b[:, 0::2] = np.clip(b[:, 0::2], f32(0), f32(rw))
            b[:, 1::2] = np.clip(b[:, 1::2], f32(0), f32(rh))
            boxes.append(b)
            scores.append(s[idx])
            labels.append(k)
        boxes = np.concatenate(boxes)
        scores = np.concatenate(scores)
        labels = np.concatenate(labels)
        order = np.argsort(-scores, kind="stable")
        keep = []
        for j in order:
            bj = boxes[j]
            suppressed = False
            for q in keep:
                if labels[q] != labels[j]:
                    continue
                iou = iou_f32(boxes[q], bj)
                if np.isfinite(iou):
                    margins["iou"] = min(margins["iou"], abs(float(iou) - float(iou_thr)))
                if iou > iou_thr:
                    suppressed = True
                    break
            if not suppressed:
                keep.append(j)
                if len(keep) == max_det:
                    break
        uncapped = len(keep)
        if len(keep) == max_det:
            # how many would survive without the cap (only to prove the case exercises it)
            kept = list(keep)
            for j in order[order.tolist().index(keep[-1]) + 1:]:
                bj = boxes[j]
                same = [q for q in kept if labels[q] == labels[j]]
                if all(not (iou_f32(boxes[q], bj) > iou_thr) for q in same):
                    kept.append(j)
            uncapped = len(kept)
        margins.setdefault("uncapped", []).append(uncapped)
        # ties in score between different kept detections make the output order implementation-defined
        ks = scores[keep]
        for a in range(1, len(keep)):
            if ks[a - 1] == ks[a] and (labels[keep[a - 1]] != labels[keep[a]]
                                       or not np.array_equal(boxes[keep[a - 1]], boxes[keep[a]])):
                margins["tie"] = 0.0
            elif len(keep) > 1:
                margins["tie"] = min(margins["tie"], float(ks[a - 1] - ks[a]) / float(ks[a - 1]))
        fy = f32(oh) / f32(rh)
        fx = f32(ow) / f32(rw)
        dets = []
        for q in keep:
            x1, y1, x2, y2 = boxes[q]
            dets.append(dict(box=[x1 * fx, y1 * fy, x2 * fx, y2 * fy], score=scores[q], cls=int(labels[q])))
        out.append(dets)
    return out, margins


def run_case(case, seed, models):
    c = case["num_classes"]
    cfg = {k: case.get(k, v) for k, v in DEFAULTS.items()}
    metas = case["images"]
    n = len(metas)
    ph = max(m[2] for m in metas)
    pw = max(m[3] for m in metas)
    ph, pw = -(-ph // 32) * 32, -(-pw // 32) * 32
    shapes = level_shapes(ph, pw)
    strides_eff = [(ph // h, pw // w) for h, w in shapes]

    if c not in models:
        models[c] = fcos_resnet50_fpn(weights=None, weights_backbone=None, num_classes=c).eval()
    model = models[c]
    model.score_thresh = cfg["score_threshold"]
    model.topk_candidates = cfg["nms_pre"]
    model.nms_thresh = cfg["iou_threshold"]
    model.detections_per_img = cfg["max_detections"]

    rng = np.random.default_rng(seed)
    cls, reg, ctr = make_heads(rng, case, shapes, n)

    image_list = ImageList(torch.zeros(n, 3, ph, pw), [(m[2], m[3]) for m in metas])
    features = [torch.zeros(n, 1, h, w) for h, w in shapes]
    anchors = model.anchor_generator(image_list, features)
    sizes = [h * w for h, w in shapes]
    split_anchors = [list(a.split(sizes)) for a in anchors]
    anchor_sizes = []
    for l in range(5):
        a = split_anchors[0][l]
        wv = (a[:, 2] - a[:, 0]).unique()
        assert wv.numel() == 1, "FCOS anchors are squares of one size per level"
        anchor_sizes.append(int(wv.item()))
    assert anchor_sizes == list(NOMINAL_STRIDES), anchor_sizes

    if case["profile"] == "duplicates":
        add_duplicates(cls, reg, ctr, shapes, strides_eff, anchor_sizes, n, c)

    # contract tensors: NCHW, regression in input pixels
    reg_px = []
    for l, (h, w) in enumerate(shapes):
        s = f32(anchor_sizes[l])
        px = reg[l] * s
        assert px.dtype == np.float32
        assert np.array_equal(px.astype(np.float64), reg[l].astype(np.float64) * anchor_sizes[l]), \
            "stride multiplication must be exact in float32"
        reg_px.append(px)
    cls_nchw = [to_nchw(cls[l], n, h, w) for l, (h, w) in enumerate(shapes)]
    reg_nchw = [to_nchw(reg_px[l], n, h, w) for l, (h, w) in enumerate(shapes)]
    ctr_nchw = [to_nchw(ctr[l], n, h, w) for l, (h, w) in enumerate(shapes)]

    # torchvision's decode == px - l*stride etc. in float32, for every point of every level
    for l, (h, w) in enumerate(shapes):
        dec = model.box_coder.decode(torch.from_numpy(reg[l][0]), split_anchors[0][l]).numpy()
        sy, sx = strides_eff[l]
        ys, xs = np.divmod(np.arange(h * w), w)
        px = (xs * sx).astype(np.float32)
        py = (ys * sy).astype(np.float32)
        r = reg_px[l][0]
        mine = np.stack([px - r[:, 0], py - r[:, 1], px + r[:, 2], py + r[:, 3]], axis=1)
        assert dec.dtype == np.float32 and np.array_equal(dec, mine), f"decode mismatch on level {l}"

    head = {
        "cls_logits": [torch.from_numpy(x) for x in cls],
        "bbox_regression": [torch.from_numpy(x) for x in reg],
        "bbox_ctrness": [torch.from_numpy(x) for x in ctr],
    }
    with torch.no_grad():
        dets = model.postprocess_detections(head, split_anchors, image_list.image_sizes)
        dets = model.transform.postprocess(dets, image_list.image_sizes, [(m[0], m[1]) for m in metas])

    ref, margins = reference(cfg, c, (cls_nchw, reg_nchw, ctr_nchw), shapes, strides_eff, metas)
    expected = []
    for i in range(n):
        b = dets[i]["boxes"].numpy()
        s = dets[i]["scores"].numpy()
        k = dets[i]["labels"].numpy()
        assert b.dtype == np.float32 and s.dtype == np.float32
        r = ref[i]
        if len(r) != len(s):
            return None, f"image {i}: numpy reference kept {len(r)}, torchvision {len(s)}"
        for j in range(len(s)):
            if r[j]["cls"] != int(k[j]):
                return None, f"image {i} det {j}: class {r[j]['cls']} vs torchvision {int(k[j])}"
            for a, bb in zip(r[j]["box"], b[j]):
                if abs(float(a) - float(bb)) > 1e-6 * max(1.0, abs(float(bb))):
                    return None, f"image {i} det {j}: box {r[j]['box']} vs torchvision {b[j]}"
            if abs(float(r[j]["score"]) - float(s[j])) > 1e-6:
                return None, f"image {i} det {j}: score {r[j]['score']} vs torchvision {s[j]}"
        expected.append([dict(box=[b[j, 0], b[j, 1], b[j, 2], b[j, 3]], score=s[j], cls=int(k[j]))
                         for j in range(len(s))])
    # margins: relative 1e-5 on thresholds and the top-k boundary, 1e-5 absolute on IoU, no score ties
    if margins["score"] < 1e-5 or margins["topk"] < 1e-5 or margins["iou"] < 1e-5 or margins["tie"] < 1e-6:
        return None, f"margins too small: {margins}"

    # the same rules with the nominal strides (8..128) as point spacing: equal unless P6/P7 spacing differs
    naive, _ = reference(cfg, c, (cls_nchw, reg_nchw, ctr_nchw), shapes,
                         [(s, s) for s in NOMINAL_STRIDES], metas)
    naive_differs = any(len(a) != len(b) or any(x["cls"] != y["cls"] or x["box"] != y["box"] for x, y in zip(a, b))
                        for a, b in zip(naive, ref))
    if case["profile"] == "upper_levels" and not naive_differs:
        return None, "P6/P7 spacing case: nominal-stride decode gives the same detections"
    if case["profile"] != "upper_levels" and naive_differs:
        raise AssertionError(f"{case['name']}: only the P6/P7 case may depend on torchvision's spacing")
    levels = [dict(stride=NOMINAL_STRIDES[l], height=h, width=w) for l, (h, w) in enumerate(shapes)]
    fixture = {
        "name": case["name"],
        "generator": f"engines/goldens/torchvision/generate.py seed {seed}; torchvision {torchvision.__version__}, "
                     f"torch {torch.__version__}: FCOS.postprocess_detections + GeneralizedRCNNTransform.postprocess. "
                     + case["note"],
        "convention": "torchvision",
        "score_threshold": cfg["score_threshold"],
        "nms_pre": cfg["nms_pre"],
        "iou_threshold": cfg["iou_threshold"],
        "max_detections": cfg["max_detections"],
        "batch": n,
        "num_classes": c,
        "levels": levels,
        "images": [dict(original_height=m[0], original_width=m[1], resized_height=m[2], resized_width=m[3])
                   for m in metas],
        "cls": [x.reshape(-1) for x in cls_nchw],
        "reg": [x.reshape(-1) for x in reg_nchw],
        "ctr": [x.reshape(-1) for x in ctr_nchw],
        "expected": [[{"box": d["box"], "score": d["score"], "class": d["cls"]} for d in img] for img in expected],
    }
    info = dict(seed=seed, dets=[len(e) for e in expected], strides_eff=strides_eff, naive_differs=naive_differs,
                margins=margins)
    return fixture, info


def short(v):
    """Shortest decimal that reads back (as double, then cast to float32) to the float32 v."""
    v = np.float32(v)
    assert np.isfinite(v), "fixtures hold finite numbers only"
    s = str(v)
    d = float(s)
    if np.float32(d) != v:
        d = float(v)  # exact double of the float32 value
    return d


def encode(fixture):
    def conv(o):
        if isinstance(o, np.ndarray):
            return [short(x) for x in o.tolist()] if o.dtype == np.float32 else o.tolist()
        if isinstance(o, (np.floating,)):
            return short(o)
        if isinstance(o, dict):
            return {k: conv(v) for k, v in o.items()}
        if isinstance(o, list):
            return [conv(x) for x in o]
        if isinstance(o, float):
            return short(o)
        return o

    obj = conv(fixture)
    text = json.dumps(obj, separators=(",", ":"))
    # round trip check: every float reads back to the same float32
    back = json.loads(text)
    for key in ("cls", "reg", "ctr"):
        for a, b in zip(back[key], fixture[key]):
            assert np.array_equal(np.asarray(a, dtype=np.float64).astype(np.float32), b), key
    return text + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=HERE, help="directory for the JSON files (default: next to this script)")
    ap.add_argument("--check", action="store_true", help="compare with the existing files instead of writing")
    ap.add_argument("--base-seed", type=int, default=20240)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    models = {}
    total = 0
    ok = True
    for ci, case in enumerate(CASES):
        fixture = None
        for attempt in range(50):
            seed = args.base_seed + 1000 * ci + attempt
            fixture, info = run_case(case, seed, models)
            if fixture is not None:
                break
            print(f"  {case['name']} seed {seed}: rejected ({info})", file=sys.stderr)
        if fixture is None:
            sys.exit(f"{case['name']}: no acceptable seed")
        text = encode(fixture)
        path = os.path.join(args.out, case["name"] + ".json")
        total += len(text)
        if args.check:
            with open(path) as f:
                same = f.read() == text
            ok &= same
            print(f"{case['name']}: {'same' if same else 'DIFFERENT'}")
        else:
            with open(path, "w") as f:
                f.write(text)
            m = info["margins"]
            print(f"{case['name']}: seed {info['seed']}, detections {info['dets']}, "
                  f"{len(text) / 1024:.0f} KiB, P6/P7 spacing differs from nominal: {info['naive_differs']}, "
                  f"margins score {m['score']:.1e} topk {m['topk']:.1e} iou {m['iou']:.1e} tie {m['tie']:.1e}, "
                  f"kept without cap {m['uncapped']}, most candidates on a level {m.get('most_candidates', '-')}")
    print(f"total {total / 1024:.0f} KiB")
    if not ok:
        sys.exit("goldens differ from the generator's output")


if __name__ == "__main__":
    main()
