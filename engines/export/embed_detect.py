#!/usr/bin/python3
"""Append fcos4j's TensorRT post-processing node `FcosDetect` to a contract model, so that TensorRT alone
(`trtexec --onnx=... --dynamicPlugins=libfcos4j_trt.so`, Triton, any TensorRT program that loaded the
plugin library) builds a complete detector: image in, boxes out, no Java and no host post-processing.

The result is for TensorRT only: ONNX Runtime (fcos4j's CPU backend) has no FcosDetect operator, and fcos4j's
Java loader rejects such a file with a message that says so. Keep the contract model for the CPU backend.

What changes (docs/PLUGIN.md describes the plugin; engines/CONTRACT.md the contract):
- a new graph input `image_info` float32 [N, 4]: per image {resized_h, resized_w, rescale_y, rescale_x}
  (the host computes it from the original and resized sizes; docs/PLUGIN.md gives the formula per convention);
- one node `FcosDetect` (domain `fcos4j`, opset_import fcos4j 1) taking cls_0..L-1, reg_0..L-1, ctr_0..L-1
  and image_info, with attributes plugin_version "1", plugin_namespace "fcos4j" (TensorRT's ONNX parser
  matches the node to the registered plugin creator by op type, version and namespace) and the plugin fields
  convention, score_threshold, nms_pre, iou_threshold, max_detections, strides, taken from the model's
  fcos4j.* metadata unless overridden;
- graph outputs num_detections int32 [N], boxes float32 [N, K, 4], scores float32 [N, K], classes int32 [N, K]
  (K = max_detections) replace the head outputs (--keep-heads keeps those as outputs too);
- metadata fcos4j.embedded_postprocess = "FcosDetect/1/fcos4j"; everything else is kept.

Attribute types follow what TensorRT's ONNX parser turns into plugin fields (by the ONNX attribute type: INT ->
int32, FLOAT -> float32, STRING -> char with a terminating NUL, INTS -> int32 array), all of which the plugin
accepts (native/src/plugin/plugin_fields.cpp).

Usage:
  embed_detect.py CONTRACT.onnx OUT.onnx [--convention mmdet|fcos|torchvision] [--score-threshold S]
      [--nms-pre K] [--iou-threshold T] [--max-detections K] [--keep-heads]
Exit status 2 with a message naming the tensor or metadata key when the input does not follow the contract.
"""
import argparse
import os
import sys

PLUGIN_NAME = "FcosDetect"
PLUGIN_VERSION = "1"
PLUGIN_NAMESPACE = "fcos4j"
DOMAIN = "fcos4j"
CONVENTIONS = ("mmdet", "fcos", "torchvision")
DETECT_OUTPUTS = ("num_detections", "boxes", "scores", "classes")


class ContractError(Exception):
    """The input model does not follow the fcos4j contract (the message names what is wrong)."""


def _dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
            for d in value_info.type.tensor_type.shape.dim]


def read_contract(model):
    """Checks the contract's names, ranks and metadata; returns (metadata dict, number of levels, batch dim)."""
    import onnx
    meta = {p.key: p.value for p in model.metadata_props}
    problems = []
    for key in ("fcos4j.contract_version", "fcos4j.strides", "fcos4j.convention"):
        if key not in meta:
            problems.append(f"metadata '{key}' is missing")
    if any(n.op_type == PLUGIN_NAME for n in model.graph.node):
        problems.append(f"the graph already has a {PLUGIN_NAME} node")
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if [i.name for i in inputs] != ["images"]:
        problems.append(f"graph inputs are {[i.name for i in inputs]}, the contract has exactly ['images']")
    levels = 0
    if "fcos4j.strides" in meta:
        try:
            levels = len([int(s) for s in meta["fcos4j.strides"].split(",")])
        except ValueError:
            problems.append(f"metadata 'fcos4j.strides' = '{meta['fcos4j.strides']}' is not a list of integers")
    outputs = {o.name: o for o in model.graph.output}
    for prefix, channels in (("cls", None), ("reg", 4), ("ctr", 1)):
        for level in range(levels):
            name = f"{prefix}_{level}"
            if name not in outputs:
                problems.append(f"output '{name}' is missing")
                continue
            o = outputs[name]
            if o.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
                problems.append(f"output '{name}' is not float32")
            dims = _dims(o)
            if len(dims) != 4:
                problems.append(f"output '{name}' has rank {len(dims)}, the contract has [N, C, H, W]")
            elif channels is not None and dims[1] not in (channels, None):
                problems.append(f"output '{name}' has {dims[1]} channels, the contract has {channels}")
    if problems:
        raise ContractError("not an fcos4j contract model: " + "; ".join(problems))
    images = inputs[0]
    batch = _dims(images)[0] if _dims(images) else None
    return meta, levels, batch


