"""Hand-made minimal cases, one per behaviour of engines/parity/README.md's decision table.

Each case places a few candidates on chosen points (every other class logit is -30, far below any
threshold) so that one behaviour decides the outcome. `expect` says how many detections per image the
upstream oracle (UPSTREAM variant; torchvision itself for "torchvision") and the fcos4j rules produce;
test_oracles.py checks both counts, checks that `fcos4j postprocess` equals the fcos4j-decision oracle
(ordered, exact) and reports where fcos4j and upstream differ.
"""
import numpy as np

from parity_common import F32, f32, level_shapes


def build(name, convention, ph, pw, classes, image, cfg, candidates):
    """candidates: (level, x, y, class, cls_logit, ctr_logit, (left, top, right, bottom) in pixels)."""
    levels = level_shapes(ph, pw)
    case = {"name": name, "convention": convention, "batch": 1, "num_classes": classes, "levels": levels,
            "images": [dict(zip(("resized_height", "resized_width", "original_height", "original_width"), image))],
            "cls": [np.full((1, classes, lv["height"], lv["width"]), -30.0, dtype=F32) for lv in levels],
            "reg": [np.full((1, 4, lv["height"], lv["width"]), 1.0, dtype=F32) for lv in levels],
            "ctr": [np.zeros((1, 1, lv["height"], lv["width"]), dtype=F32) for lv in levels]}
    for k, v in cfg.items():
        case[k] = f32(v) if isinstance(v, float) else v
    for level, x, y, c, logit, ctr, reg in candidates:
        case["cls"][level][0, c, y, x] = logit
        case["ctr"][level][0, 0, y, x] = ctr
        case["reg"][level][0, :, y, x] = np.asarray(reg, dtype=F32)
    return case


MMDET = {"score_threshold": 0.05, "nms_pre": 1000, "iou_threshold": 0.5, "max_detections": 100}
FCOS = {"score_threshold": 0.05, "nms_pre": 1000, "iou_threshold": 0.6, "max_detections": 100}
TV = {"score_threshold": 0.2, "nms_pre": 1000, "iou_threshold": 0.6, "max_detections": 100}


