"""edgeint8.sweep / mixed_precision against `edgeint8 quantize --sweep` and `--max-drop` on the
same inputs (every column but the measured times and memory)."""
import json

import numpy as np
import pytest

import edgeint8
from conftest import cli, read


TIMED = {"latency_b1_us", "latency_b32_us", "search_seconds", "statistics_seconds",
         "calibration_seconds", "peak_memory_mb"}


def untimed(rows):
    """The rows without the columns that measure time or memory (they differ run to run)."""
    return [{k: v for k, v in r.items() if k not in TIMED} for r in rows]


def eval_files(tmp_path, rng, n=16):
    ev = rng.standard_normal((n, 1, 128)).astype(np.float32)
    labels = rng.integers(0, 5, n).astype(np.int64)
    np.save(tmp_path / "ev.npy", ev)
    np.save(tmp_path / "lab.npy", labels)
    return ev, labels


def test_sweep_equals_cli(tmp_path, float_model, calib, rng):
    x, xpath = calib
    ev, labels = eval_files(tmp_path, rng)
    cli("quantize", float_model, "--calib-data", xpath, "--eval-data", tmp_path / "ev.npy",
        "--eval-labels", tmp_path / "lab.npy", "--sweep", "--sweep-out", tmp_path / "cli",
        "--json")
    want = json.loads(read(tmp_path / "cli" / "ptq_sweep.json"))
    r = edgeint8.sweep(float_model, x, ev, labels, out=tmp_path / "api", latency=False)
    assert len(r["rows"]) == 16 == len(want)
    assert untimed(r["rows"]) == untimed(want)
    assert untimed(json.loads(read(tmp_path / "api" / "ptq_sweep.json"))) == untimed(want)


def test_mixed_precision_equals_cli(tmp_path, float_model, calib, rng):
    x, xpath = calib
    ev, labels = eval_files(tmp_path, rng, 32)
    cli("quantize", float_model, "--calib-data", xpath, "--eval-data", tmp_path / "ev.npy",
        "--eval-labels", tmp_path / "lab.npy", "--max-drop", "0", "--sweep-out",
        tmp_path / "cli", "-o", tmp_path / "cli.onnx")
    r = edgeint8.mixed_precision(float_model, x, ev, labels, 0.0, out=tmp_path / "api")
    assert r["model"] == read(tmp_path / "cli.onnx")
    want = json.loads(read(tmp_path / "cli" / "mixed_precision.json"))
    assert untimed(r["steps"]) == untimed(want) and len(want) >= 1
    with pytest.raises(ValueError, match=r"max_drop = -1, must be finite and >= 0"):
        edgeint8.mixed_precision(float_model, x, ev, labels, -1.0)
    with pytest.raises(ValueError, match=r"eval_labels = None, must be given"):
        edgeint8.mixed_precision(float_model, x, ev, None, 0.5)
