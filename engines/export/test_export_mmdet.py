#!/usr/bin/python3
"""Tests of export_mmdet.py on the torchvision stand-ins (no mmdet needed). Plain Python, exit 1 on failure.

    /usr/bin/python3 engines/export/test_export_mmdet.py [--update-dcn-json]

For every supported config: export the stand-in, check the ONNX file (checker, names, shapes, metadata values
against this file's own table of upstream facts), and check numerically that the traced wrapper's per-level
tensors equal an independent computation of mmdet's decode input (raw conv outputs captured with hooks on an
unpatched stand-in run, then the test-mode formula applied here). Also: distances in input pixels in both
regimes (exp and relu * stride) on a head with known constant outputs; a numpy reference of mmcv's modulated
deformable convolution against the stand-in's DCN; mismatched checkpoints / heads / configs give errors naming
the tensor or key; the DCNv2 node (op type, domain, attributes and types, inputs) and the JSON description of it
that native/tests/plugin/ checks against libnvinfer_plugin's registry (native/tests/plugin/dcn_plugin_node.json,
committed; this test fails when it is out of date, --update-dcn-json rewrites it).
"""
import contextlib
import io
import json
import math
import os
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
DCN_JSON = os.path.join(REPO, "native", "tests", "plugin", "dcn_plugin_node.json")

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402

import export_mmdet as E  # noqa: E402
from mmdet_configs import CONFIGS  # noqa: E402
from mmdet_standins import build_standin, ModulatedDeformConv2dPack  # noqa: E402

FAILURES = []
T0 = time.time()

# The test's own statement of the upstream facts (configs/fcos/*.py of mmdetection 3.x, read independently of
# mmdet_configs.py): channel order, mean, std, nms iou, norm_on_bbox, centerness_on_reg, DCN.
DETECTRON = (102.9801, 115.9465, 122.7717)
DETECTRON2 = (103.53, 116.28, 123.675)
EXPECTED = {
    "fcos_r50-caffe_fpn_gn-head_1x_coco": ("BGR", DETECTRON, (1, 1, 1), 0.5, False, False, False),
    "fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco": ("BGR", DETECTRON, (1, 1, 1), 0.5, False, False, False),
    "fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco":
        ("BGR", DETECTRON2, (1, 1, 1), 0.6, True, True, False),
    "fcos_r50-dcn-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco":
        ("BGR", DETECTRON2, (1, 1, 1), 0.6, True, True, True),
    "fcos_r101-caffe_fpn_gn-head-1x_coco": ("BGR", DETECTRON, (1, 1, 1), 0.5, False, False, False),
    "fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco": ("BGR", DETECTRON, (1, 1, 1), 0.5, False, False, False),
    "fcos_x101-64x4d_fpn_gn-head_ms-640-800-2x_coco":
        ("RGB", (123.675, 116.28, 103.53), (58.395, 57.12, 57.375), 0.5, False, False, False),
}
STRIDES = (8, 16, 32, 64, 128)
# small trace / verification sizes keep the test fast (verify size deliberately not a multiple of 128)
SMALL = ["--trace-size", "128", "160", "--verify-size", "96", "160"]


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        print(f"  FAIL: {msg}", flush=True)
    return cond


def close(a, b, tol=1e-5):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and float(np.max(np.abs(a - b), initial=0.0)) <= tol * max(1.0, float(np.max(np.abs(b), initial=0.0)))


def run_exporter(argv):
    """main() of the exporter; returns (exit code, stderr text)."""
    err = io.StringIO()
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            E.main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
    return code, err.getvalue()


def independent_reference(model, x):
    """mmdet's decode input computed here: raw conv outputs from hooks on an UNPATCHED stand-in run, then
    bbox = exp(s*raw) or max(s*raw, 0)*stride, centerness from the tower the config says."""
    head = model.bbox_head
    rec = {"cls": [], "reg_raw": [], "ctr": [], "cls_tower": [], "reg_tower": [], "ctr_in": []}
    def recorder(out_key, in_key):
        def hook(module, inputs, output):  # returns None: a forward hook's return value would replace the output
            rec[out_key].append(output)
            rec[in_key].append(inputs[0])
        return hook

    hooks = [head.conv_cls.register_forward_hook(recorder("cls", "cls_tower")),
             head.conv_reg.register_forward_hook(recorder("reg_raw", "reg_tower")),
             head.conv_centerness.register_forward_hook(recorder("ctr", "ctr_in"))]
    try:
        with torch.no_grad():
            model.bbox_head.forward(model.extract_feat(x))
    finally:
        for h in hooks:
            h.remove()
    reg = []
    for l, raw in enumerate(rec["reg_raw"]):
        s = float(head.scales[l].scale)
        v = raw.double().numpy() * s
        reg.append(np.maximum(v, 0.0) * STRIDES[l] if head.norm_on_bbox else np.exp(v))
    return rec, reg


