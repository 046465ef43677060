#!/usr/bin/python3
"""Tests of compare_detections.py, the parity harness's judge: it must accept what only differs by float
noise or at a hard cut, and reject everything else. Plain python (no pytest), exit 1 on a failure."""
import contextlib
import io
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_detections as cd  # noqa: E402


def check(cond, msg):
    if not cond:
        print("FAIL: " + msg)
        sys.exit(1)


def detections(n, seed, low=0.21):
    r = random.Random(seed)
    out = []
    for _ in range(n):
        x, y = r.uniform(0, 500), r.uniform(0, 400)
        out.append({"box": [x, y, x + r.uniform(5, 90), y + r.uniform(5, 90)],
                    "score": r.uniform(low, 0.9), "class": r.randrange(1, 5), "label": "l"})
    out.sort(key=lambda d: -d["score"])
    return out


def reference(images):
    """parity_torchvision.py's layout."""
    return {"score_threshold": 0.2, "max_detections": 100,
            "images": [{"file": f"dir/{k}", "original_width": 640, "original_height": 480, "detections": v}
                       for k, v in images.items()]}


def candidate(images):
    """fcos4j detect's layout."""
    return {"info": {"score_threshold": "0.2", "max_detections": "100"},
            "images": [{"source": f"other/{k}", "width": 640, "height": 480, "detections": v}
                       for k, v in images.items()]}


def run(ref, cand, *extra):
    with tempfile.TemporaryDirectory() as d:
        a, b, rep = (os.path.join(d, n) for n in ("a.json", "b.json", "r.json"))
        json.dump(ref, open(a, "w"))
        json.dump(cand, open(b, "w"))
        with contextlib.redirect_stdout(io.StringIO()):  # its FAIL lines are expected here
            status = cd.main([a, b, "--report", rep, "--quiet", *extra])
        return status, json.load(open(rep))


def copy(dets):
    return [dict(d, box=list(d["box"])) for d in dets]


def test_identical_and_float_noise_agree_in_any_order():
    dets = detections(40, 1)
    noisy = copy(dets)
    for d in noisy:
        d["box"] = [v + 3e-4 for v in d["box"]]
        d["score"] += 4e-7
    random.Random(2).shuffle(noisy)
    status, rep = run(reference({"a.jpg": dets}), candidate({"a.jpg": noisy}))
    check(status == 0 and rep["summary"]["matched"] == 40, f"noise-only differences must agree: {rep['summary']}")
    check(abs(rep["summary"]["max_box_diff"] - 3e-4) < 1e-6, "max box difference reported")


def test_a_moved_box_a_changed_class_or_score_disagree():
    dets = detections(20, 3)
    for change in ("box", "class", "score"):
        other = copy(dets)
        if change == "box":
            other[7]["box"][2] += 0.05
        elif change == "class":
            other[7]["class"] += 1
        else:
            other[7]["score"] -= 1e-3
        status, rep = run(reference({"a.jpg": dets}), candidate({"a.jpg": other}))
        check(status == 1, f"a changed {change} must disagree")
        row = rep["images"][0]
        check(row["missing"] == 1 and row["extra"] == 1 and row["borderline"] == 0, f"{change}: {row}")


def test_a_detection_at_the_threshold_may_be_missing():
    dets = detections(10, 4)
    dets.append({"box": [1, 2, 30, 40], "score": 0.200004, "class": 2, "label": "l"})
    status, rep = run(reference({"a.jpg": dets}), candidate({"a.jpg": copy(dets[:-1])}))
    check(status == 0 and rep["summary"]["borderline"] == 1, f"threshold borderline: {rep['summary']}")
    dets[-1]["score"] = 0.25
    status, _ = run(reference({"a.jpg": dets}), candidate({"a.jpg": copy(dets[:-1])}))
    check(status == 1, "a missing detection far from any cut must disagree")


def test_the_last_detection_under_the_cap_may_swap():
    dets = detections(100, 5, low=0.3)
    other = copy(dets)
    last = min(d["score"] for d in dets)
    other[-1] = {"box": [100, 100, 150, 150], "score": last + 2e-6, "class": 3, "label": "l"}
    status, rep = run(reference({"a.jpg": dets}), candidate({"a.jpg": other}))
    check(status == 0 and rep["summary"]["borderline"] == 2, f"cap swap: {rep['summary']}")
    fewer = copy(dets[:60])
    fewer.append({"box": [100, 100, 150, 150], "score": min(d["score"] for d in fewer) + 2e-6, "class": 3,
                  "label": "l"})
    status, _ = run(reference({"a.jpg": dets[:60]}), candidate({"a.jpg": fewer}))
    check(status == 1, "below the cap, an extra detection near the last score must disagree")


def test_missing_images_and_size_mismatches_disagree():
    dets = detections(5, 6)
    status, rep = run(reference({"a.jpg": dets, "b.jpg": dets}), candidate({"a.jpg": copy(dets)}))
    check(status == 1 and "only in reference" in json.dumps(rep), "an image missing from the candidate")
    cand = candidate({"a.jpg": copy(dets)})
    cand["images"][0]["width"] = 641
    status, _ = run(reference({"a.jpg": dets}), cand)
    check(status == 1, "a different original size must disagree")


if __name__ == "__main__":
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_") and callable(v)]
    for t in tests:
        t()
        print(f"ok   {t.__name__}")
    print(f"test_compare_detections: {len(tests)} tests passed")
