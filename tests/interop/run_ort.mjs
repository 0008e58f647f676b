// Runs ONNX Runtime (onnxruntime-node, CPU, 1 intra-op thread) on one model and one .npy
// input; writes the first output as .npy. Used by the interop tests to compare edgeint8
// against an independent runtime.
//
//   node run_ort.mjs MODEL.onnx INPUT.npy OUTPUT.npy [OPTIMIZED.onnx]
//        (OPTIMIZED.onnx: ORT's optimized graph, written through optimizedModelFilePath)
//   node run_ort.mjs MODEL.onnx --bench BATCH ITERS   (median µs per run, JSON on stdout)
//   node run_ort.mjs MODEL.onnx INPUT.npy --dump DIR  (every f32 output as DIR/<name>.npy, the
//        name made file-safe as `edgeint8 run --dump` does: a tensor dump for `edgeint8 compare`)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`${path}: dtype must be <f4`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: must be C order`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').map((s) => s.trim())
    .filter((s) => s.length > 0).map(Number);
  const offset = start + headerLen;
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) data[i] = buf.readFloatLE(offset + 4 * i);
  return { data, shape };
}

function writeNpy(path, data, dims) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; ++i) body.writeFloatLE(data[i], 4 * i);
  writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const [model, a, b, c, d] = process.argv.slice(2);
  if (!model || !a) {
    console.error('usage: node run_ort.mjs MODEL.onnx INPUT.npy OUTPUT.npy | --bench BATCH ITERS');
    process.exit(2);
  }
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  if (a !== '--bench' && b !== '--dump' && c) options.optimizedModelFilePath = c;
  if (a === '--bench' && d) options.optimizedModelFilePath = d;
  const session = await ort.InferenceSession.create(model, options);
  const inputName = session.inputNames[0];
  if (a === '--bench') {
    const batch = Number(b || 1);
    const iters = Number(c || 200);
    const meta = session.inputMetadata?.[0];
    let dims = meta && meta.shape ? meta.shape.map((d) => (typeof d === 'number' ? d : batch)) : null;
    if (!dims) throw new Error('cannot read the input shape');
    dims[0] = batch;
    const n = dims.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n).map(() => Math.random() * 2 - 1);
    const feeds = { [inputName]: new ort.Tensor('float32', data, dims) };
    for (let i = 0; i < 20; ++i) await session.run(feeds);
    const us = [];
    for (let i = 0; i < iters; ++i) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      us.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    us.sort((x, y) => x - y);
    console.log(JSON.stringify({ model, batch, iters, min: us[0], p50: us[Math.floor(iters / 2)] }));
    return;
  }
  const x = readNpy(a);
  const out = await session.run({ [inputName]: new ort.Tensor('float32', x.data, x.shape) });
  if (b === '--dump') {
    mkdirSync(c, { recursive: true });
    for (const name of session.outputNames) {
      const t = out[name];
      if (t.type !== 'float32') continue;
      const stem = name.replace(/[^A-Za-z0-9._-]/g, '_');
      writeNpy(`${c}/${stem}.npy`, t.data, t.dims);
    }
    return;
  }
  const y = out[session.outputNames[0]];
  writeNpy(b, y.data, y.dims);
}

main().catch((e) => {
  console.error(`run_ort: ${e.message}`);
  process.exit(1);
});