def test_config(name, tmp):
    print(f"- {name}", flush=True)
    chan, mean, std, iou, norm_on_bbox, ctr_on_reg, dcn = EXPECTED[name]
    out = os.path.join(tmp, name + ".onnx")
    t = time.time()
    code, err = run_exporter(["--standin", "--config-name", name, "--out", out] + SMALL)
    if not check(code == 0, f"{name}: export failed ({code}): {err.strip()[-500:]}"):
        return
    m = onnx.load(out)
    onnx.checker.check_model(m)
    check([i.name for i in m.graph.input] == ["images"], f"{name}: inputs")
    names = [o.name for o in m.graph.output]
    check(names == [f"{k}_{l}" for k in ("cls", "reg", "ctr") for l in range(5)], f"{name}: outputs {names}")
    for o in m.graph.output:
        dims = o.type.tensor_type.shape.dim
        c = 80 if o.name.startswith("cls") else 4 if o.name.startswith("reg") else 1
        check(len(dims) == 4 and dims[1].dim_value == c and all(d.dim_param for d in (dims[0], dims[2], dims[3])),
              f"{name}: {o.name} shape {dims}")
    md = {p.key: p.value for p in m.metadata_props}

    def floats(key):
        return tuple(float(v) for v in md[key].split(","))

    check(md.get("fcos4j.contract_version") == "1", f"{name}: contract_version")
    check(md.get("fcos4j.convention") == "mmdet", f"{name}: convention {md.get('fcos4j.convention')}")
    check(md.get("fcos4j.channel_order") == chan, f"{name}: channel_order {md.get('fcos4j.channel_order')}")
    check(close(floats("fcos4j.mean"), mean, 1e-9), f"{name}: mean {md.get('fcos4j.mean')}")
    check(close(floats("fcos4j.std"), std, 1e-9), f"{name}: std {md.get('fcos4j.std')}")
    check(float(md["fcos4j.iou_threshold"]) == iou, f"{name}: iou {md.get('fcos4j.iou_threshold')}")
    check(float(md["fcos4j.score_threshold"]) == 0.05, f"{name}: score threshold")
    check(md.get("fcos4j.nms_pre") == "1000" and md.get("fcos4j.max_detections") == "100", f"{name}: caps")
    check(md.get("fcos4j.input_scale") == "1" and md.get("fcos4j.resize_policy") == "mmdet"
          and md.get("fcos4j.resize_scale") == "1333,800" and md.get("fcos4j.size_divisor") == "32"
          and md.get("fcos4j.strides") == "8,16,32,64,128", f"{name}: preprocessing metadata {md}")
    classes = json.loads(md["fcos4j.class_names"])
    check(len(classes) == 80 and classes[0] == "person" and classes[79] == "toothbrush"
          and md.get("fcos4j.num_classes") == "80", f"{name}: class names")
    n_dcn = sum(1 for n in m.graph.node if n.op_type == "ModulatedDeformConv2d")
    # stand-in: one DCN block per backbone stage 2..4, the towers' last conv at 5 levels x 2 towers
    check(n_dcn == (3 + 10 if dcn else 0), f"{name}: {n_dcn} DCN nodes")

    # numerics: the traced wrapper vs the independent computation, on a size that is not a multiple of 128
    facts = CONFIGS[name]
    model = build_standin(facts, seed=0)
    check(model.bbox_head.norm_on_bbox == norm_on_bbox and model.bbox_head.centerness_on_reg == ctr_on_reg,
          f"{name}: stand-in regime")
    wrapper = E.make_wrapper(model, facts, 80)
    torch.manual_seed(5)
    x = torch.randn(2, 3, 96, 160)
    with torch.no_grad(), E.dcn_export_patch(model):
        got = [t_.double().numpy() for t_ in wrapper(x)]
    rec, reg = independent_reference(model, x)
    sizes = [(12, 20), (6, 10), (3, 5), (2, 3), (1, 2)]
    for l in range(5):
        check(got[l].shape[2:] == sizes[l], f"{name}: level {l} size {got[l].shape}")
        check(close(got[l], rec["cls"][l].numpy()), f"{name}: cls_{l} differs")
        check(close(got[5 + l], reg[l], 1e-5), f"{name}: reg_{l} differs from the formula")
        check(close(got[10 + l], rec["ctr"][l].numpy()), f"{name}: ctr_{l} differs")
        tower = rec["reg_tower"][l] if ctr_on_reg else rec["cls_tower"][l]
        check(torch.equal(rec["ctr_in"][l], tower), f"{name}: centerness not on the "
              f"{'reg' if ctr_on_reg else 'cls'} tower at level {l}")
        check(bool((got[5 + l] >= 0).all()), f"{name}: negative distances at level {l}")
    print(f"  ok ({time.time() - t:.1f}s, {n_dcn} DCN nodes)", flush=True)


