"""Facts of the mmdetection 3.x FCOS model-zoo configs that export_mmdet.py supports.

One entry per config of mmdetection's configs/fcos/ (3.x file names). The values were read from the config
files and their bases (upstream open-mmlab/mmdetection, 3.x layout; read for facts, nothing copied):

- configs/fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py is the base of every entry below. It sets
  data_preprocessor mean [102.9801, 115.9465, 122.7717], std [1, 1, 1], bgr_to_rgb False, pad_size_divisor 32;
  backbone ResNet-50 style 'caffe' (BN frozen, norm_eval); neck FPN in_channels [256, 512, 1024, 2048],
  out_channels 256, start_level 1, add_extra_convs 'on_output', num_outs 5, relu_before_extra_convs True;
  bbox_head FCOSHead num_classes 80, in_channels 256, stacked_convs 4, feat_channels 256,
  strides [8, 16, 32, 64, 128] (norm_on_bbox / centerness_on_reg / dcn_on_last_conv default False,
  conv_bias 'auto' = no bias in the GN tower convs); test_cfg nms_pre 1000, min_bbox_size 0, score_thr 0.05,
  nms iou_threshold 0.5, max_per_img 100.
- configs/_base_/datasets/coco_detection.py (base of the above): test_pipeline Resize scale (1333, 800),
  keep_ratio True; CocoDataset (80 classes).
- The "ms-640-800-2x" configs only change the TRAIN pipeline (RandomChoiceResize 640/800) and the schedule;
  their test pipeline and test_cfg are the base's.

The exporter writes these as fcos4j.* metadata (engines/CONTRACT.md). With real mmdet and --config the
exporter reads the same facts from the config file and checks them against this table when the config name
is known (a mismatch is an error naming the key), so the table cannot silently drift from upstream.
"""
import json
import os
from dataclasses import dataclass, field
from typing import Optional, Tuple

# mmdet 3.x CocoDataset.METAINFO['classes'] (80 categories, class id = index)
COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)
assert len(COCO_CLASSES) == 80

CAFFE_MEAN_DETECTRON = (102.9801, 115.9465, 122.7717)  # BGR, detectron/resnet*_caffe weights
CAFFE_MEAN_DETECTRON2 = (103.530, 116.280, 123.675)    # BGR, detectron2/resnet50_caffe weights
IMAGENET_MEAN_RGB_255 = (123.675, 116.28, 103.53)
IMAGENET_STD_RGB_255 = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class FcosConfigFacts:
    name: str
    source: str                      # upstream file the non-base values come from
    # backbone
    backbone: str                    # 'ResNet' or 'ResNeXt'
    depth: int
    style: str                       # 'caffe' (stride on the 1x1 conv) or 'pytorch' (stride on the 3x3)
    groups: int = 1                  # ResNeXt cardinality
    base_width: int = 4              # ResNeXt width per group
    stage_with_dcn: Tuple[bool, bool, bool, bool] = (False, False, False, False)
    # head
    num_classes: int = 80
    strides: Tuple[int, ...] = (8, 16, 32, 64, 128)
    norm_on_bbox: bool = False       # test mode: relu(scale * x) * stride instead of exp(scale * x)
    centerness_on_reg: bool = False  # conv_centerness on the regression tower instead of the cls tower
    dcn_on_last_conv: bool = False   # last conv of both towers is DCNv2 (ModulatedDeformConv2dPack)
    conv_bias: object = "auto"       # 'auto' (no bias with GN) or True
    # neck (identical for all supported configs)
    fpn_start_level: int = 1
    fpn_add_extra_convs: str = "on_output"
    fpn_relu_before_extra_convs: bool = True
    # data_preprocessor
    mean: Tuple[float, float, float] = CAFFE_MEAN_DETECTRON
    std: Tuple[float, float, float] = (1.0, 1.0, 1.0)
    bgr_to_rgb: bool = False         # False: the network sees BGR (mmcv loads BGR)
    pad_size_divisor: int = 32
    # test pipeline / test_cfg
    resize_scale: Tuple[int, int] = (1333, 800)
    keep_ratio: bool = True
    nms_pre: int = 1000
    score_thr: float = 0.05
    iou_threshold: float = 0.5
    max_per_img: int = 100
    min_bbox_size: int = 0
    class_names: Tuple[str, ...] = field(default=COCO_CLASSES, repr=False)

    @property
    def channel_order(self) -> str:
        return "RGB" if self.bgr_to_rgb else "BGR"

    @property
    def uses_dcn(self) -> bool:
        return self.dcn_on_last_conv or any(self.stage_with_dcn)


_TRICKS = dict(
    # configs/fcos/fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco.py: data_preprocessor
    # mean [103.530, 116.280, 123.675], std [1, 1, 1], bgr_to_rgb False; bbox_head norm_on_bbox True,
    # centerness_on_reg True, dcn_on_last_conv False, center_sampling True (training only), conv_bias True,
    # GIoULoss (training only); test_cfg nms iou_threshold 0.6.
    mean=CAFFE_MEAN_DETECTRON2, norm_on_bbox=True, centerness_on_reg=True, conv_bias=True, iou_threshold=0.6,
)

