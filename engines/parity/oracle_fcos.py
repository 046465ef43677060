"""Oracle: the original FCOS repository's test-time post-processing (tianzhi0549/FCOS, maskrcnn-benchmark
based), re-stated in PyTorch.

The repository needs its CUDA extension (`ml_nms` has no CPU version), so it cannot run here. This module
re-states (our own words, structure and names kept) what these functions do:

- fcos_core/modeling/rpn/fcos/fcos.py          FCOSModule.compute_locations_per_level
                                                (arange(0, W*s, s) + s // 2: points at x*s + s//2)
- fcos_core/modeling/rpn/fcos/inference.py     FCOSPostProcessor.forward, .forward_for_single_feature_map,
                                                .select_over_all_levels (kthvalue cap), make_fcos_postprocessor
                                                (min_size=0)
- fcos_core/structures/bounding_box.py         BoxList.clip_to_image (TO_REMOVE = 1), BoxList.resize,
                                                BoxList.convert("xywh") (w = x2 - x1 + 1)
- fcos_core/structures/boxlist_ops.py          boxlist_ml_nms, remove_small_boxes, cat_boxlist
- fcos_core/csrc/cuda/ml_nms.cu                ml_nms_cuda / devIoU (+1 widths and areas, label compare,
                                                float `> nms_overlap_thresh`, kept indices returned sorted by
                                                index, i.e. in concatenation order, not by score)
- fcos_core/config/defaults.py                 INFERENCE_TH 0.05, PRE_NMS_TOP_N 1000, NMS_TH 0.6,
                                                TEST.DETECTIONS_PER_IMG 100
- the boxes are mapped to the original image by BoxList.resize((orig_w, orig_h)) after the head
  (fcos_core/data/datasets/evaluation/coco/coco_eval.py prepare_for_coco_detection; the demo predictor
  does the same); labels are 1-based upstream (background 0) and reported 0-based here.

Variant knobs (engines/POSTPROCESS.md "Decision" notes):
  sigmoid      "torch" = upstream float32 sigmoid; "double" = fcos4j's double-then-float sigmoid
  stable_ties  False   = upstream: topk(sorted=False) / CUDA sort, order among equal keys unspecified;
               True    = fcos4j: per level, candidates ranked by key descending then flat index ascending,
                         NMS sort stable (ties keep concatenation order)
  small_boxes  True    = upstream remove_small_boxes(min_size=0): drops boxes with x2 - x1 + 1 < 0 (or y);
               False   = fcos4j: no size filter (identical unless distances are negative)
  select       "kthvalue" = upstream select_over_all_levels: ml_nms keeps index order, then every
                         detection with score >= the kthvalue cut (ties at the cut: more than max);
               "exact"    = fcos4j: kept detections in score order, at most max_detections
  nms_off_at_0 True    = upstream boxlist_ml_nms returns the boxes untouched when nms_thresh <= 0;
               False   = fcos4j: NMS always runs (threshold 0: any overlap suppresses)
"""
import numpy as np
import torch

from oracle_mmdet import nms as _greedy_nms
from parity_common import f32, sigmoid, sort_desc

UPSTREAM = {"sigmoid": "torch", "stable_ties": False, "small_boxes": True, "select": "kthvalue", "nms_off_at_0": True}
FCOS4J = {"sigmoid": "double", "stable_ties": True, "small_boxes": False, "select": "exact", "nms_off_at_0": False}


class BoxList:
    """The few BoxList operations the FCOS post-processor uses (fcos_core/structures/bounding_box.py)."""

    def __init__(self, bbox, image_size, fields=None):
        self.bbox = bbox  # xyxy, float32 [K, 4]
        self.size = image_size  # (width, height)
        self.fields = dict(fields or {})

    def __getitem__(self, item):
        return BoxList(self.bbox[item], self.size, {k: v[item] for k, v in self.fields.items()})

    def __len__(self):
        return self.bbox.shape[0]

    # BoxList.clip_to_image(remove_empty=False)
    def clip_to_image(self):
        to_remove = 1
        self.bbox[:, 0].clamp_(min=0, max=self.size[0] - to_remove)
        self.bbox[:, 1].clamp_(min=0, max=self.size[1] - to_remove)
        self.bbox[:, 2].clamp_(min=0, max=self.size[0] - to_remove)
        self.bbox[:, 3].clamp_(min=0, max=self.size[1] - to_remove)
        return self

    # BoxList.resize: Python float ratios original / resized; one float32 product per coordinate
    def resize(self, size):
        ratios = tuple(float(s) / float(s_orig) for s, s_orig in zip(size, self.size))
        if ratios[0] == ratios[1]:
            scaled = self.bbox * ratios[0]
        else:
            xmin, ymin, xmax, ymax = self.bbox.split(1, dim=-1)
            scaled = torch.cat((xmin * ratios[0], ymin * ratios[1], xmax * ratios[0], ymax * ratios[1]), dim=-1)
        return BoxList(scaled, size, self.fields)


