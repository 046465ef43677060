"""Seeded random head outputs for the parity harness, and their HEADS.npz form for `fcos4j postprocess`.

Each spec names a situation (R-50 shapes, dense caps, exact ties, threshold 0, ...); make_case turns it into
a case dict (parity_common) with float32 level arrays. Distances are >= 0 with some exact zeros, as the
model contract produces them (ReLU or exp, times the stride).
"""
import numpy as np

from parity_common import F32, f32, level_shapes

# name, conventions, padded (H, W), C, per image (resized H, W, original H, W), config overrides, style
SPECS = [
    ("r50_b1", 800, 1216, 80, [(800, 1199, 480, 720)], {}, "r50"),
    ("r50_b2_mixed", 800, 1088, 80, [(800, 1067, 600, 800), (725, 1088, 1000, 1500)], {}, "r50"),
    ("dense_caps_b2", 128, 160, 5, [(128, 160, 256, 320), (100, 150, 77, 115)],
     {"nms_pre": 50, "max_detections": 20, "score_threshold": 0.3, "iou_threshold": 0.45}, "dense"),
    ("few_b1", 256, 320, 3, [(250, 320, 500, 640)], {}, "few"),
    ("ties_b3", 96, 128, 4, [(96, 128, 96, 128), (90, 120, 45, 60), (96, 100, 200, 209)],
     {"nms_pre": 40, "max_detections": 30}, "ties"),
    ("thr0_b2", 64, 96, 2, [(64, 96, 64, 96), (60, 90, 121, 181)],
     {"score_threshold": 0.0, "nms_pre": 7, "max_detections": 9, "iou_threshold": 0.3}, "dense"),
    ("iou_high_b1", 160, 160, 6, [(160, 153, 333, 320)], {"iou_threshold": 0.9, "nms_pre": 200}, "dense"),
    ("iou_low_b1", 160, 192, 6, [(150, 192, 300, 384)], {"iou_threshold": 0.1}, "dense"),
    ("max1_b2", 96, 96, 3, [(96, 96, 50, 50), (96, 80, 960, 800)], {"max_detections": 1}, "dense"),
    ("empty_b1", 128, 128, 7, [(128, 128, 128, 128)], {}, "empty"),
    ("clip_b1", 192, 256, 4, [(180, 201, 90, 100)], {}, "large_boxes"),
    ("p6p7_odd_b1", 96, 160, 5, [(96, 150, 640, 1000)], {"max_detections": 300, "nms_pre": 300}, "dense"),
    ("many_classes_b1", 128, 128, 91, [(128, 120, 256, 240)], {"max_detections": 150}, "dense"),
    ("r50_objects_b2", 800, 1216, 80, [(800, 1199, 480, 720), (768, 1216, 1024, 1621)], {}, "objects"),
    ("objects_b1", 320, 416, 80, [(320, 405, 640, 810)], {}, "objects"),
]

DEFAULTS = {
    "mmdet": {"score_threshold": 0.05, "nms_pre": 1000, "iou_threshold": 0.5, "max_detections": 100},
    "fcos": {"score_threshold": 0.05, "nms_pre": 1000, "iou_threshold": 0.6, "max_detections": 100},
    "torchvision": {"score_threshold": 0.2, "nms_pre": 1000, "iou_threshold": 0.6, "max_detections": 100},
}


def make_case(spec, convention, seed):
    name, ph, pw, c, images, overrides, style = spec
    rng = np.random.default_rng(seed)
    levels = level_shapes(ph, pw)
    n = len(images)
    cfg = dict(DEFAULTS[convention])
    cfg.update(overrides)
    case = {"name": f"{convention}_{name}", "convention": convention, "batch": n, "num_classes": c,
            "levels": levels, "cls": [], "reg": [], "ctr": [],
            "images": [{"resized_height": rh, "resized_width": rw, "original_height": oh, "original_width": ow}
                       for rh, rw, oh, ow in images]}
    for k, v in cfg.items():
        case[k] = f32(v) if isinstance(v, float) else v
    if style == "objects":
        return objects_case(case, rng, levels, n, c, images)
    for lv in levels:
        s, h, w = lv["stride"], lv["height"], lv["width"]
        if style == "r50":
            cls = rng.normal(-6.0, 1.5, (n, c, h, w))
        elif style == "few":
            cls = rng.normal(-9.0, 2.0, (n, c, h, w))
        elif style == "empty":
            cls = rng.normal(-12.0, 1.0, (n, c, h, w))
        elif style == "ties":
            cls = np.round(rng.normal(-1.5, 1.5, (n, c, h, w)) * 2) / 2
        else:
            cls = rng.normal(-1.0, 2.0, (n, c, h, w))
        ctr = rng.normal(0.0, 1.5, (n, 1, h, w))
        if style == "ties":
            ctr = np.round(ctr)
            reg = np.round(rng.exponential(2.0, (n, 4, h, w)) * 2) / 2 * s
        elif style == "large_boxes":
            reg = rng.exponential(8.0, (n, 4, h, w)) * s
        else:
            reg = np.exp(rng.normal(0.5, 0.8, (n, 4, h, w))) * s
        reg[rng.random(reg.shape) < 0.05] = 0.0  # exact ReLU zeros: empty boxes
        case["cls"].append(cls.astype(F32))
        case["reg"].append(reg.astype(F32))
        case["ctr"].append(ctr.astype(F32))
    return case


