"""Small torchvision/PyTorch stand-ins of mmdetection 3.x FCOS detectors, for testing export_mmdet.py
without mmdet/mmcv (which cannot be installed here).

They mirror the upstream module tree and attribute names (so a stand-in state_dict has mmdet's key names,
e.g. ``bbox_head.cls_convs.0.conv.weight``, ``bbox_head.cls_convs.0.gn.weight``, ``bbox_head.scales.2.scale``,
``backbone.layer2.0.conv2.conv_offset.weight``) and the test-time computation of each config:

- ResNet / ResNeXt bottleneck backbone, 'caffe' style (stride on the 1x1 conv1) or 'pytorch' style (stride on
  the 3x3 conv2), grouped 3x3 for ResNeXt, DCNv2 as conv2 of the stages in ``stage_with_dcn``;
- FPN (mmdet ``FPN``): lateral 1x1 convs on C3..C5 (start_level 1), top-down nearest upsampling to the lower
  level's size, 3x3 fpn convs, P6 = 3x3 stride-2 conv of the P5 OUTPUT (add_extra_convs='on_output'),
  P7 = 3x3 stride-2 conv of relu(P6) (relu_before_extra_convs=True);
- FCOSHead (mmdet ``FCOSHead.forward_single``): GN towers (``cls_convs`` / ``reg_convs``, ConvModule
  conv -> gn -> relu, DCNv2 last conv when dcn_on_last_conv), ``conv_cls``, ``conv_reg``, ``conv_centerness``
  on the cls tower or (centerness_on_reg) the reg tower, ``bbox_pred = scales[l](conv_reg(reg_feat))`` then
  test mode ``clamp(min=0) * stride`` (norm_on_bbox) or ``exp``;
- ``ModulatedDeformConv2dPack`` (mmcv ``DCNv2``): ``conv_offset`` (3 * deform_groups * kh * kw channels),
  ``o1, o2, mask = chunk(out, 3, dim=1)``, ``offset = cat(o1, o2)``, ``mask = sigmoid(mask)``, then the
  modulated deformable convolution, here ``torchvision.ops.deform_conv2d`` (same offset layout as mmcv:
  channel 2k is the y offset and 2k+1 the x offset of kernel tap k = i * kw + j; bilinear sampling, zero
  outside the image).

Widths and block counts are reduced (``base_channels`` 8 instead of 64, 1-2 blocks per stage, 64 FPN / head
channels) so a test exports all configs in seconds; the plumbing (5 levels, strides 8..128, names, DCN
placement, regression regime) is the configs'. Weights are seeded random, with non-trivial BN statistics,
non-zero DCN offsets (mmcv initializes them to zero) and distinct per-level Scale values.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import deform_conv2d

from mmdet_configs import FcosConfigFacts


class Scale(nn.Module):
    """mmcv.cnn.Scale: x * scale (a learnable scalar named ``scale``)."""

    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale, dtype=torch.float))

    def forward(self, x):
        return x * self.scale


class ModulatedDeformConv2dPack(nn.Module):
    """mmcv's DCNv2 (``ModulatedDeformConv2dPack``): same parameters, attribute names and forward math."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=1, dilation=1, groups=1,
                 deform_groups=1, bias=True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (kernel_size, kernel_size)
        self.stride, self.padding, self.dilation = (stride, stride), (padding, padding), (dilation, dilation)
        self.groups, self.deform_groups = groups, deform_groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, kernel_size, kernel_size))
        nn.init.kaiming_uniform_(self.weight, a=1)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.conv_offset = nn.Conv2d(in_channels, deform_groups * 3 * kernel_size * kernel_size, kernel_size,
                                     stride=stride, padding=padding, dilation=dilation, bias=True)

    def forward(self, x):
        out = self.conv_offset(x)
        o1, o2, mask = torch.chunk(out, 3, dim=1)
        offset = torch.cat((o1, o2), dim=1)
        mask = torch.sigmoid(mask)
        return deform_conv2d(x, offset, self.weight, self.bias, stride=self.stride, padding=self.padding,
                             dilation=self.dilation, mask=mask)


