"""edgeint8.simulate / simulate_model / dse against `edgeint8 sim` and `edgeint8 dse`: the same
report files, byte for byte."""
import csv
import json
import os

import pytest

import edgeint8
from conftest import cli, read

REPORTS = ("COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv")


def same_dirs(a, b):
    fa, fb = sorted(os.listdir(a)), sorted(os.listdir(b))
    assert fa == fb and fa
    for f in fa:
        assert read(os.path.join(a, f)) == read(os.path.join(b, f)), f


@pytest.mark.parametrize("case", ["googlenet_inc5b3x3_32x32_os_small",
                                  "googlenet_inc5b3x3_32x32_is_small"])
def test_simulate_equals_sim(tmp_path, data_dir, case):
    cfg = f"{data_dir}/scalesim/{case}/config.cfg"
    topo = f"{data_dir}/scalesim/{case}/topology.csv"
    cli("sim", "-c", cfg, "-t", topo, "-p", tmp_path / "cli", "-q")
    r = edgeint8.simulate(cfg, topo, tmp_path / "api")
    assert r["run_name"] == case and len(r["layers"]) == 1
    same_dirs(tmp_path / "cli" / case, tmp_path / "api" / case)
    for f in REPORTS:
        assert os.path.exists(tmp_path / "api" / case / f)
    # The returned cycles are the report's.
    with open(tmp_path / "api" / case / "COMPUTE_REPORT.csv") as f:
        row = next(csv.DictReader(f, skipinitialspace=True))
    assert int(row["Total Cycles"]) == r["layers"][0]["total_cycles"]
    # The returned dict is `sim --json`'s (one serializer: pipeline::sim_json), report_dir aside.
    want = json.loads(cli("sim", "-c", cfg, "-t", topo, "-p", tmp_path / "api", "--json").stdout)
    assert r == want
    try:
        import pandas
    except ImportError:
        return
    df = edgeint8.simulate(cfg, topo, tmp_path / "api", pandas=True)["layers"]
    assert isinstance(df, pandas.DataFrame) and df.to_dict("records") == want["layers"]


def test_simulate_model_equals_sim(tmp_path, float_model):
    args = ["--array", "8x16", "--dataflow", "os", "--sram", "16,16,8", "--bandwidth", "4",
            "--energy"]
    cli("sim", float_model, *args, "-p", tmp_path / "cli", "-q")
    r = edgeint8.simulate_model(float_model, tmp_path / "api", array=(8, 16), dataflow="os",
                                sram=(16, 16, 8), bandwidth=4, energy=True)
    assert r["word_bytes"] == 4 and len(r["layers"]) > 1
    same_dirs(tmp_path / "cli" / r["run_name"], tmp_path / "api" / r["run_name"])


def test_dse_equals_cli(tmp_path, data_dir):
    topo = f"{data_dir}/scalesim/googlenet_inc5b3x3_32x32_os_small/topology.csv"
    space = tmp_path / "space.toml"
    space.write_text('name = "tiny"\narrays = ["8x8", "16x16"]\ndataflows = ["ws", "os"]\n'
                     'sram_kb = [[16, 16, 8], [64, 64, 32]]\nbandwidths = [4, 10]\n'
                     'bandwidth_mode = "USER"\nevaluator = "analytic"\nverify_front = true\n')
    cli("dse", topo, "--space", space, "--out", tmp_path / "cli", "--threads", "1")
    r = edgeint8.dse(topo, space, tmp_path / "api", threads=2)
    assert len(r["points"]) == 16 and r["recommended"] is not None
    for f in ("points.csv", "pareto.csv"):
        assert read(tmp_path / "api" / f) == read(tmp_path / "cli" / f), f
    # The returned points are points.json's elements (one serializer: arch::point_json).
    with open(tmp_path / "cli" / "points.json") as f:
        assert r["points"] == json.load(f)
    assert sum(p.get("on_front", False) for p in r["points"]) == len(r["pareto"]) > 0
    try:
        import pandas
    except ImportError:
        return
    df = edgeint8.dse(topo, space, tmp_path / "api2", threads=1, pandas=True)["points"]
    assert isinstance(df, pandas.DataFrame) and len(df) == len(r["points"])
    assert list(df["rows"]) == [p["rows"] for p in r["points"]]
    assert df["cycles"].sum() == sum(p.get("cycles", 0) for p in r["points"])


def test_arch_bad_input(tmp_path, data_dir, float_model):
    case = f"{data_dir}/scalesim/googlenet_inc5b3x3_32x32_os_small"
    with pytest.raises(edgeint8.FileError, match=r"cannot read config: path = '.*nope.cfg'"):
        edgeint8.simulate(tmp_path / "nope.cfg", f"{case}/topology.csv", tmp_path)
    with pytest.raises(ValueError, match=r"input_type|conv"):
        edgeint8.simulate(f"{case}/config.cfg", f"{case}/topology.csv", tmp_path,
                          input_type="fc")
    with pytest.raises(ValueError, match=r"cannot parse array: value = '8by8', must be ROWSxCOLS"):
        edgeint8.simulate_model(float_model, tmp_path, array="8by8")
    with pytest.raises(ValueError, match=r"cannot parse sram: value = '1,2', must be"):
        edgeint8.simulate_model(float_model, tmp_path, sram=(1, 2))
    with pytest.raises(ValueError, match=r"threads = -1, must be >= 0"):
        edgeint8.dse(float_model, threads=-1)
    assert not any(p.suffix == ".csv" for p in tmp_path.rglob("*"))
