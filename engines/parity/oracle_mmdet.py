"""Oracle: mmdetection 3.x FCOS test-time post-processing, re-stated in PyTorch.

mmdetection and mmcv cannot be installed here, so this module re-states (in our own words, structure kept,
function names kept) what these upstream functions do at test time for an FCOSHead
(`FCOSHead` inherits `AnchorFreeHead`, which builds `MlvlPointGenerator(strides)` with offset 0.5 and a
`DistancePointBBoxCoder`; FCOSHead does not override the prediction path, so `BaseDenseHead`'s is used):

- mmdet/models/dense_heads/base_dense_head.py   BaseDenseHead.predict_by_feat, ._predict_by_feat_single,
                                                 ._bbox_post_process
- mmdet/models/utils/misc.py                     filter_scores_and_topk
- mmdet/models/task_modules/prior_generators/point_generator.py
                                                 MlvlPointGenerator.single_level_grid_priors (offset 0.5)
- mmdet/models/task_modules/coders/distance_point_bbox_coder.py  DistancePointBBoxCoder.decode
- mmdet/structures/bbox/transforms.py            distance2bbox (max_shape clamp), scale_boxes, get_box_wh
- mmcv/ops/nms.py                                batched_nms (class-offset trick, split_thr 10000), nms
- mmcv/ops/csrc/pytorch/cpu/nms.cpp              nms_cpu (offset 0 by default, float `ovr > iou_threshold`)
- configs/fcos/*: test_cfg nms_pre=1000, min_bbox_size=0, score_thr=0.05, nms iou_threshold=0.5,
  max_per_img=100; the test pipeline resizes with keep_ratio (scale_factor = (new_w / w, new_h / h)) and
  pads in the data preprocessor, so img_shape is the resized (unpadded) size.

The heads are those of the fcos4j contract: cls logits [N,C,H,W], bbox_pred in input pixels [N,4,H,W]
(FCOSHead.forward_single with norm_on_bbox: relu then x stride at test time), centerness logits [N,1,H,W].

Where fcos4j decided a point that upstream leaves unspecified or does differently
(engines/POSTPROCESS.md "Decision" notes), a Variant knob selects either behaviour:
  sigmoid      "torch"  = upstream float32 torch.sigmoid;  "double" = fcos4j's double-then-float sigmoid
  stable_ties  False    = upstream torch.sort (order among equal scores unspecified);
               True     = fcos4j: equal scores keep ascending flat index / concatenation order
  class_offset True     = upstream mmcv batched_nms: boxes shifted by label * (max coordinate + 1) before
                          one class-agnostic nms (the shift perturbs the float IoU by rounding);
               False    = fcos4j: one greedy pass that suppresses only boxes of the same class id
UPSTREAM is mmdetection as it runs on the CPU; FCOS4J is the fcos4j specification.
"""
import numpy as np
import torch

from parity_common import f32, sigmoid, sort_desc

UPSTREAM = {"sigmoid": "torch", "stable_ties": False, "class_offset": True}
FCOS4J = {"sigmoid": "double", "stable_ties": True, "class_offset": False}


# mmdet/models/task_modules/prior_generators/point_generator.py  MlvlPointGenerator.single_level_grid_priors
def single_level_grid_priors(featmap_size, stride, offset=0.5):
    feat_h, feat_w = featmap_size
    # (arange + offset) is float32, then times the integer stride: one float32 rounding, (x + 0.5f) * s
    shift_x = ((torch.arange(0, feat_w) + offset) * stride).to(torch.float32)
    shift_y = ((torch.arange(0, feat_h) + offset) * stride).to(torch.float32)
    yy, xx = torch.meshgrid(shift_y, shift_x, indexing="ij")  # row-major: point p = y * W + x
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=-1)


# mmdet/models/utils/misc.py  filter_scores_and_topk
def filter_scores_and_topk(scores, score_thr, topk, results, stable_ties):
    """scores [HW, C]. Every (point, class) pair above the threshold is a candidate, enumerated in flat index
    order p * C + c; the candidates are sorted by the class probability alone (not x centerness) and the
    first `topk` kept. Returns their scores, labels, point indices and the per-point results gathered."""
    passing = scores > score_thr  # float32 tensor vs Python float: a float32 comparison
    pairs = passing.nonzero()  # rows (point, class), flat index order
    ordered, perm = sort_desc(scores[passing], stable_ties)
    count = min(topk, pairs.shape[0])
    chosen = pairs[perm[:count]]
    points, labels = chosen[:, 0], chosen[:, 1]
    return ordered[:count], labels, points, {name: t[points] for name, t in results.items()}


