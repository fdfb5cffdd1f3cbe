#!/usr/bin/env node
// ONNX Runtime counterpart of `cnn bench` (inference): loads an .onnx file (e.g. `cnn export`'s),
// runs it on synthetic input of the given batch and prints one JSON line with images/s.
//
//   node scripts/bench/ort_bench.js --model resnet50.onnx --batch 32 --threads 2 \
//        [--iters 2] [--warmup 3] [--min-seconds 3]
//   node scripts/bench/ort_bench.js --model m.onnx --batch 2 --input x.f32 --output y.f32
//
// Session: CPU execution provider, intra-op threads = --threads, inter-op threads 1, sequential
// execution, graph optimizations at ORT's default (all: constant folding, Conv+BN and Conv+ReLU
// fusion, the channel-blocked NCHWc layout), the CPU memory arena on (ORT's default).
// Timing mirrors cnn's: --warmup untimed runs, then runs until at least --iters runs and
// --min-seconds seconds have passed. The input is N(0, 1)-ish noise from a fixed seed.
// With --input/--output: one run on the raw float32 (little-endian, N x C x H x W) input read from
// a file, the first output written raw to a file (scripts/bench/ort_check.sh compares it with
// `cnn predict`); no timing.
//
// onnxruntime-node is found through $ORT_DIR/node_modules (default ~/.cache/cnn-bench/ort, where
// scripts/bench/setup_ort.sh installs it) or node's usual module paths. Exit 2 on bad usage,
// 1 on a runtime failure, 3 when onnxruntime-node is not installed.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");

function fail(code, msg) {
  process.stderr.write(`error: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const a = { model: null, batch: 1, threads: 2, iters: 2, warmup: 3, minSeconds: 0, input: null, output: null };
  const numeric = { "--batch": "batch", "--threads": "threads", "--iters": "iters", "--warmup": "warmup",
                    "--min-seconds": "minSeconds" };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--json") continue;  // the only output format; accepted for symmetry with cnn
    const v = argv[i + 1];
    if (v === undefined) fail(2, `ort_bench.js: ${k} needs a value`);
    i++;
    if (k === "--model") a.model = v;
    else if (k === "--input") a.input = v;
    else if (k === "--output") a.output = v;
    else if (k in numeric) {
      const x = Number(v);
      const integral = numeric[k] !== "minSeconds";
      if (!Number.isFinite(x) || x < 0 || (integral && !Number.isInteger(x)))
        fail(2, `ort_bench.js: ${k} expects a ${integral ? "non-negative integer" : "number >= 0"}, got '${v}'`);
      a[numeric[k]] = x;
    } else fail(2, `ort_bench.js: unknown option ${k}`);
  }
  if (!a.model) fail(2, "ort_bench.js: --model FILE.onnx is required");
  if (a.batch < 1 || a.threads < 1) fail(2, "ort_bench.js: --batch and --threads must be >= 1");
  if ((a.input === null) !== (a.output === null)) fail(2, "ort_bench.js: --input and --output go together");
  return a;
}

function loadOrt() {
  const dir = process.env.ORT_DIR || path.join(os.homedir(), ".cache", "cnn-bench", "ort");
  const paths = { paths: [path.join(dir, "node_modules"), __dirname] };
  try {
    return { ort: require(require.resolve("onnxruntime-node", paths)),
             version: require(require.resolve("onnxruntime-node/package.json", paths)).version };
  } catch (e) {
    if (e.code !== "MODULE_NOT_FOUND") throw e;
    fail(3, `onnxruntime-node not found in ${dir}/node_modules (run scripts/bench/setup_ort.sh)`);
  }
}

// The model's input shape with the batch dimension set to `batch` (a symbolic N from
// `cnn export --dynamic-batch` takes it; a fixed one must equal it).
function inputShape(session, batch, file) {
  const meta = session.inputMetadata[0];
  if (!meta || !meta.isTensor || meta.shape.length < 2)
    fail(1, `${file}: expected one tensor input of shape N x ..., got ${JSON.stringify(meta)}`);
  const [n, ...rest] = meta.shape;
  if (typeof n === "number" && n !== batch)
    fail(2, `${file}: the model's batch is fixed at ${n}; export it with --batch ${batch} (or --dynamic-batch)`);
  if (rest.some(d => typeof d !== "number"))
    fail(1, `${file}: input dimensions after the batch must be fixed, got ${JSON.stringify(meta.shape)}`);
  return [batch, ...rest];
}

// Deterministic noise: a 32-bit LCG mapped to roughly N(0, 1) by summing 4 uniforms.
function syntheticInput(count) {
  const x = new Float32Array(count);
  let s = 7;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let i = 0; i < count; i++) x[i] = (u() + u() + u() + u() - 2) * Math.sqrt(3);
  return x;
}

function readRaw(file, count) {
  const buf = fs.readFileSync(file);
  if (buf.length !== count * 4)
    fail(1, `${file}: expected ${count} float32 values (${count * 4} bytes), got ${buf.length} bytes`);
  const x = new Float32Array(count);
  for (let i = 0; i < count; i++) x[i] = buf.readFloatLE(i * 4);
  return x;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(a.model)) fail(2, `${a.model}: no such file`);
  const { ort, version } = loadOrt();
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ["cpu"],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const shape = inputShape(session, a.batch, a.model);
  const count = shape.reduce((p, d) => p * d, 1);
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];

  if (a.input !== null) {
    const feeds = { [inputName]: new ort.Tensor("float32", readRaw(a.input, count), shape) };
    const y = (await session.run(feeds))[outputName];
    const out = Buffer.alloc(y.data.length * 4);
    y.data.forEach((v, i) => out.writeFloatLE(v, i * 4));
    fs.writeFileSync(a.output, out);
    console.log(JSON.stringify({ engine: "onnxruntime", input_shape: shape, output_shape: y.dims }));
    return;
  }

  const feeds = { [inputName]: new ort.Tensor("float32", syntheticInput(count), shape) };
  for (let i = 0; i < a.warmup; i++) await session.run(feeds);
  let iters = 0;
  const start = process.hrtime.bigint();
  let seconds = 0;
  while (iters < Math.max(1, a.iters) || seconds < a.minSeconds) {
    await session.run(feeds);
    iters++;
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
  }
  console.log(JSON.stringify({
    engine: "onnxruntime",
    ort_version: version,
    node_version: process.version,
    model: a.model,
    batch: a.batch,
    threads: a.threads,
    iters,
    seconds,
    ms_per_iter: (seconds * 1e3) / iters,
    images_per_s: (iters * a.batch) / seconds,
    peak_rss_kib: process.resourceUsage().maxRSS,
  }));
}

main().catch(e => fail(1, `ort_bench.js: ${e && e.message ? e.message : e}`));
