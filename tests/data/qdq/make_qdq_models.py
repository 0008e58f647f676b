#!/usr/bin/env python3
"""Small QDQ models made outside edgeint8 (python3-onnx 1.12 helpers, opset 13), for the
integer-engine import tests and the agreement tests against ONNX Runtime. Deterministic (numpy
seed 7). Writes qdq_pertensor.onnx, qdq_perchannel.onnx and <name>.input.npy (a batch of 4).

    /usr/bin/python3 tests/data/qdq/make_qdq_models.py

qdq_pertensor   x[N,3,8,8] -> Q/DQ -> Conv 3x3 pad 1 (s8 per-tensor weights, s32 bias) -> Relu
                -> Q/DQ -> MaxPool 2 -> Q/DQ -> Flatten -> Gemm(5, transB) -> Q/DQ -> y
qdq_perchannel  x[N,4,6,6] -> Q/DQ -> Conv 3x3 (per-axis weights) -> Q/DQ -> Add(x) -> Q/DQ
                -> Concat(conv) -> Q/DQ -> AveragePool 2 -> Q/DQ -> GlobalAveragePool -> Q/DQ
                -> Flatten -> MatMul(6, per-axis B) -> Q/DQ -> y
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
OUT = os.path.dirname(os.path.abspath(__file__))


class Builder:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, base, arr):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def node(self, op, ins, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, ins, [out], name=self.name(op), **attrs))
        return out

    def qdq(self, x, scale, zp):
        s = self.const("s", np.float32(scale))
        z = self.const("z", np.uint8(zp))
        return self.node("DequantizeLinear", [self.node("QuantizeLinear", [x, s, z]), s, z])

    def weight(self, w, axis=None):
        """Symmetric s8 weights, per tensor (axis None) or per axis."""
        if axis is None:
            s = np.float32(np.abs(w).max() / 127)
            q = np.clip(np.round(w / s), -127, 127).astype(np.int8)
            return self.node("DequantizeLinear", [self.const("w", q), self.const("ws", s),
                                                  self.const("wz", np.int8(0))]), s
        red = tuple(i for i in range(w.ndim) if i != axis)
        s = (np.abs(w).max(axis=red) / 127).astype(np.float32)
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.clip(np.round(w / s.reshape(shape)), -127, 127).astype(np.int8)
        return self.node("DequantizeLinear", [self.const("w", q), self.const("ws", s),
                                              self.const("wz", np.zeros(s.shape, np.int8))],
                         axis=axis), s

    def bias(self, b, scale):
        q = np.round(b / scale).astype(np.int32)
        sc = np.asarray(scale, np.float32)
        return self.node("DequantizeLinear", [self.const("b", q), self.const("bs", sc),
                                              self.const("bz", np.zeros(sc.shape, np.int32))],
                         **({"axis": 0} if sc.ndim else {}))

    def save(self, name, x_shape, y, y_shape, batch=4):
        g = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch"] + x_shape[1:])],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, ["batch"] + y_shape)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="make_qdq_models.py")
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(OUT, f"{name}.onnx"))
        x = rng.uniform(-1, 1, [batch] + x_shape[1:]).astype(np.float32)
        np.save(os.path.join(OUT, f"{name}.input.npy"), x)


def pertensor():
    b = Builder()
    sx = 2.0 / 255
    x = b.qdq("x", sx, 128)
    w, sw = b.weight(rng.uniform(-0.5, 0.5, (4, 3, 3, 3)).astype(np.float32))
    bias = b.bias(rng.uniform(-0.1, 0.1, 4).astype(np.float32), np.float32(np.float32(sx) * sw))
    c = b.node("Conv", [x, w, bias], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    r = b.qdq(b.node("Relu", [c]), 0.02, 0)
    p = b.qdq(b.node("MaxPool", [r], kernel_shape=[2, 2], strides=[2, 2]), 0.02, 0)
    f = b.node("Flatten", [p], axis=1)
    w2, sw2 = b.weight(rng.uniform(-0.2, 0.2, (5, 64)).astype(np.float32))
    b2 = b.bias(rng.uniform(-0.1, 0.1, 5).astype(np.float32), np.float32(np.float32(0.02) * sw2))
    y = b.qdq(b.node("Gemm", [f, w2, b2], transB=1), 0.03, 120)
    b.save("qdq_pertensor", [1, 3, 8, 8], y, [5])


def perchannel():
    b = Builder()
    sx = 2.0 / 255
    x = b.qdq("x", sx, 128)
    w, sw = b.weight(rng.uniform(-0.4, 0.4, (4, 4, 3, 3)).astype(np.float32), axis=0)
    bias = b.bias(rng.uniform(-0.1, 0.1, 4).astype(np.float32), (np.float32(sx) * sw).astype(np.float32))
    c = b.qdq(b.node("Conv", [x, w, bias], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), 0.025, 130)
    a = b.qdq(b.node("Add", [c, x]), 0.03, 125)
    cat = b.qdq(b.node("Concat", [a, c], axis=1), 0.03, 127)
    ap = b.qdq(b.node("AveragePool", [cat], kernel_shape=[2, 2], strides=[2, 2]), 0.02, 128)
    gp = b.qdq(b.node("GlobalAveragePool", [ap]), 0.01, 128)
    f = b.node("Flatten", [gp], axis=1)
    w2, _ = b.weight(rng.uniform(-0.5, 0.5, (8, 6)).astype(np.float32), axis=1)
    y = b.qdq(b.node("MatMul", [f, w2]), 0.01, 128)
    b.save("qdq_perchannel", [1, 4, 6, 6], y, [6])


if __name__ == "__main__":
    pertensor()
    perchannel()
    print("wrote qdq_pertensor.onnx, qdq_perchannel.onnx")
