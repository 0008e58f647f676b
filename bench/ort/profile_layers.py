# Joins `edgeint8 bench --profile` per-node times with each Conv's geometry (onnx shape
# inference) and prints per layer: kind (pw / dw / grp / full), shapes, MMAC, µs, GMAC/s and the
# plan; then the time and GMAC/s per layer class (kind, kernel, stride) — where a model's time
# goes, against what each class reaches.
#   edgeint8 bench M.onnx --cpu-time --iters 5 --profile > prof.txt
#   /usr/bin/python3 bench/ort/profile_layers.py M.onnx prof.txt
import onnx, sys
from onnx import shape_inference
m = shape_inference.infer_shapes(onnx.load(sys.argv[1]))
g = m.graph
shapes = {}
for v in list(g.value_info) + list(g.input) + list(g.output):
    shapes[v.name] = [d.dim_value if d.dim_value else 1 for d in v.type.tensor_type.shape.dim]
inits = {i.name: list(i.dims) for i in g.initializer}
prof = {}  # node name -> (µs, plan)
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) >= 3 and f[0].startswith('/'):
        try: prof[f[0]] = (float(f[1]), f[2])
        except: pass
cls = {}
for n in g.node:
    if n.op_type != 'Conv': continue
    x = shapes.get(n.input[0]); y = shapes.get(n.output[0]); w = inits.get(n.input[1])
    a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
    gr = a.get('group', 1); st = a.get('strides', [1, 1])[0]; k = w[2]
    macs = y[1]*y[2]*y[3]*w[1]*w[2]*w[3]
    t, var = prof.get(n.name, (0, '?'))
    kind = 'dw' if gr == x[1] and gr > 1 else ('grp' if gr > 1 else ('pw' if k == 1 else 'full'))
    c = f"{kind}{k}x{k}s{st}"
    print(f"{n.name[-40:]:40s} {kind:4s} {x[1]:4d}x{x[2]:3d}x{x[3]:3d} -> {y[1]:4d}x{y[2]:3d} k{k} s{st} g{gr:4d} {macs/1e6:7.2f}M {t:8.1f}us {macs/max(t,1e-9)/1e3:6.1f}GMAC/s {var}")
    cls.setdefault(c, [0, 0, 0]); cls[c][0] += t; cls[c][1] += macs; cls[c][2] += 1
tot = sum(v[0] for v in prof.values())
print("total profiled µs (every node)", tot)
for c, (t, macs, n) in sorted(cls.items(), key=lambda kv: -kv[1][0]):
    print(f"  {c:12s} n={n:3d} {t:8.1f}us {100*t/tot:5.1f}% {macs/1e6:8.1f}M {macs/max(t,1e-9)/1e3:6.1f}GMAC/s")