CONFIGS = {c.name: c for c in (
    # configs/fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py (the base, see the module docstring)
    FcosConfigFacts(
        name="fcos_r50-caffe_fpn_gn-head_1x_coco",
        source="configs/fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py",
        backbone="ResNet", depth=50, style="caffe"),
    # configs/fcos/fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py: _base_ the above; train pipeline and
    # schedule only
    FcosConfigFacts(
        name="fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco",
        source="configs/fcos/fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py",
        backbone="ResNet", depth=50, style="caffe"),
    # "tricks": see _TRICKS
    FcosConfigFacts(
        name="fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco",
        source="configs/fcos/fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco.py",
        backbone="ResNet", depth=50, style="caffe", **_TRICKS),
    # configs/fcos/fcos_r50-dcn-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco.py: the tricks
    # values (written out again in that file, same mean 103.530/116.280/123.675, iou 0.6, conv_bias True) plus
    # backbone dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
    # stage_with_dcn=(False, True, True, True), and bbox_head dcn_on_last_conv=True.
    FcosConfigFacts(
        name="fcos_r50-dcn-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco",
        source="configs/fcos/fcos_r50-dcn-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco.py",
        backbone="ResNet", depth=50, style="caffe", stage_with_dcn=(False, True, True, True),
        dcn_on_last_conv=True, **_TRICKS),
    # configs/fcos/fcos_r101-caffe_fpn_gn-head-1x_coco.py: _base_ the R-50 base; backbone depth 101
    # (detectron/resnet101_caffe weights, same caffe mean)
    FcosConfigFacts(
        name="fcos_r101-caffe_fpn_gn-head-1x_coco",
        source="configs/fcos/fcos_r101-caffe_fpn_gn-head-1x_coco.py",
        backbone="ResNet", depth=101, style="caffe"),
    # configs/fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py: as the above + train pipeline / schedule
    FcosConfigFacts(
        name="fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco",
        source="configs/fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py",
        backbone="ResNet", depth=101, style="caffe"),
    # configs/fcos/fcos_x101-64x4d_fpn_gn-head_ms-640-800-2x_coco.py: _base_ the R-50 base; data_preprocessor
    # mean [123.675, 116.28, 103.53], std [58.395, 57.12, 57.375], bgr_to_rgb True; backbone ResNeXt depth 101,
    # groups 64, base_width 4, style 'pytorch' (open-mmlab://resnext101_64x4d); head and test_cfg of the base
    FcosConfigFacts(
        name="fcos_x101-64x4d_fpn_gn-head_ms-640-800-2x_coco",
        source="configs/fcos/fcos_x101-64x4d_fpn_gn-head_ms-640-800-2x_coco.py",
        backbone="ResNeXt", depth=101, style="pytorch", groups=64, base_width=4,
        mean=IMAGENET_MEAN_RGB_255, std=IMAGENET_STD_RGB_255, bgr_to_rgb=True),
)}


def infer_config_name(path: str) -> Optional[str]:
    """The table key for a config file name (``.../fcos_r50-caffe_fpn_gn-head_1x_coco.py``), else None."""
    base = os.path.basename(path)
    if base.endswith(".py"):
        base = base[:-3]
    return base if base in CONFIGS else None


def metadata_for(facts: FcosConfigFacts, model_name: str, class_names) -> dict:
    """fcos4j.* metadata (engines/CONTRACT.md) of a config."""
    def csv(v):
        return ",".join(repr(float(x)) for x in v)

    return {
        "fcos4j.contract_version": "1",
        "fcos4j.model_name": model_name,
        "fcos4j.strides": ",".join(str(s) for s in facts.strides),
        "fcos4j.class_names": json.dumps(list(class_names), ensure_ascii=False),
        "fcos4j.num_classes": str(len(class_names)),
        "fcos4j.channel_order": facts.channel_order,
        # mmdet normalizes raw 0..255 pixels: (pixel - mean) / std
        "fcos4j.input_scale": "1",
        "fcos4j.mean": csv(facts.mean),
        "fcos4j.std": csv(facts.std),
        "fcos4j.resize_policy": "mmdet",
        "fcos4j.resize_scale": f"{facts.resize_scale[0]},{facts.resize_scale[1]}",
        "fcos4j.size_divisor": str(facts.pad_size_divisor),
        "fcos4j.convention": "mmdet",
        "fcos4j.score_threshold": repr(float(facts.score_thr)),
        "fcos4j.nms_pre": str(facts.nms_pre),
        "fcos4j.iou_threshold": repr(float(facts.iou_threshold)),
        "fcos4j.max_detections": str(facts.max_per_img),
    }