def test_pixels_both_regimes():
    """A head whose conv_reg outputs the constant b: reg_l must be exp(s_l*b) (exp regime) or
    max(s_l*b, 0) * stride_l (norm_on_bbox), computed here by hand."""
    print("- regression in input pixels, both regimes", flush=True)
    b = [0.5, -1.0, 1.25, 2.0]
    for name in ("fcos_r50-caffe_fpn_gn-head_1x_coco",
                 "fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco"):
        facts = CONFIGS[name]
        model = build_standin(facts, seed=1)
        with torch.no_grad():
            model.bbox_head.conv_reg.weight.zero_()
            model.bbox_head.conv_reg.bias.copy_(torch.tensor(b))
            for l, s in enumerate(model.bbox_head.scales):
                s.scale.fill_(0.75 + 0.125 * l)
        wrapper = E.make_wrapper(model, facts, 80)
        with torch.no_grad():
            out = wrapper(torch.randn(1, 3, 128, 192))
        for l in range(5):
            s = 0.75 + 0.125 * l
            want = [max(s * v, 0.0) * STRIDES[l] if facts.norm_on_bbox else math.exp(s * v) for v in b]
            got = out[5 + l][0].reshape(4, -1)
            for k in range(4):
                check(torch.allclose(got[k], torch.full_like(got[k], want[k]), rtol=1e-6, atol=1e-6),
                      f"{name}: reg_{l} channel {k} = {got[k][0].item()}, expected {want[k]} px")
    print("  ok", flush=True)


def numpy_mdcn(x, offset, mask, weight, bias, stride, pad, dil):
    """mmcv modulated_deform_conv2d (DCNv2) written from its definition: for output (y, x) and tap
    k = i*kw + j, sample input at (y*s - p + i*d + off[2k], x*s - p + j*d + off[2k+1]) bilinearly (zero
    outside), multiply by mask[k], convolve. deform_groups = groups = 1."""
    n_, c, h, w = x.shape
    co, _, kh, kw = weight.shape
    oh, ow = offset.shape[2:]
    out = np.zeros((n_, co, oh, ow))

    def sample(img, yy, xx):
        if yy <= -1 or yy >= h or xx <= -1 or xx >= w:
            return np.zeros(img.shape[0])
        y0, x0 = math.floor(yy), math.floor(xx)
        v = np.zeros(img.shape[0])
        for dy, wy in ((0, 1 - (yy - y0)), (1, yy - y0)):
            for dx, wx in ((0, 1 - (xx - x0)), (1, xx - x0)):
                py, px = y0 + dy, x0 + dx
                if 0 <= py < h and 0 <= px < w:
                    v += wy * wx * img[:, py, px]
        return v

    for nn_ in range(n_):
        for oy in range(oh):
            for ox in range(ow):
                cols = np.zeros((c, kh * kw))
                for i in range(kh):
                    for j in range(kw):
                        k = i * kw + j
                        yy = oy * stride - pad + i * dil + offset[nn_, 2 * k, oy, ox]
                        xx = ox * stride - pad + j * dil + offset[nn_, 2 * k + 1, oy, ox]
                        cols[:, k] = sample(x[nn_], yy, xx) * mask[nn_, k, oy, ox]
                out[nn_, :, oy, ox] = weight.reshape(co, c * kh * kw) @ cols.reshape(-1) + (0 if bias is None else bias)
    return out


