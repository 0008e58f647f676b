"""edgeint8.Model: inputs/outputs against the ONNX file (read by the onnx package), run() against
`edgeint8 run` on the same inputs (bit for bit), and its bad-input errors."""
import threading
import time

import numpy as np
import pytest

import edgeint8
from conftest import cli


def cli_run(tmp_path, model, x, *extra):
    xin, yout = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(xin, x)
    cli("run", model, "--input", xin, "--output", yout, *extra)
    return np.load(yout)


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def onnx_io(path, which):
    """(name, shape with None for a symbolic dimension, numpy dtype) of an ONNX file's graph
    inputs or outputs, read by the onnx package (an independent reader)."""
    onnx = pytest.importorskip("onnx")
    from onnx import mapping
    g = onnx.load(path).graph
    init = {i.name for i in g.initializer}
    out = []
    for v in (g.input if which == "inputs" else g.output):
        if v.name in init:
            continue
        t = v.type.tensor_type
        shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)
        out.append({"name": v.name, "shape": shape,
                    "dtype": str(mapping.TENSOR_TYPE_TO_NP_TYPE[t.elem_type])})
    return out


@pytest.mark.parametrize("rel", ["models/signal_cnn1d.onnx", "models/cifar_resnet.onnx",
                                 "qdq/qdq_perchannel.onnx"])
def test_inputs_outputs_match_the_file(data_dir, rel):
    m = edgeint8.Model(f"{data_dir}/{rel}")
    assert m.inputs == onnx_io(f"{data_dir}/{rel}", "inputs")
    assert m.outputs == onnx_io(f"{data_dir}/{rel}", "outputs")
    assert m.engine == ("int8" if rel.startswith("qdq") else "float32")


def test_output_shape_and_dtype_as_described(tmp_path, float_model, rng):
    m = edgeint8.Model(float_model)
    x = rng.standard_normal((3, 1, 128)).astype(np.float32)
    y = m.run(x)
    out = m.outputs[0]
    assert str(y.dtype) == out["dtype"] and y.ndim == len(out["shape"])
    assert all(w is None or w == g for w, g in zip(out["shape"], y.shape))
    assert same_bits(y, cli_run(tmp_path, float_model, x))


@pytest.mark.parametrize("batch", [1, 2, 5])
def test_run_float_equals_cli(tmp_path, float_model, rng, batch):
    x = rng.standard_normal((batch, 1, 128)).astype(np.float32)
    y = edgeint8.Model(float_model).run(x)
    assert isinstance(y, np.ndarray) and y.shape == (batch, 5)
    assert same_bits(y, cli_run(tmp_path, float_model, x))


def test_run_reuses_plan_across_batches(tmp_path, float_model, rng):
    m = edgeint8.Model(float_model, threads=2)
    for batch in (3, 1, 4, 3):
        x = rng.standard_normal((batch, 1, 128)).astype(np.float32)
        assert same_bits(m.run(x), cli_run(tmp_path, float_model, x))


def test_run_non_contiguous_input(tmp_path, float_model, rng):
    x = rng.standard_normal((3, 1, 128)).astype(np.float32)
    f = np.asfortranarray(x)
    assert not f.flags.c_contiguous
    assert same_bits(edgeint8.Model(float_model).run(f), cli_run(tmp_path, float_model, x))


def address(a):
    return a.__array_interface__["data"][0]


def test_run_reads_a_c_contiguous_array_in_place(tmp_path, float_model, data_dir, rng):
    """Zero copy: the executor reads the caller's buffer (Executor::run_on; the C++ test
    tests/runtime/run_on_test.cpp proves the executor's own input buffer is not read), and the
    bits are the CLI's. A read-only array and a C-contiguous view (a slice of rows) too."""
    for threads in (1, 2):
        m = edgeint8.Model(float_model, threads=threads)
        x = rng.standard_normal((5, 1, 128)).astype(np.float32)
        y = m.run(x)
        assert m._m.last_input_addresses == [address(x)]
        assert same_bits(y, cli_run(tmp_path, float_model, x))
        big = rng.standard_normal((9, 1, 128)).astype(np.float32)
        view = big[2:6]
        view.flags.writeable = False
        assert view.flags.c_contiguous and not view.flags.owndata
        assert same_bits(m.run(view), cli_run(tmp_path, float_model, view.copy()))
        assert m._m.last_input_addresses == [address(view)]
    # A QDQ model on the integer engine reads its float input in place too.
    q = f"{data_dir}/qdq/qdq_perchannel.onnx"
    xq = np.load(f"{data_dir}/qdq/qdq_perchannel.input.npy")
    mq = edgeint8.Model(q)
    assert same_bits(mq.run(xq), cli_run(tmp_path, q, xq))
    assert mq._m.last_input_addresses == [address(xq)]


def test_run_copies_other_layouts_once(tmp_path, float_model, rng):
    """A Fortran-ordered, strided or misaligned array is copied once into a C-contiguous one
    (the address the executor read is not the caller's), with the same bits."""
    m = edgeint8.Model(float_model)
    x = rng.standard_normal((3, 1, 128)).astype(np.float32)
    want = cli_run(tmp_path, float_model, x)
    strided = np.repeat(x, 2, axis=0)[::2]
    raw = np.zeros(x.nbytes + 1, dtype=np.uint8)
    misaligned = raw[1:].view(np.float32).reshape(x.shape)
    misaligned[...] = x
    assert not misaligned.flags.aligned
    for a in (np.asfortranarray(x), strided, misaligned):
        assert same_bits(m.run(a), want)
        assert m._m.last_input_addresses != [address(a)]


