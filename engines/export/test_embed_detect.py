#!/usr/bin/python3
"""Tests of embed_detect.py (the FcosDetect node for TensorRT) on small contract models built here.

Plain python (no pytest): exits 1 on the first failure. Needs onnx (Debian python3-onnx). About 1 s.
"""
import argparse
import os
import sys
import tempfile

import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import embed_detect as ed  # noqa: E402

STRIDES = (8, 16, 32, 64, 128)


def contract_model(num_classes=3, drop_output=None, reg_channels=4, batch="N", meta_overrides=None):
    """A tiny model with the contract's names: per level, average-pool by the stride, then a 1x1 conv."""
    nodes, inits, outputs = [], [], []
    for level, s in enumerate(STRIDES):
        pooled = f"pool_{level}"
        nodes.append(helper.make_node("AveragePool", ["images"], [pooled], kernel_shape=[s, s], strides=[s, s]))
        for prefix, c in (("cls", num_classes), ("reg", reg_channels), ("ctr", 1)):
            name = f"{prefix}_{level}"
            w = f"w_{name}"
            inits.append(helper.make_tensor(w, TensorProto.FLOAT, [c, 3, 1, 1], [0.1] * (c * 3)))
            nodes.append(helper.make_node("Conv", [pooled, w], [name]))
            if name != drop_output:
                outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, c, None, None]))
    order = {p: i for i, p in enumerate(("cls", "reg", "ctr"))}
    outputs.sort(key=lambda o: (order[o.name[:3]], int(o.name[4:])))
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("images", TensorProto.FLOAT,
                                                                            [batch, 3, "H", "W"])], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    meta = {"fcos4j.contract_version": "1", "fcos4j.strides": ",".join(map(str, STRIDES)),
            "fcos4j.convention": "fcos", "fcos4j.score_threshold": "0.05", "fcos4j.nms_pre": "1000",
            "fcos4j.iou_threshold": "0.6", "fcos4j.max_detections": "100", "fcos4j.num_classes": str(num_classes)}
    meta.update(meta_overrides or {})
    for k, v in meta.items():
        if v is not None:
            p = model.metadata_props.add()
            p.key, p.value = k, v
    onnx.checker.check_model(model)
    return model


def args(**kw):
    a = argparse.Namespace(convention=None, score_threshold=None, nms_pre=None, iou_threshold=None,
                           max_detections=None, keep_heads=False)
    for k, v in kw.items():
        setattr(a, k, v)
    return a


def check(cond, msg):
    if not cond:
        print("FAIL: " + msg)
        sys.exit(1)


def expect_error(fn, *parts):
    try:
        fn()
    except ed.ContractError as e:
        for p in parts:
            check(p in str(e), f"error message {str(e)!r} should name {p!r}")
        return
    check(False, f"expected a ContractError naming {parts}")


def attr(node, name):
    for a in node.attribute:
        if a.name == name:
            return a
    return None


def test_node_inputs_outputs_and_fields_from_metadata():
    m = ed.embed(contract_model(), args())
    g = m.graph
    check([i.name for i in g.input] == ["images", "image_info"], f"inputs {[i.name for i in g.input]}")
    info = g.input[1]
    dims = [d.dim_param or d.dim_value for d in info.type.tensor_type.shape.dim]
    check(dims == ["N", 4] and info.type.tensor_type.elem_type == TensorProto.FLOAT, f"image_info dims {dims}")
    node = g.node[-1]
    check(node.op_type == "FcosDetect" and node.domain == "fcos4j", f"node {node.op_type} / {node.domain}")
    want_inputs = [f"{p}_{l}" for p in ("cls", "reg", "ctr") for l in range(5)] + ["image_info"]
    check(list(node.input) == want_inputs, f"node inputs {list(node.input)}")
    check(list(node.output) == ["num_detections", "boxes", "scores", "classes"], f"node outputs {list(node.output)}")
    # TensorRT's parser finds the creator by op type + these two attributes, and passes fields by ONNX type.
    check(attr(node, "plugin_version").s == b"1", "plugin_version")
    check(attr(node, "plugin_namespace").s == b"fcos4j", "plugin_namespace")
    want = {"convention": (onnx.AttributeProto.STRING, b"fcos"),
            "score_threshold": (onnx.AttributeProto.FLOAT, 0.05),
            "nms_pre": (onnx.AttributeProto.INT, 1000),
            "iou_threshold": (onnx.AttributeProto.FLOAT, 0.6),
            "max_detections": (onnx.AttributeProto.INT, 100),
            "strides": (onnx.AttributeProto.INTS, list(STRIDES))}
    for name, (typ, value) in want.items():
        a = attr(node, name)
        check(a is not None and a.type == typ, f"attribute {name}: {a}")
        got = helper.get_attribute_value(a)
        if isinstance(value, float):
            check(abs(got - value) < 1e-7, f"attribute {name} = {got}, want {value}")
        else:
            check(got == value, f"attribute {name} = {got}, want {value}")
    check(len(node.attribute) == len(want) + 2, f"unexpected attributes {[a.name for a in node.attribute]}")
    outs = {o.name: o for o in g.output}
    check(list(outs) == ["num_detections", "boxes", "scores", "classes"], f"outputs {list(outs)}")
    shape = lambda o: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]  # noqa: E731
    check(shape(outs["boxes"]) == ["N", 100, 4] and outs["boxes"].type.tensor_type.elem_type == TensorProto.FLOAT,
          f"boxes {shape(outs['boxes'])}")
    check(shape(outs["num_detections"]) == ["N"]
          and outs["num_detections"].type.tensor_type.elem_type == TensorProto.INT32, "num_detections")
    check(outs["classes"].type.tensor_type.elem_type == TensorProto.INT32 and shape(outs["classes"]) == ["N", 100],
          "classes")
    check(any(o.domain == "fcos4j" and o.version == 1 for o in m.opset_import), "opset_import fcos4j 1")
    meta = {p.key: p.value for p in m.metadata_props}
    check(meta.get("fcos4j.embedded_postprocess") == "FcosDetect/1/fcos4j", "embedded_postprocess metadata")
    check(meta.get("fcos4j.num_classes") == "3", "the contract metadata is kept")


