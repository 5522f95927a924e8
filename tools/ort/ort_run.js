#!/usr/bin/env node
/*
 * ort_run.js - run one ONNX model with ONNX Runtime (CPU) and save its outputs.
 *
 * Reference ("peer") outputs for edgeq tests come from this script.
 *
 * Usage:
 *   node ort_run.js MODEL.onnx --input in0.npy [--input in1.npy ...]
 *                              --output out0.npy [--output out1.npy ...]
 *                              [--threads N] [--opt-level L] [--quiet]
 *
 *   --input FILE        NPY file for the next model input, in the order of the
 *                       model's graph inputs. NAME=FILE binds a named input.
 *   --output FILE       where to write the next model output (NPY), in the order
 *                       of the model's graph outputs. NAME=FILE picks a named
 *                       output. Outputs without an --output are not written.
 *   --threads N         intra-op threads (default 1, which keeps runs repeatable
 *                       and light on a shared machine).
 *   --opt-level L       graph optimization level: disabled, basic, extended or
 *                       all (default all, ONNX Runtime's default).
 *   --quiet             do not print the summary line per output.
 *
 * Input NPY files must be C order, little endian; supported element types are
 * float32, float64, int8, uint8, int16, uint16, int32, uint32, int64, uint64
 * and bool. Each input's type and shape are checked against the model before
 * running. Outputs are written in the element type ONNX Runtime returns.
 *
 * The onnxruntime-node package is looked up in, in order: the directory named
 * by the EDGEQ_ORT_DIR environment variable (the directory holding
 * node_modules), this script's directory, and the normal Node.js search path.
 * tools/setup_ort.sh installs it.
 *
 * Exit status: 0 on success, 2 on bad arguments or input files, 1 when ONNX
 * Runtime fails to load or run the model.
 */
'use strict';

const fs = require('fs');
const path = require('path');

class UsageError extends Error {}

// ---------------------------------------------------------------------------
// NPY format (version 1.0 / 2.0 / 3.0 read, 1.0 or 2.0 written)
// ---------------------------------------------------------------------------

// NPY dtype string (without byte order) -> ORT tensor type and typed array.
const NPY_TYPES = {
  f4: { ort: 'float32', array: Float32Array, size: 4 },
  f8: { ort: 'float64', array: Float64Array, size: 8 },
  i1: { ort: 'int8', array: Int8Array, size: 1 },
  u1: { ort: 'uint8', array: Uint8Array, size: 1 },
  i2: { ort: 'int16', array: Int16Array, size: 2 },
  u2: { ort: 'uint16', array: Uint16Array, size: 2 },
  i4: { ort: 'int32', array: Int32Array, size: 4 },
  u4: { ort: 'uint32', array: Uint32Array, size: 4 },
  i8: { ort: 'int64', array: BigInt64Array, size: 8 },
  u8: { ort: 'uint64', array: BigUint64Array, size: 8 },
  b1: { ort: 'bool', array: Uint8Array, size: 1 },
};

const ORT_TO_NPY = {};
for (const [code, t] of Object.entries(NPY_TYPES)) ORT_TO_NPY[t.ort] = code;

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Parse the Python-literal header dict of an NPY file. */
function parseNpyHeader(text, file) {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) {
    throw new UsageError(`${file}: malformed NPY header: ${text.trim()}`);
  }
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) {
        throw new UsageError(`${file}: bad dimension '${s}' in NPY shape`);
      }
      return v;
    });
  return { descr: descr[1], fortranOrder: fortran[1] === 'True', shape: dims };
}

