#!/usr/bin/python3
"""Export an mmdetection 3.x FCOS (configs/fcos/ of the model zoo) to the fcos4j model contract
(engines/CONTRACT.md).

The ONNX graph takes `images` float32 [N,3,H,W] (mmdet-normalized, padded to a multiple of 32) and returns per
FPN level l = 0..4 (P3..P7, strides 8..128) `cls_l` [N,C,H_l,W_l] logits, `reg_l` [N,4,H_l,W_l] (left, top,
right, bottom) distances in INPUT PIXELS and `ctr_l` [N,1,H_l,W_l] centerness logits, i.e. exactly the
tensors mmdet's FCOSHead.forward returns in test mode (what `predict_by_feat` decodes):

    cls_l = conv_cls(cls_convs(P_l))
    reg_l = exp(scales[l] * conv_reg(reg_convs(P_l)))                  norm_on_bbox False
          = max(scales[l] * conv_reg(reg_convs(P_l)), 0) * stride_l      norm_on_bbox True (test mode)
    ctr_l = conv_centerness(reg_convs(P_l) if centerness_on_reg else cls_convs(P_l))

Metadata: the config's data_preprocessor (mean/std/bgr_to_rgb, pad 32), test resize (1333, 800) keep-ratio and
test_cfg (score_thr, nms_pre, nms iou, max_per_img), convention "mmdet".

DCNv2 (the -dcn- config): every mmcv ModulatedDeformConv2dPack is exported as ONE node
`trt.plugins::ModulatedDeformConv2d` (inputs x, offset, mask, weight[, bias]; attributes stride, padding,
dilation, group, deformable_group, plugin_version, plugin_namespace) that TensorRT's ONNX parser resolves to the
`ModulatedDeformConv2d` plugin of libnvinfer_plugin (engines/export/DCN.md). ONNX Runtime's CPU provider cannot
run that node.

Usage (real model; needs mmdet 3.x, mmcv 2.x, mmengine):
    python3 engines/export/export_mmdet.py --config fcos_r50-caffe_fpn_gn-head_1x_coco.py \
        --checkpoint <model-zoo checkpoint>.pth --out models/fcos_r50_mmdet.onnx
Stand-in (no mmdet; a small seeded random model of the same architecture, for tests and demos):
    /usr/bin/python3 engines/export/export_mmdet.py --standin \
        --config-name fcos_r50-caffe_fpn_gn-head_1x_coco --out models/fcos_r50_standin.onnx
"""
import argparse
import contextlib
import json
import os
import sys
import types
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import CheckpointError, check_sizes, log, read_checkpoint, strip_module_prefix  # noqa: E402
from mmdet_configs import CONFIGS, COCO_CLASSES, FcosConfigFacts, infer_config_name, metadata_for  # noqa: E402
NUM_LEVELS = 5
OUTPUT_NAMES = [f"{k}_{l}" for k in ("cls", "reg", "ctr") for l in range(NUM_LEVELS)]

# The DCNv2 node (see DCN.md). onnx-tensorrt dispatches on op_type only (any domain); "trt.plugins" is the
# domain ONNX Runtime's TensorRT execution provider registers TensorRT plugins under, and a non-default
# domain keeps onnx.checker from rejecting an op it has no schema for.
DCN_OP_TYPE = "ModulatedDeformConv2d"
DCN_DOMAIN = "trt.plugins"
DCN_PLUGIN_VERSIONS = ("1", "2")   # libnvinfer_plugin 10.x: "1" IPluginV2DynamicExt (all 10.x), "2" IPluginV3 (10.11+)
DCN_DEFAULT_PLUGIN_VERSION = "1"


class ExportError(Exception):
    """A model/checkpoint/config problem; the message names the tensor, layer or key at fault."""


# --------------------------------------------------------------------------------------------------------------
# DCNv2 -> TensorRT plugin node