def test_overrides_keep_heads_and_fixed_batch():
    m = ed.embed(contract_model(batch=2), args(convention="TorchVision", score_threshold=0.3, max_detections=7,
                                               keep_heads=True))
    node = m.graph.node[-1]
    check(attr(node, "convention").s == b"torchvision", "convention override, lower-cased")
    check(abs(attr(node, "score_threshold").f - 0.3) < 1e-7, "score_threshold override")
    check(attr(node, "max_detections").i == 7, "max_detections override")
    names = [o.name for o in m.graph.output]
    check(names[:15] == [f"{p}_{l}" for p in ("cls", "reg", "ctr") for l in range(5)] and names[15:] ==
          ["num_detections", "boxes", "scores", "classes"], f"--keep-heads outputs {names}")
    boxes = [o for o in m.graph.output if o.name == "boxes"][0]
    check([d.dim_value for d in boxes.type.tensor_type.shape.dim] == [2, 7, 4], "fixed batch and K in boxes")


def test_the_input_model_is_not_modified():
    src = contract_model()
    before = src.SerializeToString()
    ed.embed(src, args())
    check(src.SerializeToString() == before, "embed() changed its input")


def test_non_contract_models_are_rejected_naming_the_problem():
    expect_error(lambda: ed.embed(contract_model(drop_output="reg_2"), args()), "reg_2")
    expect_error(lambda: ed.embed(contract_model(reg_channels=5), args()), "reg_0", "5 channels")
    expect_error(lambda: ed.embed(contract_model(meta_overrides={"fcos4j.strides": None}), args()), "fcos4j.strides")
    expect_error(lambda: ed.embed(contract_model(), args(convention="yolo")), "yolo")
    expect_error(lambda: ed.embed(contract_model(), args(score_threshold=1.5)), "score_threshold")
    expect_error(lambda: ed.embed(contract_model(), args(nms_pre=0)), "nms_pre")
    once = ed.embed(contract_model(), args())
    expect_error(lambda: ed.embed(once, args()), "already has a FcosDetect node")


def test_command_line_writes_a_file_and_refuses_to_overwrite_its_input():
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "contract.onnx")
        onnx.save(contract_model(), src)
        out = os.path.join(d, "sub", "with_plugin.onnx")
        check(ed.main([src, out, "--iou-threshold", "0.5"]) == 0, "main() exit status")
        m = onnx.load(out)
        check(abs(attr(m.graph.node[-1], "iou_threshold").f - 0.5) < 1e-7, "--iou-threshold on the command line")
        check(not os.path.exists(out + ".tmp"), "temporary file left behind")
        check(ed.main([src, src]) == 2, "writing over the input must be refused")
        check(ed.main([os.path.join(d, "missing.onnx"), out]) == 2, "a missing input is exit 2")


def write_fields(directory):
    """For native/tests/plugin/plugin_onnx_node_test.cpp: the attributes of embedded nodes, one file per
    variant: "@op OP_TYPE", then one line per attribute: NAME ONNX_TYPE VALUE... (what TensorRT's parser turns
    into plugin fields)."""
    os.makedirs(directory, exist_ok=True)
    variants = {"from_metadata_fcos": args(),
                "torchvision": args(convention="torchvision", score_threshold=0.2, iou_threshold=0.6),
                "mmdet_caps": args(convention="mmdet", nms_pre=10000, max_detections=300, score_threshold=0.0)}
    names = {v: k for k, v in onnx.AttributeProto.AttributeType.items()}
    for name, a in variants.items():
        node = ed.embed(contract_model(), a).graph.node[-1]
        lines = [f"@op {node.op_type}"]
        for at in node.attribute:
            v = helper.get_attribute_value(at)
            if isinstance(v, bytes):
                text = v.decode()
            elif isinstance(v, float):
                text = repr(v)  # the float32 attribute value, exactly (as a double)
            elif isinstance(v, list):
                text = " ".join(str(x) for x in v)
            else:
                text = str(v)
            lines.append(f"{at.name} {names[at.type]} {text}")
        with open(os.path.join(directory, name + ".fields"), "w") as f:
            f.write("\n".join(lines) + "\n")
    print(f"wrote {len(variants)} field files to {directory}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write-fields":
        write_fields(sys.argv[2])
        sys.exit(0)
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_") and callable(v)]
    for t in tests:
        t()
        print(f"ok   {t.__name__}")
    print(f"test_embed_detect: {len(tests)} tests passed")
