#!/usr/bin/python3
"""Export torchvision's FCOS ResNet-50 FPN to the fcos4j model contract (engines/CONTRACT.md).

The ONNX graph takes `images` float32 [N,3,H,W] (normalized, padded to a multiple of 32) and returns, for
each FPN level l = 0..4 (P3..P7, strides 8..128), `cls_l` [N,C,H_l,W_l] logits, `reg_l` [N,4,H_l,W_l]
(left, top, right, bottom) distances in input pixels (torchvision's ReLU'd regression x the level's anchor
size) and `ctr_l` [N,1,H_l,W_l] centerness logits. The fcos4j.* metadata describe torchvision's
preprocessing (RGB, /255, ImageNet mean/std, resize 800/1333, pad to 32) and post-processing (score 0.2,
top 1000 per level, NMS 0.6, 100 detections).

Weights: seeded random ones by default (an untrained model, for demos and benchmarks), or a torchvision
FCOS state_dict with --weights. The untrained head predicts almost nothing above torchvision's 0.2 score
threshold; --raise-cls-bias B adds B to the classification bias so it produces some detections.

Usage: /usr/bin/python3 engines/export/export_torchvision.py --out models/fcos_r50_torchvision.onnx
       [--weights fcos_resnet50_fpn_coco.pth] [--seed 0] [--raise-cls-bias 0.5]
"""
import argparse
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import CheckpointError, check_sizes, log, read_checkpoint, strip_module_prefix  # noqa: E402,F401


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


NOMINAL_STRIDES = (8, 16, 32, 64, 128)
CONTRACT_VERSION = "1"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description="Export torchvision fcos_resnet50_fpn to the fcos4j contract ONNX (see engines/export/README.md).")
    ap.add_argument("--out", required=True, help="output .onnx path (its directory is created)")
    ap.add_argument("--weights", help="torchvision FCOS state_dict (.pth); a dict with a 'model' or 'state_dict' "
                                      "entry (training checkpoint) is accepted too. Default: seeded random weights")
    ap.add_argument("--seed", type=int, default=0, help="seed for the random weights (default 0)")
    ap.add_argument("--num-classes", type=int,
                    help="classes of the head (default: taken from --weights, else 91 like torchvision)")
    ap.add_argument("--class-names",
                    help="JSON array or text file (one name a line) of class names; default: torchvision's 91 "
                         "COCO categories (with its __background__ and N/A slots) when there are 91 classes, "
                         "else class_0..class_{C-1}")
    ap.add_argument("--raise-cls-bias", type=float, default=0.0, metavar="B",
                    help="add B to the classification bias (untrained seed-0 model: 0.4 -> a few detections, "
                         ">= 1.0 -> the 100 cap on real photos)")
    ap.add_argument("--model-name", help="fcos4j.model_name (default: derived from the weights)")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--trace-size", type=int, nargs=2, default=(512, 640), metavar=("H", "W"),
                    help="input size used to trace (any multiple of 32; the exported H/W are dynamic)")
    ap.add_argument("--verify-size", type=int, nargs=2, default=(416, 608), metavar=("H", "W"),
                    help="input size for the post-export comparison (default not a multiple of 128, on purpose)")
    ap.add_argument("--no-verify", action="store_true", help="skip the comparison with torchvision's head")
    args = ap.parse_args(argv)
    check_sizes(ap, args)
    return args


def load_state_dict(path):
    try:
        obj = read_checkpoint(path, "--weights")
    except CheckpointError as e:
        fail(str(e))
    if isinstance(obj, dict):
        for key in ("model", "state_dict", "model_state_dict"):
            if key in obj and isinstance(obj[key], dict):
                log(f"using the '{key}' entry of {path}")
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(hasattr(v, "shape") for v in obj.values()):
        fail(f"--weights {path}: not a state_dict (a mapping of parameter names to tensors)")
    return strip_module_prefix(obj)


