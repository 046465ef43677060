"""Recomputes the tiny FCOS model (dev.fcos4j.model.TinyFcosModel) with torch from the ONNX file's weights and
compares with the head outputs ONNX Runtime gave in Java. Written from the architecture as documented in
TinyFcosModel, not from its graph: it checks that the graph is that architecture.

usage: tiny_fcos_torch.py MODEL.onnx DIR GROUPS   (DIR holds input.bin [N,3,H,W] and cls_0.bin .. ctr_4.bin,
float32 little-endian, plus shape.txt "N H W")
Prints one line per output: name, max abs diff, max abs value; exit 1 on a mismatch.
"""
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

model_path, d, groups = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = onnx.load(model_path)
W = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
n, h, w = (int(v) for v in open(d + "/shape.txt").read().split())
x = torch.from_numpy(np.fromfile(d + "/input.bin", dtype="<f4").reshape(n, 3, h, w))


def conv(t, i, stride):
    k = W["w%d" % i]
    return F.conv2d(t, k, W["b%d" % i], stride=stride, padding=k.shape[-1] // 2)


def gn(t, i):
    return F.group_norm(t, groups, W["gn_gamma%d" % i].flatten(), W["gn_beta%d" % i].flatten(), eps=1e-5)


r = F.relu
with torch.no_grad():
    # backbone: five stride-2 3x3 convs, C3 / C4 / C5 at strides 8 / 16 / 32
    t = r(conv(x, 0, 2))
    t = r(conv(t, 1, 2))
    c3 = r(conv(t, 2, 2))
    c4 = r(conv(c3, 3, 2))
    c5 = r(conv(c4, 4, 2))
    # FPN: 1x1 laterals, nearest top-down, 3x3 outputs, P6 from P5, P7 from relu(P6)
    l3, l4, l5 = conv(c3, 5, 1), conv(c4, 6, 1), conv(c5, 7, 1)
    m4 = l4 + F.interpolate(l5, size=l4.shape[-2:], mode="nearest")
    m3 = l3 + F.interpolate(m4, size=l3.shape[-2:], mode="nearest")
    p3, p4, p5 = conv(m3, 8, 1), conv(m4, 9, 1), conv(l5, 10, 1)
    p6 = conv(p5, 11, 2)
    p7 = conv(r(p6), 12, 2)
    bad = 0
    for lvl, p in enumerate([p3, p4, p5, p6, p7]):
        cls_feat = r(gn(conv(p, 13, 1), 14))
        reg_feat = r(gn(conv(p, 15, 1), 16))
        expected = {
            "cls": conv(cls_feat, 17, 1),
            "reg": torch.exp(conv(reg_feat, 18, 1) * W["scale_%d" % lvl]) * W["stride_%d" % lvl],
            "ctr": conv(reg_feat, 19, 1),
        }
        for name, e in expected.items():
            e = e.numpy()
            got = np.fromfile("%s/%s_%d.bin" % (d, name, lvl), dtype="<f4")
            if got.size != e.size:
                print("%s_%d size %d expected %d %s" % (name, lvl, got.size, e.size, e.shape))
                bad += 1
                continue
            got = got.reshape(e.shape)
            diff = float(np.abs(got - e).max())
            scale = float(np.abs(e).max())
            print("%s_%d %g %g" % (name, lvl, diff, scale))
            if diff > 1e-4 * max(1.0, scale):
                bad += 1
    sys.exit(1 if bad else 0)
