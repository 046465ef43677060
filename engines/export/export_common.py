"""Helpers the exporters share (export_torchvision.py, export_mmdet.py): progress lines, the size options,
and reading a PyTorch checkpoint with errors that name the option and the file."""
import os
import time

T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:6.1f}s] {msg}", flush=True)


class CheckpointError(Exception):
    """A checkpoint file that cannot be used; the message names the option and the file."""


def check_sizes(ap, args, names=("trace_size", "verify_size")):
    """--trace-size / --verify-size must be positive multiples of 32 (argparse error otherwise)."""
    for name in names:
        h, w = getattr(args, name)
        if h <= 0 or w <= 0 or h % 32 or w % 32:
            ap.error(f"--{name.replace('_', '-')} must be positive multiples of 32, got {h} {w}")


def read_checkpoint(path, option):
    """torch.load(path) on the CPU; CheckpointError('OPTION PATH: ...') when missing or unreadable."""
    import torch
    if not os.path.isfile(path):
        raise CheckpointError(f"{option} {path}: no such file")
    try:
        return torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any unpickling problem is reported with the file name
        raise CheckpointError(f"{option} {path}: cannot be read by torch.load ({type(e).__name__}: {e})") from e


def strip_module_prefix(state):
    """Checkpoints saved from (Distributed)DataParallel prefix every key with 'module.'."""
    if state and all(k.startswith("module.") for k in state):
        return {k[len("module."):]: v for k, v in state.items()}
    return state