def build_model(args):
    import torch
    from torchvision.models.detection import fcos_resnet50_fpn

    state = None
    num_classes = args.num_classes
    if args.weights:
        state = load_state_dict(args.weights)
        key = "head.classification_head.cls_logits.weight"
        if key not in state:
            fail(f"--weights {args.weights}: no '{key}'; is this a torchvision FCOS state_dict? "
                 f"first keys: {list(state)[:5]}")
        ckpt_classes = int(state[key].shape[0])
        if num_classes is not None and num_classes != ckpt_classes:
            fail(f"--num-classes {num_classes} but {args.weights} has {ckpt_classes} classes ({key} "
                 f"{tuple(state[key].shape)})")
        num_classes = ckpt_classes
    if num_classes is None:
        num_classes = 91
    if num_classes <= 0:
        fail(f"--num-classes must be positive, got {num_classes}")

    torch.manual_seed(args.seed)
    # weights=None, weights_backbone=None: plain BatchNorm2d (eval mode = the same affine map as the
    # FrozenBatchNorm2d of a trained torchvision model, and the ONNX exporter folds it into the convs)
    model = fcos_resnet50_fpn(weights=None, weights_backbone=None, num_classes=num_classes)
    if state is not None:
        expected = model.state_dict()
        # FrozenBatchNorm2d checkpoints have no num_batches_tracked (unused in eval mode)
        missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
        unexpected = [k for k in state if k not in expected]
        if missing or unexpected:
            fail(f"--weights {args.weights} does not match torchvision fcos_resnet50_fpn({num_classes} classes): "
                 f"{len(missing)} missing keys (first: {missing[:5]}), {len(unexpected)} unexpected keys "
                 f"(first: {unexpected[:5]})")
        wrong = [(k, tuple(state[k].shape), tuple(v.shape)) for k, v in expected.items()
                 if k in state and tuple(state[k].shape) != tuple(v.shape)]
        if wrong:
            fail(f"--weights {args.weights}: {len(wrong)} tensors have the wrong shape (first: "
                 f"{wrong[0][0]} is {wrong[0][1]}, expected {wrong[0][2]})")
        result = model.load_state_dict(state, strict=False)
        assert not result.unexpected_keys
    model.eval()
    if args.raise_cls_bias:
        with torch.no_grad():
            model.head.classification_head.cls_logits.bias += args.raise_cls_bias
    return model, num_classes


def class_names_for(args, num_classes):
    if args.class_names:
        path = args.class_names
        if not os.path.isfile(path):
            fail(f"--class-names {path}: no such file")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            names = json.loads(text)
        except json.JSONDecodeError:
            names = [line.strip() for line in text.splitlines() if line.strip()]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            fail(f"--class-names {path}: expected a JSON array of strings or one name a line")
        if len(names) != num_classes:
            fail(f"--class-names {path} has {len(names)} names, the model {num_classes} classes")
        return names
    if num_classes == 91:
        from torchvision.models.detection import FCOS_ResNet50_FPN_Weights
        names = list(FCOS_ResNet50_FPN_Weights.COCO_V1.meta["categories"])
        assert len(names) == 91
        return names
    return [f"class_{i}" for i in range(num_classes)]


def make_wrapper(model):
    import torch
    from torch import nn

    class ContractFcos(nn.Module):
        """Backbone + torchvision's FCOSHead, per level in NCHW instead of concatenated [N, HW, C].

        Runs the head's own sub-modules level by level (what FCOSHead.forward does before its
        permute/reshape/cat), so the graph has no transposes or concatenations; verify() checks the result
        equals the head's concatenated outputs split back per level.
        """

        def __init__(self, fcos):
            super().__init__()
            self.backbone = fcos.backbone
            self.cls_head = fcos.head.classification_head
            self.reg_head = fcos.head.regression_head
            # the anchor size of each level scales the regression (BoxLinearCoder, normalize_by_size)
            sizes = [s[0] for s in fcos.anchor_generator.sizes]
            ratios = [tuple(a) for a in fcos.anchor_generator.aspect_ratios]
            if tuple(sizes) != NOMINAL_STRIDES or any(r != (1.0,) for r in ratios):
                raise ValueError(f"expected anchor sizes {NOMINAL_STRIDES} with aspect ratio 1, got {sizes} {ratios}")
            self.sizes = sizes

        def forward(self, images):
            feats = list(self.backbone(images).values())
            cls, reg, ctr = [], [], []
            for size, f in zip(self.sizes, feats):
                cls.append(self.cls_head.cls_logits(self.cls_head.conv(f)))
                b = self.reg_head.conv(f)
                reg.append(nn.functional.relu(self.reg_head.bbox_reg(b)) * float(size))
                ctr.append(self.reg_head.bbox_ctrness(b))
            return tuple(cls + reg + ctr)

    wrapper = ContractFcos(model).eval()
    n_levels = len(model.backbone(torch.zeros(1, 3, 64, 64)))
    if n_levels != 5:
        raise ValueError(f"expected 5 FPN levels (P3..P7), the backbone returns {n_levels}")
    return wrapper