def _dcn_function_class():
    import torch
    from torchvision.ops import deform_conv2d

    class ModulatedDeformConv2dTrt(torch.autograd.Function):
        """Modulated deformable convolution (mmcv semantics) that exports as the TensorRT plugin node.

        In PyTorch it runs torchvision.ops.deform_conv2d, whose offset layout (channel 2k = y, 2k+1 = x of
        kernel tap k = i*kw + j), mask layout and bilinear sampling (zero outside) are mmcv's."""

        @staticmethod
        def forward(ctx, x, offset, mask, weight, bias, stride, padding, dilation, groups, deform_groups,
                    plugin_version):
            return deform_conv2d(x, offset, weight, bias, stride=stride, padding=padding, dilation=dilation,
                                 mask=mask)

        @staticmethod
        def symbolic(g, x, offset, mask, weight, bias, stride, padding, dilation, groups, deform_groups,
                     plugin_version):
            inputs = [x, offset, mask, weight] + ([] if bias is None else [bias])
            out = g.op(f"{DCN_DOMAIN}::{DCN_OP_TYPE}", *inputs,
                       stride_i=list(stride), padding_i=list(padding), dilation_i=list(dilation),
                       group_i=int(groups), deformable_group_i=int(deform_groups),
                       plugin_version_s=plugin_version, plugin_namespace_s="")
            out.setType(x.type())
            return out

    return ModulatedDeformConv2dTrt


def _dcn_pack_forward(self, x):
    """mmcv ModulatedDeformConv2dPack.forward with the exportable function (bound to each DCN module)."""
    import torch
    out = self.conv_offset(x)
    o1, o2, mask = torch.chunk(out, 3, dim=1)
    offset = torch.cat((o1, o2), dim=1)
    mask = torch.sigmoid(mask)
    stride, padding, dilation = (tuple(int(v) for v in _pair(a)) for a in (self.stride, self.padding, self.dilation))
    return self._fcos4j_dcn_fn.apply(x, offset, mask, self.weight, self.bias, stride, padding, dilation,
                                     int(self.groups), int(self.deform_groups), self._fcos4j_plugin_version)


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def find_deform_convs(model):
    """(name, module) of every DCNv2 module; DCNv1 (no mask) has no TensorRT plugin here and is refused."""
    found = []
    for name, m in model.named_modules():
        cls = type(m).__name__
        if cls in ("ModulatedDeformConv2dPack", "ModulatedDeformConv2d"):
            if not hasattr(m, "conv_offset"):
                raise ExportError(f"layer '{name}' ({cls}) takes external offsets/masks; only "
                                  "ModulatedDeformConv2dPack (mmcv DCNv2) is supported")
            found.append((name, m))
        elif cls in ("DeformConv2dPack", "DeformConv2d", "DCN"):
            raise ExportError(f"layer '{name}' is {cls} (DCNv1, no modulation mask): not supported, "
                              "only DCNv2 (ModulatedDeformConv2dPack) maps onto TensorRT's ModulatedDeformConv2d")
    return found


@contextlib.contextmanager
def dcn_export_patch(model, plugin_version=DCN_DEFAULT_PLUGIN_VERSION):
    """Within the block every DCNv2 module of `model` computes with (and exports as) the plugin node."""
    if plugin_version not in DCN_PLUGIN_VERSIONS:
        raise ExportError(f"--dcn-plugin-version {plugin_version!r}: expected one of {DCN_PLUGIN_VERSIONS}")
    fn = _dcn_function_class()
    mods = find_deform_convs(model)
    for _, m in mods:
        m._fcos4j_dcn_fn = fn
        m._fcos4j_plugin_version = plugin_version
        m.forward = types.MethodType(_dcn_pack_forward, m)
    try:
        yield [n for n, _ in mods]
    finally:
        for _, m in mods:
            for attr in ("forward", "_fcos4j_dcn_fn", "_fcos4j_plugin_version"):
                m.__dict__.pop(attr, None)


# --------------------------------------------------------------------------------------------------------------
# the contract wrapper (works on mmdet detectors and on the stand-ins: same attribute names)

