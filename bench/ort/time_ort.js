// CPU µs per inference of ONNX Runtime (1 intra-op thread, optimisation 'all') on every model
// written by make_models.py, batch 1 and 32: min and median of 7 timed runs, CPU time of this
// process (process.cpuUsage(), so a loaded machine inflates it less than wall time).
//   npm install --ignore-scripts onnxruntime-node@1.30.0   (the linux-x64 library is bundled)
//   cd bench/ort && /usr/bin/python3 make_models.py && node time_ort.js
const ort = require('onnxruntime-node');
const fs = require('fs');
async function timeModel(file, shape) {
  const s = await ort.InferenceSession.create(file, {intraOpNumThreads: 1, interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: 'all'});
  const res = {};
  for (const batch of [1, 32]) {
    const dims = [batch, ...shape];
    const x = new ort.Tensor('float32', Float32Array.from({length: dims.reduce((a, b) => a * b)}, () => Math.random() - 0.5), dims);
    const feeds = {x};
    for (let i = 0; i < 20; i++) await s.run(feeds);
    const iters = batch === 1 ? 400 : 40;
    const samples = [];
    for (let r = 0; r < 7; r++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < iters; i++) await s.run(feeds);
      const c = process.cpuUsage(c0);
      samples.push((c.user + c.system) / iters);
    }
    samples.sort((a, b) => a - b);
    res[batch] = {min: samples[0], median: samples[3]};
  }
  return res;
}
(async () => {
  const shapes = JSON.parse(fs.readFileSync('shapes.json'));
  for (const [name, shape] of Object.entries(shapes)) {
    const r = await timeModel('models/' + name + '.onnx', shape);
    console.log(`${name}\tb1 min ${r[1].min.toFixed(1)} med ${r[1].median.toFixed(1)} us\tb32 min ${(r[32].min/32).toFixed(2)} med ${(r[32].median/32).toFixed(2)} us/sample`);
  }
})();