def test_dcn_semantics():
    print("- DCNv2 stand-in and exported path vs a numpy reference of mmcv's definition", flush=True)
    torch.manual_seed(2)
    for stride in (1, 2):
        m = ModulatedDeformConv2dPack(3, 4, 3, stride=stride, padding=1, bias=True).eval()
        with torch.no_grad():
            m.conv_offset.weight.normal_(0, 0.3)
            m.conv_offset.bias.normal_(0, 0.8)
            m.bias.normal_(0, 0.5)
        x = torch.randn(1, 3, 7, 6)
        with torch.no_grad():
            out = m.conv_offset(x)
            o1, o2, mk = torch.chunk(out, 3, dim=1)
            offset = torch.cat((o1, o2), 1).numpy().astype(np.float64)
            mask = torch.sigmoid(mk).numpy().astype(np.float64)
            want = numpy_mdcn(x.numpy().astype(np.float64), offset, mask, m.weight.numpy().astype(np.float64),
                              m.bias.numpy().astype(np.float64), stride, 1, 1)
            plain = m(x).numpy()
            with E.dcn_export_patch(m):
                patched = m(x).numpy()
        check(close(plain, want, 1e-4), f"stand-in DCN (stride {stride}) differs from the numpy reference by "
                                        f"{np.abs(plain - want).max()}")
        check(close(patched, want, 1e-4), f"exported DCN path (stride {stride}) differs from the numpy reference")
    print("  ok", flush=True)


def save_ckpt(path, state, classes=None):
    obj = {"state_dict": state, "meta": {"dataset_meta": {"classes": classes}} if classes else {}}
    torch.save(obj, path)


def test_bad_inputs(tmp):
    print("- mismatched checkpoints / heads / configs", flush=True)
    plain = "fcos_r50-caffe_fpn_gn-head_1x_coco"
    tricks = "fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco"
    dcn = "fcos_r50-dcn-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco"
    out = os.path.join(tmp, "bad.onnx")

    def expect_error(argv, needle, what):
        code, err = run_exporter(argv + ["--out", out] + SMALL)
        check(code == 2 and needle in err, f"{what}: exit {code}, stderr {err.strip()[-400:]!r} lacks {needle!r}")
        check(not os.path.exists(out), f"{what}: an output file was left behind")

    # 20-class checkpoint for an 80-class config
    p = os.path.join(tmp, "c20.pth")
    save_ckpt(p, build_standin(CONFIGS[plain], seed=3, num_classes=20).state_dict())
    expect_error(["--standin", "--config-name", plain, "--checkpoint", p], "'bbox_head.conv_cls.weight' has shape",
                 "wrong class count")
    # no centerness branch (e.g. a RetinaNet/ATSS-like head)
    state = build_standin(CONFIGS[plain], seed=3).state_dict()
    p = os.path.join(tmp, "noctr.pth")
    save_ckpt(p, {k: v for k, v in state.items() if "conv_centerness" not in k})
    expect_error(["--standin", "--config-name", plain, "--checkpoint", p], "'bbox_head.conv_centerness.weight' is missing",
                 "missing centerness")
    # non-DCN checkpoint for the DCN config and vice versa
    p = os.path.join(tmp, "plain.pth")
    save_ckpt(p, build_standin(CONFIGS[tricks], seed=3).state_dict())
    expect_error(["--standin", "--config-name", dcn, "--checkpoint", p], "conv_offset", "DCN config, plain checkpoint")
    p2 = os.path.join(tmp, "dcn.pth")
    save_ckpt(p2, build_standin(CONFIGS[dcn], seed=3).state_dict())
    expect_error(["--standin", "--config-name", tricks, "--checkpoint", p2], "use the -dcn- config",
                 "plain config, DCN checkpoint")
    # a wrong-shaped tensor elsewhere is named too
    state = build_standin(CONFIGS[plain], seed=3).state_dict()
    state["neck.fpn_convs.4.conv.weight"] = torch.zeros(1, 2, 3, 3)
    p = os.path.join(tmp, "shape.pth")
    save_ckpt(p, state)
    expect_error(["--standin", "--config-name", plain, "--checkpoint", p], "'neck.fpn_convs.4.conv.weight' is [1, 2, 3, 3]",
                 "wrong shape")
    # not a checkpoint
    p = os.path.join(tmp, "junk.pth")
    with open(p, "wb") as f:
        f.write(b"not a checkpoint")
    expect_error(["--standin", "--config-name", plain, "--checkpoint", p], "junk.pth", "unreadable checkpoint")

    # a good checkpoint (with legacy mmdet-1.x predictor names and its own class names) round-trips
    model = build_standin(CONFIGS[tricks], seed=7)
    state = {k.replace("bbox_head.conv_cls.", "bbox_head.fcos_cls."): v for k, v in model.state_dict().items()}
    names = [f"thing{i}" for i in range(80)]
    p = os.path.join(tmp, "good.pth")
    save_ckpt(p, state, names)
    good = os.path.join(tmp, "good.onnx")
    code, err = run_exporter(["--standin", "--config-name", tricks, "--checkpoint", p, "--out", good] + SMALL)
    if check(code == 0, f"good checkpoint: {err.strip()[-400:]}"):
        md = {q.key: q.value for q in onnx.load(good).metadata_props}
        check(json.loads(md["fcos4j.class_names"]) == names, "good checkpoint: dataset_meta class names not used")

    # the head itself: missing centerness layer, wrong regime for the config
    model = build_standin(CONFIGS[plain], seed=0)
    del model.bbox_head.conv_centerness
    try:
        E.make_wrapper(model, CONFIGS[plain], 80)
        check(False, "a head without conv_centerness was accepted")
    except E.ExportError as e:
        check("bbox_head.conv_centerness is missing" in str(e), f"missing conv_centerness message: {e}")
    model = build_standin(CONFIGS[tricks], seed=0)
    try:
        E.make_wrapper(model, CONFIGS[plain], 80)
        check(False, "a norm_on_bbox head was accepted for the exp config")
    except E.ExportError as e:
        check("bbox_head.norm_on_bbox is True" in str(e) and "bbox_head.centerness_on_reg" in str(e),
              f"regime mismatch message: {e}")
    try:
        E.make_wrapper(build_standin(CONFIGS[plain], seed=0, num_classes=20), CONFIGS[plain], 80)
        check(False, "a 20-class head was accepted for 80 classes")
    except E.ExportError as e:
        check("bbox_head.conv_cls has 20 output channels" in str(e), f"class count message: {e}")
    print("  ok", flush=True)


