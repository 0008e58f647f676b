"""edgeint8.quantize / sensitivity / compare / bitgrowth against `edgeint8 quantize`,
`analyze --json`, `compare --json` and `fixedpoint bitgrowth --json` on the same inputs."""
import json

import numpy as np
import pytest

import edgeint8
from conftest import cli, read


@pytest.mark.parametrize("opts", [
    {},
    {"method": "minmax", "weights": "per-tensor"},
    {"method": "percentile", "percentile": 99.9, "act": "sym"},
    {"method": "entropy", "levels": 64, "act_type": "s8", "profile": "tflite"},
    {"method": "mse", "reduce_range": True, "batch": 5, "max_samples": 20},
])
def test_quantize_bytes_equal_cli(tmp_path, float_model, calib, opts):
    x, xpath = calib
    args = []
    for k, v in opts.items():
        flag = "--" + k.replace("_", "-")
        args += [flag] if v is True else [flag, v]
    out, table = tmp_path / "cli.onnx", tmp_path / "cli.json"
    cli("quantize", float_model, "--calib-data", xpath, "-o", out, "--table", table, *args)
    model, tab = edgeint8.quantize(float_model, x, **opts)
    assert isinstance(model, bytes) and model == read(out)
    assert tab == json.loads(read(table))
    assert len(tab["tensors"]) > 0
    # From the .npy path too, and written to a file with its table.
    api_out, api_table = tmp_path / "api.onnx", tmp_path / "api.json"
    path, tab2 = edgeint8.quantize(float_model, xpath, output=api_out, table=api_table, **opts)
    assert path == str(api_out) and read(api_out) == read(out) and read(api_table) == read(table)
    assert tab2 == tab


def test_quantized_model_runs_like_cli(tmp_path, float_model, calib, rng):
    x, _ = calib
    qdq = tmp_path / "q.onnx"
    edgeint8.quantize(float_model, x, output=qdq)
    m = edgeint8.Model(qdq)
    assert m.engine == "int8"
    xe = rng.standard_normal((6, 1, 128)).astype(np.float32)
    np.save(tmp_path / "xe.npy", xe)
    cli("run", qdq, "--input", tmp_path / "xe.npy", "--output", tmp_path / "ye.npy")
    assert m.run(xe).tobytes() == np.load(tmp_path / "ye.npy").tobytes()


def test_quantize_bad_input(tmp_path, float_model, calib):
    x, _ = calib
    with pytest.raises(ValueError, match=r"percentile = given with method 'mse', must come with "
                                         r"method 'percentile'"):
        edgeint8.quantize(float_model, x, percentile=99.0)
    with pytest.raises(ValueError, match=r"calibration data dtype = float64, must be float32"):
        edgeint8.quantize(float_model, x.astype(np.float64))
    with pytest.raises(ValueError, match=r"shape = \(24, 128\), must be \(N, 1, 128\)"):
        edgeint8.quantize(float_model, x.reshape(24, 128))
    bad = x.copy()
    bad[3, 0, 5] = np.inf
    with pytest.raises(ValueError, match=r"element 389 \[3, 0, 5\] = inf, must be finite"):
        edgeint8.quantize(float_model, bad)
    with pytest.raises(ValueError, match=r"cannot parse --method|method"):
        edgeint8.quantize(float_model, x, method="best")
    with pytest.raises(ValueError, match=r"exclude name = 'nope', must name a node"):
        edgeint8.quantize(float_model, x, exclude=["nope"])
    with pytest.raises(ValueError, match=r"weight_bits: bits = 3, must be 8 or 4"):
        edgeint8.quantize(float_model, x, weight_bits=3)
    with pytest.raises(edgeint8.FileError):
        edgeint8.quantize(tmp_path / "missing.onnx", x)
    with pytest.raises(edgeint8.FileError):
        edgeint8.quantize(float_model, str(tmp_path / "missing.npy"))
    # Nothing is written on failure.
    assert not (tmp_path / "q.onnx").exists()


def test_quantize_help_is_useful():
    doc = edgeint8.quantize.__doc__
    for word in ("calib", "method", "per-channel", "output", "Returns", "table"):
        assert word in doc


def test_sensitivity_equals_analyze(tmp_path, float_model, calib, rng):
    x, xpath = calib
    ev = rng.standard_normal((16, 1, 128)).astype(np.float32)
    labels = rng.integers(0, 5, 16).astype(np.int64)
    np.save(tmp_path / "ev.npy", ev)
    np.save(tmp_path / "lab.npy", labels)
    r = cli("analyze", float_model, "--calib-data", xpath, "--eval-data", tmp_path / "ev.npy",
            "--eval-labels", tmp_path / "lab.npy", "--out", tmp_path / "cli", "--json")
    want = json.loads(r.stdout)
    got = edgeint8.sensitivity(float_model, x, ev, labels, out=tmp_path / "api")
    assert got["ranking"] == want["ranking"] and len(got["ranking"]) > 0
    assert got["sensitivity"] == want["sensitivity"]
    assert got["layer_error"] == want["layer_error"]
    for f in ("sensitivity.csv", "layer_error.csv", "tensor_histograms.csv",
              "calib_thresholds.csv"):
        assert read(tmp_path / "api" / f) == read(tmp_path / "cli" / f)
    # From the paths the CLI read: the same.
    by_path = edgeint8.sensitivity(float_model, xpath, str(tmp_path / "ev.npy"),
                                   str(tmp_path / "lab.npy"))
    assert by_path["sensitivity"] == want["sensitivity"]
    with pytest.raises(ValueError, match=r"labels dtype/shape = float32"):
        edgeint8.sensitivity(float_model, x, ev, labels.astype(np.float32))