def plugin_attributes(meta, args):
    """The node's plugin fields: command line first, then the model's metadata, else the plugin's defaults."""
    convention = (args.convention or meta["fcos4j.convention"]).lower()
    if convention not in CONVENTIONS:
        raise ContractError(f"convention '{convention}' is not one of {', '.join(CONVENTIONS)}")

    def pick(option, key, cast):
        if option is not None:
            return cast(option)
        if key in meta:
            try:
                return cast(meta[key])
            except ValueError:
                raise ContractError(f"metadata '{key}' = '{meta[key]}' is not a {cast.__name__}") from None
        return None

    attrs = {"convention": convention,
             "score_threshold": pick(args.score_threshold, "fcos4j.score_threshold", float),
             "nms_pre": pick(args.nms_pre, "fcos4j.nms_pre", int),
             "iou_threshold": pick(args.iou_threshold, "fcos4j.iou_threshold", float),
             "max_detections": pick(args.max_detections, "fcos4j.max_detections", int),
             "strides": [int(s) for s in meta["fcos4j.strides"].split(",")]}
    # Ranges as the plugin checks them (docs/PLUGIN.md, Fields): fail here, not at engine build time.
    checks = [("score_threshold", lambda v: 0.0 <= v < 1.0, "[0, 1)"),
              ("nms_pre", lambda v: 1 <= v <= 10000, "[1, 10000]"),
              ("iou_threshold", lambda v: 0.0 <= v <= 1.0, "[0, 1]"),
              ("max_detections", lambda v: 1 <= v <= 100000, "[1, 100000]")]
    for name, ok, interval in checks:
        if attrs[name] is not None and not ok(attrs[name]):
            raise ContractError(f"{name} = {attrs[name]} is outside {interval}")
    if not 1 <= len(attrs["strides"]) <= 8 or any(not 1 <= s <= 4096 for s in attrs["strides"]):
        raise ContractError(f"strides {attrs['strides']}: 1 to 8 entries, each in [1, 4096]")
    return {k: v for k, v in attrs.items() if v is not None}


def embed(model, args):
    """Returns a new ModelProto with the FcosDetect node appended (the input is not modified)."""
    import onnx
    from onnx import TensorProto, helper

    meta, levels, batch = read_contract(model)
    attrs = plugin_attributes(meta, args)
    max_det = attrs.get("max_detections", 100)

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    batch_dim = batch if batch is not None else "N"
    graph.input.append(helper.make_tensor_value_info("image_info", TensorProto.FLOAT, [batch_dim, 4]))
    heads = [f"{p}_{level}" for p in ("cls", "reg", "ctr") for level in range(levels)]
    graph.node.append(helper.make_node(
        PLUGIN_NAME, inputs=heads + ["image_info"], outputs=list(DETECT_OUTPUTS), name="fcos_detect",
        domain=DOMAIN, plugin_version=PLUGIN_VERSION, plugin_namespace=PLUGIN_NAMESPACE, **attrs))
    if not args.keep_heads:
        kept = [o for o in graph.output if o.name not in heads]
        del graph.output[:]
        graph.output.extend(kept)
    graph.output.extend([
        helper.make_tensor_value_info("num_detections", TensorProto.INT32, [batch_dim]),
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [batch_dim, max_det, 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [batch_dim, max_det]),
        helper.make_tensor_value_info("classes", TensorProto.INT32, [batch_dim, max_det]),
    ])
    if not any(o.domain == DOMAIN for o in out.opset_import):
        out.opset_import.append(helper.make_opsetid(DOMAIN, 1))
    entry = out.metadata_props.add()
    entry.key, entry.value = "fcos4j.embedded_postprocess", f"{PLUGIN_NAME}/{PLUGIN_VERSION}/{PLUGIN_NAMESPACE}"
    # The checker accepts nodes of domains it has no schema for; it still checks the graph's structure.
    onnx.checker.check_model(out)
    return out


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="append the FcosDetect TensorRT plugin node to a contract model")
    ap.add_argument("model", help="the contract ONNX model (input)")
    ap.add_argument("out", help="the ONNX model with the plugin node (output; for TensorRT only)")
    ap.add_argument("--convention", help="mmdet, fcos or torchvision (default: the model's fcos4j.convention)")
    ap.add_argument("--score-threshold", type=float)
    ap.add_argument("--nms-pre", type=int)
    ap.add_argument("--iou-threshold", type=float)
    ap.add_argument("--max-detections", type=int)
    ap.add_argument("--keep-heads", action="store_true", help="keep cls_/reg_/ctr_ as graph outputs too")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import onnx
    if os.path.abspath(args.model) == os.path.abspath(args.out):
        print(f"error: {args.out}: writing over the contract model would lose the CPU backend's file", file=sys.stderr)
        return 2
    try:
        model = onnx.load(args.model)
    except FileNotFoundError:
        print(f"error: {args.model}: no such file", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - protobuf raises several kinds
        print(f"error: {args.model}: not a readable ONNX model ({e})", file=sys.stderr)
        return 2
    try:
        result = embed(model, args)
    except ContractError as e:
        print(f"error: {args.model}: {e}", file=sys.stderr)
        return 2
    tmp = args.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    onnx.save(result, tmp)
    os.replace(tmp, args.out)
    node = result.graph.node[-1]
    def show(a):
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, bytes):
            return v.decode()
        return f"{v:.7g}" if isinstance(v, float) else str(v)
    fields = ", ".join(f"{a.name}={show(a)}" for a in node.attribute
                       if a.name not in ("plugin_version", "plugin_namespace"))
    print(f"wrote {args.out}: {PLUGIN_NAME} {PLUGIN_VERSION} ({PLUGIN_NAMESPACE}) with {fields}; "
          f"inputs images, image_info; outputs {', '.join(o.name for o in result.graph.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
