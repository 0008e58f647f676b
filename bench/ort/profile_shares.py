# Per-node shares of a model's time from one or more `edgeint8 bench --profile` outputs of the
# same model and batch: each node's min µs over the files, its share of the sum of those mins
# (the executor times every node of one batch tile), and which nodes other than Conv / Gemm /
# MatMul are above a threshold (issue 14: none above 10 % at batch 32).
#   for r in 1 2 3; do edgeint8 bench M.int8.onnx --batch 32 --cpu-time --profile > p$r.txt; done
#   /usr/bin/python3 bench/ort/profile_shares.py p1.txt p2.txt p3.txt [--limit 10]
import sys

args = sys.argv[1:]
limit = 10.0
if "--limit" in args:
    i = args.index("--limit")
    limit = float(args[i + 1])
    del args[i:i + 2]
if not args:
    sys.exit("usage: profile_shares.py PROFILE.txt... [--limit PERCENT]")
best, plan, order = {}, {}, []
for path in args:
    on = False
    for line in open(path):
        if line.startswith("per node"):
            on = True
            continue
        f = line.split()
        if not on or len(f) < 2:
            continue
        try:
            us = float(f[1])
        except ValueError:
            continue
        if f[0] not in best:
            order.append(f[0])
            best[f[0]] = us
            plan[f[0]] = f[2] if len(f) > 2 else ""
        best[f[0]] = min(best[f[0]], us)
total = sum(best.values())
over = []
print(f"{'node':<48} {'min µs':>9} {'share':>7}  variant")
for n in order:
    share = 100.0 * best[n] / total
    print(f"{n:<48} {best[n]:9.2f} {share:6.1f}%  {plan[n]}")
    mac = any(k in n for k in ("Conv", "Gemm", "MatMul", "fc"))
    if not mac and share > limit:
        over.append(f"{n} {share:.1f}%")
print(f"{'sum':<48} {total:9.2f}")
print("non-MAC nodes above {:.0f} %: {}".format(limit, ", ".join(over) if over else "none"))