def test_compare_equals_cli(tmp_path, float_model, calib, rng):
    x, _ = calib
    qdq = tmp_path / "q.onnx"
    edgeint8.quantize(float_model, x, output=qdq)
    xi = rng.standard_normal((2, 1, 128)).astype(np.float32)
    np.save(tmp_path / "xi.npy", xi)
    for mode in ("graph", "both"):
        want = json.loads(cli("compare", float_model, qdq, "--input", tmp_path / "xi.npy",
                              "--mode", mode, "--json").stdout)
        got = edgeint8.compare(float_model, qdq, xi, mode=mode)
        assert got == want
        assert len(got["tensors"]) > 0
    with pytest.raises(ValueError, match=r"mode = 'all', must be graph, layer or both"):
        edgeint8.compare(float_model, qdq, xi, mode="all")
    with pytest.raises(ValueError, match=r"input dtype = float64, must be float32"):
        edgeint8.compare(float_model, qdq, xi.astype(np.float64))


def test_bitgrowth_equals_cli(float_model, calib):
    x, xpath = calib
    for args, kw in (([], {}), (["--operands", "s8xs8", "--width", "20"],
                                {"operands": "s8xs8", "width": 20}),
                     (["--calib-data", xpath], {"calib": x})):
        want = json.loads(cli("fixedpoint", "bitgrowth", float_model, "--json", *args).stdout)
        got = edgeint8.bitgrowth(float_model, **kw)
        assert got == want and len(got["layers"]) > 0
    with pytest.raises(ValueError, match=r"operands = 'u4', must be s8xs8 or u8xs8"):
        edgeint8.bitgrowth(float_model, operands="u4")



def test_pandas_frames_when_installed(tmp_path, float_model, calib, rng):
    """pandas=True gives DataFrames with the same rows (skipped where pandas is not installed);
    without pandas installed it raises ImportError rather than returning something else."""
    x, _ = calib
    qdq = tmp_path / "q.onnx"
    edgeint8.quantize(float_model, x, output=qdq)
    xi = rng.standard_normal((2, 1, 128)).astype(np.float32)
    rows = edgeint8.compare(float_model, qdq, xi)["tensors"]
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError):
            edgeint8.compare(float_model, qdq, xi, pandas=True)
        pytest.skip("pandas is not installed (Debian: python3-pandas)")
    df = edgeint8.compare(float_model, qdq, xi, pandas=True)["tensors"]
    assert isinstance(df, pandas.DataFrame) and len(df) == len(rows) > 0
    assert records(df) == [_present(r) for r in rows]
    both = edgeint8.compare(float_model, qdq, xi, mode="both", pandas=True)
    assert isinstance(both["layer"]["tensors"], pandas.DataFrame)
    assert records(both["layer"]["tensors"]) == [_present(r) for r in edgeint8.compare(
        float_model, qdq, xi, mode="both")["layer"]["tensors"]]
    # The other tables: sensitivity's two, bitgrowth's layers (rows lacking a key: NaN).
    ev = rng.standard_normal((8, 1, 128)).astype(np.float32)
    labels = rng.integers(0, 5, 8).astype(np.int64)
    s_rows = edgeint8.sensitivity(float_model, x, ev, labels)
    s_df = edgeint8.sensitivity(float_model, x, ev, labels, pandas=True)
    for k in ("sensitivity", "layer_error"):
        assert isinstance(s_df[k], pandas.DataFrame)
        assert records(s_df[k]) == [_present(r) for r in s_rows[k]]
    bg_rows = edgeint8.bitgrowth(float_model, calib=x)["layers"]
    bg_df = edgeint8.bitgrowth(float_model, calib=x, pandas=True)["layers"]
    assert list(bg_df["accumulator_bits"]) == [r["accumulator_bits"] for r in bg_rows]
    assert records(bg_df) == [_present(r) for r in bg_rows]


def records(df):
    """A DataFrame's rows as dicts without the NaN cells (pandas' cell for a key a row lacks,
    and for a null)."""
    return [_present(r) for r in df.to_dict("records")]


def _present(row):
    import math
    return {k: v for k, v in row.items()
            if v is not None and not (isinstance(v, float) and math.isnan(v))}
