#!/usr/bin/python3
"""Accuracy-recovery table of one model: per-tensor W8A8 and W4A8 quantization with each
recovery pass of `edgeint8 quantize` (--cle, --bias-correction, --adaround), measured against
the FP32 model on seeded random inputs (no labelled data: "top-1" is agreement with the float
model's top-1, so the float model scores 100 % and the drop is 100 − agreement).

  /usr/bin/python3 bench/recovery/recovery_table.py BUILD/apps/edgeint8/edgeint8 MODEL.onnx \
      [--calib 256] [--eval 1024] [--seed 1] [--out DIR]
      [--calib-data C.npy --eval-data E.npy --eval-labels L.npy]   (real data: top-1 accuracy)

Prints a Markdown table and writes DIR/recovery.csv.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx

CONFIGS = [
    ("none", []),
    ("cle", ["--cle"]),
    ("bc", ["--bias-correction"]),
    ("adaround", ["--adaround"]),
    ("cle+bc", ["--cle", "--bias-correction"]),
    ("cle+bc+adaround", ["--cle", "--bias-correction", "--adaround"]),
]


def input_shape(path):
    m = onnx.load(path)
    init = {i.name for i in m.graph.initializer}
    inp = [i for i in m.graph.input if i.name not in init][0]
    return [d.dim_value if d.dim_value > 0 else 1 for d in inp.type.tensor_type.shape.dim]


def run(cmd):
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return r.stdout, time.time() - t0


def sqnr_db(ref, y):
    noise = np.sum((ref.astype(np.float64) - y) ** 2)
    return float("inf") if noise == 0 else 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / noise)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("model")
    ap.add_argument("--calib", type=int, default=256)
    ap.add_argument("--eval", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="")
    ap.add_argument("--calib-data", default="")
    ap.add_argument("--eval-data", default="")
    ap.add_argument("--eval-labels", default="")
    a = ap.parse_args()
    shape = input_shape(a.model)
    rng = np.random.default_rng(a.seed)
    tmp = tempfile.mkdtemp(prefix="ei8_recovery_")
    calib = os.path.join(tmp, "calib.npy")
    ev = os.path.join(tmp, "eval.npy")
    if a.calib_data:
        calib, ev = a.calib_data, a.eval_data
        a.eval = np.load(ev).shape[0]
        a.calib = np.load(calib).shape[0]
    else:
        np.save(calib, rng.standard_normal([a.calib] + shape[1:]).astype(np.float32))
        np.save(ev, rng.standard_normal([a.eval] + shape[1:]).astype(np.float32))
    labels = np.load(a.eval_labels).reshape(-1) if a.eval_labels else None
    ref_path = os.path.join(tmp, "ref.npy")
    run([a.binary, "run", a.model, "--input", ev, "-o", ref_path])
    ref = np.load(ref_path).reshape(a.eval, -1)
    top_ref = ref.argmax(1) if labels is None else labels
    float_acc = 100.0 * np.mean(ref.argmax(1) == top_ref)
    rows = []
    for bits in (8, 4):
        for name, flags in CONFIGS:
            q = os.path.join(tmp, "q.onnx")
            _, secs = run([a.binary, "quantize", a.model, "--calib-data", calib, "--weights",
                           "per-tensor", "--weight-bits", str(bits), "-o", q] + flags)
            y_path = os.path.join(tmp, "y.npy")
            run([a.binary, "run", q, "--input", ev, "-o", y_path])
            y = np.load(y_path).reshape(a.eval, -1)
            agree = 100.0 * np.mean(y.argmax(1) == top_ref)
            rows.append({"weights": f"W{bits}A8 per-tensor", "recovery": name,
                         "top1_agreement_pct": round(agree, 2),
                         "drop_points": round(float_acc - agree, 2),
                         "logits_sqnr_db": round(sqnr_db(ref, y), 2),
                         "quantize_s": round(secs, 1)})
            print(rows[-1], file=sys.stderr)
    what = "labelled" if labels is not None else f"N(0,1), seed {a.seed}"
    print(f"\n{os.path.basename(a.model)}: {a.calib} calibration / {a.eval} evaluation inputs "
          f"({what}); float top-1 {float_acc:.2f} %\n")
    col = "top-1 accuracy %" if labels is not None else "top-1 agreement %"
    print(f"| weights | recovery | {col} | drop (points) | logits SQNR dB | quantize s |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['weights']} | {r['recovery']} | {r['top1_agreement_pct']:.2f} | "
              f"{r['drop_points']:.2f} | {r['logits_sqnr_db']:.2f} | {r['quantize_s']:.1f} |")
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "recovery.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