# fcos_core/structures/boxlist_ops.py  remove_small_boxes (w, h from convert("xywh"): x2 - x1 + 1)
def remove_small_boxes(boxlist, min_size):
    to_remove = 1
    ws = boxlist.bbox[:, 2] - boxlist.bbox[:, 0] + to_remove
    hs = boxlist.bbox[:, 3] - boxlist.bbox[:, 1] + to_remove
    keep = ((ws >= min_size) & (hs >= min_size)).nonzero().squeeze(1)
    return boxlist[keep]


# fcos_core/structures/boxlist_ops.py  cat_boxlist
def cat_boxlist(boxlists):
    return BoxList(torch.cat([b.bbox for b in boxlists]), boxlists[0].size,
                   {k: torch.cat([b.fields[k] for b in boxlists]) for k in boxlists[0].fields})


# fcos_core/csrc/cuda/ml_nms.cu  ml_nms_cuda: score-sorted greedy NMS, devIoU with +1 and a label compare
def ml_nms(boxes, scores, labels, nms_thresh, stable_ties):
    keep = _greedy_nms(boxes, scores, nms_thresh, offset=1, stable_ties=stable_ties, labels=labels)
    # the CUDA function returns order_t[keep].sort(0, false): kept indices in ascending (concatenation) order
    return torch.sort(keep)[0], keep


# fcos_core/structures/boxlist_ops.py  boxlist_ml_nms
def boxlist_ml_nms(boxlist, nms_thresh, stable_ties, nms_off_at_0=True):
    if nms_thresh <= 0 and nms_off_at_0:
        by_score = boxlist[sort_desc(boxlist.fields["scores"], stable_ties)[1]]
        return boxlist, by_score
    by_index, by_score = ml_nms(boxlist.bbox, boxlist.fields["scores"], boxlist.fields["labels"].float(),
                                nms_thresh, stable_ties)
    return boxlist[by_index], boxlist[by_score]


# fcos_core/modeling/rpn/fcos/fcos.py  FCOSModule.compute_locations_per_level
def compute_locations_per_level(h, w, stride):
    shifts_x = torch.arange(0, w * stride, step=stride, dtype=torch.float32)
    shifts_y = torch.arange(0, h * stride, step=stride, dtype=torch.float32)
    shift_y, shift_x = torch.meshgrid(shifts_y, shifts_x, indexing="ij")
    return torch.stack((shift_x.reshape(-1), shift_y.reshape(-1)), dim=1) + stride // 2