class Cfg(dict):
    """Attribute access like mmengine's ConfigDict (enough for facts_from_mmdet_cfg)."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k)


def cfg_of(d):
    if isinstance(d, dict):
        return Cfg({k: cfg_of(v) for k, v in d.items()})
    if isinstance(d, list):
        return [cfg_of(v) for v in d]
    return d


def test_real_config_parsing():
    """facts_from_mmdet_cfg on a merged DCN config as mmengine would produce it (values typed in here from the
    upstream files), then the comparison with the table."""
    print("- reading a (merged) mmdet config and comparing it with the table", flush=True)
    merged = {
        "model": {
            "type": "FCOS",
            "data_preprocessor": {"type": "DetDataPreprocessor", "mean": [103.530, 116.280, 123.675],
                                  "std": [1.0, 1.0, 1.0], "bgr_to_rgb": False, "pad_size_divisor": 32},
            "backbone": {"type": "ResNet", "depth": 50, "style": "caffe",
                         "dcn": {"type": "DCNv2", "deform_groups": 1, "fallback_on_stride": False},
                         "stage_with_dcn": (False, True, True, True)},
            "bbox_head": {"type": "FCOSHead", "num_classes": 80, "strides": [8, 16, 32, 64, 128],
                          "norm_on_bbox": True, "centerness_on_reg": True, "dcn_on_last_conv": True,
                          "conv_bias": True},
            "test_cfg": {"nms_pre": 1000, "min_bbox_size": 0, "score_thr": 0.05,
                         "nms": {"type": "nms", "iou_threshold": 0.6}, "max_per_img": 100},
        },
        "test_dataloader": {"dataset": {"pipeline": [
            {"type": "LoadImageFromFile"}, {"type": "Resize", "scale": (1333, 800), "keep_ratio": True},
            {"type": "PackDetInputs"}]}},
    }
    name = "fcos_r50-dcn-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco"
    facts = E.facts_from_mmdet_cfg(cfg_of(merged), name)
    try:
        E.compare_facts(facts, CONFIGS[name])
    except E.ExportError as e:
        check(False, f"the merged DCN config disagrees with the table: {e}")
    check(E.infer_config_name(f"/x/configs/fcos/{name}.py") == name, "config name from the file name")
    merged["model"]["test_cfg"]["nms"]["iou_threshold"] = 0.5
    merged["model"]["bbox_head"]["norm_on_bbox"] = False
    try:
        E.compare_facts(E.facts_from_mmdet_cfg(cfg_of(merged), name), CONFIGS[name])
        check(False, "a config with other test_cfg / head values passed the table comparison")
    except E.ExportError as e:
        check("iou_threshold" in str(e) and "norm_on_bbox" in str(e), f"comparison message: {e}")
    merged["model"]["bbox_head"]["type"] = "ATSSHead"
    try:
        E.facts_from_mmdet_cfg(cfg_of(merged), name)
        check(False, "an ATSSHead config was accepted")
    except E.ExportError as e:
        check("bbox_head.type" in str(e), f"head type message: {e}")
    print("  ok", flush=True)


@contextlib.contextmanager
def fake_mmdet():
    """Minimal mmengine/mmdet modules for the exporter's --config path (mmdet cannot be installed here):
    Config.fromfile executes a self-contained (already merged) config file, MODELS.build makes the stand-in of
    the architecture the config describes. Only the dependency is faked; the exporter code runs unchanged."""
    import types as _types
    from mmdet_configs import FcosConfigFacts

    class Config:
        @staticmethod
        def fromfile(path):
            scope = {}
            with open(path, encoding="utf-8") as f:
                exec(compile(f.read(), path, "exec"), scope)  # noqa: S102 - the test's own config file
            return cfg_of({k: v for k, v in scope.items() if not k.startswith("__")})

    class Registry:
        @staticmethod
        def build(model_cfg):
            bb, head = model_cfg.backbone, model_cfg.bbox_head
            facts = FcosConfigFacts(
                name="fake", source="fake", backbone=bb["type"], depth=bb["depth"], style=bb.get("style", "pytorch"),
                stage_with_dcn=tuple(bb.get("stage_with_dcn", (False,) * 4)) if bb.get("dcn") else (False,) * 4,
                num_classes=head["num_classes"], norm_on_bbox=head.get("norm_on_bbox", False),
                centerness_on_reg=head.get("centerness_on_reg", False),
                dcn_on_last_conv=head.get("dcn_on_last_conv", False), conv_bias=head.get("conv_bias", "auto"))
            return build_standin(facts, seed=11).train()  # as MODELS.build returns it: training mode

    mods = {
        "mmengine": _types.ModuleType("mmengine"), "mmengine.config": _types.ModuleType("mmengine.config"),
        "mmdet": _types.ModuleType("mmdet"), "mmdet.registry": _types.ModuleType("mmdet.registry"),
        "mmdet.utils": _types.ModuleType("mmdet.utils"),
    }
    mods["mmengine.config"].Config = Config
    mods["mmdet.registry"].MODELS = Registry
    mods["mmdet.utils"].register_all_modules = lambda: None
    saved = {k: sys.modules.get(k) for k in mods}
    sys.modules.update(mods)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


PLAIN_CONFIG_TEXT = """
model = dict(
    type='FCOS',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[102.9801, 115.9465, 122.7717], std=[1.0, 1.0, 1.0],
                           bgr_to_rgb=False, pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=1, style='caffe'),
    neck=dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, start_level=1,
              add_extra_convs='on_output', num_outs=5, relu_before_extra_convs=True),
    bbox_head=dict(type='FCOSHead', num_classes=80, in_channels=256, stacked_convs=4, feat_channels=256,
                   strides=[8, 16, 32, 64, 128]),
    test_cfg=dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5),
                  max_per_img=100))
