"""Oracle for the torchvision convention: torchvision itself (it runs here), not a re-statement.

Builds the anchors with torchvision's own AnchorGenerator (so the P6/P7 point spacing is
padded_size // feature_size, see engines/goldens/torchvision/README.md), splits nothing (the heads are
already per level), and calls torchvision/models/detection/fcos.py FCOS.postprocess_detections followed by
torchvision/models/detection/transform.py resize_boxes, as GeneralizedRCNNTransform.postprocess does.
(engines/fixtures/postprocess/check_torchvision.py does the same with nominal-stride anchors, which agree
for the small fixture sizes.)
"""
import numpy as np
import torch
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection import fcos as tv_fcos
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.transform import resize_boxes


def box_ops_vanilla(boxes, scores, idxs, iou_threshold):
    """torchvision's own per-class batched NMS (torchvision/ops/boxes.py _batched_nms_vanilla), which it uses
    above 1000 boxes on the CPU: no coordinate shift."""
    from torchvision.ops import boxes as box_ops
    return box_ops._batched_nms_vanilla(boxes, scores, idxs, iou_threshold)


def as_decimal(value):
    """The shortest decimal that reads back as the same float32 (how fixtures and metadata write it)."""
    return float(str(np.float32(value)))


UPSTREAM = {"class_offset": True, "double_threshold": True}
# fcos4j's decisions that can be switched inside torchvision's own code (the float32 sigmoid and topk tie
# order cannot): class-id NMS (torchvision's own per-class path); the double threshold is kept, as fcos4j
# reproduces it (engines/POSTPROCESS.md section 4)
FCOS4J = {"class_offset": False, "double_threshold": True}


def run_case(case, variant=None):
    variant = variant or UPSTREAM
    if not variant["class_offset"]:
        saved = tv_fcos.box_ops.batched_nms
        tv_fcos.box_ops.batched_nms = box_ops_vanilla
        try:
            return run_case(case, dict(variant, class_offset=True))
        finally:
            tv_fcos.box_ops.batched_nms = saved
    n, c = case["batch"], case["num_classes"]
    model = tv_fcos.FCOS.__new__(tv_fcos.FCOS)  # post-processing state only, no network
    torch.nn.Module.__init__(model)
    model.box_coder = det_utils.BoxLinearCoder(normalize_by_size=True)
    # thresholds as the decimal a config states (0.6, not the float32 0.6000000238): torchvision's nms
    # compares the float IoU with this double
    threshold = as_decimal if variant["double_threshold"] else float
    model.score_thresh = threshold(case["score_threshold"])
    model.nms_thresh = threshold(case["iou_threshold"])
    model.detections_per_img = case["max_detections"]
    model.topk_candidates = case["nms_pre"]
    strides = [lv["stride"] for lv in case["levels"]]
    lv0 = case["levels"][0]
    padded = (lv0["height"] * strides[0], lv0["width"] * strides[0])
    sizes = [(im["resized_height"], im["resized_width"]) for im in case["images"]]
    gen = AnchorGenerator(sizes=tuple((s,) for s in strides), aspect_ratios=((1.0,),) * len(strides))
    images = ImageList(torch.zeros(n, 3, *padded), sizes)
    feats = [torch.zeros(n, 1, lv["height"], lv["width"]) for lv in case["levels"]]
    anchors = gen(images, feats)
    hw = [lv["height"] * lv["width"] for lv in case["levels"]]
    anchors = [list(a.split(hw)) for a in anchors]
    cls_l, reg_l, ctr_l = [], [], []
    for l, lv in enumerate(case["levels"]):
        cls = torch.from_numpy(np.ascontiguousarray(case["cls"][l]))
        reg = torch.from_numpy(np.ascontiguousarray(case["reg"][l])) / lv["stride"]  # back to anchor-size units
        ctr = torch.from_numpy(np.ascontiguousarray(case["ctr"][l]))
        cls_l.append(cls.permute(0, 2, 3, 1).reshape(n, -1, c))
        reg_l.append(reg.permute(0, 2, 3, 1).reshape(n, -1, 4))
        ctr_l.append(ctr.permute(0, 2, 3, 1).reshape(n, -1, 1))
    head = {"cls_logits": cls_l, "bbox_regression": reg_l, "bbox_ctrness": ctr_l}
    dets = model.postprocess_detections(head, anchors, sizes)
    out = []
    for d, im, size in zip(dets, case["images"], sizes):
        boxes = resize_boxes(d["boxes"], size, (im["original_height"], im["original_width"]))
        out.append([(*b.tolist(), float(s), int(l)) for b, s, l in zip(boxes, d["scores"], d["labels"])])
    return out
