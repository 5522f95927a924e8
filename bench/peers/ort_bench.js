#!/usr/bin/env node
/*
 * ort_bench.js - latency of one ONNX model on ONNX Runtime (CPU), the peer that
 * bench/peers/compare.py sets beside `edgeq bench`.
 *
 * Usage:
 *   node ort_bench.js MODEL.onnx [--threads N] [--warmup W] [--runs R]
 *                                [--opt-level L] [--input IN.npy ...]
 *
 * The session is set up as a single inference stream should be: graph optimization
 * level `all` (default), N intra-op threads, one inter-op thread, sequential execution.
 * Inputs are the NPY files given (in the model's input order) or, without --input,
 * values from a fixed seed shaped by the model's input metadata (symbolic dimensions
 * become 1): float32 in [-1, 1), int8 / uint8 over their range, int64 / int32 in {0, 1}
 * (valid token ids, masks and token types for any embedding table; pass --input files
 * for other ids). After W untimed runs, R runs are timed one by one with the
 * monotonic clock around `session.run`.
 *
 * Prints one JSON object on stdout: peer, version, model, threads, opt_level, load_ms
 * (session creation), load_cpu_ms (its CPU time, all threads), warmup, runs, samples_ms
 * (every timed run) and median_ms.
 * onnxruntime-node is found as tools/ort/ort_run.js finds it (EDGEQ_ORT_DIR first;
 * tools/setup_ort.sh installs it). Exit status: 0, 2 on bad arguments, 1 on failure.
 */
'use strict';

const path = require('path');
const {
  loadOrt, createSession, readNpy, parseCommandLine, integerOption, optLevelOption, UsageError,
} = require(path.join(__dirname, '..', '..', 'tools', 'ort', 'ort_run.js'));

function usage() {
  return 'usage: node ort_bench.js MODEL.onnx [--threads N] [--warmup W] [--runs R] ' +
    '[--opt-level L] [--input IN.npy ...]';
}

function parseArgs(argv) {
  const opts = { model: null, threads: 1, warmup: 10, runs: 100, optLevel: 'all', inputs: [] };
  const input = (value) => opts.inputs.push(value());
  opts.model = parseCommandLine(argv, usage(), {
    '--threads': (value) => { opts.threads = integerOption('--threads', value(), 1); },
    '--warmup': (value) => { opts.warmup = integerOption('--warmup', value(), 0); },
    '--runs': (value) => { opts.runs = integerOption('--runs', value(), 1); },
    '--opt-level': (value) => { opts.optLevel = optLevelOption(value()); },
    '--input': input,
    '-i': input,
  });
  return opts;
}

// Small deterministic generator (mulberry32): the same inputs on every run.
function makeRandom(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RANDOM_ARRAYS = {
  float32: Float32Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array, int64: BigInt64Array,
};

function randomValue(type, random) {
  if (type === 'float32') return 2 * random() - 1;
  if (type === 'int64') return BigInt(random() < 0.5 ? 0 : 1);
  if (type === 'int32') return random() < 0.5 ? 0 : 1;
  return Math.floor(256 * random()) - (type === 'int8' ? 128 : 0);
}

function randomTensor(ort, meta, random) {
  const TypedArray = RANDOM_ARRAYS[meta.type];
  if (!TypedArray || !meta.isTensor || !Array.isArray(meta.shape)) {
    throw new UsageError(`input '${meta.name}': cannot make random data for it; pass --input files`);
  }
  const shape = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const data = new TypedArray(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    data[i] = randomValue(meta.type, random);
  }
  return new ort.Tensor(meta.type, data, shape);
}

function feedsFor(ort, session, opts) {
  const feeds = {};
  if (opts.inputs.length > 0) {
    if (opts.inputs.length !== session.inputNames.length) {
      throw new UsageError(`the model has ${session.inputNames.length} input(s), ${opts.inputs.length} --input given`);
    }
    session.inputNames.forEach((name, i) => {
      const arr = readNpy(opts.inputs[i]);
      feeds[name] = new ort.Tensor(arr.type, arr.data, arr.shape);
    });
    return feeds;
  }
  const random = makeRandom(20261122);
  const metadata = session.inputMetadata || [];
  for (const name of session.inputNames) {
    const meta = metadata.find((m) => m.name === name);
    if (!meta) throw new UsageError(`no metadata for input '${name}'; pass --input files`);
    feeds[name] = randomTensor(ort, meta, random);
  }
  return feeds;
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const session = await createSession(ort, opts.model, opts.threads, opts.optLevel);
  const loadMs = msSince(t0);
  const cpu = process.cpuUsage(cpu0);  // microseconds, every thread of the process
  const loadCpuMs = (cpu.user + cpu.system) / 1e3;
  const feeds = feedsFor(ort, session, opts);
  for (let i = 0; i < opts.warmup; i++) await session.run(feeds);
  const samples = [];
  for (let i = 0; i < opts.runs; i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    samples.push(msSince(start));
  }
  const versions = (ort.env && ort.env.versions) || {};
  console.log(JSON.stringify({
    peer: 'onnxruntime',
    version: versions.node || versions.common || 'unknown',
    model: opts.model,
    threads: opts.threads,
    opt_level: opts.optLevel,
    load_ms: loadMs,
    load_cpu_ms: loadCpuMs,
    warmup: opts.warmup,
    runs: opts.runs,
    samples_ms: samples,
    median_ms: median(samples),
  }));
}

main().catch((e) => {
  console.error(`ort_bench.js: error: ${e.message}`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