/** Read an NPY file into { type, shape, data } where data is a typed array. */
function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read input file ${file}: ${e.message}`);
  }
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new UsageError(`${file}: not an NPY file (bad magic)`);
  }
  const major = buf[6];
  let headerLen;
  let offset;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new UsageError(`${file}: truncated NPY header`);
    headerLen = buf.readUInt32LE(8);
    offset = 12;
  } else {
    throw new UsageError(`${file}: unsupported NPY version ${major}`);
  }
  if (offset + headerLen > buf.length) {
    throw new UsageError(`${file}: truncated NPY header`);
  }
  const encoding = major === 3 ? 'utf8' : 'latin1';
  const header = parseNpyHeader(buf.toString(encoding, offset, offset + headerLen), file);
  const dataStart = offset + headerLen;

  if (header.fortranOrder && header.shape.filter((d) => d > 1).length > 1) {
    throw new UsageError(`${file}: Fortran-order arrays are not supported; save in C order`);
  }
  const m = /^([<>|=]?)([a-z]\d+)$/.exec(header.descr);
  if (!m || !(m[2] in NPY_TYPES)) {
    throw new UsageError(`${file}: unsupported NPY dtype '${header.descr}' ` +
      `(supported: float32, float64, int8, uint8, int16, uint16, int32, uint32, int64, uint64, bool)`);
  }
  const t = NPY_TYPES[m[2]];
  if (m[1] === '>' && t.size > 1) {
    throw new UsageError(`${file}: big-endian NPY data is not supported`);
  }
  const count = header.shape.reduce((a, b) => a * b, 1);
  const byteLen = count * t.size;
  if (buf.length - dataStart !== byteLen) {
    throw new UsageError(`${file}: expected ${byteLen} data bytes for shape ` +
      `[${header.shape}] ${header.descr}, found ${buf.length - dataStart}`);
  }
  // Copy into a fresh, aligned buffer for the typed array view.
  const raw = new ArrayBuffer(byteLen);
  new Uint8Array(raw).set(buf.subarray(dataStart, dataStart + byteLen));
  let data = new t.array(raw);
  if (t.ort === 'bool') data = new Uint8Array(raw);
  return { type: t.ort, shape: header.shape, data };
}

/** Serialise a typed array with the given ORT type and shape as NPY bytes. */
function encodeNpy(type, shape, data) {
  const code = ORT_TO_NPY[type];
  if (!code) throw new Error(`cannot write output of type '${type}' as NPY`);
  const t = NPY_TYPES[code];
  const order = t.size === 1 ? '|' : '<';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${order}${code}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Header (magic + version + length field + dict + newline) padded to 64 bytes.
  let version = 1;
  let prefix = 10;
  let total = prefix + dict.length + 1;
  if (Math.ceil(total / 64) * 64 - prefix > 0xffff) {
    version = 2;
    prefix = 12;
    total = prefix + dict.length + 1;
  }
  const padded = Math.ceil(total / 64) * 64;
  dict = dict + ' '.repeat(padded - total) + '\n';
  const head = Buffer.alloc(prefix);
  MAGIC.copy(head, 0);
  head[6] = version;
  head[7] = 0;
  if (version === 1) head.writeUInt16LE(dict.length, 8);
  else head.writeUInt32LE(dict.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), body]);
}

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

function usage() {
  return 'usage: node ort_run.js MODEL.onnx --input IN.npy [--input ...] ' +
    '--output OUT.npy [--output ...] [--threads N] [--opt-level L] [--quiet]';
}

/** The integer value of option `flag`, at least `min`. */
function integerOption(flag, v, min) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got '${v}'`);
  return n;
}

/** The value of --opt-level, checked. */
function optLevelOption(v) {
  if (!['disabled', 'basic', 'extended', 'all'].includes(v)) {
    throw new UsageError(`--opt-level must be disabled, basic, extended or all, got '${v}'`);
  }
  return v;
}

/**
 * Walks a command line: flags[name](value) handles option `name`, calling value() for
 * its argument; --help prints `usageText`; the one bare argument is the model, which
 * is returned.
 */
function parseCommandLine(argv, usageText, flags) {
  let model = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value\n${usageText}`);
      return argv[++i];
    };
    if (a === '--help' || a === '-h') {
      console.log(usageText);
      process.exit(0);
    } else if (Object.prototype.hasOwnProperty.call(flags, a)) flags[a](value);
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}\n${usageText}`);
    else if (model === null) model = a;
    else throw new UsageError(`unexpected argument ${a}\n${usageText}`);
  }
  if (model === null) throw new UsageError(`no model given\n${usageText}`);
  return model;
}

function parseArgs(argv) {
  const opts = { model: null, inputs: [], outputs: [], threads: 1, optLevel: 'all', quiet: false };
  const input = (value) => opts.inputs.push(value());
  const output = (value) => opts.outputs.push(value());
  const quiet = () => { opts.quiet = true; };
  opts.model = parseCommandLine(argv, usage(), {
    '--input': input, '-i': input, '--output': output, '-o': output, '--quiet': quiet, '-q': quiet,
    '--threads': (value) => { opts.threads = integerOption('--threads', value(), 1); },
    '--opt-level': (value) => { opts.optLevel = optLevelOption(value()); },
  });
  if (opts.inputs.length === 0) throw new UsageError(`no --input given\n${usage()}`);
  if (opts.outputs.length === 0) throw new UsageError(`no --output given\n${usage()}`);
  if (!fs.existsSync(opts.model)) throw new UsageError(`model file not found: ${opts.model}`);
  return opts;
}

