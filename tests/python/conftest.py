"""Shared fixtures of the Python API tests: the built `edgeint8` program (the CLI side of every
comparison), the test data, and a small float model with seeded calibration data."""
import os
import subprocess
import sys

import numpy as np
import pytest

BIN = os.environ.get("EI8_BIN", "")
DATA = os.environ.get("EI8_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))
SEED = int(os.environ.get("EI8_SEED", "7"))


def cli(*args, check=True):
    """Runs the built edgeint8 program; returns the CompletedProcess (text output)."""
    assert BIN and os.path.exists(BIN), f"EI8_BIN = '{BIN}', must be the built edgeint8 program"
    r = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"edgeint8 {' '.join(map(str, args))} failed ({r.returncode}):\n"
                             f"{r.stderr}")
    return r


def read(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="session")
def data_dir():
    return DATA


@pytest.fixture()
def rng():
    print(f"seed {SEED}", file=sys.stderr)
    return np.random.default_rng(SEED)


@pytest.fixture(scope="session")
def float_model():
    """A small FP32 model of tests/data: SignalCNN1D, input [N, 1, 128]."""
    return os.path.join(DATA, "models", "signal_cnn1d.onnx")


@pytest.fixture()
def calib(tmp_path, rng):
    """Calibration samples [24, 1, 128] float32, as an array and as the .npy the CLI reads."""
    x = rng.standard_normal((24, 1, 128)).astype(np.float32)
    path = tmp_path / "calib.npy"
    np.save(path, x)
    return x, str(path)
