"""The notebook-style example of docs/python.md runs as written (in a directory holding the
files it names: the SignalCNN1D model, seeded inputs and labels, a SCALE-Sim config/topology)."""
import os
import re
import shutil

import numpy as np

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "python.md")


def test_docs_example_runs(tmp_path, data_dir, float_model, rng, monkeypatch):
    text = open(DOCS).read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    example = next(b for b in blocks if "# 1. The FP32 model" in b)
    shutil.copy(float_model, tmp_path / "signal1d.onnx")
    np.save(tmp_path / "x.npy", rng.standard_normal((256, 1, 128)).astype(np.float32))
    np.save(tmp_path / "y.npy", rng.integers(0, 5, 256).astype(np.int64))
    case = f"{data_dir}/scalesim/googlenet_inc5b3x3_32x32_os_small"
    shutil.copy(f"{case}/config.cfg", tmp_path / "scale.cfg")
    shutil.copy(f"{case}/topology.csv", tmp_path / "topology.csv")
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(example, "docs/python.md", "exec"), ns)
    assert ns["logits"].shape == (256, 5)
    assert isinstance(ns["qdq"], bytes) and (tmp_path / "signal1d.int8.onnx").exists()
    assert 0.0 <= ns["agreement"] <= 1.0
    assert len(ns["rows"]) == 16 and ns["r"]["layers"]
    assert (tmp_path / "dse" / "points.csv").exists() and ns["d"]["recommended"] is not None
