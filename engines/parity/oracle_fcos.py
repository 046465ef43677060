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
    """Point p = y * W + x at (x * s + s // 2, y * s + s // 2): float32 multiples of the stride plus the
    integer half stride."""
    xs = torch.arange(w, dtype=torch.float32) * stride
    ys = torch.arange(h, dtype=torch.float32) * stride
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((grid_x.flatten(), grid_y.flatten()), dim=1) + stride // 2


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
        """One level for the whole batch: candidates are (point, class) pairs whose class probability passes
        the threshold (before the centerness product); the number kept per image is min(count,
        pre_nms_top_n), chosen by cls * centerness; boxes are decoded, clipped with TO_REMOVE = 1, filtered by
        remove_small_boxes(0) and scored sqrt(cls * centerness)."""
        n, c, h, w = box_cls.shape
        prob = sigmoid(box_cls.permute(0, 2, 3, 1).reshape(n, h * w, c), self.v["sigmoid"])
        dist = box_regression.permute(0, 2, 3, 1).reshape(n, h * w, 4)
        quality = sigmoid(centerness.permute(0, 2, 3, 1).reshape(n, h * w), self.v["sigmoid"])
        passing = prob > f32(self.pre_nms_thresh)
        quota = passing.reshape(n, -1).sum(1).clamp(max=self.pre_nms_top_n)
        key = prob * quality[:, :, None]

        out = []
        for i in range(n):
            pairs = passing[i].nonzero()  # (point, class) in flat index order
            keys = key[i][passing[i]]
            points, labels = pairs[:, 0], pairs[:, 1] + 1  # 1-based labels upstream
            limit = int(quota[i])
            if self.v["stable_ties"]:
                # fcos4j: key descending, ascending flat index among equal keys, for the cut and the order
                keys, order = sort_desc(keys, True)
                keys, order = keys[:limit], order[:limit]
                points, labels = points[order], labels[order]
            elif pairs.shape[0] > limit:
                keys, order = keys.topk(limit, sorted=False)
                points, labels = points[order], labels[order]
            loc, d = locations[points], dist[i][points]
            boxes = torch.stack((loc[:, 0] - d[:, 0], loc[:, 1] - d[:, 1], loc[:, 0] + d[:, 2], loc[:, 1] + d[:, 3]), 1)
            img_h, img_w = image_sizes[i]
            boxlist = BoxList(boxes, (int(img_w), int(img_h)), {"labels": labels, "scores": torch.sqrt(keys)})
            boxlist = boxlist.clip_to_image()
            if self.v["small_boxes"]:
                boxlist = remove_small_boxes(boxlist, self.min_size)
            out.append(boxlist)
        return out

    # FCOSPostProcessor.forward (bbox_aug disabled)
    def forward(self, locations, box_cls, box_regression, centerness, image_sizes):
        sampled = [self.forward_for_single_feature_map(l, o, b, c, image_sizes)
                   for l, o, b, c in zip(locations, box_cls, box_regression, centerness)]
        boxlists = [cat_boxlist(list(per_image)) for per_image in zip(*sampled)]
        return self.select_over_all_levels(boxlists)

    # FCOSPostProcessor.select_over_all_levels
    def select_over_all_levels(self, boxlists):
        """ml_nms per image, then the cap: with more than fpn_post_nms_top_n detections, the cut score is the
        (n - top + 1)-th smallest (torch.kthvalue) and every detection scoring >= it stays, in index order."""
        selected = []
        for boxlist in boxlists:
            by_index, by_score = boxlist_ml_nms(boxlist, self.nms_thresh, self.v["stable_ties"],
                                                self.v["nms_off_at_0"])
            top = self.fpn_post_nms_top_n
            if self.v["select"] == "exact":
                selected.append(by_score[:top])
            elif len(by_index) > top > 0:
                scores = by_index.fields["scores"]
                cut = torch.kthvalue(scores, len(by_index) - top + 1).values.item()
                selected.append(by_index[torch.nonzero(scores >= cut).flatten()])
            else:
                selected.append(by_index)
        return selected


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
