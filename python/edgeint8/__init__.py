"""EdgeINT8-ArchKit from Python: run and quantize ONNX models on numpy arrays, analyse them,
and simulate systolic arrays — the same library calls as the ``edgeint8`` program, with the same
results.

    import numpy as np, edgeint8
    m = edgeint8.Model("model.onnx")
    y = m.run(x)                                   # x: numpy float32 [N, ...], y: numpy
    qdq, table = edgeint8.quantize("model.onnx", calib, method="mse", weights="per-channel")
    y8 = edgeint8.Model(qdq_path).run(x)           # a QDQ file runs on the integer engine
    edgeint8.simulate("scale.cfg", "topology.csv", "out/")   # SCALE-Sim v2 reports

Errors raise ``edgeint8.Error`` (a RuntimeError) carrying the library's one-line message; its
kinds are ``InvalidArgumentError`` (also a ValueError: wrong option, dtype or shape),
``FileError`` (also an OSError) and ``UnsupportedError`` (also a NotImplementedError). The
library's warnings are Python ``UserWarning``s. Long calls release the GIL.
"""

import os as _os

from . import _core
from ._core import Error, FileError, InvalidArgumentError, UnsupportedError

__all__ = [
    "Model", "quantize", "sweep", "mixed_precision", "sensitivity", "compare", "simulate", "simulate_model", "dse",
    "bitgrowth", "Error", "InvalidArgumentError", "FileError", "UnsupportedError",
]


_DEFAULT_SPACE = _os.path.join(_os.path.dirname(__file__), "share", "default_space.toml")


def _path(p, what):
    if p is None:
        return None
    if isinstance(p, (str, _os.PathLike)):
        return _os.fspath(p)
    raise InvalidArgumentError(
        f"cannot read {what}: type = {type(p).__name__}, must be a path (str or os.PathLike)")


def _data(d):
    """A path stays a path (read by the library as the CLI reads it); anything else is passed on
    to be checked as a numpy array."""
    return _os.fspath(d) if isinstance(d, _os.PathLike) else d


class Model:
    """An ONNX model ready to run on numpy arrays.

    Model(path, engine="int8", profile="ort", threads=1, optimize=True)

    path      -- an FP32 ONNX model, or an INT8 QDQ / QLinear one (what ``quantize`` writes).
    engine    -- QDQ models only: "int8" runs the integer engine (bit-exact with ONNX Runtime
                 under profile "ort"), "float" the QDQ simulation on the FP32 executor.
    profile   -- requantization profile of the integer engine: "ort", "tflite", "tflite-single".
    threads   -- worker threads (a batch is split between them; results are identical).
    optimize  -- BN folding / activation fusion (False runs the graph as imported).

    ``run(x)`` is ``edgeint8 run MODEL --input x.npy``: the same output, bit for bit.
    """

    def __init__(self, path, engine="int8", profile="ort", threads=1, optimize=True):
        self._m = _core.Model(_path(path, "model"), engine, profile, threads, optimize)

    def run(self, x, allow_nonfinite=False):
        """Run the model on ``x`` and return its output as a new numpy array.

        x -- a numpy array of the model's input dtype (float32 for FP32 and QDQ models) and
             shape (any batch size where the model's first dimension is dynamic); a list of
             arrays for a model with several inputs. A C-contiguous (aligned) array is read
             in place by the executor, not copied; another layout is copied once by numpy
             into a C-contiguous array first. Do not modify the array while ``run`` runs.
        allow_nonfinite -- run inputs holding NaN or Inf (refused by default, naming the first).

        Returns one array, or a list of arrays for a model with several outputs.
        Raises InvalidArgumentError (a ValueError) naming the expected dtype or shape.
        """
        return self._m.run(x, allow_nonfinite)

    __call__ = run

    @property
    def inputs(self):
        """[{"name", "shape" (None = dynamic), "dtype" (numpy name)}] of the model's inputs."""
        return self._m.inputs

    @property
    def outputs(self):
        """[{"name", "shape" (None = dynamic or unknown), "dtype"}] of the model's outputs."""
        return self._m.outputs

    @property
    def path(self):
        return self._m.path

    @property
    def engine(self):
        """"float32" for a float model; "int8" or "float" (the engine asked for) for a QDQ one."""
        return self._m.engine

    def __repr__(self):
        if not hasattr(self, "_m"):
            return "edgeint8.Model(<not loaded>)"
        return f"edgeint8.Model({self.path!r}, engine={self.engine!r})"


