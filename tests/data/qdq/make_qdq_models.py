#!/usr/bin/env python3
"""Small QDQ models made outside edgeint8 (python3-onnx 1.12 helpers, opset 13), for the
integer-engine import tests and the agreement tests against ONNX Runtime. Deterministic (numpy
seed 7). Writes <name>.onnx and <name>.input.npy (a batch of 4) for every model below; the
outputs ONNX Runtime computes on them (<name>.ort.npy) are made afterwards by ort_outputs.sh
(see PROVENANCE.md).

    /usr/bin/python3 tests/data/qdq/make_qdq_models.py

qdq_pertensor   x[N,3,8,8] -> Q/DQ -> Conv 3x3 pad 1 (s8 per-tensor weights, s32 bias) -> Relu
                -> Q/DQ -> MaxPool 2 -> Q/DQ -> Flatten -> Gemm(5, transB) -> Q/DQ -> y
qdq_perchannel  x[N,4,6,6] -> Q/DQ -> Conv 3x3 (per-axis weights) -> Q/DQ -> Add(x) -> Q/DQ
                -> Concat(conv) -> Q/DQ -> AveragePool 2 -> Q/DQ -> GlobalAveragePool -> Q/DQ
                -> Flatten -> MatMul(6, per-axis B) -> Q/DQ -> y

Files in the style ONNX Runtime's quantizer writes (quantize_static, QDQ format, per_channel):
activations u8 (zero point 0 after a ReLU, which the quantizer removed) or s8 (zero point −128
there), symmetric s8 weights per output channel, int32 biases through DequantizeLinear, and a
final Gemm / MatMul whose output is NOT quantized again (float logits):
ort_{u8,s8}_{gemm,matmul}  x[N,3,8,8] -> Q/DQ -> Conv 3x3 (8, bias) -> Q/DQ -> Conv 1x1 (8, bias)
                -> Q/DQ -> Add(first conv) -> Q/DQ -> MaxPool 2 -> Q/DQ -> GlobalAveragePool
                -> Q/DQ -> Flatten -> Q/DQ -> Gemm(5, transB, per-axis B, int32 C) | MatMul(5)
                -> y float

One small model per integer op of the runtime (scales powers of two where noted, so that many
results are exact .5 ties and the rounding rule shows):
op_silu_{u8,s8}   x -> Q/DQ -> Sigmoid -> Q/DQ -> Mul(x) -> Q/DQ            (QLinearSigmoid, QLinearMul)
op_se_mul         x[N,8,6,6] -> Q/DQ -> GlobalAveragePool -> Q/DQ -> Conv 1x1 -> Q/DQ -> Sigmoid
                  -> Q/DQ -> Mul(x, s[N,8,1,1]) -> Q/DQ                     (broadcast QLinearMul)
op_add_ties       Add of power-of-two scales (s_c = 2 s_a) + Relu, and a broadcast Add [N,C,1,1]
op_leakyrelu      x -> Q/DQ -> LeakyRelu(0.1) -> Q/DQ                       (QLinearLeakyRelu)
op_bn             x -> Q/DQ -> BatchNormalization -> Q(zero point 0)/DQ, and BatchNormalization
                  -> Relu -> Q (s8, zero point 3: the Relu is not redundant) (float in ORT)
op_mul_relu_s8    Mul -> Relu -> Q with an s8 zero point of 5: ORT keeps it float, so do we
op_concat_pool    Concat of three scales -> AveragePool 3 pad 1 (count_include_pad 0)
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

    def qdq(self, x, scale, zp, dtype=np.uint8):
        s = self.const("s", np.float32(scale))
        z = self.const("z", dtype(zp))
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

    def save(self, name, x_shape, y, y_shape, batch=4, scale=1.0):
        g = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch"] + x_shape[1:])],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, ["batch"] + y_shape)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="make_qdq_models.py")
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(OUT, f"{name}.onnx"))
        x = (scale * rng.uniform(-1, 1, [batch] + x_shape[1:])).astype(np.float32)
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


def ort_style(act, head):
    """ORT quantizer style; act 'u8' or 's8', head 'gemm' or 'matmul'."""
    b = Builder()
    t = np.uint8 if act == "u8" else np.int8
    lo = 0 if act == "u8" else -128  # the zero point of a ReLU output (ReLU removed)
    mid = 128 if act == "u8" else 0
    sx = np.float32(2.0 / 255)
    x = b.qdq("x", sx, mid, t)
    w1, sw1 = b.weight(rng.uniform(-0.5, 0.5, (8, 3, 3, 3)).astype(np.float32), axis=0)
    b1 = b.bias(rng.uniform(-0.2, 0.2, 8).astype(np.float32), (sx * sw1).astype(np.float32))
    s1 = np.float32(0.03)
    c1 = b.qdq(b.node("Conv", [x, w1, b1], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), s1, lo, t)
    w2, sw2 = b.weight(rng.uniform(-0.5, 0.5, (8, 8, 1, 1)).astype(np.float32), axis=0)
    b2 = b.bias(rng.uniform(-0.2, 0.2, 8).astype(np.float32), (s1 * sw2).astype(np.float32))
    c2 = b.qdq(b.node("Conv", [c1, w2, b2], kernel_shape=[1, 1]), 0.04, mid - 10, t)
    a = b.qdq(b.node("Add", [c2, c1]), 0.05, mid - 20, t)
    mp = b.qdq(b.node("MaxPool", [a], kernel_shape=[2, 2], strides=[2, 2]), 0.05, mid - 20, t)
    gp = b.qdq(b.node("GlobalAveragePool", [mp]), 0.02, mid - 5, t)
    # The quantizer quantizes the Gemm/MatMul input, i.e. the Flatten output (same range).
    f = b.qdq(b.node("Flatten", [gp], axis=1), 0.02, mid - 5, t)
    if head == "gemm":
        w3, sw3 = b.weight(rng.uniform(-0.5, 0.5, (5, 8)).astype(np.float32), axis=0)
        b3 = b.bias(rng.uniform(-0.2, 0.2, 5).astype(np.float32), (np.float32(0.02) * sw3).astype(np.float32))
        y = b.node("Gemm", [f, w3, b3], transB=1)
    else:
        w3, _ = b.weight(rng.uniform(-0.5, 0.5, (8, 5)).astype(np.float32), axis=1)
        y = b.node("MatMul", [f, w3])
    b.save(f"ort_{act}_{head}", [1, 3, 8, 8], y, [5])


def op_silu(act):
    b = Builder()
    t = np.uint8 if act == "u8" else np.int8
    mid = 128 if act == "u8" else 0
    x = b.qdq("x", 1.0 / 32, mid, t)
    sg = b.qdq(b.node("Sigmoid", [x]), 1.0 / 256, 0 if act == "u8" else -128, t)
    y = b.qdq(b.node("Mul", [x, sg]), 1.0 / 64, mid - 100, t)
    b.save(f"op_silu_{act}", [1, 4, 8, 8], y, [4, 8, 8], scale=4.0)


def op_se_mul():
    b = Builder()
    x = b.qdq("x", 1.0 / 64, 128)
    gp = b.qdq(b.node("GlobalAveragePool", [x]), 1.0 / 128, 128)
    w, sw = b.weight(rng.uniform(-0.5, 0.5, (8, 8, 1, 1)).astype(np.float32), axis=0)
    bi = b.bias(rng.uniform(-0.2, 0.2, 8).astype(np.float32), (np.float32(1.0 / 128) * sw).astype(np.float32))
    c = b.qdq(b.node("Conv", [gp, w, bi], kernel_shape=[1, 1]), 1.0 / 32, 128)
    s = b.qdq(b.node("Sigmoid", [c]), 1.0 / 256, 0)
    y = b.qdq(b.node("Mul", [x, s]), 1.0 / 128, 128)
    b.save("op_se_mul", [1, 8, 6, 6], y, [8, 6, 6], scale=2.0)


def op_add_ties():
    b = Builder()
    x = b.qdq("x", 1.0 / 16, 128)
    r = b.qdq(b.node("Relu", [b.node("Add", [x, x])]), 1.0 / 8, 0)  # (a + a)/2: exact .5 ties
    gp = b.qdq(b.node("GlobalAveragePool", [x]), 1.0 / 16, 120)
    y = b.qdq(b.node("Add", [r, gp]), 1.0 / 8, 100)  # broadcast [N, C, 1, 1]
    b.save("op_add_ties", [1, 3, 5, 7], y, [3, 5, 7], scale=8.0)


def op_leakyrelu():
    b = Builder()
    x = b.qdq("x", 1.0 / 32, 128)
    y = b.qdq(b.node("LeakyRelu", [x], alpha=0.1), 1.0 / 40, 30)
    b.save("op_leakyrelu", [1, 3, 4, 5], y, [3, 4, 5], scale=4.0)


def op_bn():
    b = Builder()
    x = b.qdq("x", 1.0 / 32, 128)
    c = 6
    prm = [b.const("bn", rng.uniform(0.5, 1.5, c).astype(np.float32)),
           b.const("bn", rng.uniform(-0.5, 0.5, c).astype(np.float32)),
           b.const("bn", rng.uniform(-0.3, 0.3, c).astype(np.float32)),
           b.const("bn", rng.uniform(0.5, 1.5, c).astype(np.float32))]
    y1 = b.qdq(b.node("BatchNormalization", [x] + prm, epsilon=1e-5), 0.02, 0)
    xs = b.qdq("x", 1.0 / 32, 0, np.int8)
    y2 = b.qdq(b.node("Relu", [b.node("BatchNormalization", [xs] + prm, epsilon=1e-3)]), 0.02, 3, np.int8)
    y = b.node("Add", [y1, y2])  # float: both outputs reach the graph output
    b.save("op_bn", [1, c, 4, 4], y, [c, 4, 4], scale=4.0)


def op_mul_relu_s8():
    b = Builder()
    x = b.qdq("x", 1.0 / 32, 0, np.int8)
    y = b.qdq(b.node("Relu", [b.node("Mul", [x, x])]), 1.0 / 64, 5, np.int8)
    b.save("op_mul_relu_s8", [1, 2, 4, 4], y, [2, 4, 4], scale=3.0)


def op_concat_pool():
    b = Builder()
    x = b.qdq("x", 1.0 / 32, 128)
    p1 = b.qdq(b.node("Relu", [x]), 1.0 / 64, 0)
    p2 = b.qdq(b.node("Sigmoid", [x]), 1.0 / 256, 0)
    cat = b.qdq(b.node("Concat", [x, p1, p2], axis=1), 1.0 / 48, 100)
    y = b.qdq(b.node("AveragePool", [cat], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), 1.0 / 48, 100)
    b.save("op_concat_pool", [1, 2, 5, 5], y, [6, 5, 5], scale=4.0)


MODELS = {
    "qdq_pertensor": pertensor,
    "qdq_perchannel": perchannel,
    "ort_u8_gemm": lambda: ort_style("u8", "gemm"),
    "ort_s8_gemm": lambda: ort_style("s8", "gemm"),
    "ort_u8_matmul": lambda: ort_style("u8", "matmul"),
    "ort_s8_matmul": lambda: ort_style("s8", "matmul"),
    "op_silu_u8": lambda: op_silu("u8"),
    "op_silu_s8": lambda: op_silu("s8"),
    "op_se_mul": op_se_mul,
    "op_add_ties": op_add_ties,
    "op_leakyrelu": op_leakyrelu,
    "op_bn": op_bn,
    "op_mul_relu_s8": op_mul_relu_s8,
    "op_concat_pool": op_concat_pool,
}

if __name__ == "__main__":
    for fn in MODELS.values():
        fn()
    print("wrote", " ".join(f"{n}.onnx" for n in MODELS))
