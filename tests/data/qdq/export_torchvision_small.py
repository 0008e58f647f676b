#!/usr/bin/env python3
"""Exports torchvision architectures with random weights (fixed seed) at a small resolution to
ONNX (opset 13, dynamic batch) for the interop test tests/quant/int8_interop_test.cpp
(TorchvisionVsOrt), and writes a calibration batch and a test batch beside them. Models are not
committed: the test runs this script into a temporary folder. Needs Debian's python3-torchvision.

    /usr/bin/python3 tests/data/qdq/export_torchvision_small.py OUT_DIR RES NAME[,NAME...]

Writes OUT_DIR/<name>.onnx, OUT_DIR/calib.npy (8 samples) and OUT_DIR/input.npy (2 samples),
N(0, 1) inputs of shape [N, 3, RES, RES]. BatchNormalization statistics are drawn at random too
(a freshly built network has mean 0 / var 1, which would make every BN the identity).
"""
import os
import sys

import numpy as np
import torch
import torchvision


def main():
    out, res, names = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    os.makedirs(out, exist_ok=True)
    for name in names:
        torch.manual_seed(0)
        kw = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
        model = getattr(torchvision.models, name)(weights=None, **kw).eval()
        for mod in model.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.data.uniform_(0.5, 1.5)
                mod.bias.data.uniform_(-0.2, 0.2)
        x = torch.randn(1, 3, res, res)
        torch.onnx.export(model, x, os.path.join(out, f"{name}.onnx"), opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    rng = np.random.default_rng(1)
    np.save(os.path.join(out, "calib.npy"), rng.standard_normal((8, 3, res, res)).astype(np.float32))
    np.save(os.path.join(out, "input.npy"), rng.standard_normal((2, 3, res, res)).astype(np.float32))


if __name__ == "__main__":
    main()