@pytest.mark.parametrize("name", ["qdq_perchannel", "ort_u8_gemm", "op_bn"])
def test_run_qdq_on_integer_engine_equals_cli(tmp_path, data_dir, name):
    model = f"{data_dir}/qdq/{name}.onnx"
    x = np.load(f"{data_dir}/qdq/{name}.input.npy")
    m = edgeint8.Model(model)
    assert m.engine == "int8"
    assert same_bits(m.run(x), cli_run(tmp_path, model, x))
    for profile in ("tflite", "tflite-single"):
        y = edgeint8.Model(model, profile=profile).run(x)
        assert same_bits(y, cli_run(tmp_path, model, x, "--profile", profile))
    yf = edgeint8.Model(model, engine="float").run(x)
    assert same_bits(yf, cli_run(tmp_path, model, x, "--engine", "float"))


def test_run_from_threads(float_model, rng):
    m = edgeint8.Model(float_model)
    xs = [rng.standard_normal((8, 1, 128)).astype(np.float32) for _ in range(4)]
    want = [m.run(x) for x in xs]
    got = [None] * 4

    def work(i):
        for _ in range(5):
            got[i] = m.run(xs[i])

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert all(same_bits(a, b) for a, b in zip(got, want))


# ---- bad input: ValueError naming what is expected; the library's one-line messages ----

def test_wrong_dtype(float_model):
    m = edgeint8.Model(float_model)
    with pytest.raises(ValueError, match=r"dtype = float64, must be float32"):
        m.run(np.zeros((2, 1, 128)))
    with pytest.raises(ValueError, match=r"dtype = int32, must be float32"):
        m.run(np.zeros((2, 1, 128), dtype=np.int32))


def test_wrong_shape(float_model):
    m = edgeint8.Model(float_model)
    with pytest.raises(ValueError, match=r"shape = \(2, 128\), must be \(N, 1, 128\)"):
        m.run(np.zeros((2, 128), np.float32))
    with pytest.raises(ValueError, match=r"shape = \(2, 3, 128\), must be \(N, 1, 128\)"):
        m.run(np.zeros((2, 3, 128), np.float32))
    with pytest.raises(ValueError, match=r"shape = \(0, 1, 128\)"):
        m.run(np.zeros((0, 1, 128), np.float32))


def test_not_an_array(float_model):
    m = edgeint8.Model(float_model)
    with pytest.raises(ValueError, match=r"type = str, must be a numpy.ndarray of float32"):
        m.run("x.npy")
    with pytest.raises(ValueError, match=r"inputs = 2, must be 1"):
        m.run([np.zeros((1, 1, 128), np.float32)] * 2)


def test_nonfinite_refused_unless_allowed(tmp_path, float_model):
    x = np.zeros((2, 1, 128), np.float32)
    x[1, 0, 7] = np.nan
    m = edgeint8.Model(float_model)
    with pytest.raises(ValueError, match=r"element 135 \[1, 0, 7\] = nan, must be finite"):
        m.run(x)
    y = m.run(x, allow_nonfinite=True)
    assert same_bits(y, cli_run(tmp_path, float_model, x, "--allow-nonfinite"))


def test_missing_and_bad_files(tmp_path):
    with pytest.raises(edgeint8.FileError, match=r"^cannot read model: path = '.*nope.onnx'"):
        edgeint8.Model(tmp_path / "nope.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model at all")
    # The library's message, prefixed with the file as every file error is.
    with pytest.raises(edgeint8.FileError, match=r"bad.onnx: cannot parse ONNX model: bytes = 18, "
                                                 r"must be a complete ModelProto"):
        edgeint8.Model(bad)
    assert issubclass(edgeint8.FileError, OSError)
    assert issubclass(edgeint8.InvalidArgumentError, ValueError)


def test_bad_options(float_model):
    with pytest.raises(ValueError, match=r"engine: value = 'fp16', must be int8 or float"):
        edgeint8.Model(float_model, engine="fp16")
    with pytest.raises(ValueError, match=r"threads = 0, must be >= 1"):
        edgeint8.Model(float_model, threads=0)
    with pytest.raises(ValueError, match=r"profile"):
        edgeint8.Model(float_model, profile="gemmlowp")


def test_run_releases_the_gil(data_dir):
    """While one thread is inside run(), another thread keeps executing Python."""
    m = edgeint8.Model(f"{data_dir}/models/cifar_resnet.onnx")
    x = np.load(f"{data_dir}/models/cifar_resnet.input.npy")
    x = np.repeat(x, max(1, 64 // x.shape[0]), axis=0)
    m.run(x)  # plan once
    span = {}

    def work():
        t0 = time.perf_counter()
        for _ in range(3):
            m.run(x)
        span["t"] = (t0, time.perf_counter())

    ticks = []
    t = threading.Thread(target=work)
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.0005)
    t.join()
    t0, t1 = span["t"]
    inside = sum(t0 < s < t1 for s in ticks)
    # Holding the GIL through run() would leave no tick inside the runs (at most one at an edge).
    assert inside >= 5, f"{inside} ticks in {1e3 * (t1 - t0):.1f} ms of run()"
