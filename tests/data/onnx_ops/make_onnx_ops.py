#!/usr/bin/env python3
"""Writes the tiny hand-made ONNX files of the importer's op tests (tests/graph/onnx_ops_test.cpp):
the ops torchvision's exporter writes (HardSigmoid, HardSwish, ReduceMean/Sum/Max, Slice, Split,
Gather, Expand, Pow, Sqrt, Erf) and its int64 shape arithmetic around them, each with a dynamic
batch N. For every valid case: <case>.onnx, <case>.b2.input.npy / <case>.b2.expected.npy (batch 2)
and <case>.b3.* (batch 3); the expected outputs are computed here with numpy (float64, rounded to
float32). The bad_* cases are malformed on purpose (the test expects a one-line error).

    /usr/bin/python3 tests/data/onnx_ops/make_onnx_ops.py     # needs python3-onnx, python3-numpy
"""
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.dirname(os.path.abspath(__file__))
RNG = np.random.default_rng(2024)


def const(name, value, dtype=np.int64):
    return helper.make_node("Constant", [], [name], name=name,
                            value=numpy_helper.from_array(np.array(value, dtype=dtype), name))


def model(name, nodes, in_shape, out_name="y", opset=13, inits=(), check=True):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + list(in_shape))
    # The output's type (batch first); the checker needs one. Bad cases: untyped.
    y = (helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["N"] + OUT_SHAPE[name])
         if name in OUT_SHAPE else helper.make_empty_tensor_value_info(out_name))
    g = helper.make_graph(nodes, name, [x], [y], initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="make_onnx_ops.py")
    m.ir_version = 7
    if check:
        onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, name + ".onnx"))


OUT_SHAPE = {}


def save_case(name, in_shape, fn):
    for b in (2, 3):
        x = RNG.uniform(-2, 2, size=[b] + list(in_shape)).astype(np.float32)
        y = fn(x.astype(np.float64)).astype(np.float32)
        OUT_SHAPE[name] = list(y.shape[1:])
        np.save(os.path.join(OUT, f"{name}.b{b}.input.npy"), x)
        np.save(os.path.join(OUT, f"{name}.b{b}.expected.npy"), y)


def hardsigmoid(x, alpha, beta):
    return np.clip(alpha * x + beta, 0, 1)