SEED = 20251125


def objects_case(case, rng, levels, n, c, images):
    """Detector-like heads: per image ~25 objects (class biased to high ids, where mmcv's class offset is
    largest), every point inside an object predicts that object's box with a few percent of jitter, with
    a class logit that is highest near the centre; so many same-class boxes overlap at all IoUs."""
    objs = []
    for rh, rw, _, _ in images:
        k = int(rng.integers(15, 35))
        size = np.exp(rng.uniform(np.log(12), np.log(0.8 * min(rh, rw)), (k, 2)))
        ctr = rng.uniform(0, 1, (k, 2)) * [rw, rh]
        cls = np.minimum(c - 1, (c * rng.beta(3, 1, k)).astype(int))
        objs.append((np.c_[ctr - size / 2, ctr + size / 2], cls))
    for lv in levels:
        s, h, w = lv["stride"], lv["height"], lv["width"]
        cls = rng.normal(-7.0, 1.0, (n, c, h, w))
        reg = np.exp(rng.normal(0.5, 0.8, (n, 4, h, w))) * s
        ctr = rng.normal(-1.0, 1.0, (n, 1, h, w))
        px = (np.arange(w) + 0.5) * s
        py = (np.arange(h) + 0.5) * s
        for i, (boxes, labels) in enumerate(objs):
            for (x1, y1, x2, y2), lab in zip(boxes, labels):
                xs = np.nonzero((px > x1) & (px < x2))[0]
                ys = np.nonzero((py > y1) & (py < y2))[0]
                if len(xs) == 0 or len(ys) == 0:
                    continue
                gx, gy = np.meshgrid(px[xs], py[ys])
                d = np.stack([gx - x1, gy - y1, x2 - gx, y2 - gy])  # distances to the object box
                reach = d.max(axis=0)
                if not (4 * s <= reach.max() and reach.min() <= 16 * s):  # roughly FCOS's size ranges
                    continue
                jitter = np.exp(rng.normal(0.0, 0.04, d.shape))
                cness = np.sqrt(np.minimum(d[0], d[2]) / np.maximum(d[0], d[2])
                                * np.minimum(d[1], d[3]) / np.maximum(d[1], d[3]))
                yy, xx = np.meshgrid(ys, xs, indexing="ij")
                reg[i, :, yy, xx] = np.moveaxis(d * jitter, 0, -1)
                cls[i, lab, yy, xx] = np.maximum(cls[i, lab, yy, xx], 4.0 * cness - 1.5 + rng.normal(0, 0.5, cness.shape))
                ctr[i, 0, yy, xx] = 3.0 * cness - 1.0 + rng.normal(0, 0.3, cness.shape)
        reg[rng.random(reg.shape) < 0.01] = 0.0
        case["cls"].append(cls.astype(F32))
        case["reg"].append(reg.astype(F32))
        case["ctr"].append(ctr.astype(F32))
    return case


def all_cases(conventions, seed=SEED):
    out = []
    for ci, conv in enumerate(conventions):
        for si, spec in enumerate(SPECS):
            case = make_case(spec, conv, seed + 1000 * ci + si)
            case["seed"] = seed
            out.append(case)
    return out


def write_npz(case, path):
    arrays = {}
    for l in range(len(case["levels"])):
        arrays[f"cls_{l}"] = case["cls"][l]
        arrays[f"reg_{l}"] = case["reg"][l]
        arrays[f"ctr_{l}"] = case["ctr"][l]
    np.savez(path, **arrays)


def cli_args(case, npz_path, out_path):
    args = ["postprocess", "--heads", str(npz_path), "--convention", case["convention"],
            "--strides", ",".join(str(lv["stride"]) for lv in case["levels"]),
            "--score-threshold", repr(case["score_threshold"]), "--iou-threshold", repr(case["iou_threshold"]),
            "--nms-pre", str(case["nms_pre"]), "--max-detections", str(case["max_detections"]), "-o", str(out_path)]
    for im in case["images"]:
        args += ["--image-size", f"{im['resized_height']},{im['resized_width']}",
                 "--original-size", f"{im['original_height']},{im['original_width']}"]
    return args