class FCOSPostProcessor:
    # fcos_core/modeling/rpn/fcos/inference.py  FCOSPostProcessor.__init__ / make_fcos_postprocessor
    def __init__(self, pre_nms_thresh, pre_nms_top_n, nms_thresh, fpn_post_nms_top_n, variant=UPSTREAM):
        self.pre_nms_thresh = pre_nms_thresh
        self.pre_nms_top_n = pre_nms_top_n
        self.nms_thresh = nms_thresh
        self.fpn_post_nms_top_n = fpn_post_nms_top_n
        self.min_size = 0
        self.v = variant

    # FCOSPostProcessor.forward_for_single_feature_map
    def forward_for_single_feature_map(self, locations, box_cls, box_regression, centerness, image_sizes):
        n, c, h, w = box_cls.shape
        box_cls = sigmoid(box_cls.permute(0, 2, 3, 1).reshape(n, -1, c), self.v["sigmoid"])
        box_regression = box_regression.permute(0, 2, 3, 1).reshape(n, -1, 4)
        centerness = sigmoid(centerness.permute(0, 2, 3, 1).reshape(n, -1), self.v["sigmoid"])

        # the threshold applies to the class probability, before the centerness product
        candidate_inds = box_cls > f32(self.pre_nms_thresh)
        pre_nms_top_n = candidate_inds.reshape(n, -1).sum(1).clamp(max=self.pre_nms_top_n)
        box_cls = box_cls * centerness[:, :, None]  # rank key: cls * centerness

        results = []
        for i in range(n):
            per_candidate_inds = candidate_inds[i]
            per_box_cls = box_cls[i][per_candidate_inds]  # flat index order p * C + c
            nonzeros = per_candidate_inds.nonzero()
            per_box_loc = nonzeros[:, 0]
            per_class = nonzeros[:, 1] + 1
            per_box_regression = box_regression[i][per_box_loc]
            per_locations = locations[per_box_loc]
            top_n = int(pre_nms_top_n[i])
            if self.v["stable_ties"]:
                # fcos4j: key descending, flat index ascending among equal keys, for the cut and the order
                per_box_cls, order = sort_desc(per_box_cls, True)
                per_box_cls, top_k_indices = per_box_cls[:top_n], order[:top_n]
                per_class, per_box_regression = per_class[top_k_indices], per_box_regression[top_k_indices]
                per_locations = per_locations[top_k_indices]
            elif per_candidate_inds.sum().item() > top_n:
                per_box_cls, top_k_indices = per_box_cls.topk(top_n, sorted=False)
                per_class, per_box_regression = per_class[top_k_indices], per_box_regression[top_k_indices]
                per_locations = per_locations[top_k_indices]
            detections = torch.stack([
                per_locations[:, 0] - per_box_regression[:, 0],
                per_locations[:, 1] - per_box_regression[:, 1],
                per_locations[:, 0] + per_box_regression[:, 2],
                per_locations[:, 1] + per_box_regression[:, 3],
            ], dim=1)
            img_h, img_w = image_sizes[i]
            boxlist = BoxList(detections, (int(img_w), int(img_h)),
                              {"labels": per_class, "scores": torch.sqrt(per_box_cls)})
            boxlist = boxlist.clip_to_image()
            if self.v["small_boxes"]:
                boxlist = remove_small_boxes(boxlist, self.min_size)
            results.append(boxlist)
        return results

    # FCOSPostProcessor.forward (bbox_aug disabled)
    def forward(self, locations, box_cls, box_regression, centerness, image_sizes):
        sampled = [self.forward_for_single_feature_map(l, o, b, c, image_sizes)
                   for l, o, b, c in zip(locations, box_cls, box_regression, centerness)]
        boxlists = [cat_boxlist(list(per_image)) for per_image in zip(*sampled)]
        return self.select_over_all_levels(boxlists)

    # FCOSPostProcessor.select_over_all_levels
    def select_over_all_levels(self, boxlists):
        results = []
        for boxlist in boxlists:
            by_index, by_score = boxlist_ml_nms(boxlist, self.nms_thresh, self.v["stable_ties"],
                                                self.v["nms_off_at_0"])
            if self.v["select"] == "exact":
                results.append(by_score[: self.fpn_post_nms_top_n])
                continue
            result = by_index
            number_of_detections = len(result)
            if number_of_detections > self.fpn_post_nms_top_n > 0:
                cls_scores = result.fields["scores"]
                image_thresh, _ = torch.kthvalue(cls_scores.cpu(),
                                                 number_of_detections - self.fpn_post_nms_top_n + 1)
                keep = torch.nonzero(cls_scores >= image_thresh.item()).squeeze(1)
                result = result[keep]
            results.append(result)
        return results


def run_case(case, variant=UPSTREAM):
    """Runs the oracle on a case (fixture-shaped dict, numpy level arrays); returns per image
    [(x1, y1, x2, y2, score, class)] in upstream's output order (UPSTREAM: concatenation order)."""
    post = FCOSPostProcessor(case["score_threshold"], case["nms_pre"], case["iou_threshold"],
                             case["max_detections"], variant)
    locations = [compute_locations_per_level(lv["height"], lv["width"], lv["stride"]) for lv in case["levels"]]
    as_t = lambda arrays: [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
    sizes = [(im["resized_height"], im["resized_width"]) for im in case["images"]]
    boxlists = post.forward(locations, as_t(case["cls"]), as_t(case["reg"]), as_t(case["ctr"]), sizes)
    out = []
    for boxlist, im in zip(boxlists, case["images"]):
        boxlist = boxlist.resize((im["original_width"], im["original_height"]))
        b, s, l = boxlist.bbox, boxlist.fields["scores"], boxlist.fields["labels"]
        out.append([(*b[k].tolist(), float(s[k]), int(l[k]) - 1) for k in range(len(boxlist))])
    return out