# mmdet/structures/bbox/transforms.py  distance2bbox (via DistancePointBBoxCoder.decode, clip_border=True)
def distance2bbox(points, distance, max_shape):
    """(left, top, right, bottom) distances around a point -> x1, y1, x2, y2; then x clamped to [0, W] and
    y to [0, H] (the 2-D path clamps the x and y columns of the stacked boxes in place)."""
    px, py = points[:, 0], points[:, 1]
    boxes = torch.stack((px - distance[:, 0], py - distance[:, 1], px + distance[:, 2], py + distance[:, 3]), 1)
    height, width = max_shape
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clamp(min=0, max=width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clamp(min=0, max=height)
    return boxes


# mmdet/structures/bbox/transforms.py  scale_boxes (tensor branch)
def scale_boxes(boxes, scale_factor):
    # the Python floats become a float32 tensor [fx, fy, fx, fy]; one float32 product per coordinate
    factor = boxes.new_tensor(scale_factor).repeat((1, 2))
    return boxes * factor


# mmdet/structures/bbox/transforms.py  get_box_wh
def get_box_wh(boxes):
    return boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]


# mmcv/ops/csrc/pytorch/cpu/nms.cpp  nms_cpu (called through mmcv/ops/nms.py nms, offset=0)
def nms(boxes, scores, iou_threshold, offset=0, stable_ties=False, labels=None):
    """Greedy NMS; returns the kept indices in score order. labels=None is mmcv's class-agnostic kernel;
    with labels a box only suppresses boxes of its own label (the fcos4j class compare)."""
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.long)
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1 + offset) * (y2 - y1 + offset)
    order = sort_desc(scores, stable_ties)[1]
    thr = torch.tensor(f32(iou_threshold), dtype=torch.float32)  # `float iou_threshold`: float compare
    n = boxes.size(0)
    select = np.ones(n, dtype=bool)
    for _i in range(n):
        if not select[_i]:
            continue
        i = order[_i]
        rest = order[_i + 1:]
        xx1 = torch.maximum(x1[i], x1[rest])
        yy1 = torch.maximum(y1[i], y1[rest])
        xx2 = torch.minimum(x2[i], x2[rest])
        yy2 = torch.minimum(y2[i], y2[rest])
        w = (xx2 - xx1 + offset).clamp(min=0)
        h = (yy2 - yy1 + offset).clamp(min=0)
        inter = w * h
        ovr = inter / (areas[i] + areas[rest] - inter)
        suppress = ovr > thr  # NaN (0/0 of two empty boxes) never suppresses
        if labels is not None:
            suppress &= labels[rest] == labels[i]
        select[_i + 1:] &= ~suppress.numpy()
    return order[torch.from_numpy(select)]


# mmcv/ops/nms.py  batched_nms (nms_cfg = dict(type='nms', iou_threshold=...), split_thr default 10000)
def batched_nms(boxes, scores, idxs, iou_threshold, variant, split_thr=10000):
    """Class-aware NMS. Upstream moves each class to its own region of the plane (every coordinate of a box
    of class k gets k * (largest coordinate + 1) added, in float32) and runs one class-agnostic nms; from
    split_thr boxes on it runs one nms per class instead, still on the moved boxes, and re-sorts the kept
    boxes by score. Returns the kept scores and indices, score-descending."""
    stable = variant["stable_ties"]
    if not variant["class_offset"]:
        # fcos4j decision: boxes stay where they are; the greedy pass compares class ids
        keep = nms(boxes, scores, iou_threshold, stable_ties=stable, labels=idxs)
        return scores[keep], keep
    shift = idxs.to(boxes) * (boxes.max() + torch.tensor(1).to(boxes))
    moved = boxes + shift[:, None]
    if moved.shape[0] < split_thr:
        keep = nms(moved, scores, iou_threshold, stable_ties=stable)
        return scores[keep], keep
    kept = torch.zeros(scores.shape, dtype=torch.bool)
    for label in torch.unique(idxs):
        members = torch.nonzero(idxs == label).flatten()
        kept[members[nms(moved[members], scores[members], iou_threshold, stable_ties=stable)]] = True
    keep = torch.nonzero(kept).flatten()
    kept_scores, order = sort_desc(scores[keep], stable)
    return kept_scores, keep[order]