test_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'), dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='PackDetInputs')]))
"""


def test_config_path(tmp):
    """--config/--checkpoint (the real-mmdet path) with fake mmengine/mmdet modules."""
    print("- --config / --checkpoint path (mmengine/mmdet faked, exporter unchanged)", flush=True)
    name = "fcos_r50-caffe_fpn_gn-head_1x_coco"
    cfg_dir = os.path.join(tmp, "configs")
    os.makedirs(cfg_dir, exist_ok=True)
    cfg_path = os.path.join(cfg_dir, name + ".py")
    with open(cfg_path, "w", encoding="utf-8") as f:
        f.write(PLAIN_CONFIG_TEXT)
    trained = build_standin(CONFIGS[name], seed=21)
    ckpt = os.path.join(tmp, "zoo.pth")
    save_ckpt(ckpt, trained.state_dict(), [f"c{i}" for i in range(80)])
    out = os.path.join(tmp, "config_path.onnx")
    with fake_mmdet():
        code, err = run_exporter(["--config", cfg_path, "--checkpoint", ckpt, "--out", out] + SMALL)
        if check(code == 0, f"--config export failed: {err.strip()[-600:]}"):
            md = {q.key: q.value for q in onnx.load(out).metadata_props}
            check(md["fcos4j.model_name"] == name and md["fcos4j.iou_threshold"] == "0.5"
                  and json.loads(md["fcos4j.class_names"])[3] == "c3", f"--config metadata {md}")
        # the built model carries the checkpoint's weights and is in eval mode (MODELS.build returns training mode)
        det, facts, names = E.build_mmdet_model(cfg_path, ckpt, name)
        check(not det.training and not det.bbox_head.training, "build_mmdet_model left the model in training mode")
        check(facts.norm_on_bbox is False and facts.iou_threshold == 0.5 and names[0] == "c0", f"facts {facts}")
        x = torch.randn(1, 3, 96, 128)
        with torch.no_grad():
            got = E.make_wrapper(det, facts, 80)(x)
            want = E.make_wrapper(trained, CONFIGS[name], 80)(x)
        check(all(torch.equal(a, b) for a, b in zip(got, want)), "--config model differs from the checkpoint's")
        # the same file content under the tricks name: the table comparison names the keys that differ
        tricks = "fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco"
        wrong_path = os.path.join(cfg_dir, tricks + ".py")
        with open(wrong_path, "w", encoding="utf-8") as f:
            f.write(PLAIN_CONFIG_TEXT)
        code, err = run_exporter(["--config", wrong_path, "--checkpoint", ckpt, "--out", out + "2"])
        check(code == 2 and "iou_threshold" in err and "norm_on_bbox" in err and "mean" in err,
              f"config/table mismatch: exit {code}, {err.strip()[-400:]!r}")
        # a 20-class checkpoint for the 80-class config file
        ck20 = os.path.join(tmp, "zoo20.pth")
        save_ckpt(ck20, build_standin(CONFIGS[name], seed=3, num_classes=20).state_dict())
        code, err = run_exporter(["--config", cfg_path, "--checkpoint", ck20, "--out", out + "3"])
        check(code == 2 and "'bbox_head.conv_cls.weight' has shape [20, 64, 3, 3]" in err,
              f"--config with a 20-class checkpoint: exit {code}, {err.strip()[-400:]!r}")
    # without mmdet the --config path says what is missing
    code, err = run_exporter(["--config", cfg_path, "--checkpoint", ckpt, "--out", out + "4"])
    check(code == 2 and "mmdetection 3.x" in err and "--standin" in err, f"no-mmdet message: {err.strip()[-300:]!r}")
    print("  ok", flush=True)


ONNX_TO_TRT = {onnx.AttributeProto.INT: "kINT32", onnx.AttributeProto.INTS: "kINT32",
               onnx.AttributeProto.FLOAT: "kFLOAT32", onnx.AttributeProto.FLOATS: "kFLOAT32",
               onnx.AttributeProto.STRING: "kCHAR"}
PARSER_ATTRS = ("plugin_version", "plugin_namespace")  # consumed by onnx-tensorrt's plugin lookup


def test_dcn_node(tmp, update_json):
    print("- the DCNv2 plugin node and its JSON description", flush=True)
    name = "fcos_r50-dcn-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco"
    described = None
    versions = []
    for version in E.DCN_PLUGIN_VERSIONS:
        out = os.path.join(tmp, f"dcn_v{version}.onnx")
        code, err = run_exporter(["--standin", "--config-name", name, "--dcn-plugin-version", version,
                                  "--no-verify", "--out", out] + SMALL[:3])
        if not check(code == 0, f"DCN export (plugin_version {version}): {err.strip()[-400:]}"):
            return
        m = onnx.load(out)
        inits = {i.name: list(i.dims) for i in m.graph.initializer}
        producers = {o: n for n in m.graph.node for o in n.output}
        check(any(o.domain == "trt.plugins" and o.version == 1 for o in m.opset_import),
              f"opset_import lacks trt.plugins: {m.opset_import}")
        # TensorRT's parser reports opset_import[0] as the model's opset: keep the default domain first
        check(m.opset_import[0].domain == "" and m.opset_import[0].version == 17, f"opset_import order {m.opset_import}")
        nodes = [n for n in m.graph.node if n.op_type == "ModulatedDeformConv2d"]
        check(len(nodes) == 13, f"{len(nodes)} DCN nodes")
        for n in nodes:
            check(n.domain == "trt.plugins", f"{n.name}: domain {n.domain!r}")
            attrs = {a.name: a for a in n.attribute}
            check(sorted(attrs) == sorted(["stride", "padding", "dilation", "group", "deformable_group",
                                           "plugin_version", "plugin_namespace"]), f"{n.name}: attributes {sorted(attrs)}")
            for a in ("stride", "padding", "dilation"):
                check(attrs[a].type == onnx.AttributeProto.INTS and list(attrs[a].ints) == [1, 1],
                      f"{n.name}: {a} {attrs[a]}")
            for a in ("group", "deformable_group"):
                check(attrs[a].type == onnx.AttributeProto.INT and attrs[a].i == 1, f"{n.name}: {a}")
            check(attrs["plugin_version"].s.decode() == version and attrs["plugin_namespace"].s == b"",
                  f"{n.name}: plugin_version/namespace")
            head = "convs" in n.name
            check(len(n.input) == (5 if head else 4), f"{n.name}: {len(n.input)} inputs (bias only in the head)")
            w = inits.get(n.input[3])
            check(w is not None and len(w) == 4 and w[2:] == [3, 3], f"{n.name}: weight input {n.input[3]} {w}")
            if head:
                check(inits.get(n.input[4]) == [w[0]], f"{n.name}: bias input")
            off, mask = producers.get(n.input[1]), producers.get(n.input[2])
            check(off is not None and off.op_type == "Concat", f"{n.name}: offset not from Concat (o1, o2)")
            check(mask is not None and mask.op_type == "Sigmoid", f"{n.name}: mask not from Sigmoid")
        versions.append(version)
        if version == E.DCN_DEFAULT_PLUGIN_VERSION:
            n = nodes[0]
            fields = []
            for a in n.attribute:
                if a.name in PARSER_ATTRS:
                    continue
                values = list(a.ints) if a.type == onnx.AttributeProto.INTS else [a.i]
                fields.append({"name": a.name, "onnx_type": onnx.AttributeProto.AttributeType.Name(a.type),
                               "trt_type": ONNX_TO_TRT[a.type], "length": len(values), "values": values})
            described = {
                "comment": "Written by engines/export/test_export_mmdet.py --update-dcn-json from the node "
                           "export_mmdet.py emits for DCNv2; read by native/tests/plugin/dcn_plugin_registry_test.cpp. "
                           "trt_type is what onnx-tensorrt's plugin fallback makes of the attribute (INT/INTS -> kINT32); "
                           "values are those of the first node (every DCNv2 of the FCOS configs is 3x3, stride 1, pad 1).",
                "op_type": n.op_type,
                "domain": n.domain,
                "plugin_namespace": "",
                "default_plugin_version": E.DCN_DEFAULT_PLUGIN_VERSION,
                "fields": sorted(fields, key=lambda f: f["name"]),
                "inputs": ["x", "offset", "mask", "weight", "bias"],
                "optional_inputs": ["bias"],
            }
    described["plugin_versions"] = versions
    text = json.dumps(described, indent=2) + "\n"
    if update_json:
        with open(DCN_JSON, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"  wrote {DCN_JSON}", flush=True)
    else:
        current = open(DCN_JSON, encoding="utf-8").read() if os.path.exists(DCN_JSON) else ""
        check(current == text, f"{DCN_JSON} is out of date with the exporter: run "
                               "engines/export/test_export_mmdet.py --update-dcn-json")
    print("  ok", flush=True)


def main():
    update = "--update-dcn-json" in sys.argv[1:]
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    with tempfile.TemporaryDirectory(prefix="fcos4j-mmdet-") as tmp:
        for name in CONFIGS:
            test_config(name, tmp)
        check(sorted(EXPECTED) == sorted(CONFIGS), "the exporter's config table and this test's differ")
        test_pixels_both_regimes()
        test_dcn_semantics()
        test_real_config_parsing()
        test_bad_inputs(tmp)
        test_config_path(tmp)
        test_dcn_node(tmp, update)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s) ({time.time() - T0:.0f}s)")
        sys.exit(1)
    print(f"all mmdet exporter tests passed ({time.time() - T0:.0f}s)")


if __name__ == "__main__":
    main()
