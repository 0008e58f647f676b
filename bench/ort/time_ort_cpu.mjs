// CPU µs per run of ONNX Runtime (1 intra-op thread, optimisation 'all') on one model and batch:
// process.cpuUsage() around every session.run (steadier than wall time on a loaded machine; the
// node per-call overhead is included, measure it on bench/ort/trivial.onnx). Prints JSON
// {"min", "p50"} like `edgeint8 bench --cpu-time --json` (us_per_inference).
//   cd tests/interop && node ../../bench/ort/time_ort_cpu.mjs MODEL.onnx BATCH ITERS
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
const require = createRequire(path.resolve(process.cwd(), 'package.json'));
const ort = require('onnxruntime-node');
const [file, batchArg, itersArg] = process.argv.slice(2);
const batch = Number(batchArg || 1), iters = Number(itersArg || 50);
readFileSync(file);  // a clear error for a missing file
const s = await ort.InferenceSession.create(file, {intraOpNumThreads: 1, interOpNumThreads: 1,
  executionMode: 'sequential', graphOptimizationLevel: 'all'});
const meta = s.inputNames[0];
const dims = [batch, 3, 224, 224];
const shape = process.env.SHAPE ? [batch, ...process.env.SHAPE.split('x').map(Number)] : dims;
const n = shape.reduce((a, b) => a * b);
const x = new ort.Tensor('float32', Float32Array.from({length: n}, (_, i) => Math.sin(i) * 0.5), shape);
const feeds = {[meta]: x};
for (let i = 0; i < 5; i++) await s.run(feeds);
const us = [];
for (let i = 0; i < iters; i++) {
  const c0 = process.cpuUsage();
  await s.run(feeds);
  const c = process.cpuUsage(c0);
  us.push(c.user + c.system);
}
us.sort((a, b) => a - b);
console.log(JSON.stringify({min: us[0], p50: us[Math.floor((us.length - 1) / 2)]}));
