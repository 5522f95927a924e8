#!/usr/bin/env python3
"""Compare two NPY arrays, e.g. an edgeq output with an ONNX Runtime golden.

Usage:
  python3 tools/compare_npy.py A.npy B.npy [--scale S --zero-point Z]

Prints the element count and how closely the arrays agree:
  * with --scale/--zero-point (float outputs of a quantized model): both arrays
    are mapped to quantized steps, q = round(y / S) + Z, and the script prints
    the fraction of equal elements, the fraction within one step and the
    largest difference in steps;
  * for integer arrays (already quantized): the same, on the raw values;
  * otherwise (float): fraction exactly equal, max absolute error, max relative
    error (relative to max(|B|, 1e-6)) and the index of the worst element.

Exit status: 0 if the shapes match, 1 if they differ, 2 on bad arguments.
"""

import argparse
import sys

import numpy as np


def to_steps(y, scale, zero_point):
    return np.round(y.astype(np.float64) / scale) + zero_point


def report_steps(qa, qb):
    diff = np.abs(qa.astype(np.int64) - qb.astype(np.int64)).ravel()
    worst = int(diff.argmax()) if diff.size else 0
    print(f"equal:           {np.mean(diff == 0) * 100:.3f}%")
    print(f"within 1 step:   {np.mean(diff <= 1) * 100:.3f}%")
    print(f"max diff:        {int(diff.max()) if diff.size else 0} steps"
          + (f" (flat index {worst})" if diff.size else ""))


def report_float(a, b):
    a64, b64 = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    abs_err = np.abs(a64 - b64)
    rel_err = abs_err / np.maximum(np.abs(b64), 1e-6)
    worst = int(abs_err.argmax()) if abs_err.size else 0
    print(f"equal:           {np.mean(a64 == b64) * 100:.3f}%")
    print(f"max abs error:   {abs_err.max() if abs_err.size else 0:.6g}"
          + (f" (flat index {worst}: {a64[worst]:.6g} vs {b64[worst]:.6g})" if abs_err.size else ""))
    print(f"max rel error:   {rel_err.max() if rel_err.size else 0:.6g}")
    print(f"mean abs error:  {abs_err.mean() if abs_err.size else 0:.6g}")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Compare two NPY arrays.")
    ap.add_argument("a", help="first NPY file (e.g. edgeq output)")
    ap.add_argument("b", help="second NPY file (e.g. ONNX Runtime golden)")
    ap.add_argument("--scale", type=float, help="output quantization scale")
    ap.add_argument("--zero-point", type=int, default=0, help="output zero point (default 0)")
    args = ap.parse_args(argv)
    if args.scale is not None and not args.scale > 0:
        ap.error("--scale must be positive")
    try:
        a, b = np.load(args.a), np.load(args.b)
    except (OSError, ValueError) as err:
        print(f"compare_npy.py: error: {err}", file=sys.stderr)
        return 2

    print(f"A: {args.a} {a.dtype} {list(a.shape)}")
    print(f"B: {args.b} {b.dtype} {list(b.shape)}")
    if a.shape != b.shape:
        if a.size != b.size:
            print(f"shapes differ and element counts differ ({a.size} vs {b.size})")
            return 1
        print("shapes differ (same element count): comparing flattened")
    print(f"elements:        {a.size}")
    if args.scale is not None:
        print(f"quantized with scale {args.scale:.9g}, zero point {args.zero_point}")
        report_steps(to_steps(a, args.scale, args.zero_point).ravel(),
                     to_steps(b, args.scale, args.zero_point).ravel())
    elif np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        report_steps(a.ravel(), b.ravel())
    else:
        report_float(a, b)
    return 0 if a.shape == b.shape else 1


if __name__ == "__main__":
    sys.exit(main())