def quantize(model_path, calib, method="mse", weights="per-channel", output=None, *, table=None,
             act="asym", act_type="u8", profile="ort", batch=32, max_samples=0, bins=2048,
             percentile=None, percentile_mode=None, levels=None, zero_bin=None, threshold=None,
             prior=None, ema=None, exclude=(), reduce_range=False, weight_bits=8, cle=False,
             bias_absorption=True, bias_correction=False, adaround=False, adaround_iters=1000,
             adaround_time=60.0, seed=1):
    """Post-training INT8 quantization (``edgeint8 quantize``): calibrate, write a QDQ model.

    model_path -- the float ONNX model.
    calib      -- calibration samples: a numpy float32 array [N, ...model input] or a path
                  (.npy file or directory of .npy files, read as the CLI reads --calib-data).
    method     -- minmax | moving-average | percentile | entropy | mse | aciq.
    weights    -- per-tensor | per-channel (weights are symmetric s8 [-127, 127]).
    output     -- where to write the QDQ model; None: return its bytes instead.
    table      -- also write the calibration table (JSON) there (with ``output``).
    act        -- asym | sym activations; act_type u8 | s8 (sym implies s8).
    profile    -- requantization profile: ort | tflite | tflite-single.
    batch, max_samples (0 = all), bins (histogram bins per side) -- the calibration pass.
    percentile, percentile_mode  -- method "percentile" only (defaults 99.99, "auto").
    levels, zero_bin, threshold  -- method "entropy" only (128, "skip-exact-zeros",
                                    "upper-edge").
    prior -- method "aciq" only ("laplace" | "gaussian"); ema -- "moving-average" only (0.01).
    exclude       -- node names kept in float.
    reduce_range  -- weights in [-63, 63] (ONNX Runtime's reduce_range).
    weight_bits   -- 8 or 4 (W4A8).
    cle, bias_absorption, bias_correction, adaround, adaround_iters, adaround_time, seed --
                     accuracy recovery, as the CLI's --cle, --no-bias-absorption,
                     --bias-correction, --adaround, --adaround-iters, --adaround-time, --seed.

    Returns ``(model, table)``: model is the QDQ model's bytes when ``output`` is None, else the
    output path; table is the calibration table as a dict ({"samples", "tensors": [{"name",
    "method", "min", "max", "observed_min", "observed_max", ...}]}). The bytes equal the file
    ``edgeint8 quantize model --calib-data X -o out.onnx`` writes with the same options.
    A method-specific option given with another method raises InvalidArgumentError.
    """
    method_options = _method_options(percentile, percentile_mode, levels, zero_bin, threshold,
                                     prior, ema)
    return _core.quantize(_path(model_path, "model"), _data(calib), method, weights,
                          _path(output, "output"), _path(table, "table"), act, act_type, profile,
                          batch, max_samples, bins, method_options, _names(exclude), reduce_range,
                          weight_bits, cle, bias_absorption, bias_correction, adaround,
                          adaround_iters, float(adaround_time), seed)


def _method_options(percentile, percentile_mode, levels, zero_bin, threshold, prior, ema):
    return {k: v for k, v in (
        ("percentile", percentile), ("percentile_mode", percentile_mode), ("levels", levels),
        ("zero_bin", zero_bin), ("threshold", threshold), ("prior", prior), ("ema", ema),
    ) if v is not None}


def _names(exclude):
    if isinstance(exclude, str):
        return [n for n in exclude.split(",")] if exclude else []
    return list(exclude)


def sweep(model_path, calib, eval_data, eval_labels=None, *, out=None, act_type="u8",
          profile="ort", batch=32, max_samples=0, bins=2048, percentile=None,
          percentile_mode=None, levels=None, zero_bin=None, threshold=None, prior=None, ema=None,
          exclude=(), latency=True, pandas=False):
    """The PTQ sweep (``edgeint8 quantize --sweep``): {minmax, percentile, entropy, mse} x
    {per-tensor, per-channel} x {sym, asym}, each evaluated on the integer engine's simulation.

    calib, eval_data -- numpy float32 arrays [N, ...model input] or paths (.npy / directory).
    eval_labels      -- integer labels; None: agreement with FP32 only.
    out              -- also write <out>/ptq_sweep.csv and .json as the CLI's --sweep-out.
    latency          -- measure each row's INT8 latency (False: "n/a", faster).
    The other options are ``quantize``'s (the method-specific ones set the hyper-parameters of
    the rows with that method).

    Returns {"rows": [one dict per configuration, the CLI's ptq_sweep.json], "fp32_accuracy",
    "statistics_samples", "eval_samples"}.
    """
    r = _core.sweep(_path(model_path, "model"), _data(calib), _data(eval_data),
                    _data(eval_labels), act_type, profile, batch, max_samples, bins,
                    _method_options(percentile, percentile_mode, levels, zero_bin, threshold,
                                    prior, ema), _names(exclude), latency, _path(out, "out"))
    r["rows"] = _frame(r["rows"], pandas)
    return r