class ConvModule(nn.Module):
    """mmcv.cnn.ConvModule (conv -> norm -> act) with mmcv's attribute names ``conv`` and ``gn``."""

    def __init__(self, cin, cout, k, stride=1, padding=0, dcn=False, gn_groups=None, act=True, bias=True):
        super().__init__()
        if dcn:
            self.conv = ModulatedDeformConv2dPack(cin, cout, k, stride=stride, padding=padding, bias=bias)
        else:
            self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=bias)
        self.with_norm = gn_groups is not None
        if self.with_norm:
            self.gn = nn.GroupNorm(gn_groups, cout)
        self.with_act = act
        if act:
            self.activate = nn.ReLU(inplace=False)

    def forward(self, x):
        x = self.conv(x)
        if self.with_norm:
            x = self.gn(x)
        if self.with_act:
            x = self.activate(x)
        return x


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, style, dcn, groups=1, base_width=4, downsample=None):
        super().__init__()
        # mmdet ResNet Bottleneck: caffe puts the stride on conv1 (1x1), pytorch on conv2 (3x3)
        s1, s2 = (stride, 1) if style == "caffe" else (1, stride)
        width = planes if groups == 1 else max(groups, (planes * base_width // 16) // groups * groups)
        self.conv1 = nn.Conv2d(inplanes, width, 1, stride=s1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        if dcn:
            # mmdet: build_conv_layer(dcn, ...) with bias=False, deform_groups 1
            self.conv2 = ModulatedDeformConv2dPack(width, width, 3, stride=s2, padding=1, groups=groups, bias=False)
        else:
            self.conv2 = nn.Conv2d(width, width, 3, stride=s2, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=False)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """mmdet ResNet / ResNeXt (out_indices 0..3), reduced: ``base_channels`` and ``blocks`` per stage."""

    def __init__(self, style, stage_with_dcn, groups=1, base_width=4, base_channels=8, blocks=(1, 1, 1, 1)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, base_channels, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_channels)
        self.relu = nn.ReLU(inplace=False)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        inplanes = base_channels
        self.out_channels = []
        for i, n in enumerate(blocks):
            planes = base_channels * 2 ** i
            stride = 1 if i == 0 else 2
            layers = []
            for b in range(n):
                down = None
                if b == 0 and (stride != 1 or inplanes != planes * 4):
                    down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False),
                                         nn.BatchNorm2d(planes * 4))
                layers.append(Bottleneck(inplanes, planes, stride if b == 0 else 1, style, stage_with_dcn[i],
                                         groups, base_width, down))
                inplanes = planes * 4
            self.add_module(f"layer{i + 1}", nn.Sequential(*layers))
            self.out_channels.append(inplanes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for i in range(4):
            x = getattr(self, f"layer{i + 1}")(x)
            outs.append(x)
        return tuple(outs)


class FPN(nn.Module):
    """mmdet FPN with start_level=1, num_outs=5, add_extra_convs='on_output', relu_before_extra_convs=True."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.start_level = 1
        self.add_extra_convs = "on_output"
        self.relu_before_extra_convs = True
        self.num_outs = 5
        ins = in_channels[self.start_level:]
        self.lateral_convs = nn.ModuleList([ConvModule(c, out_channels, 1, act=False) for c in ins])
        self.fpn_convs = nn.ModuleList([ConvModule(out_channels, out_channels, 3, padding=1, act=False) for _ in ins])
        for _ in range(self.num_outs - len(ins)):
            self.fpn_convs.append(ConvModule(out_channels, out_channels, 3, stride=2, padding=1, act=False))

    def forward(self, inputs):
        laterals = [conv(inputs[i + self.start_level]) for i, conv in enumerate(self.lateral_convs)]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(laterals[i], size=laterals[i - 1].shape[2:],
                                                              mode="nearest")
        outs = [self.fpn_convs[i](laterals[i]) for i in range(len(laterals))]
        outs.append(self.fpn_convs[len(laterals)](outs[-1]))  # 'on_output': P6 from the P5 output, no relu
        for i in range(len(laterals) + 1, self.num_outs):
            outs.append(self.fpn_convs[i](F.relu(outs[-1])))
        return tuple(outs)


class FCOSHead(nn.Module):
    """mmdet 3.x FCOSHead (AnchorFreeHead towers + conv_centerness + per-level Scale)."""

    def __init__(self, num_classes, in_channels, feat_channels, strides, norm_on_bbox, centerness_on_reg,
                 dcn_on_last_conv, conv_bias, stacked_convs=4, gn_groups=32):
        super().__init__()
        self.num_classes = self.cls_out_channels = num_classes
        self.in_channels, self.feat_channels, self.stacked_convs = in_channels, feat_channels, stacked_convs
        self.strides = list(strides)
        self.norm_on_bbox, self.centerness_on_reg, self.dcn_on_last_conv = norm_on_bbox, centerness_on_reg, \
            dcn_on_last_conv
        # ConvModule bias 'auto' means no bias when a norm follows
        bias = False if conv_bias == "auto" else bool(conv_bias)
        for tower in ("cls_convs", "reg_convs"):
            convs = nn.ModuleList()
            for i in range(stacked_convs):
                chn = in_channels if i == 0 else feat_channels
                convs.append(ConvModule(chn, feat_channels, 3, padding=1, gn_groups=gn_groups, bias=bias,
                                        dcn=dcn_on_last_conv and i == stacked_convs - 1))
            setattr(self, tower, convs)
        self.conv_cls = nn.Conv2d(feat_channels, num_classes, 3, padding=1)
        self.conv_reg = nn.Conv2d(feat_channels, 4, 3, padding=1)
        self.conv_centerness = nn.Conv2d(feat_channels, 1, 3, padding=1)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.strides])

    def forward_single(self, x, scale, stride):
        cls_feat, reg_feat = x, x
        for layer in self.cls_convs:
            cls_feat = layer(cls_feat)
        cls_score = self.conv_cls(cls_feat)
        for layer in self.reg_convs:
            reg_feat = layer(reg_feat)
        bbox_pred = self.conv_reg(reg_feat)
        centerness = self.conv_centerness(reg_feat if self.centerness_on_reg else cls_feat)
        bbox_pred = scale(bbox_pred).float()
        if self.norm_on_bbox:
            bbox_pred = bbox_pred.clamp(min=0)
            if not self.training:
                bbox_pred = bbox_pred * stride
        else:
            bbox_pred = bbox_pred.exp()
        return cls_score, bbox_pred, centerness

    def forward(self, feats):
        outs = [self.forward_single(x, s, st) for x, s, st in zip(feats, self.scales, self.strides)]
        return tuple(list(t) for t in zip(*outs))


class FCOS(nn.Module):
    """mmdet SingleStageDetector subset: ``backbone``, ``neck``, ``bbox_head``, ``extract_feat``."""

    def __init__(self, backbone, neck, bbox_head):
        super().__init__()
        self.backbone, self.neck, self.bbox_head = backbone, neck, bbox_head

    def extract_feat(self, images):
        return self.neck(self.backbone(images))


def build_standin(facts: FcosConfigFacts, seed=0, num_classes=None, depth_blocks=None):
    """A seeded random stand-in of the config ``facts`` (eval mode)."""
    torch.manual_seed(seed)
    if depth_blocks is None:
        # R-101 differs from R-50 by the third stage's depth: keep that distinction, reduced
        depth_blocks = (1, 1, 2, 1) if facts.depth >= 101 else (1, 1, 1, 1)
    groups = 4 if facts.backbone == "ResNeXt" else 1
    backbone = ResNet(facts.style, facts.stage_with_dcn, groups=groups, base_width=facts.base_width,
                      blocks=depth_blocks)
    neck = FPN(backbone.out_channels, 64)
    head = FCOSHead(num_classes or facts.num_classes, 64, 64, facts.strides, facts.norm_on_bbox,
                    facts.centerness_on_reg, facts.dcn_on_last_conv, facts.conv_bias)
    model = FCOS(backbone, neck, head)
    g = torch.Generator().manual_seed(seed + 1000)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.normal_(0.0, 0.1, generator=g)
                m.running_mean.normal_(0.0, 0.1, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
            elif isinstance(m, ModulatedDeformConv2dPack):
                # fractional, non-zero offsets and masks away from 0.5 (mmcv zero-initializes conv_offset)
                m.conv_offset.weight.normal_(0.0, 0.05, generator=g)
                m.conv_offset.bias.normal_(0.0, 0.5, generator=g)
                if m.bias is not None:
                    m.bias.normal_(0.0, 0.1, generator=g)
        for conv in (head.conv_cls, head.conv_reg, head.conv_centerness):
            conv.weight.normal_(0.0, 0.02, generator=g)
            conv.bias.normal_(0.0, 0.2, generator=g)
        head.conv_reg.bias += 1.0  # distances of a few units, so exp / relu * stride give visibly different pixels
        for l, s in enumerate(head.scales):
            s.scale.fill_(0.5 + 0.25 * l)
    return model.eval()