def check_head(detector, facts: FcosConfigFacts, num_classes):
    """The head must be an FCOS head matching the config; errors name the attribute (bbox_head.<name>)."""
    head = getattr(detector, "bbox_head", None)
    if head is None:
        raise ExportError("the detector has no 'bbox_head' (not a single-stage mmdet detector)")
    problems = []
    for attr in ("cls_convs", "reg_convs", "conv_cls", "conv_reg", "conv_centerness", "scales", "strides"):
        if not hasattr(head, attr):
            what = " (no centerness branch: not an FCOSHead)" if attr == "conv_centerness" else ""
            problems.append(f"bbox_head.{attr} is missing{what}")
    if problems:
        raise ExportError(f"{type(head).__name__} is not an mmdet FCOSHead: " + "; ".join(problems))

    def out_ch(conv):
        return int(conv.weight.shape[0])

    if out_ch(head.conv_cls) != num_classes:
        problems.append(f"bbox_head.conv_cls has {out_ch(head.conv_cls)} output channels, expected num_classes "
                        f"{num_classes} (class logits, sigmoid, no background channel)")
    if out_ch(head.conv_reg) != 4:
        problems.append(f"bbox_head.conv_reg has {out_ch(head.conv_reg)} output channels, expected 4")
    if out_ch(head.conv_centerness) != 1:
        problems.append(f"bbox_head.conv_centerness has {out_ch(head.conv_centerness)} output channels, expected 1")
    strides = tuple(int(s[0] if isinstance(s, (tuple, list)) else s) for s in head.strides)
    if strides != tuple(facts.strides):
        problems.append(f"bbox_head.strides {list(strides)} differ from the config's {list(facts.strides)}")
    if len(head.scales) != len(strides) or len(strides) != NUM_LEVELS:
        problems.append(f"bbox_head.scales has {len(head.scales)} entries for {len(strides)} strides; "
                        f"expected {NUM_LEVELS} levels (P3..P7)")
    for attr in ("norm_on_bbox", "centerness_on_reg"):
        have = bool(getattr(head, attr, False))
        if have != getattr(facts, attr):
            problems.append(f"bbox_head.{attr} is {have}, config {facts.name} says {getattr(facts, attr)}")
    if problems:
        raise ExportError("; ".join(problems))


def make_wrapper(detector, facts: FcosConfigFacts, num_classes):
    import torch
    from torch import nn

    check_head(detector, facts, num_classes)

    class ContractMmdetFcos(nn.Module):
        """extract_feat + FCOSHead per level, written out from the head's sub-modules (mmdet 3.x
        FCOSHead.forward_single in test mode); verify() checks it against the head's own forward."""

        def __init__(self, det):
            super().__init__()
            self.det = det
            self.head = det.bbox_head
            self.strides = [float(s) for s in facts.strides]
            self.norm_on_bbox = facts.norm_on_bbox
            self.centerness_on_reg = facts.centerness_on_reg

        def forward(self, images):
            feats = self.det.extract_feat(images)
            if len(feats) != NUM_LEVELS:
                raise ExportError(f"the neck returns {len(feats)} levels, expected {NUM_LEVELS} (P3..P7)")
            h = self.head
            cls, reg, ctr = [], [], []
            for l, x in enumerate(feats):
                cls_feat, reg_feat = x, x
                for layer in h.cls_convs:
                    cls_feat = layer(cls_feat)
                for layer in h.reg_convs:
                    reg_feat = layer(reg_feat)
                cls.append(h.conv_cls(cls_feat))
                b = h.scales[l](h.conv_reg(reg_feat)).float()
                if self.norm_on_bbox:
                    b = torch.relu(b) * self.strides[l]   # distances were regressed in stride units
                else:
                    b = torch.exp(b)                     # already pixels
                reg.append(b)
                ctr.append(h.conv_centerness(reg_feat if self.centerness_on_reg else cls_feat))
            return tuple(cls + reg + ctr)

    return ContractMmdetFcos(detector).eval()