# mmdet/models/dense_heads/base_dense_head.py  BaseDenseHead._bbox_post_process (rescale=True, with_nms=True)
def _bbox_post_process(bboxes, scores, labels, score_factors, cfg, img_meta, variant):
    # rescale first: scale_factor = (w_scale, h_scale) = (new_w / w, new_h / h) as Python floats, inverted
    w_scale, h_scale = img_meta["scale_factor"]
    bboxes = scale_boxes(bboxes, [1 / w_scale, 1 / h_scale])
    # the centerness multiplies the class score (no sqrt); this product is both the NMS and output score
    scores = scores * score_factors
    if cfg["min_bbox_size"] >= 0:
        w, h = get_box_wh(bboxes)
        valid = (w > cfg["min_bbox_size"]) & (h > cfg["min_bbox_size"])
        bboxes, scores, labels = bboxes[valid], scores[valid], labels[valid]
    if bboxes.numel() == 0:
        return bboxes, scores, labels
    det_scores, keep = batched_nms(bboxes, scores, labels, cfg["iou_threshold"], variant)
    bboxes, labels = bboxes[keep], labels[keep]
    mpi = cfg["max_per_img"]
    return bboxes[:mpi], det_scores[:mpi], labels[:mpi]


# mmdet/models/dense_heads/base_dense_head.py  BaseDenseHead._predict_by_feat_single
def _predict_by_feat_single(cls_score_list, bbox_pred_list, score_factor_list, mlvl_priors, img_meta, cfg,
                            variant):
    mlvl_bbox_preds, mlvl_valid_priors, mlvl_scores, mlvl_labels, mlvl_score_factors = [], [], [], [], []
    for cls_score, bbox_pred, score_factor, priors in zip(cls_score_list, bbox_pred_list, score_factor_list,
                                                          mlvl_priors):
        num_classes = cls_score.size(0)
        bbox_pred = bbox_pred.permute(1, 2, 0).reshape(-1, 4)
        score_factor = sigmoid(score_factor.permute(1, 2, 0).reshape(-1), variant["sigmoid"])
        scores = sigmoid(cls_score.permute(1, 2, 0).reshape(-1, num_classes), variant["sigmoid"])
        scores, labels, keep_idxs, filtered = filter_scores_and_topk(
            scores, f32(cfg["score_thr"]), cfg["nms_pre"], {"bbox_pred": bbox_pred, "priors": priors},
            variant["stable_ties"])
        mlvl_bbox_preds.append(filtered["bbox_pred"])
        mlvl_valid_priors.append(filtered["priors"])
        mlvl_scores.append(scores)
        mlvl_labels.append(labels)
        mlvl_score_factors.append(score_factor[keep_idxs])
    bbox_pred = torch.cat(mlvl_bbox_preds)
    priors = torch.cat(mlvl_valid_priors)
    bboxes = distance2bbox(priors, bbox_pred, max_shape=img_meta["img_shape"])
    return _bbox_post_process(bboxes, torch.cat(mlvl_scores), torch.cat(mlvl_labels),
                              torch.cat(mlvl_score_factors), cfg, img_meta, variant)


# mmdet/models/dense_heads/base_dense_head.py  BaseDenseHead.predict_by_feat
def predict_by_feat(cls_scores, bbox_preds, centernesses, strides, batch_img_metas, cfg, variant=UPSTREAM):
    mlvl_priors = [single_level_grid_priors(c.shape[-2:], s) for c, s in zip(cls_scores, strides)]
    results = []
    for img_id, img_meta in enumerate(batch_img_metas):
        b, s, l = _predict_by_feat_single([c[img_id] for c in cls_scores], [r[img_id] for r in bbox_preds],
                                          [t[img_id] for t in centernesses], mlvl_priors, img_meta, cfg,
                                          variant)
        results.append([(*b[k].tolist(), float(s[k]), int(l[k])) for k in range(b.size(0))])
    return results


def run_case(case, variant=UPSTREAM):
    """Runs the oracle on a case (fixture-shaped dict, numpy level arrays); returns per image
    [(x1, y1, x2, y2, score, class)] in upstream's output order."""
    metas = []
    for im in case["images"]:
        rh, rw, oh, ow = im["resized_height"], im["resized_width"], im["original_height"], im["original_width"]
        metas.append({"img_shape": (rh, rw), "scale_factor": (rw / ow, rh / oh)})
    cfg = {"nms_pre": case["nms_pre"], "score_thr": case["score_threshold"], "min_bbox_size": 0,
           "iou_threshold": case["iou_threshold"], "max_per_img": case["max_detections"]}
    as_t = lambda arrays: [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
    return predict_by_feat(as_t(case["cls"]), as_t(case["reg"]), as_t(case["ctr"]),
                           [lv["stride"] for lv in case["levels"]], metas, cfg, variant)
