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

Usage: /usr/bin/python3 engines/export/parity_torchvision.py --out out/parity_tv.json IMAGE... \
           [--seed 0] [--raise-cls-bias 0.5] [--weights W.pth] [--dump-inputs out/parity_inputs]
"""
import argparse
import json
import os
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
    args = ap.parse_args(argv)

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


if __name__ == "__main__":
    main()