def main():
    # mobilenet_v3: hardswish as HardSigmoid(alpha 1/6) + Mul; and HardSwish itself (opset 14).
    save_case("hardsigmoid_mul", [3, 4, 4], lambda x: x * hardsigmoid(x, 1.0 / 6, 0.5))
    model("hardsigmoid_mul", [
        helper.make_node("HardSigmoid", ["x"], ["h"], name="hs", alpha=1.0 / 6, beta=0.5),
        helper.make_node("Mul", ["x", "h"], ["y"], name="mul")], [3, 4, 4])
    save_case("hardsigmoid_default", [5], lambda x: hardsigmoid(x, 0.2, 0.5))
    model("hardsigmoid_default", [helper.make_node("HardSigmoid", ["x"], ["y"], name="hs")], [5])
    save_case("hardswish", [3, 7], lambda x: x * hardsigmoid(x, 1.0 / 6, 0.5))

    # Reductions: mnasnet/shufflenet's x.mean([2, 3]) (keepdims 0), ReduceSum's axes input
    # (opset 13, negative axis), ReduceMax over a middle axis, ReduceMean over every axis but N.
    model("hardswish", [helper.make_node("HardSwish", ["x"], ["y"], name="hsw")], [3, 7],
          opset=14)
    save_case("reducemean_keepdims0", [4, 3, 5], lambda x: x.mean(axis=(2, 3)))
    model("reducemean_keepdims0", [
        helper.make_node("ReduceMean", ["x"], ["y"], name="rm", axes=[2, 3], keepdims=0)],
        [4, 3, 5])
    save_case("reducesum_axes_input", [3, 6], lambda x: x.sum(axis=-1, keepdims=True))
    model("reducesum_axes_input", [
        const("axes", [-1]),
        helper.make_node("ReduceSum", ["x", "axes"], ["y"], name="rs")], [3, 6])
    save_case("reducemax_middle", [4, 5, 3], lambda x: x.max(axis=2))
    model("reducemax_middle", [
        helper.make_node("ReduceMax", ["x"], ["y"], name="rx", axes=[-2], keepdims=0)],
        [4, 5, 3])
    save_case("reducemean_noncontiguous", [3, 4, 5], lambda x: x.mean(axis=(1, 3), keepdims=True))

    # shufflenet_v2's channel split and shuffle: sizes from Shape -> Gather -> Div -> Unsqueeze
    # into Slice; view(batch, 2, c/2, h, w) with the batch from Shape; transpose; view(batch, -1,
    # h, w).
    model("reducemean_noncontiguous", [
        helper.make_node("ReduceMean", ["x"], ["y"], name="rm", axes=[1, 3], keepdims=1)],
        [3, 4, 5])
    c, h, w = 8, 3, 2
    def shuffle(x):
        x1, x2 = x[:, : c // 2], np.maximum(x[:, c // 2:], 0)
        cat = np.concatenate([x1, x2], axis=1)
        n = x.shape[0]
        return cat.reshape(n, 2, c // 2, h, w).transpose(0, 2, 1, 3, 4).reshape(n, -1, h, w)
    save_case("channel_split_shuffle", [c, h, w], shuffle)
    model("channel_split_shuffle", [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        const("i0", 0), const("i1", 1), const("two", 2), const("zero1", [0]), const("one1", [1]),
        const("ax0", [0]),
        helper.make_node("Gather", ["s", "i1"], ["c"], name="gather_c", axis=0),
        helper.make_node("Div", ["c", "two"], ["half"], name="div"),
        helper.make_node("Unsqueeze", ["half", "ax0"], ["half1"], name="unsq_half"),
        helper.make_node("Mul", ["half1", "two"], ["end2"], name="mul_end"),
        helper.make_node("Slice", ["x", "zero1", "half1", "one1"], ["x1"], name="slice1"),
        helper.make_node("Slice", ["x", "half1", "end2", "one1"], ["x2"], name="slice2"),
        helper.make_node("Relu", ["x2"], ["r2"], name="relu"),
        helper.make_node("Concat", ["x1", "r2"], ["cat"], name="cat", axis=1),
        helper.make_node("Gather", ["s", "i0"], ["n"], name="gather_n", axis=0),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"], name="unsq_n"),
        const("rest", [2, c // 2, h, w]),
        helper.make_node("Concat", ["n1", "rest"], ["shape5"], name="cat_shape", axis=0),
        helper.make_node("Reshape", ["cat", "shape5"], ["v5"], name="view5"),
        helper.make_node("Transpose", ["v5"], ["t5"], name="transpose", perm=[0, 2, 1, 3, 4]),
        helper.make_node("Shape", ["x"], ["s2"], name="shape2"),
        helper.make_node("Gather", ["s2", "i0"], ["n2"], name="gather_n2", axis=0),
        helper.make_node("Unsqueeze", ["n2", "ax0"], ["n21"], name="unsq_n2"),
        const("tail", [-1, h, w]),
        helper.make_node("Concat", ["n21", "tail"], ["shape4"], name="cat_shape4", axis=0),
        helper.make_node("Reshape", ["t5", "shape4"], ["y"], name="view4")], [c, h, w])


    # vit's class token: Expand(token, Where(Equal(shape, -1), 1, shape)) with shape = [N, -1, -1]
    # from Shape(x)[0], then Concat along the sequence.
    tok = RNG.uniform(-1, 1, size=[1, 1, 4]).astype(np.float32)
    save_case("expand_batch_token", [5, 4],
              lambda x: np.concatenate([np.broadcast_to(tok, (x.shape[0], 1, 4)), x], axis=1))

    # Slice: an end that is the runtime batch size ("to the end"), a negative step (reverse),
    # negative start, clamped end, two axes at once.
    model("expand_batch_token", [
        helper.make_node("Shape", ["x"], ["s"], name="shape"), const("i0", 0), const("ax0", [0]),
        helper.make_node("Gather", ["s", "i0"], ["n"], name="gather_n", axis=0),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"], name="unsq"),
        const("m1", [-1, -1]),
        helper.make_node("Concat", ["n1", "m1"], ["want"], name="cat_shape", axis=0),
        const("s3", [3]), const("minus1", -1),
        helper.make_node("ConstantOfShape", ["s3"], ["ones"], name="cos",
                         value=numpy_helper.from_array(np.array([1], np.int64))),
        helper.make_node("Mul", ["ones", "minus1"], ["neg"], name="neg"),
        helper.make_node("Equal", ["want", "neg"], ["eq"], name="eq"),
        helper.make_node("Where", ["eq", "ones", "want"], ["shape"], name="where"),
        helper.make_node("Expand", ["token", "shape"], ["tokens"], name="expand"),
        helper.make_node("Concat", ["tokens", "x"], ["y"], name="cat", axis=1)], [5, 4],
        inits=[numpy_helper.from_array(tok, "token")])
    save_case("slice_mixed", [5, 6], lambda x: x[1:, -2:, ::-2])

    # Split (opset 13: sizes as an input) and equal parts (no sizes), recombined.
    model("slice_mixed", [
        helper.make_node("Shape", ["x"], ["s"], name="shape"), const("i0", 0), const("ax0", [0]),
        helper.make_node("Gather", ["s", "i0"], ["n"], name="gather_n", axis=0),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"], name="unsq"),
        const("st", [1]), const("a0", [0]),
        helper.make_node("Slice", ["x", "st", "n1", "a0"], ["tail"], name="from_row1"),
        const("starts", [-1, -2]), const("ends", [-100, 1000]), const("axes", [2, 1]),
        const("steps", [-2, 1]),
        helper.make_node("Slice", ["tail", "starts", "ends", "axes", "steps"], ["y"],
                         name="reverse")], [5, 6])
    save_case("split_sizes", [6, 3], lambda x: np.concatenate(
        [x[:, 5:6], x[:, 4:5], x[:, 0:2], x[:, 2:3], x[:, 3:4]], axis=1))

    # Gather on activations: vit's x[:, 0] (scalar index) and a 2-D index tensor with a negative
    # index on the last axis.
    model("split_sizes", [
        const("sizes", [2, 3, 1]),
        helper.make_node("Split", ["x", "sizes"], ["a", "b", "c"], name="split", axis=1),
        helper.make_node("Split", ["b"], ["b0", "b1", "b2"], name="split_eq", axis=-2),
        helper.make_node("Concat", ["c", "b2", "a", "b0", "b1"], ["y"], name="cat", axis=1)],
        [6, 3])
    save_case("gather_scalar", [3, 4], lambda x: x[:, 0])
    model("gather_scalar", [const("i0", 0),
                            helper.make_node("Gather", ["x", "i0"], ["y"], name="g", axis=1)],
          [3, 4])
    save_case("gather_2d_negative", [2, 5], lambda x: x[..., np.array([[3, 4], [0, 0]])])

    # convnext/vit LayerNorm (ReduceMean, Sub, Pow 2, Sqrt, Div) and exact GELU (Erf).
    model("gather_2d_negative", [const("idx", [[3, -1], [0, 0]]),
                                 helper.make_node("Gather", ["x", "idx"], ["y"], name="g",
                                                  axis=-1)], [2, 5])
    eps = 1e-6
    def ln_gelu(x):
        z = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)
        return 0.5 * z * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    save_case("layernorm_gelu", [3, 8], ln_gelu)
    model("layernorm_gelu", [
        helper.make_node("ReduceMean", ["x"], ["mu"], name="mean", axes=[-1]),
        helper.make_node("Sub", ["x", "mu"], ["d"], name="sub"),
        const("p2", 2.0, np.float32),
        helper.make_node("Pow", ["d", "p2"], ["d2"], name="pow"),
        helper.make_node("ReduceMean", ["d2"], ["var"], name="var", axes=[-1]),
        const("eps", eps, np.float32),
        helper.make_node("Add", ["var", "eps"], ["ve"], name="add_eps"),
        helper.make_node("Sqrt", ["ve"], ["sd"], name="sqrt"),
        helper.make_node("Div", ["d", "sd"], ["z"], name="div"),
        const("r2", math.sqrt(2.0), np.float32),
        helper.make_node("Div", ["z", "r2"], ["zr"], name="div_r2"),
        helper.make_node("Erf", ["zr"], ["e"], name="erf"),
        const("one", 1.0, np.float32),
        helper.make_node("Add", ["e", "one"], ["e1"], name="add1"),
        helper.make_node("Mul", ["z", "e1"], ["ze"], name="mul"),
        const("half", 0.5, np.float32),
        helper.make_node("Mul", ["ze", "half"], ["y"], name="mul_half")], [3, 8])


    # Malformed on purpose (not checked: the checker would refuse some).
    model("bad_slice_zero_step", [
        const("s", [0]), const("e", [2]), const("a", [1]), const("st", [0]),
        helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="slice0")], [4],
        check=False)
    model("bad_split_sum", [
        const("sizes", [2, 2]),
        helper.make_node("Split", ["x", "sizes"], ["y", "z"], name="split5", axis=1)], [5],
        check=False)
    model("bad_reduce_axis", [
        helper.make_node("ReduceMean", ["x"], ["y"], name="mean4", axes=[4])], [3, 2, 2],
        check=False)
    model("bad_gather_index", [const("i", 9),
                               helper.make_node("Gather", ["x", "i"], ["y"], name="gather9",
                                                axis=1)], [4], check=False)
    model("bad_expand_shape", [const("s", [3]),
                               helper.make_node("Expand", ["x", "s"], ["y"], name="expand3")],
          [4], check=False)
    model("bad_runtime_fill", [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("ConstantOfShape", ["s"], ["f"], name="fill",
                         value=numpy_helper.from_array(np.array([1.0], np.float32))),
        helper.make_node("Add", ["x", "f"], ["y"], name="add")], [4], check=False)
    model("bad_split_runtime_sizes", [
        helper.make_node("Shape", ["x"], ["s"], name="shape"), const("ax", [0]),
        const("ax2", [1]), const("three", [3]),
        helper.make_node("Slice", ["s", "ax", "ax2", "ax"], ["n"], name="take_n"),
        helper.make_node("Concat", ["n", "three"], ["sizes"], name="cat", axis=0),
        helper.make_node("Split", ["x", "sizes"], ["y", "z"], name="split_n", axis=1)], [8],
        check=False)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