def cases():
    out = []
    # mmcv batched_nms shifts class 79's boxes by 79 * (1000 + 1) = 79079 before a class-agnostic nms; at that
    # magnitude float32 spacing is 1/128 px, and the IoU of A=[0.7,1.3,10.1,11.9] and B=[2.56,2.7,14.2,11.775]
    # moves from 0.5000128 (unshifted) to 0.4997177 (shifted): upstream keeps B, fcos4j (class compare) drops it.
    # The class-0 box clamped at x2 = 1000 sets mmcv's max coordinate.
    out.append((build("decision_mmdet_class_offset_trick", "mmdet", 32, 1024, 80, (32, 1000, 32, 1000), MMDET, [
        (0, 0, 0, 79, 3.0, 0.0, (3.3, 2.7, 6.1, 7.9)),
        (0, 1, 0, 79, 2.0, 0.0, (9.44, 1.3, 2.2, 7.775)),
        (0, 5, 1, 0, 1.0, 0.0, (4.0, 4.0, 5000.0, 4.0))]),
        {"upstream": [3], "fcos4j": [2]},
        "mmcv's class-offset trick perturbs the IoU by rounding; fcos4j compares class ids"))
    # zero-width box (left = right = 0): mmdet's min_bbox_size=0 filter (w > 0 and h > 0) drops it in both
    out.append((build("decision_mmdet_zero_width", "mmdet", 32, 32, 2, (32, 32, 32, 32), MMDET, [
        (0, 1, 1, 0, 2.0, 0.0, (0.0, 3.0, 0.0, 3.0)),
        (0, 2, 2, 1, 2.0, 0.0, (2.0, 3.0, 2.0, 3.0))]),
        {"upstream": [1], "fcos4j": [1]},
        "boxes with x2 - x1 <= 0 or y2 - y1 <= 0 are dropped before NMS (both)"))
    # +1 convention: A=[0,0,10,10], B=[0,0,10,5.9]: IoU 0.59 without +1 (kept) but 75.9/121 = 0.627 with +1
    # (suppressed at 0.6); fcos4j follows ml_nms.cu's +1 and suppresses, like upstream
    out.append((build("decision_fcos_plus_one_nms", "fcos", 32, 32, 1, (32, 32, 32, 32), FCOS, [
        (1, 0, 0, 0, 3.0, 0.0, (8.0, 8.0, 2.0, 2.0)),
        (0, 0, 0, 0, 2.0, 0.0, (4.0, 4.0, 6.0, 1.9))]),
        {"upstream": [1], "fcos4j": [1]},
        "the original repo's ml_nms uses +1 widths and areas; fcos4j does too (without +1 both would be kept)"))
    # kthvalue cap: three classes tie at one point with max_detections 2: upstream keeps every score >= the
    # 2nd largest (3 detections), fcos4j stops at 2 (classes 0 and 1: concatenation order)
    out.append((build("decision_fcos_kthvalue_ties", "fcos", 32, 32, 3, (32, 32, 32, 32),
                      dict(FCOS, max_detections=2), [
        (0, 1, 1, 0, 1.5, 0.0, (3.0, 3.0, 3.0, 3.0)),
        (0, 1, 1, 1, 1.5, 0.0, (3.0, 3.0, 3.0, 3.0)),
        (0, 1, 1, 2, 1.5, 0.0, (3.0, 3.0, 3.0, 3.0))]),
        {"upstream": [3], "fcos4j": [2]},
        "select_over_all_levels keeps all scores >= the kthvalue cut; fcos4j returns at most max_detections"))
    # negative distances (outside the model contract): x1 = 7, x2 = 1 after decoding; upstream's
    # remove_small_boxes(0) drops it (x2 - x1 + 1 = -5 < 0), fcos4j applies no size filter and keeps it
    out.append((build("decision_fcos_inverted_box", "fcos", 32, 32, 1, (32, 32, 32, 32), FCOS, [
        (0, 0, 0, 0, 2.0, 0.0, (-3.0, 1.0, -3.0, 1.0)),
        (0, 2, 2, 0, 2.0, 0.0, (3.0, 3.0, 3.0, 3.0))]),
        {"upstream": [1], "fcos4j": [2]},
        "upstream drops boxes inverted by more than 1 px (only negative distances make them); fcos4j keeps them"))
    # NMS threshold 0 (fcos): upstream boxlist_ml_nms skips NMS entirely when nms_thresh <= 0, fcos4j runs it
    # (any overlap suppresses): two overlapping same-class boxes
    out.append((build("decision_fcos_nms_threshold_zero", "fcos", 32, 32, 1, (32, 32, 32, 32),
                      dict(FCOS, iou_threshold=0.0), [
        (0, 1, 1, 0, 3.0, 0.0, (4.0, 4.0, 4.0, 4.0)),
        (0, 2, 1, 0, 2.0, 0.0, (4.0, 4.0, 4.0, 4.0))]),
        {"upstream": [2], "fcos4j": [1]},
        "upstream disables NMS at NMS_TH <= 0; fcos4j suppresses any overlap (IoU > 0)"))
    # torchvision's nms compares the float IoU with the Python (double) threshold 0.6: A=[0,0,10,10],
    # B=[0,0,10,6] have IoU 60/100 = 0.6f = 0.6000000238 > 0.6, so torchvision suppresses B; fcos4j compares
    # with nextafter(0.6f, -inf) for the torchvision convention and suppresses it too (POSTPROCESS.md §4)
    out.append((build("decision_torchvision_iou_equals_threshold", "torchvision", 32, 32, 1, (32, 32, 32, 32), TV, [
        (0, 1, 1, 0, 3.0, 0.0, (8.0, 8.0, 2.0, 2.0)),
        (0, 1, 0, 0, 2.0, 0.0, (8.0, 0.0, 2.0, 6.0))]),
        {"upstream": [1], "fcos4j": [1]},
        "torchvision compares IoU > 0.6 in double (an IoU of exactly 0.6f suppresses); fcos4j does the same"))
    return out
