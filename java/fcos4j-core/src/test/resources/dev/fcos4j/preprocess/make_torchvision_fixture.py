"""Generates torchvision_batch.npz, the torch oracle PreprocessorTorchvisionTest compares with.

    /usr/bin/python3 make_torchvision_fixture.py      (torch 1.13 / torchvision 0.14, CPU)

Two seeded random RGB images (one enlarged, one shrunk) are written as PNG (lossless: Java decodes the same
pixels) and run through torchvision's own GeneralizedRCNNTransform with min_size 40, max_size 64 and the
ImageNet mean/std; the padded batch tensor and the per-image resized sizes are saved.
"""
import numpy as np
import torch
import torchvision
from torchvision.io import write_png
from torchvision.models.detection.transform import GeneralizedRCNNTransform

rng = np.random.default_rng(2024)
shapes = [(23, 37), (97, 61)]
images = []
for i, (h, w) in enumerate(shapes):
    pixels = torch.from_numpy(rng.integers(0, 256, size=(3, h, w), dtype=np.uint8))
    write_png(pixels, f"tv_image_{i}.png")
    images.append(pixels.float() / 255)
transform = GeneralizedRCNNTransform(min_size=40, max_size=64, image_mean=[0.485, 0.456, 0.406],
                                     image_std=[0.229, 0.224, 0.225], size_divisible=32)
transform.eval()
with torch.no_grad():
    batch, _ = transform(images)
np.savez("torchvision_batch.npz", batch=batch.tensors.numpy().astype(np.float32),
         image_sizes=np.array(batch.image_sizes, dtype=np.float32))
print(torch.__version__, torchvision.__version__, batch.tensors.shape, batch.image_sizes)
