#!/usr/bin/env python3
"""Exports torchvision 0.14 classification architectures to ONNX the way users do: random weights
from a fixed seed, eval mode, opset 13, dynamic batch axis ("batch"), chosen square resolution.
Writes <out>/<arch>.onnx and, with --inputs, <arch>.input.npy (a batch of 2 uniform [-1, 1)
samples from the same seed) for comparing runtimes.

    /usr/bin/python3 bench/models/export_torchvision.py --out /tmp/tv resnet18 mobilenet_v2
    /usr/bin/python3 bench/models/export_torchvision.py --out /tmp/tv --size 64 --inputs --ten
    /usr/bin/python3 bench/models/export_torchvision.py --list

Needs Debian's python3-torch, python3-torchvision (0.14) and python3-onnx (scripts/setup.sh).
Exit status: 0 = every model written, 1 = some failed (named on stderr), 2 = usage,
3 = torch/torchvision missing (callers treat it as "skip").
"""
import argparse
import os
import sys

# The ten architectures of the held-out check (project issue 15).
TEN = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1", "mnasnet1_0",
       "shufflenet_v2_x1_0", "regnet_x_400mf", "efficientnet_b0", "densenet121", "googlenet"]
# Every classification architecture family of torchvision 0.14 (one member each, plus the ten).
ALL = TEN + ["alexnet", "vgg11", "resnet50", "resnext50_32x4d", "wide_resnet50_2",
             "inception_v3", "mobilenet_v3_large", "efficientnet_v2_s", "regnet_y_400mf",
             "convnext_tiny", "vit_b_16", "swin_t"]
# Smallest input side each needs (pooling/patch geometry), when above the requested size.
MIN_SIZE = {"alexnet": 224, "vgg11": 224, "inception_v3": 299, "vit_b_16": 224}
# BatchNorm scale drawn from this range (set before the statistics are estimated).
GAMMA = (0.5, 1.5)
# Resolution used when --size is not given.
DEFAULT_SIZE = {"inception_v3": 299}


def make_informative(model, side, seed):
    """Random weights as torchvision initialises them can make a comparison meaningless: heads
    initialised to zero (vit), activations that shrink to nothing through the layers (googlenet:
    every sample gives the same logits) or blow up (inception_v3: 1e12). Give zero-initialised
    weights small random values and re-estimate every BatchNorm's running statistics on random
    inputs, so that each layer sees unit-scale activations and the logits depend on the input, as
    in a trained network. Deterministic from `seed`."""
    import torch

    gen = torch.Generator().manual_seed(seed + 2)
    with torch.no_grad():
        for m in model.modules():
            for p in m.parameters(recurse=False):
                if p.dim() >= 1 and torch.count_nonzero(p) == 0 and not isinstance(
                        m, (torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    with torch.no_grad():
        for bn in bns:  # a random affine part, so that folding it into the conv is exercised
            bn.weight.copy_(GAMMA[0] + (GAMMA[1] - GAMMA[0]) * torch.rand(bn.weight.shape, generator=gen))
            bn.bias.copy_(torch.randn(bn.bias.shape, generator=gen) * 0.1)
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the passes below
    model.eval()  # dropout and stochastic depth off, as at inference; only BN collects statistics
    for bn in bns:
        bn.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.rand((4, 3, side, side), generator=gen) * 2 - 1)


def export(name, out_dir, size, seed, write_input):
    import numpy as np
    import torch
    import torchvision

    torch.manual_seed(seed)
    kwargs = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kwargs.update(aux_logits=False, init_weights=True)
    model = getattr(torchvision.models, name)(**kwargs)
    side = size or DEFAULT_SIZE.get(name, 224)
    side = max(side, MIN_SIZE.get(name, 0))
    make_informative(model, side, seed)
    model.eval()
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.rand((2, 3, side, side), generator=gen) * 2 - 1
    path = os.path.join(out_dir, name + ".onnx")
    # Autograd stays enabled: under no_grad, nn.MultiheadAttention (vit) takes its fused fast
    # path, which has no ONNX export.
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    if write_input:
        np.save(os.path.join(out_dir, name + ".input.npy"), x.numpy().astype(np.float32))
    return side


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", help="torchvision model names (see --list)")
    ap.add_argument("--out", default=".", help="output folder (created)")
    ap.add_argument("--size", type=int, default=0,
                    help="input side in pixels (default 224, 299 for inception_v3; raised to "
                         "the smallest the model accepts)")
    ap.add_argument("--seed", type=int, default=0, help="weights seed (inputs use seed + 1)")
    ap.add_argument("--inputs", action="store_true", help="also write <name>.input.npy")
    ap.add_argument("--ten", action="store_true", help="the ten models of issue 15")
    ap.add_argument("--all", action="store_true", help="every architecture in --list")
    ap.add_argument("--list", action="store_true", help="print the known names and exit")
    args = ap.parse_args()
    if args.list:
        print("\n".join(ALL))
        return 0
    names = list(args.models) + (TEN if args.ten else []) + (ALL if args.all else [])
    names = list(dict.fromkeys(names))
    if not names:
        ap.print_usage(sys.stderr)
        print("export_torchvision.py: error: no model named (give names, --ten or --all)",
              file=sys.stderr)
        return 2
    # Stale files of an earlier run never stand in for a failed or skipped export.
    for name in names:
        for suffix in (".onnx", ".input.npy"):
            path = os.path.join(args.out, name + suffix)
            if os.path.exists(path):
                os.remove(path)
    try:
        import torch  # noqa: F401
        import torchvision
    except ImportError as e:
        print(f"export_torchvision.py: cannot import torch/torchvision: {e}", file=sys.stderr)
        return 3
    import warnings
    warnings.filterwarnings("ignore")
    import torch
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    failed = []
    for name in names:
        if not hasattr(torchvision.models, name):
            print(f"export_torchvision.py: cannot export '{name}': name = {name}, must be a "
                  f"torchvision {torchvision.__version__} classification model", file=sys.stderr)
            failed.append(name)
            continue
        try:
            side = export(name, args.out, args.size, args.seed, args.inputs)
            print(f"{name} {side}x{side} -> {os.path.join(args.out, name + '.onnx')}", flush=True)
        except Exception as e:  # report and continue with the others
            print(f"export_torchvision.py: cannot export '{name}': {type(e).__name__}: {e}",
                  file=sys.stderr)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