# --------------------------------------------------------------------------------------------------------------
# checkpoints

# mmdet 1.x/2.0 names of the predictors; AnchorFreeHead._load_from_state_dict renames them when a checkpoint
# has no version metadata.
_LEGACY_HEAD_NAMES = {"fcos_cls": "conv_cls", "fcos_reg": "conv_reg", "fcos_centerness": "conv_centerness"}


def load_checkpoint_state(path):
    """(state_dict, dataset_meta or None) of an mmdet checkpoint (or a bare state_dict)."""
    try:
        obj = read_checkpoint(path, "--checkpoint")
    except CheckpointError as e:
        raise ExportError(str(e)) from e
    meta = None
    if isinstance(obj, dict) and isinstance(obj.get("meta"), dict):
        meta = obj["meta"].get("dataset_meta")
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(hasattr(v, "shape") for v in obj.values()):
        raise ExportError(f"--checkpoint {path}: not an mmdet checkpoint (no 'state_dict' of tensors)")
    obj = strip_module_prefix(obj)
    renamed = {}
    for k, v in obj.items():
        parts = k.split(".")
        if len(parts) > 2 and parts[0] == "bbox_head" and parts[1] in _LEGACY_HEAD_NAMES:
            parts[1] = _LEGACY_HEAD_NAMES[parts[1]]
        renamed[".".join(parts)] = v
    return renamed, meta