def mixed_precision(model_path, calib, eval_data, eval_labels, max_drop, output=None, *,
                    out=None, method="mse", weights="per-channel", act="asym", act_type="u8",
                    profile="ort", batch=32, max_samples=0, bins=2048, percentile=None,
                    percentile_mode=None, levels=None, zero_bin=None, threshold=None,
                    prior=None, ema=None, exclude=(), latency=True, pandas=False):
    """Accuracy-aware mixed precision (``edgeint8 quantize --max-drop``): rank the layers by
    sensitivity and keep the most sensitive ones in float, one at a time, until the accuracy drop
    versus FP32 is at most ``max_drop`` points.

    eval_labels -- required (integer labels, array or .npy path).
    output      -- write the QDQ model there; None: return its bytes.
    out         -- also write <out>/mixed_precision.csv and .json (with the model: all or none).
    Raises InvalidArgumentError when the target cannot be reached (nothing written).

    Returns {"model": bytes or the output path, "ranking", "steps": [dict per step, the CLI's
    mixed_precision table], "message", "fp32_accuracy"}.
    """
    r = _core.mixed_precision(_path(model_path, "model"), _data(calib), _data(eval_data),
                              _data(eval_labels), float(max_drop), _path(output, "output"),
                              method, weights, act, act_type, profile, batch, max_samples, bins,
                              _method_options(percentile, percentile_mode, levels, zero_bin,
                                              threshold, prior, ema), _names(exclude), latency,
                              _path(out, "out"))
    r["steps"] = _frame(r["steps"], pandas)
    return r


def _frame(rows, as_pandas):
    """The rows (a list of dicts, one per table row) as they are, or with ``pandas=True`` as a
    pandas DataFrame with one column per key (a key some rows lack is NaN there)."""
    if not as_pandas:
        return rows
    try:
        import pandas  # only when asked for
    except ImportError as e:
        raise ImportError("pandas=True needs pandas (Debian: python3-pandas; pip: pandas); "
                          "without it the tables are lists of dicts") from e
    return pandas.DataFrame(rows)


def sensitivity(model_path, calib, eval_data, eval_labels=None, *, method="mse",
                weights="per-channel", act="asym", profile="ort", batch=32, max_samples=0,
                histogram_bins=128, out=None, pandas=False):
    """Per-layer quantization sensitivity (``edgeint8 analyze``).

    calib, eval_data -- numpy float32 arrays [N, ...model input] or paths (.npy / directory).
    eval_labels      -- integer labels (array or .npy path); None: agreement with FP32 only.
    out              -- also write sensitivity.csv, layer_error.csv, tensor_histograms.csv and
                        calib_thresholds.csv (+ .json) there, as the CLI does.
    pandas           -- return the tables as pandas DataFrames instead of lists of dicts.

    Returns {"ranking": [node, most sensitive first], "sensitivity": rows, "layer_error": rows,
    "fp32_accuracy", "all_accuracy", "all_agreement"}; the rows are the CLI's tables
    (``analyze --json``), one dict per layer.
    """
    r = _core.sensitivity(_path(model_path, "model"), _data(calib), _data(eval_data),
                          _data(eval_labels), method, weights, act, profile, batch, max_samples,
                          histogram_bins, _path(out, "out"))
    r["sensitivity"] = _frame(r["sensitivity"], pandas)
    r["layer_error"] = _frame(r["layer_error"], pandas)
    return r


def compare(a, b, input=None, *, mode="graph", engine_a="int8", engine_b="int8",
            profile_a="ort", profile_b="ort", tolerance_lsb=1.0, rel_tolerance=1e-5,
            min_sqnr=float("-inf"), pandas=False):
    """Where two runs of a model part ways (``edgeint8 compare``).

    a, b  -- ONNX models (each run by its engine) or tensor dumps (``edgeint8 run --dump``).
    input -- numpy float32 array or .npy path fed to the model(s).
    mode  -- "graph" (both end to end), "layer" (each layer of B fed A's input), "both".

    Returns the CLI's ``--json`` result as a dict: "tensors" (a list of dicts: name, shape,
    sqnr_db, cosine, max_abs, lsb, max_abs_lsb, beyond_1lsb, diverged), "first_divergence"
    (or None), "only_a", "only_b", "mode"; with mode "both" also "layer" {...}.
    """
    r = _core.compare(_path(a, "A"), _path(b, "B"), _data(input), mode, engine_a, engine_b,
                      profile_a, profile_b, float(tolerance_lsb), float(rel_tolerance),
                      float(min_sqnr))
    r["tensors"] = _frame(r["tensors"], pandas)
    if "layer" in r:
        r["layer"]["tensors"] = _frame(r["layer"]["tensors"], pandas)
    return r


