#!/usr/bin/python3
"""Generates the small float test models of tests/data/models/ (run with Debian's interpreter:
/usr/bin/python3 tests/data/models/make_models.py; needs python3-torch, python3-onnx,
python3-numpy). Tests read only the generated files:

  <name>.onnx        the model (PyTorch's exporter, or onnx.helper for hand-made graphs)
  <name>.input.npy   a float32 input, batch 2 (seeded)
  <name>.torch.npy   PyTorch's (or numpy's) output for that input, a secondary reference

Each file stays far below 1 MB. Deterministic: fixed seeds.
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261127)
RNG = np.random.default_rng(20261127)


def randomize_bn(model):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c) * 0.1)
            m.running_var.copy_(torch.rand(c) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(c) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(c) * 0.1)


def export(model, name, shape, opset=13, keep_bn=False):
    model.eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(HERE, name + ".onnx")
    torch.onnx.export(
        model, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        training=torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL,
        do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    np.save(os.path.join(HERE, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(HERE, name + ".torch.npy"), y.numpy().astype(np.float32))
    print(f"{name}: {os.path.getsize(path)} bytes, opset {opset}")


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class CifarResNet(nn.Module):
    """3x32x32 -> 10, two residual blocks, ~8.8 MMAC per sample."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.l1 = Block(16, 16, 1)
        self.l2 = Block(16, 32, 2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.l2(self.l1(self.stem(x)))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(x.view(x.size(0), -1))  # Shape/Gather/Unsqueeze/Concat/Reshape


class SignalCNN(nn.Module):
    """1x128 -> 5 classes, 1-D convolutions, ~0.1 MMAC per sample."""

    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv1d(1, 8, 5, padding=2), nn.BatchNorm1d(8), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(8, 16, 5, padding=2), nn.BatchNorm1d(16), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
            nn.Linear(32, 5))

    def forward(self, x):
        return self.f(x)


class MobileNetish(nn.Module):
    """Depthwise-separable blocks with ReLU6 (Clip), 3x32x32 -> 10."""

    def __init__(self):
        super().__init__()
        def dws(cin, cout, stride):
            return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin),
                    nn.ReLU6(), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]
        self.f = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
                               *dws(16, 32, 1), *dws(32, 64, 2), *dws(64, 64, 1),
                               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x):
        return self.f(x)


class PoolsMix(nn.Module):
    """Pools with ceil_mode/pads/count_include_pad, Clip with tensor bounds, LeakyRelu, Sigmoid,
    Tanh, Concat, Transpose, Pad, Softmax, MatMul."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1, dilation=1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.c3 = nn.Conv2d(16, 12, 1)
        self.fc = nn.Linear(12 * 9, 6)
        self.m = nn.Parameter(torch.randn(6, 6) * 0.3)

    def forward(self, x):
        a = F.leaky_relu(self.c1(x), 0.1)                                      # 8x15x15
        b = torch.clamp(torch.sigmoid(self.c2(a)), min=0.2, max=0.8)           # Clip (inputs)
        y = torch.cat([a, b], 1)                                               # 16x15x15
        y = F.max_pool2d(y, 3, 2, padding=1, ceil_mode=True)                   # 16x8x8
        y = F.avg_pool2d(y, 3, 2, padding=1, ceil_mode=True, count_include_pad=False)  # 5x5
        y = torch.tanh(self.c3(y))                                             # 12x5x5
        y = F.pad(y, (1, 0, 0, 1), value=0.5)                                   # 12x6x6
        y = F.avg_pool2d(y, 2, 2, ceil_mode=False, count_include_pad=True)     # 12x3x3
        y = y.permute(0, 2, 3, 1).reshape(-1, 12 * 9)                          # Transpose
        y = self.fc(y) @ self.m                                                # MatMul
        return F.softmax(y, dim=1)


def hand_made(name):
    """Gemm with transA/transB/alpha/beta, auto_pad SAME_UPPER + strides, Mul/Add broadcasting,
    Pad (constant, non-zero), Transpose, Softmax over axis 1 -- written with onnx.helper."""
    w = RNG.standard_normal((6, 4, 3, 3)).astype(np.float32) * 0.3
    s = RNG.standard_normal((1, 6, 1, 1)).astype(np.float32)
    bmat = RNG.standard_normal((5, 96)).astype(np.float32) * 0.2   # B^T for transB
    cvec = RNG.standard_normal((5,)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "w"], ["c"], name="conv_same", auto_pad="SAME_UPPER",
                         strides=[2, 2]),
        helper.make_node("Mul", ["c", "s"], ["m"], name="scale"),
        helper.make_node("Relu", ["m"], ["r"], name="relu"),
        helper.make_node("Pad", ["r", "pads", "pv"], ["p"], name="pad", mode="constant"),
        helper.make_node("Transpose", ["p"], ["t"], name="to_nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Flatten", ["t"], ["f"], name="flat", axis=1),
        helper.make_node("Transpose", ["f"], ["ft"], name="fT", perm=[1, 0]),
        helper.make_node("Gemm", ["ft", "b", "cv"], ["g"], name="gemm_tt", transA=1, transB=1,
                         alpha=0.7, beta=1.3),
        helper.make_node("Softmax", ["g"], ["output"], name="softmax", axis=1),
    ]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(s, "s"),
             numpy_helper.from_array(np.array([0, 0, 1, 0, 0, 0, 0, 1], np.int64), "pads"),
             numpy_helper.from_array(np.array(0.25, np.float32), "pv"),
             numpy_helper.from_array(bmat, "b"), numpy_helper.from_array(cvec, "cv")]
    # 4x5x5 input, stride 2 SAME -> 6x3x3, padded (top 1, right 1) with 0.25 -> 6x4x4 = 96.
    g = helper.make_graph(nodes, "hand_made",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4, 5, 5])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 5])],
                          inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_models.py")
    m.ir_version = 7
    onnx.checker.check_model(m)
    path = os.path.join(HERE, name + ".onnx")
    onnx.save(m, path)
    x = RNG.standard_normal((2, 4, 5, 5)).astype(np.float32)
    np.save(os.path.join(HERE, name + ".input.npy"), x)
    y = reference_hand_made(x, w, s, bmat, cvec)
    np.save(os.path.join(HERE, name + ".torch.npy"), y)
    print(f"{name}: {os.path.getsize(path)} bytes, opset 13")


def reference_hand_made(x, w, s, bmat, cvec):
    """numpy/torch evaluation of hand_made (SAME_UPPER for 5x5, k3, s2: total pad 2 -> 1, 1)."""
    c = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=1).numpy()
    r = np.maximum(c * s, 0)
    p = np.pad(r, ((0, 0), (0, 0), (1, 0), (0, 1)), constant_values=0.25)
    f = p.transpose(0, 2, 3, 1).reshape(x.shape[0], -1)
    g = 0.7 * (f @ bmat.T) + 1.3 * cvec
    e = np.exp(g - g.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def main():
    r = CifarResNet()
    randomize_bn(r)
    export(r, "cifar_resnet", (2, 3, 32, 32), opset=13)
    s = SignalCNN()
    randomize_bn(s)
    export(s, "signal_cnn1d", (2, 1, 128), opset=11, keep_bn=True)
    mb = MobileNetish()
    randomize_bn(mb)
    export(mb, "mobilenetish", (2, 3, 32, 32), opset=17)
    export(PoolsMix(), "pools_mix", (2, 3, 15, 15), opset=11)
    hand_made("hand_gemm_pad")


if __name__ == "__main__":
    main()