OUTPUT_NAMES = [f"{k}_{l}" for k in ("cls", "reg", "ctr") for l in range(5)]


def export(wrapper, args):
    import torch
    h, w = args.trace_size
    x = torch.randn(1, 3, h, w)
    dynamic = {"images": {0: "N", 2: "H", 3: "W"}}
    for name in OUTPUT_NAMES:
        l = name.split("_")[1]
        dynamic[name] = {0: "N", 2: f"H_{l}", 3: f"W_{l}"}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)) or ".", exist_ok=True)
    tmp = args.out + ".tmp"
    with torch.no_grad(), warnings.catch_warnings():
        # torch 1.13 warns once per pass about prim::Constant shape inference (the FPN's upsampling
        # sizes); the output shapes are checked by onnx shape inference in finish()
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(wrapper, (x,), tmp, opset_version=args.opset, input_names=["images"],
                          output_names=OUTPUT_NAMES, dynamic_axes=dynamic, do_constant_folding=True)
    return tmp


def metadata(args, num_classes, names):
    if args.model_name:
        model_name = args.model_name
    elif args.weights:
        model_name = "torchvision_fcos_resnet50_fpn:" + os.path.basename(args.weights)
    else:
        model_name = f"torchvision_fcos_resnet50_fpn:untrained-seed{args.seed}"
    if args.raise_cls_bias:
        model_name += f"+cls_bias{args.raise_cls_bias:+g}"

    def csv(v):
        return ",".join(repr(float(x)) for x in v)

    return {
        "fcos4j.contract_version": CONTRACT_VERSION,
        "fcos4j.model_name": model_name,
        "fcos4j.strides": ",".join(str(s) for s in NOMINAL_STRIDES),
        "fcos4j.class_names": json.dumps(names, ensure_ascii=False),
        "fcos4j.num_classes": str(num_classes),
        # torchvision: RGB tensors in [0, 1], normalized with ImageNet mean/std (GeneralizedRCNNTransform)
        "fcos4j.channel_order": "RGB",
        "fcos4j.input_scale": "255",
        "fcos4j.mean": csv(IMAGENET_MEAN),
        "fcos4j.std": csv(IMAGENET_STD),
        "fcos4j.resize_policy": "torchvision",
        "fcos4j.resize_scale": "1333,800",
        "fcos4j.size_divisor": "32",
        "fcos4j.convention": "torchvision",
        "fcos4j.score_threshold": "0.2",
        "fcos4j.nms_pre": "1000",
        "fcos4j.iou_threshold": "0.6",
        "fcos4j.max_detections": "100",
    }


def finish(tmp, args, meta, num_classes):
    import onnx
    m = onnx.load(tmp)
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    m.producer_name = "fcos4j engines/export/export_torchvision.py"
    m.doc_string = ("torchvision fcos_resnet50_fpn in the fcos4j contract; weights: "
                    + (args.weights or f"random (torch.manual_seed({args.seed}))")
                    + (f"; classification bias raised by {args.raise_cls_bias}" if args.raise_cls_bias else ""))
    onnx.checker.check_model(m)
    # names, order and ranks of the contract
    ins = [i.name for i in m.graph.input]
    if ins != ["images"]:
        raise AssertionError(f"graph inputs {ins}, expected ['images']")
    outs = [o.name for o in m.graph.output]
    if outs != OUTPUT_NAMES:
        raise AssertionError(f"graph outputs {outs}, expected {OUTPUT_NAMES}")
    inferred = onnx.shape_inference.infer_shapes(m)
    for o in inferred.graph.output:
        dims = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in o.type.tensor_type.shape.dim]
        want_c = num_classes if o.name.startswith("cls") else 4 if o.name.startswith("reg") else 1
        if o.type.tensor_type.elem_type != onnx.TensorProto.FLOAT or len(dims) != 4 or dims[1] != want_c:
            raise AssertionError(f"output {o.name}: shape {dims}, expected [N,{want_c},H,W] float32")
    onnx.save(m, tmp)
    return m


