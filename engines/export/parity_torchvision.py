#!/usr/bin/python3
"""Run torchvision's own FCOS end to end (GeneralizedRCNNTransform + model + postprocess) on images and
write its detections as JSON, for comparing fcos4j with torchvision on the same weights.

The model is built exactly as export_torchvision.py builds it (same --weights / --seed / --raise-cls-bias /
--num-classes give the same weights), so its ONNX export run through fcos4j should give the same
detections. Each image is run as its own batch of one (torchvision pads a batch to its largest image,
which would change the input of the smaller ones).

Output (one JSON file):
  { "generator": str, "model": {...}, "convention": "torchvision", "score_threshold": ..., "nms_pre": ...,
    "iou_threshold": ..., "max_detections": ...,
    "images": [ { "file": str, "original_height": i, "original_width": i,
                  "resized_height": i, "resized_width": i, "padded_height": i, "padded_width": i,
                  "input": "NAME.f32" (only with --dump-inputs),
                  "detections": [ {"box": [x1,y1,x2,y2], "score": f, "class": i, "label": str}, ... ] } ] }
Boxes are in original-image pixels, score-descending, floats as the shortest decimal of their float32.
With --dump-inputs DIR the exact normalized, padded network input of each image is written as raw
little-endian float32 [1,3,H,W] (DIR/NAME.f32), so a test can feed fcos4j the same tensor and separate
preprocessing differences from model / post-processing differences.

With --model M.onnx (the exported contract model of the same weights) it is the whole parity harness: it
then also runs fcos4j's pipeline (`bin/fcos4j detect`, or the command in $FCOS4J_CLI; CPU by default,
--backend trt-fp32|trt-fp16 on a GPU machine, then loosen --box-tol / --score-tol for fp16) on the same images
and compares both image by image with compare_detections.py (per-image matched / missing / extra detections,
largest box and score differences), exiting 1 when they disagree. The model's fcos4j.model_name must be the
one export_torchvision.py gives these weights (a guard against comparing different weights).

Usage: /usr/bin/python3 engines/export/parity_torchvision.py --out out/parity_tv.json IMAGE... \
           [--seed 0] [--raise-cls-bias 0.5] [--weights W.pth] [--dump-inputs out/parity_inputs] \
           [--model models/M.onnx [--report out/parity_report.json]]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_torchvision as ex  # noqa: E402


def short(v):
    v = np.float32(v)
    d = float(str(v))
    return d if np.float32(d) == v else float(v)


def main(argv=None):
    ap = argparse.ArgumentParser(description="torchvision FCOS detections on images, as JSON")
    ap.add_argument("images", nargs="+", help="image files (JPEG / PNG), or directories of them")
    ap.add_argument("--out", required=True, help="output JSON path")
    ap.add_argument("--weights")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--num-classes", type=int)
    ap.add_argument("--class-names")
    ap.add_argument("--raise-cls-bias", type=float, default=0.0)
    ap.add_argument("--dump-inputs", metavar="DIR", help="also write each image's network input tensor")
    ap.add_argument("--model", metavar="ONNX",
                    help="also run fcos4j (CPU) with this exported contract model and compare the detections")
    ap.add_argument("--report", help="with --model: write the per-image comparison as JSON here")
    ap.add_argument("--backend", default="cpu",
                    help="with --model: fcos4j's backend, cpu (default), trt-fp32 or trt-fp16 (needs a GPU)")
    ap.add_argument("--box-tol", type=float, default=0.01, help="with --model: max box coordinate difference (px)")
    ap.add_argument("--score-tol", type=float, default=1e-5, help="with --model: max score difference")
    args = ap.parse_args(argv)
    if args.model:
        check_model_name(args)

    import torch
    import torchvision
    from torchvision.io import ImageReadMode, read_image

    files = []
    for p in args.images:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p)
                            if f.lower().endswith((".jpg", ".jpeg", ".png")))
        elif os.path.isfile(p):
            files.append(p)
        else:
            ex.fail(f"{p}: no such file or directory")
    if not files:
        ex.fail("no images given")

    export_args = argparse.Namespace(weights=args.weights, seed=args.seed, num_classes=args.num_classes,
                                     raise_cls_bias=args.raise_cls_bias, class_names=args.class_names)
    torch.set_grad_enabled(False)
    model, num_classes = ex.build_model(export_args)
    names = ex.class_names_for(export_args, num_classes)
    ex.log(f"torchvision {torchvision.__version__}, {num_classes} classes, {len(files)} images")
    if args.dump_inputs:
        os.makedirs(args.dump_inputs, exist_ok=True)

    # capture the exact network input (after normalize, resize, pad) of each run
    captured = {}
    hook = model.backbone.register_forward_pre_hook(lambda mod, inp: captured.__setitem__("x", inp[0]))

    results = []
    for path in files:
        try:
            img = read_image(path, ImageReadMode.RGB)
        except Exception as e:  # noqa: BLE001 - name the file whatever the decoder says
            ex.fail(f"{path}: cannot decode ({e})")
        x = img.to(torch.float32) / 255.0
        h, w = x.shape[-2:]
        images, _ = model.transform([x])
        rh, rw = images.image_sizes[0]
        out = model([x])[0]
        ph, pw = captured["x"].shape[-2:]
        entry = {"file": path, "original_height": int(h), "original_width": int(w),
                 "resized_height": int(rh), "resized_width": int(rw),
                 "padded_height": int(ph), "padded_width": int(pw)}
        if args.dump_inputs:
            name = os.path.splitext(os.path.basename(path))[0] + ".f32"
            captured["x"].numpy().astype("<f4").tofile(os.path.join(args.dump_inputs, name))
            entry["input"] = name
        dets = []
        for b, s, k in zip(out["boxes"].numpy(), out["scores"].numpy(), out["labels"].numpy()):
            dets.append({"box": [short(v) for v in b], "score": short(s), "class": int(k), "label": names[int(k)]})
        entry["detections"] = dets
        results.append(entry)
        ex.log(f"{path}: {w}x{h} -> {rw}x{rh} (padded {pw}x{ph}), {len(dets)} detections")
    hook.remove()

    doc = {
        "generator": f"engines/export/parity_torchvision.py; torchvision {torchvision.__version__}, "
                     f"torch {torch.__version__}",
        "model": {"weights": args.weights, "seed": None if args.weights else args.seed,
                  "raise_cls_bias": args.raise_cls_bias, "num_classes": num_classes},
        "convention": "torchvision",
        "score_threshold": model.score_thresh, "nms_pre": model.topk_candidates,
        "iou_threshold": model.nms_thresh, "max_detections": model.detections_per_img,
        "images": results,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)) or ".", exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    ex.log(f"wrote {args.out}")
    if args.model:
        return run_fcos4j_and_compare(args, files)
    return 0


def check_model_name(args):
    """The ONNX must hold the weights this run builds: compare its fcos4j.model_name with the exporter's."""
    import onnx
    if not os.path.isfile(args.model):
        ex.fail(f"{args.model}: no such model file (export it with export_torchvision.py and the same options)")
    try:
        proto = onnx.load(args.model, load_external_data=False)
    except Exception as e:  # noqa: BLE001
        ex.fail(f"{args.model}: not a readable ONNX model ({e})")
    props = {p.key: p.value for p in proto.metadata_props}
    have = props.get("fcos4j.model_name")
    if have is None:
        ex.fail(f"{args.model}: no fcos4j.model_name metadata: not an fcos4j contract model")
    want = ex.metadata(argparse.Namespace(model_name=None, weights=args.weights, seed=args.seed,
                                          raise_cls_bias=args.raise_cls_bias), 1, ["x"])["fcos4j.model_name"]
    if have != want:
        ex.fail(f"{args.model}: its fcos4j.model_name is '{have}' but these options build '{want}': "
                f"pass the --weights / --seed / --raise-cls-bias it was exported with")


def run_fcos4j_and_compare(args, files):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cli = os.environ.get("FCOS4J_CLI", os.path.join(root, "bin", "fcos4j"))
    out_dir = os.path.splitext(os.path.abspath(args.out))[0] + "_fcos4j"
    cmd = [cli, "detect", "--model", args.model, "--backend", args.backend, "--out", out_dir, "--no-annotate",
           "--progress", "never", *files]
    ex.log("running " + " ".join(cmd[:6]) + f" ... ({len(files)} images)")
    done = subprocess.run(cmd)
    if done.returncode != 0:
        ex.fail(f"fcos4j detect exited with {done.returncode}")
    import compare_detections
    cmp_args = [args.out, os.path.join(out_dir, "detections.json"), "--box-tol", str(args.box_tol),
                "--score-tol", str(args.score_tol)]
    if args.report:
        cmp_args += ["--report", args.report]
    return compare_detections.main(cmp_args)


if __name__ == "__main__":
    sys.exit(main())
