// CPU µs per inference of ONNX Runtime (1 intra-op thread, optimisation 'all') on one model:
// process.cpuUsage() around each session.run (user + system), min and median over the runs.
// The counterpart of `edgeint8 bench --cpu-time` for a loaded machine (bench/ort/cpu_compare.sh).
//   node bench/ort/ort_cpu_time.js MODEL.onnx [BATCH=1] [ITERS=50] [WARMUP=5]   (JSON on stdout)
const path = require('path');
const ort = require(path.join(__dirname, '../../tests/interop/node_modules/onnxruntime-node'));

async function main() {
  const [model, b, n, w] = process.argv.slice(2);
  if (!model) {
    console.error('usage: node ort_cpu_time.js MODEL.onnx [BATCH] [ITERS] [WARMUP]');
    process.exit(2);
  }
  const batch = Number(b || 1), iters = Number(n || 50), warmup = Number(w || 5);
  const s = await ort.InferenceSession.create(model, {intraOpNumThreads: 1, interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: 'all'});
  const meta = s.inputMetadata?.[0];
  if (!meta || !meta.shape) throw new Error('cannot read the input shape');
  const dims = meta.shape.map((d) => (typeof d === 'number' ? d : batch));
  dims[0] = batch;
  const data = new Float32Array(dims.reduce((x, y) => x * y, 1)).map(() => Math.random() * 2 - 1);
  const feeds = {[s.inputNames[0]]: new ort.Tensor('float32', data, dims)};
  for (let i = 0; i < warmup; ++i) await s.run(feeds);
  const us = [];
  for (let i = 0; i < iters; ++i) {
    const c0 = process.cpuUsage();
    await s.run(feeds);
    const c = process.cpuUsage(c0);
    us.push(c.user + c.system);
  }
  us.sort((x, y) => x - y);
  console.log(JSON.stringify({model, batch, iters, clock: 'process_cpu', min: us[0],
                              p50: us[Math.floor(iters / 2)]}));
}

main().catch((e) => {
  console.error(`ort_cpu_time: ${e.message}`);
  process.exit(1);
});
