# Writes the FP32 models of bench/f32_model_layers.h as ONNX files (dynamic batch) into
# ./models/, plus shapes.json, for timing ONNX Runtime on the same machine as our kernels
# (docs/kernels.md). Needs Debian's python3-onnx: /usr/bin/python3 bench/ort/make_models.py
# Weights are random (seed 0): only the timing matters.
import os
import numpy as np, onnx
from onnx import helper as h, TensorProto as T, numpy_helper as nh
rng = np.random.default_rng(0)
def init(name, shape):
    return nh.from_array((rng.standard_normal(shape) * 0.1).astype(np.float32), name)
def conv(nodes, inits, x, y, cin, cout, k, stride=1, pad=1, relu=True, oned=False):
    w = y + "_w"; b = y + "_b"
    ks = [k] if oned else [k, k]
    inits += [init(w, [cout, cin] + ks), init(b, [cout])]
    out = y + ("_pre" if relu else "")
    nodes.append(h.make_node("Conv", [x, w, b], [out], kernel_shape=ks,
        strides=[stride] * len(ks), pads=[pad] * (2 * len(ks))))
    if relu: nodes.append(h.make_node("Relu", [out], [y]))
    return y
def save(name, nodes, inits, in_shape, out_shape):
    g = h.make_graph(nodes, name, [h.make_tensor_value_info("x", T.FLOAT, ["N"] + in_shape)],
                     [h.make_tensor_value_info("y", T.FLOAT, ["N"] + out_shape)], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)]); m.ir_version = 8
    onnx.checker.check_model(m); os.makedirs("models", exist_ok=True); onnx.save(m, f"models/{name}.onnx")
# ResNet-like
n, i = [], []
a = conv(n, i, "x", "stem", 3, 16, 3)
c = conv(n, i, a, "b1c1", 16, 16, 3); c = conv(n, i, c, "b1c2", 16, 16, 3, relu=False)
n.append(h.make_node("Add", [c, a], ["b1add"])); n.append(h.make_node("Relu", ["b1add"], ["b1"]))
c = conv(n, i, "b1", "b2c1", 16, 32, 3, stride=2); c = conv(n, i, c, "b2c2", 32, 32, 3, relu=False)
s = conv(n, i, "b1", "b2sc", 16, 32, 1, stride=2, pad=0, relu=False)
n.append(h.make_node("Add", [c, s], ["b2add"])); n.append(h.make_node("Relu", ["b2add"], ["b2"]))
n.append(h.make_node("GlobalAveragePool", ["b2"], ["gap"])); n.append(h.make_node("Flatten", ["gap"], ["flat"]))
i += [init("fc_w", [10, 32]), init("fc_b", [10])]
n.append(h.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["y"], transB=1))
save("resnet_like", n, i, [3, 32, 32], [10])
# Signal CNN (k3 pad1, MaxPool 2 after the first two convs)
n, i = [], []
c = conv(n, i, "x", "c1", 1, 16, 3, oned=True); n.append(h.make_node("MaxPool", [c], ["p1"], kernel_shape=[2], strides=[2]))
c = conv(n, i, "p1", "c2", 16, 32, 3, oned=True); n.append(h.make_node("MaxPool", [c], ["p2"], kernel_shape=[2], strides=[2]))
c = conv(n, i, "p2", "c3", 32, 64, 3, oned=True)
n.append(h.make_node("GlobalAveragePool", [c], ["gap"])); n.append(h.make_node("Flatten", ["gap"], ["flat"]))
i += [init("fc_w", [5, 64]), init("fc_b", [5])]
n.append(h.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["y"], transB=1))
save("signal_cnn", n, i, [1, 128], [5])
# Single Conv+Relu layers (as in bench/f32_model_layers.h)
layers = [("stem_3x32x32_16", 3, 32, 32, 16, 3, 1, 1), ("b1c1_16x32x32_16", 16, 32, 32, 16, 3, 1, 1),
          ("b2c1_16x32x32_32_s2", 16, 32, 32, 32, 3, 2, 1), ("b2c2_32x16x16_32", 32, 16, 16, 32, 3, 1, 1),
          ("b2sc_16x32x32_32_1x1s2", 16, 32, 32, 32, 1, 2, 0),
          ("tiny_c1_3x32x32_32", 3, 32, 32, 32, 3, 1, 1), ("tiny_c2_32x16x16_64", 32, 16, 16, 64, 3, 1, 1),
          ("tiny_c3_64x8x8_128", 64, 8, 8, 128, 3, 1, 1)]
for name, cin, hh, ww, cout, k, st, pd in layers:
    n, i = [], []
    conv(n, i, "x", "y", cin, cout, k, stride=st, pad=pd)
    oh = (hh + 2 * pd - k) // st + 1
    save("layer_" + name, n, i, [cin, hh, ww], [cout, oh, oh])
for name, cin, L, cout in [("sig_c1_1x128_16_k3", 1, 128, 16), ("sig_c2_16x64_32_k3", 16, 64, 32), ("sig_c3_32x32_64_k3", 32, 32, 64)]:
    n, i = [], []
    conv(n, i, "x", "y", cin, cout, 3, oned=True)
    save("layer_" + name, n, i, [cin, L], [cout, L])
import json
shapes = {}
for f in sorted(os.listdir("models")):
    m = onnx.load("models/" + f)
    shapes[f[:-5]] = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim[1:]]
json.dump(shapes, open("shapes.json", "w"), indent=0)
print("wrote", len(shapes), "models")
# One Relu on [N, 1]: compare.sh times ORT's per-call cost through node on it (bench/ort/trivial.onnx).
g = h.make_graph([h.make_node("Relu", ["x"], ["y"])], "trivial",
                 [h.make_tensor_value_info("x", T.FLOAT, ["N", 1])],
                 [h.make_tensor_value_info("y", T.FLOAT, ["N", 1])])
m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)]); m.ir_version = 8
onnx.checker.check_model(m); onnx.save(m, os.path.join(os.path.dirname(os.path.abspath(__file__)), "trivial.onnx"))