def check_state_dict(expected, state, facts: FcosConfigFacts, num_classes, source):
    """Compares a checkpoint's tensors with the model built from the config. Raises ExportError naming the
    tensors at fault. Only weights are checked here: norm_on_bbox and centerness_on_reg leave no trace in the
    weights (the same tensors exist either way) and come from the config alone."""
    expected = {k: tuple(v.shape) for k, v in expected.items() if not k.endswith("num_batches_tracked")}
    state_shapes = {k: tuple(v.shape) for k, v in state.items() if not k.endswith("num_batches_tracked")}
    problems = []
    key = "bbox_head.conv_centerness.weight"
    if key not in state_shapes:
        problems.append(f"'{key}' is missing: the checkpoint has no FCOS centerness branch")
    key = "bbox_head.conv_cls.weight"
    if key in state_shapes and state_shapes[key][0] != num_classes:
        problems.append(f"'{key}' has shape {list(state_shapes[key])}: {state_shapes[key][0]} classes, but "
                        f"{source} has num_classes {num_classes}")
    ck_dcn = sorted(k for k in state_shapes if ".conv_offset." in k)
    ex_dcn = sorted(k for k in expected if ".conv_offset." in k)
    if ck_dcn and not ex_dcn:
        problems.append(f"the checkpoint has deformable-conv offset layers (e.g. '{ck_dcn[0]}') but {source} has "
                        "no DCN: use the -dcn- config")
    elif ex_dcn and not ck_dcn:
        problems.append(f"{source} has DCNv2 layers (e.g. '{ex_dcn[0]}') but the checkpoint has none")
    missing = [k for k in expected if k not in state_shapes]
    unexpected = [k for k in state_shapes if k not in expected]
    wrong = [(k, state_shapes[k], s) for k, s in expected.items() if k in state_shapes and state_shapes[k] != s]
    if not problems and (missing or unexpected or wrong):
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing tensors (first: {missing[:4]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensors (first: {unexpected[:4]})")
        if wrong:
            parts.append(f"{len(wrong)} tensors of the wrong shape (first: '{wrong[0][0]}' is {list(wrong[0][1])}, "
                         f"expected {list(wrong[0][2])})")
        problems.append("; ".join(parts))
    if problems:
        raise ExportError(f"checkpoint does not match {source}: " + "; ".join(problems))


# --------------------------------------------------------------------------------------------------------------
# model construction

def facts_from_mmdet_cfg(cfg, name):
    """FcosConfigFacts read from an mmengine Config (the real config file)."""
    m = cfg.model
    dp, head, bb, test = m.data_preprocessor, m.bbox_head, m.backbone, m.get("test_cfg") or cfg.get("test_cfg")
    if head.get("type") != "FCOSHead":
        raise ExportError(f"--config: model.bbox_head.type is {head.get('type')!r}, expected 'FCOSHead'")
    scale = None
    pipeline = None
    try:
        pipeline = cfg.test_dataloader.dataset.pipeline
    except AttributeError:
        pipeline = cfg.get("test_pipeline")
    for step in pipeline or []:
        if step.get("type") == "Resize":
            if not step.get("keep_ratio", False):
                raise ExportError("--config: the test Resize has keep_ratio False; fcos4j's mmdet resize keeps the ratio")
            scale = tuple(int(v) for v in step["scale"])
    if scale is None:
        raise ExportError("--config: no Resize step found in the test pipeline (test_dataloader.dataset.pipeline)")
    dcn = bb.get("dcn")
    stages = tuple(bool(v) for v in bb.get("stage_with_dcn", (False,) * 4)) if dcn else (False,) * 4
    nms = test.get("nms", {})
    return FcosConfigFacts(
        name=name, source="--config", backbone=bb.get("type", "ResNet"), depth=int(bb.get("depth", 50)),
        style=bb.get("style", "pytorch"), groups=int(bb.get("groups", 1)), base_width=int(bb.get("base_width", 4)),
        stage_with_dcn=stages, num_classes=int(head.num_classes),
        strides=tuple(int(s) for s in head.get("strides", (4, 8, 16, 32, 64))),
        norm_on_bbox=bool(head.get("norm_on_bbox", False)),
        centerness_on_reg=bool(head.get("centerness_on_reg", False)),
        dcn_on_last_conv=bool(head.get("dcn_on_last_conv", False)), conv_bias=head.get("conv_bias", "auto"),
        mean=tuple(float(v) for v in dp.mean), std=tuple(float(v) for v in dp.std),
        bgr_to_rgb=bool(dp.get("bgr_to_rgb", False)), pad_size_divisor=int(dp.get("pad_size_divisor", 1)),
        resize_scale=scale, nms_pre=int(test.get("nms_pre", 1000)), score_thr=float(test.get("score_thr", 0.05)),
        iou_threshold=float(nms.get("iou_threshold", 0.5)), max_per_img=int(test.get("max_per_img", 100)),
        min_bbox_size=int(test.get("min_bbox_size", 0)))


# the fields compared between a real config file and the table entry of the same name
_COMPARED_FACTS = ("backbone", "depth", "style", "stage_with_dcn", "num_classes", "strides", "norm_on_bbox",
                   "centerness_on_reg", "dcn_on_last_conv", "mean", "std", "bgr_to_rgb", "pad_size_divisor",
                   "resize_scale", "nms_pre", "score_thr", "iou_threshold", "max_per_img", "min_bbox_size")


def compare_facts(from_cfg: FcosConfigFacts, table: FcosConfigFacts):
    bad = []
    for f in _COMPARED_FACTS:
        a, b = getattr(from_cfg, f), getattr(table, f)
        if isinstance(a, tuple) and a and isinstance(a[0], float):
            same = len(a) == len(b) and all(abs(x - y) < 1e-6 for x, y in zip(a, b))
        elif isinstance(a, float):
            same = abs(a - b) < 1e-9
        else:
            same = a == b
        if not same:
            bad.append(f"{f}: config file {a!r}, table {b!r}")
    if bad:
        raise ExportError(f"--config disagrees with the facts of {table.name} (engines/export/mmdet_configs.py): "
                          + "; ".join(bad) + " (pass a different --config-name, or fix the table)")


def build_mmdet_model(config_path, checkpoint, config_name):
    """Builds the detector from an mmdet 3.x config and loads the checkpoint (imports mmdet only here)."""
    try:
        from mmengine.config import Config
        from mmdet.registry import MODELS
        from mmdet.utils import register_all_modules
    except ImportError as e:
        raise ExportError(f"--config needs mmdetection 3.x, mmcv 2.x and mmengine ({e}); without them use "
                          "--standin --config-name NAME")
    register_all_modules()
    cfg = Config.fromfile(config_path)
    facts = facts_from_mmdet_cfg(cfg, config_name or os.path.basename(config_path).rsplit(".", 1)[0])
    if config_name:
        compare_facts(facts, CONFIGS[config_name])
    model = MODELS.build(cfg.model)
    state, meta = load_checkpoint_state(checkpoint)
    check_state_dict(model.state_dict(), state, facts, facts.num_classes, f"--config {config_path}")
    result = model.load_state_dict(state, strict=False)
    bad = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if bad or result.unexpected_keys:
        raise ExportError(f"--checkpoint {checkpoint}: missing {bad[:4]}, unexpected {result.unexpected_keys[:4]}")
    names = list(meta["classes"]) if meta and meta.get("classes") else None
    return model.eval(), facts, names


def build_standin_model(facts, seed, checkpoint=None):
    from mmdet_standins import build_standin
    model = build_standin(facts, seed=seed)
    names = None
    if checkpoint:
        state, meta = load_checkpoint_state(checkpoint)
        check_state_dict(model.state_dict(), state, facts, facts.num_classes, f"config {facts.name} (stand-in)")
        model.load_state_dict(state, strict=True)
        names = list(meta["classes"]) if meta and meta.get("classes") else None
    return model.eval(), names


# --------------------------------------------------------------------------------------------------------------
# export, metadata, checks

def export_onnx(wrapper, dcn_version, trace_size, opset, path):
    import torch
    h, w = trace_size
    x = torch.randn(1, 3, h, w)
    dynamic = {"images": {0: "N", 2: "H", 3: "W"}}
    for name in OUTPUT_NAMES:
        l = name.split("_")[1]
        dynamic[name] = {0: "N", 2: f"H_{l}", 3: f"W_{l}"}
    with torch.no_grad(), warnings.catch_warnings(), dcn_export_patch(wrapper.det, dcn_version) as dcn_layers:
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        warnings.filterwarnings("ignore", message=".*trt.plugins.*")
        torch.onnx.export(wrapper, (x,), path, opset_version=opset, input_names=["images"],
                          output_names=OUTPUT_NAMES, dynamic_axes=dynamic, do_constant_folding=True,
                          custom_opsets={DCN_DOMAIN: 1} if find_deform_convs(wrapper.det) else None)
    return dcn_layers


def finish(path, meta, num_classes, doc, n_dcn):
    import onnx
    m = onnx.load(path)
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    m.producer_name = "fcos4j engines/export/export_mmdet.py"
    m.doc_string = doc
    onnx.checker.check_model(m)
    ins = [i.name for i in m.graph.input]
    if ins != ["images"]:
        raise ExportError(f"graph inputs {ins}, expected ['images']")
    outs = [o.name for o in m.graph.output]
    if outs != OUTPUT_NAMES:
        raise ExportError(f"graph outputs {outs}, expected {OUTPUT_NAMES}")
    dcn_nodes = [n for n in m.graph.node if n.op_type == DCN_OP_TYPE]
    for o in m.graph.output:
        t = o.type.tensor_type
        want_c = num_classes if o.name.startswith("cls") else 4 if o.name.startswith("reg") else 1
        if dcn_nodes and len(t.shape.dim) == 4 and not t.shape.dim[1].HasField("dim_value"):
            # torch's shape inference knows nothing of the plugin op and loses every static dimension
            # downstream of it; the channel counts are static (the contract requires it), verify() checks them
            t.shape.dim[1].dim_value = want_c
        dims = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]
        if t.elem_type != onnx.TensorProto.FLOAT or len(dims) != 4 or dims[1] != want_c:
            raise ExportError(f"output {o.name}: shape {dims}, expected [N,{want_c},H,W] float32")
    if len(dcn_nodes) != n_dcn or any(n.domain != DCN_DOMAIN for n in dcn_nodes):
        raise ExportError(f"expected {n_dcn} {DCN_DOMAIN}::{DCN_OP_TYPE} nodes, found "
                          f"{[(n.domain, n.name) for n in dcn_nodes]}")
    others = sorted({f"{n.domain}::{n.op_type}" for n in m.graph.node if n.domain not in ("", "ai.onnx")}
                    - {f"{DCN_DOMAIN}::{DCN_OP_TYPE}"})
    if others:
        raise ExportError(f"unexpected custom operators in the graph: {others}")
    onnx.save(m, path)
    return m


def verify(detector, wrapper, facts, dcn_version, size, seed):
    """The wrapper equals the head's own forward (mmdet FCOSHead.forward in eval mode) per level, and the level
    sizes are the contract's."""
    import torch
    h, w = size
    torch.manual_seed(seed + 1)
    x = torch.randn(2, 3, h, w)
    with torch.no_grad():
        with dcn_export_patch(detector, dcn_version):
            got = wrapper(x)
        try:
            feats = detector.extract_feat(x)
            ref = detector.bbox_head.forward(feats)
            own = "the head's own forward"
        except Exception as e:  # noqa: BLE001 - e.g. mmcv built without its CPU deformable-conv op
            log(f"the detector's own forward failed on CPU ({type(e).__name__}: {e}); comparing with the "
                "deformable convolutions computed by torchvision instead")
            with dcn_export_patch(detector, dcn_version):
                feats = detector.extract_feat(x)
                ref = detector.bbox_head.forward(feats)
            own = "the head's own forward (DCN via torchvision)"
    hs, ws = [h // 8, h // 16, h // 32], [w // 8, w // 16, w // 32]
    for _ in range(2):
        hs.append((hs[-1] + 1) // 2)
        ws.append((ws[-1] + 1) // 2)
    shapes = [tuple(t.shape[-2:]) for t in got[:NUM_LEVELS]]
    if shapes != list(zip(hs, ws)):
        raise ExportError(f"level sizes {shapes}, the contract says {list(zip(hs, ws))}")
    worst = 0.0
    for i in range(3):
        for l in range(NUM_LEVELS):
            mine, theirs = got[NUM_LEVELS * i + l], ref[i][l]
            if tuple(mine.shape) != tuple(theirs.shape):
                raise ExportError(f"{OUTPUT_NAMES[NUM_LEVELS * i + l]}: shape {tuple(mine.shape)} vs the head's "
                                  f"{tuple(theirs.shape)}")
            diff = (mine - theirs).abs().max().item()
            scale = max(1.0, theirs.abs().max().item())
            worst = max(worst, diff / scale)
            if diff > 1e-5 * scale:
                raise ExportError(f"{OUTPUT_NAMES[NUM_LEVELS * i + l]} differs from {own} by {diff:.3g} (is the head "
                                  f"in test mode, norm_on_bbox={facts.norm_on_bbox}?)")
    log(f"verified: wrapper == {own} on a {tuple(x.shape)} input (max relative difference {worst:.1e}), "
        f"level sizes {shapes}")


def class_names_from(path, num_classes):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        names = json.loads(text)
    except json.JSONDecodeError:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ExportError(f"--class-names {path}: expected a JSON array of strings or one name a line")
    if len(names) != num_classes:
        raise ExportError(f"--class-names {path} has {len(names)} names, the model {num_classes} classes")
    return names


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Export an mmdetection 3.x FCOS to the fcos4j contract ONNX "
                                             "(engines/export/README.md).")
    ap.add_argument("--out", required=True, help="output .onnx path")
    ap.add_argument("--config", help="mmdet 3.x config file (needs mmdet/mmcv/mmengine)")
    ap.add_argument("--checkpoint", help="mmdet checkpoint (.pth); with --standin: a stand-in state_dict")
    ap.add_argument("--config-name", choices=sorted(CONFIGS),
                    help="model-zoo config whose facts apply (default: from the --config file name)")
    ap.add_argument("--standin", action="store_true",
                    help="export the torchvision stand-in of --config-name (no mmdet needed)")
    ap.add_argument("--dcn-plugin-version", default=DCN_DEFAULT_PLUGIN_VERSION, choices=DCN_PLUGIN_VERSIONS,
                    help="plugin_version of the DCNv2 nodes (1: every TensorRT 10.x; 2: IPluginV3, TensorRT >= 10.11)")
    ap.add_argument("--class-names", help="JSON array or one name a line (default: the checkpoint's "
                                          "dataset_meta, else COCO's 80 classes)")
    ap.add_argument("--model-name")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--trace-size", type=int, nargs=2, default=(256, 320), metavar=("H", "W"))
    ap.add_argument("--verify-size", type=int, nargs=2, default=(224, 352), metavar=("H", "W"),
                    help="input size of the post-export comparison (default not a multiple of 128, on purpose)")
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args(argv)
    if args.standin == bool(args.config):
        ap.error("give either --config (with --checkpoint, real mmdet) or --standin --config-name NAME")
    if args.config and not args.checkpoint:
        ap.error("--config needs --checkpoint")
    if args.standin and not args.config_name:
        ap.error("--standin needs --config-name")
    if args.config and not args.config_name:
        args.config_name = infer_config_name(args.config)
    check_sizes(ap, args)
    return args


def run(args):
    import torch
    torch.set_grad_enabled(False)
    if args.standin:
        facts = CONFIGS[args.config_name]
        log(f"building the stand-in of {facts.name} (seed {args.seed})")
        detector, ck_names = build_standin_model(facts, args.seed, args.checkpoint)
        origin = f"stand-in of {facts.name}, " + (f"weights {args.checkpoint}" if args.checkpoint
                                                  else f"random weights (seed {args.seed})")
    else:
        log(f"building {args.config} with mmdet" + (f" (facts checked against {args.config_name})"
                                                     if args.config_name else " (config not in the table)"))
        detector, facts, ck_names = build_mmdet_model(args.config, args.checkpoint, args.config_name)
        origin = f"mmdet {os.path.basename(args.config)}, checkpoint {os.path.basename(args.checkpoint)}"
    num_classes = facts.num_classes
    if args.class_names:
        names = class_names_from(args.class_names, num_classes)
    elif ck_names:
        if len(ck_names) != num_classes:
            raise ExportError(f"the checkpoint's dataset_meta lists {len(ck_names)} classes, the head has {num_classes}")
        names = ck_names
    elif num_classes == len(COCO_CLASSES):
        names = list(COCO_CLASSES)
    else:
        names = [f"class_{i}" for i in range(num_classes)]
    wrapper = make_wrapper(detector, facts, num_classes)
    dcn_layers = [n for n, _ in find_deform_convs(detector)]
    # the head's layers run once per level
    n_dcn = sum(NUM_LEVELS if n.startswith("bbox_head.") else 1 for n in dcn_layers)
    model_name = args.model_name or (facts.name + (":standin" if args.standin else ""))
    meta = metadata_for(facts, model_name, names)
    tmp = args.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)) or ".", exist_ok=True)
    try:
        log(f"exporting ONNX opset {args.opset} ({len(dcn_layers)} DCNv2 layers -> {n_dcn} "
            f"{DCN_DOMAIN}::{DCN_OP_TYPE} nodes, plugin_version {args.dcn_plugin_version})")
        export_onnx(wrapper, args.dcn_plugin_version, args.trace_size, args.opset, tmp)
        finish(tmp, meta, num_classes, origin, n_dcn)
        if not args.no_verify:
            verify(detector, wrapper, facts, args.dcn_plugin_version, args.verify_size, args.seed)
        size = os.path.getsize(tmp)
        os.replace(tmp, args.out)  # only a checked and verified file gets the final name
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    log(f"wrote {args.out} ({size / 2**20:.1f} MiB)")
    return args.out


def main(argv=None):
    args = parse_args(argv)
    try:
        run(args)
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