def verify(model, wrapper, args, onnx_path):
    """The wrapper's per-level tensors equal torchvision's own head outputs split back per level."""
    import torch
    h, w = args.verify_size
    torch.manual_seed(args.seed + 1)
    x = torch.randn(2, 3, h, w)
    with torch.no_grad():
        feats = list(model.backbone(x).values())
        head = model.head(feats)
        got = wrapper(x)
    shapes = [tuple(f.shape[-2:]) for f in feats]
    hs, ws = [h // 8, h // 16, h // 32], [w // 8, w // 16, w // 32]
    for _ in range(2):
        hs.append((hs[-1] + 1) // 2)
        ws.append((ws[-1] + 1) // 2)
    if shapes != list(zip(hs, ws)):
        raise AssertionError(f"level sizes {shapes}, the contract says {list(zip(hs, ws))}")
    sizes = [a * b for a, b in shapes]
    worst = 0.0
    for i, key in enumerate(("cls_logits", "bbox_regression", "bbox_ctrness")):
        parts = head[key].split(sizes, dim=1)
        for l, (hh, ww) in enumerate(shapes):
            mine = got[5 * i + l]
            ref = parts[l].reshape(x.shape[0], hh, ww, -1).permute(0, 3, 1, 2)
            if key == "bbox_regression":
                ref = ref * NOMINAL_STRIDES[l]
            if mine.shape != ref.shape:
                raise AssertionError(f"{OUTPUT_NAMES[5 * i + l]}: shape {tuple(mine.shape)} vs {tuple(ref.shape)}")
            diff = (mine - ref).abs().max().item()
            scale = max(1.0, ref.abs().max().item())
            worst = max(worst, diff / scale)
            if diff > 1e-5 * scale:
                raise AssertionError(f"{OUTPUT_NAMES[5 * i + l]} differs from torchvision's head by {diff}")
    log(f"verified: wrapper == torchvision head outputs split per level on a {tuple(x.shape)} input "
        f"(max relative difference {worst:.1e}), level sizes {shapes}")
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError:
        log("onnxruntime (Python) not installed: the ONNX file itself was checked with onnx.checker and shape "
            "inference only")
        return
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    outs = sess.run(OUTPUT_NAMES, {"images": x.numpy()})
    worst = 0.0
    for name, a, b in zip(OUTPUT_NAMES, outs, got):
        b = b.numpy()
        if a.shape != b.shape:
            raise AssertionError(f"onnxruntime {name}: shape {a.shape} vs torch {b.shape}")
        worst = max(worst, float(np.abs(a - b).max()) / max(1.0, float(np.abs(b).max())))
    if worst > 1e-3:
        raise AssertionError(f"onnxruntime output differs from torch by {worst:.1e} (relative)")
    log(f"verified: onnxruntime on the ONNX file == torch (max relative difference {worst:.1e})")


def main(argv=None):
    args = parse_args(argv)
    log("importing torch / torchvision / onnx")
    import onnx  # noqa: F401 - fail early when missing
    import torch
    import torchvision
    torch.set_grad_enabled(False)
    log(f"torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}")
    log("building fcos_resnet50_fpn" + (f" with {args.weights}" if args.weights else f" (random weights, seed {args.seed})"))
    model, num_classes = build_model(args)
    names = class_names_for(args, num_classes)
    wrapper = make_wrapper(model)
    log(f"{num_classes} classes, {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters")
    log(f"exporting ONNX opset {args.opset} (traced at {args.trace_size[0]}x{args.trace_size[1]}, dynamic N/H/W)")
    tmp = args.out + ".tmp"
    try:
        export(wrapper, args)
        log("writing metadata, checking the graph")
        finish(tmp, args, metadata(args, num_classes, names), num_classes)
        size = os.path.getsize(tmp)
        if not args.no_verify:
            verify(model, wrapper, args, tmp)
        # only a checked and verified file gets the final name (make must not see a half-made target)
        os.replace(tmp, args.out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    log(f"wrote {args.out} ({size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