def simulate(config_path, topology_path, out_dir="test_runs", input_type="conv", *,
             energy=False, energy_table=None, pandas=False):
    """SCALE-Sim v2 simulation (``edgeint8 sim -c CONFIG -t TOPOLOGY -p OUT_DIR -i TYPE``).

    Writes OUT_DIR/<run_name>/{COMPUTE,BANDWIDTH,DETAILED_ACCESS}_REPORT.csv — the same files,
    byte for byte, as the CLI (and, with ``energy`` or ``energy_table``, ENERGY_REPORT.csv and
    ROOFLINE_REPORT.csv); all of them or none.
    input_type -- "conv" or "gemm" (M,N,K rows).

    Returns {"run_name", "report_dir", "word_bytes", "layers": [per-layer dict: name,
    total_cycles, stall_cycles, overall_util_pct, mapping_efficiency_pct, compute_util_pct,
    macs, dram_ifmap_reads, dram_filter_reads, dram_ofmap_writes]} — ``sim --json``'s dict;
    with ``pandas=True`` "layers" is a DataFrame.
    """
    r = _core.simulate(_path(config_path, "config"), _path(topology_path, "topology"), "",
                       _path(out_dir, "out_dir"), input_type, "", "", "", 0, False, "",
                       energy, _path(energy_table, "energy_table") or "")
    r["layers"] = _frame(r["layers"], pandas)
    return r


def _dims(v, sep):
    return v if isinstance(v, str) else sep.join(str(int(d)) for d in v)


def simulate_model(workload, out_dir="test_runs", *, array=(32, 32), dataflow="ws",
                   sram=(64, 64, 32), bandwidth=10, calc=False, run_name=None,
                   input_type="conv", energy=False, energy_table=None, pandas=False):
    """Simulate an ONNX model or a topology CSV on one array
    (``edgeint8 sim WORKLOAD --array RxC --dataflow DF --sram I,F,O --bandwidth B -p OUT_DIR``).

    array -- (rows, cols) or "RxC"; sram -- (ifmap, filter, ofmap) kB or "I,F,O";
    dataflow -- ws | os | is; bandwidth -- DRAM words/cycle (USER mode; calc=True: CALC).
    An ONNX model's layers come from its graph; INT8 layers use 1-byte words, FP32 4.
    Returns what ``simulate`` returns.
    """
    r = _core.simulate("", "", _path(workload, "workload"), _path(out_dir, "out_dir"),
                       input_type, _dims(array, "x"), dataflow, _dims(sram, ","),
                       int(bandwidth), calc, run_name or "", energy,
                       _path(energy_table, "energy_table") or "")
    r["layers"] = _frame(r["layers"], pandas)
    return r


def dse(workload, space=None, out="dse_out", *, input_type="conv", energy_table=None,
        evaluator=None, threads=0, pandas=False):
    """Design-space exploration (``edgeint8 dse``) of an ONNX model or a topology CSV.

    space     -- design space TOML (default: share/dse/default_space.toml, shipped in the
                 package).
    evaluator -- override the space's: "analytic" or "exact".
    threads   -- worker threads (0 = all cores); the result does not depend on it.

    Writes points.csv/json, pareto.csv, best.json and analysis.md into ``out`` as the CLI does.
    Returns {"points": [dict per design point, the elements of points.json: array, rows, cols,
    dataflow, *_sram_kb, bandwidth, feasible, area_mm2, and reason (infeasible) or exact,
    cycles, stall_cycles, energy_uj, energy_breakdown_uj, utilization_pct, dram_bytes,
    on_front], "pareto": [indices],
    "recommended": index or None, "evaluations", "sweep_seconds", "threads", "out",
    "word_bytes"}.
    """
    if space is None and _os.path.exists(_DEFAULT_SPACE):
        space = _DEFAULT_SPACE
    r = _core.dse(_path(workload, "workload"), _path(space, "space") or "", _path(out, "out"),
                  input_type, _path(energy_table, "energy_table") or "", evaluator or "",
                  int(threads))
    r["points"] = _frame(r["points"], pandas)
    return r


def bitgrowth(model_path, calib=None, *, operands=None, max_samples=64, width=None,
              pandas=False):
    """Accumulator bit growth of a model's Conv/Gemm/MatMul layers
    (``edgeint8 fixedpoint bitgrowth MODEL [--calib-data X] --json``).

    calib    -- optional calibration samples (array or path): a float model is then quantized
                on them and the accumulators reached are observed.
    operands -- "s8xs8" or "u8xs8" assumed for a float model's layers without calibration data.
    width    -- also say per layer whether the formula's accumulator fits this many bits.

    Returns the CLI's JSON as a dict: {"layers": [{"name", "K", "accumulator_bits",
    "worst_case_bits", "recommended_width", ...}], "skipped": [...], ...}; with
    ``pandas=True`` "layers" is a DataFrame.
    """
    r = _core.bitgrowth(_path(model_path, "model"), _data(calib), operands, max_samples, width)
    r["layers"] = _frame(r["layers"], pandas)
    return r
