#!/usr/bin/env python3
"""Copies the ONNX backend node tests of the quantized operators (Debian package
libonnx-testdata, ONNX 1.12: /usr/share/libonnx-testdata/data/node/<case>/) into this folder in
a form the edgeint8 tests read: <case>.onnx with every input but the first turned into an
initializer (our integer ops take scales and zero points as constants), <case>.input.npy (the
first input) and <case>.expected.npy (the test's expected output, as shipped).

    /usr/bin/python3 tests/data/onnx_node/make_onnx_node_cases.py   # needs python3-onnx
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

SRC = "/usr/share/libonnx-testdata/data/node"
CASES = ["test_qlinearconv", "test_qlinearmatmul_2D", "test_qlinearmatmul_3D",
         "test_quantizelinear", "test_quantizelinear_axis", "test_dequantizelinear",
         "test_dequantizelinear_axis"]


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main():
    out_dir = os.path.dirname(os.path.abspath(__file__))
    for case in CASES:
        d = os.path.join(SRC, case)
        model = onnx.load(os.path.join(d, "model.onnx"))
        ds = os.path.join(d, "test_data_set_0")
        inputs = [load_pb(os.path.join(ds, f"input_{i}.pb")) for i in range(len(model.graph.input))]
        expected = load_pb(os.path.join(ds, "output_0.pb"))
        g = model.graph
        for i in range(len(g.input) - 1, 0, -1):
            name = g.input[i].name
            g.initializer.append(numpy_helper.from_array(inputs[i], name))
            del g.input[i]
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out_dir, f"{case}.onnx"))
        np.save(os.path.join(out_dir, f"{case}.input.npy"), inputs[0])
        np.save(os.path.join(out_dir, f"{case}.expected.npy"), expected)
        print(case, inputs[0].dtype, inputs[0].shape, "->", expected.dtype, expected.shape)
    return 0


if __name__ == "__main__":
    sys.exit(main())