/** Split "name=file" into [name, file]; a plain file gives [null, file]. */
function splitBinding(spec) {
  const eq = spec.indexOf('=');
  // A path can contain '=' too; only treat it as a binding if the left side
  // has no path separator.
  if (eq > 0 && !spec.slice(0, eq).includes(path.sep)) {
    return [spec.slice(0, eq), spec.slice(eq + 1)];
  }
  return [null, spec];
}

/**
 * Match --input/--output specs to the model's names. NAME=FILE specs bind by
 * name; plain FILE specs take the remaining names in model order.
 */
function bindNames(specs, names, what) {
  if (specs.length > names.length) {
    throw new UsageError(`${specs.length} --${what} given but the model has ` +
      `${names.length} ${what}(s): ${names.join(', ')}`);
  }
  const parsed = specs.map((spec) => {
    const [name, file] = splitBinding(spec);
    // A left side that is not a model name means the file name contains '='.
    return name !== null && names.includes(name) ? { name, file } : { name: null, file: spec };
  });
  const taken = new Set();
  for (const p of parsed) {
    if (p.name === null) continue;
    if (taken.has(p.name)) throw new UsageError(`${what} '${p.name}' is bound twice`);
    taken.add(p.name);
  }
  const free = names.filter((n) => !taken.has(n));
  return parsed.map((p) => (p.name !== null ? p : { name: free.shift(), file: p.file }));
}

/** Check an input array against the model's declared type and shape. */
function checkInput(meta, arr, file) {
  if (!meta || !meta.isTensor) return;
  if (meta.type && meta.type !== arr.type) {
    throw new UsageError(`${file}: input '${meta.name}' must be ${meta.type}, the file holds ${arr.type}`);
  }
  if (Array.isArray(meta.shape)) {
    const fixed = (d) => typeof d === 'number' && d >= 0;
    const ok = meta.shape.length === arr.shape.length &&
      meta.shape.every((d, i) => !fixed(d) || d === arr.shape[i]);
    if (!ok) {
      throw new UsageError(`${file}: input '${meta.name}' has shape [${meta.shape}], ` +
        `the file holds [${arr.shape}]`);
    }
  }
}

// ---------------------------------------------------------------------------
// ONNX Runtime
// ---------------------------------------------------------------------------

function loadOrt() {
  const places = [];
  if (process.env.EDGEQ_ORT_DIR) places.push(path.resolve(process.env.EDGEQ_ORT_DIR));
  places.push(__dirname);
  for (const dir of places) {
    try {
      return require(require.resolve('onnxruntime-node', { paths: [dir] }));
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  try {
    return require('onnxruntime-node');
  } catch (e) {
    throw new Error('onnxruntime-node is not installed (looked in ' +
      `${places.join(', ')}); run tools/setup_ort.sh first (${e.message})`);
  }
}

/** A CPU session: `threads` intra-op threads, one inter-op thread, sequential execution. */
async function createSession(ort, model, threads, optLevel) {
  try {
    return await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: optLevel,
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
  } catch (e) {
    throw new Error(`ONNX Runtime could not load ${model}: ${e.message}`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const session = await createSession(ort, opts.model, opts.threads, opts.optLevel);

  const inputs = bindNames(opts.inputs, session.inputNames, 'input');
  if (inputs.length !== session.inputNames.length) {
    throw new UsageError(`model needs ${session.inputNames.length} input(s) ` +
      `(${session.inputNames.join(', ')}) but ${inputs.length} --input given`);
  }
  const metadata = {};
  for (const m of session.inputMetadata || []) metadata[m.name] = m;
  const feeds = {};
  for (const { name, file } of inputs) {
    const arr = readNpy(file);
    checkInput(metadata[name], arr, file);
    feeds[name] = new ort.Tensor(arr.type, arr.data, arr.shape);
  }

  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    throw new Error(`ONNX Runtime failed running ${opts.model}: ${e.message}`);
  }

  const outputs = bindNames(opts.outputs, session.outputNames, 'output');
  for (const { name, file } of outputs) {
    const t = results[name];
    const bytes = encodeNpy(t.type, t.dims, t.data);
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, bytes);
    if (!opts.quiet) console.log(`${name}: ${t.type} [${t.dims.join(', ')}] -> ${file}`);
  }
}

// Other scripts (bench/peers/ort_bench.js) reuse the loader, the session set-up, the
// command-line helpers and the NPY reader.
module.exports = { loadOrt, createSession, readNpy, parseCommandLine, integerOption, optLevelOption, UsageError };

if (require.main === module) {
  main().catch((e) => {
    console.error(`ort_run.js: error: ${e.message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  });
}
