// The op table: one line per operator edgeq executes, and everything that is said of
// an operator anywhere in the tree comes from that line.
//
// EDGEQ_OPS(X) calls X(Name, Options, Shape, Prepare, Flags) once per op, in the order
// of the file format's enum (graph/edgeq.fbs; graph/format.cc static_asserts that the
// two agree name for name and value for value). From it come:
//   * OpType::k<Name> and op_name() ("Conv2D")                     graph/ir.h, ir.cc
//   * the options table a node carries in the file: fb::Options::<Options>
//     (NONE for none)                                              graph/format.cc
//   * the shape rule: infer_<Shape>() validates operands and gives output shapes
//                                                                  graph/shape.cc
//   * the runtime registration: prepare_<Prepare>() builds the prepared op
//                                                                  runtime/ops/registry.cc
//   * the properties below, asked through op_has() by the importer's passes, the
//     quantizer, the planner and the validator instead of local switches.
//
// Semantics (X: first input, Y: first output; activations of rank 4 are NHWC):
//  Conv2D          in: X[N,H,W,Cin], W[Cout,KH,KW,Cin/groups], B[Cout] (optional; F32 for a
//                  float conv, S32 with scale s_x*s_w[c] and zero point 0 for a quantized
//                  one). W is S8 (per-tensor or per-channel along axis 0) when quantized.
//                  Padding is filled with X's zero point. Out: Y[N,OH,OW,Cout].
//                  attrs: stride, dilation, pad_*, groups, act_min/max.
//                  Float X and Y with S8 W (zero point 0) and F32 B, `dynamic` 1: X quantized
//                  at run time as one tensor, as ONNX DynamicQuantizeLinear does (ONNX
//                  Runtime's ConvInteger form; ref::dynamic_conv2d).
//  FullyConnected  in: X[..., K], W[N,K], B[N] (optional). Out: Y[..., N]. act_min/max.
//                  Float X and Y with S8 W (zero point 0) and F32 B: dynamically quantized,
//                  each row of X quantized at run time (ref::dynamic_fully_connected).
//                  S8/U8 X (per tensor) with an F32 Y (ONNX Runtime's MatMulIntegerToFloat):
//                  S8 W (per tensor or per channel along axis 0, any zero points), F32 B;
//                  acc = sum_k (x - zx)(w - zw[c]) exactly in int32 (wrapping), then in float
//                  y = clamp(float(acc) * (sx * sw[c]) + B[c]): the scale product rounded
//                  first, the multiply and the add each rounded (ref::qfully_connected_float).
//  Add Sub Mul Div numpy broadcasting of A and B. act_min/max. Also on S32 or S64 A, B and
//                  Y (ids and positions: wrapping two's-complement arithmetic, act_min/max
//                  unbounded; Div truncates, x / 0 is 0).
//  Mod             numpy broadcasting of A and B, both S32, S64 or (fmod 1) F32, not
//                  quantized: the remainder with the divisor's sign (fmod 0, Python's %) or
//                  the dividend's (fmod 1); an integer x mod 0 is 0 (ref::mod).
//  Relu Clip LeakyRelu Sigmoid HardSigmoid HardSwish Tanh Erf Softplus Elu Gelu Mish
//                  elementwise; Clip: [alpha, beta] = [min, max]; LeakyRelu: alpha;
//                  HardSigmoid: max(0, min(1, alpha*x + beta)); Elu: alpha; Gelu: alpha 0
//                  the erf form, 1 the tanh approximation; Mish: x * tanh(softplus(x)).
//                  Quantized: a 256-entry table built at session creation.
//  Softmax         along `axis` (non-negative).
//  MaxPool2D AvgPool2D  NHWC; kernel_h/w, stride, dilation (max only), pad_*,
//                  count_include_pad (avg only), act_min/max.
//  GlobalAvgPool   X[N,H,W,C] -> Y[N,1,1,C]. act_min/max.
//  Concat          along `axis`; quantized inputs are requantized to Y's params.
//  Reshape         Y has X's data in X's order with Y's shape (a view at run time).
//  Transpose       `perm`: Y.shape[i] = X.shape[perm[i]].
//  Pad             constant mode; `pads` = [begin_0..begin_{r-1}, end_0..end_{r-1}],
//                  all >= 0; fill `pad_value` (real units; quantized: round(v/s)+zp).
//  PadReflect PadEdge  `pads` as Pad; the new elements mirror the input around its edge
//                  element (reflect: a pad of p needs p < dim) or repeat it (edge).
//  ResizeNearest   X[N,H,W,C] -> Y[N,H*scale_h,W*scale_w,C], Y[n,y,x,c] = X[n,y/sh,x/sw,c].
//  ResizeLinear    X[N,H,W,C] F32 -> Y[N,OH,OW,C] (any sizes), bilinear: per output row / column
//                  a source coordinate by `coord_mode` (0 half_pixel, 1 pytorch_half_pixel,
//                  2 align_corners, 3 asymmetric; scale = out / in), clamped to the input,
//                  and the two nearest rows / columns weighted (kernels/ref/ref.h).
//  ResizeCubic     X[N,H,W,C] F32 -> Y[N,OH,OW,C], bicubic as ONNX Resize's cubic mode: the
//                  source coordinate as ResizeLinear's (not clamped), the 4 x 4 nearest
//                  input pixels weighted by Keys' cubic with `cubic_a` (-0.75 as PyTorch),
//                  indices clamped to the input or, with `exclude_outside`, outside taps
//                  weighted 0 and the rest renormalized (kernels/ref/ref.h).
//  GatherElements  in: X (any dtype), I (S32/S64) of X's rank, I's dimensions at most X's
//                  except on `axis`. Out: Y with I's shape and X's dtype and quantization,
//                  Y[.., j, ..] = X[.., I[.., j, ..], ..] along `axis` (torch.gather); an index
//                  in [-X.dim, 0) counts from the end, others are a run-time error.
//  ScatterElements in: data X (any dtype), I (S32/S64) of X's rank, U with I's shape and X's
//                  dtype and quantization, I's dimensions at most X's except on `axis`.
//                  Out: Y like X, Y = X then Y[.., I[.., j, ..], ..] = U[.., j, ..] along
//                  `axis` in U's order (torch.scatter), or combined by `reduction` (1 add,
//                  2 mul, 3 max, 4 min: F32, S32 and S64 only). Indices as GatherElements'.
//  ScatterND       in: data X, I (S32/S64) [..., q] (q <= X's rank), U [I's dims but the
//                  last, X's dims from q on] of X's dtype and quantization. Out: Y = X, then
//                  per index tuple t the slice Y[I[t]] = U[t] (or combined by `reduction`,
//                  as ScatterElements), in order (torch's slice assignment, index_put_);
//                  an entry in [-X.dim, 0) counts from the end, others are a run-time error.
//  TopK            the `k` largest (`largest` 1) or smallest values along `axis` and their
//                  indices, in that order (equal values: the lower index first; a NaN counts
//                  as the largest). In: X (F32, S32, S64, or S8/U8: the stored bytes order as
//                  the real values). Out: Values (X's dtype and quantization), Indices S64,
//                  X's shape with k on the axis.
//  ResizeNearestTo X[N,H,W,C] -> Y[N,OH,OW,C] (any sizes, any dtype): Y[n,y,x,c] =
//                  X[n, r(y), r(x), c], r from `coord_mode` (ResizeLinear's, and 4
//                  tf_half_pixel_for_nn) and `nearest_mode` (0 round_prefer_floor, 1
//                  round_prefer_ceil, 2 floor, 3 ceil), clamped (kernels/ref/ref.h).
//  Split           along `axis`; sizes are the outputs' sizes along it.
//  Slice           `starts`, `steps` per dimension (full rank, normalized: 0 <= start <
//                  dim, step != 0); the output's shape gives the count per dimension.
//  Quantize        F32 -> S8/U8 with Y's params: clamp(round_half_even(x/s) + zp).
//  Dequantize      S8/U8/S32 -> F32: (q - zp) * s.
//  Requantize      S8/U8 -> S8/U8 with other params: clamp(round((s_x/s_y)(q-zx)) + zy).
//  Lookup          in: X (S8/U8), T[256] constant of X's dtype. Y[i] = T[(uint8)X[i]]: a
//                  dequantize -> float elementwise functions of X -> quantize island,
//                  evaluated once on the 256 inputs (graph/onnx/ir_passes.cc).
//  MatMul          in: A[..., M, K], B[..., K, N], both activations; the batch dimensions
//                  broadcast (numpy). Out: Y[..., M, N]. Float: A, B, Y F32 (`dynamic` 0).
//                  Quantized: A and B each S8 or U8 per tensor with their own zero points,
//                  Y S8/U8: requantized sum over k of (a - za)(b - zb). Y F32: that sum
//                  exactly in int32, then float(acc) * (sa * sb), the scale product rounded
//                  first (ref::qmatmul_float).
//                  Dynamically quantized (A, B, Y F32, `dynamic` != 0): see FullyConnected.
//  FullyConnected and MatMul `dynamic`: how float activations are quantized at run time.
//                  1: ONNX DynamicQuantizeLinear exactly (uint8, per tensor: the range
//                  [min(0, min x), max(0, max x)] over 255 steps, zero point
//                  round_half_even(-min/scale) saturated), the int32 result times
//                  s_x * s_w in float. 2 (and 0 on FullyConnected): edgeq's per-row mode
//                  (each row of A, and each column of B, its own scale).
//  LayerNorm       in: X[..., C], gamma[C] (F32 constant), beta[C] (F32 constant, optional).
//                  Y = (x - mean) / sqrt(var + epsilon) * gamma + beta over the last axis
//                  (var: the biased variance). Quantized: X, Y S8/U8 per tensor; the mean
//                  and variance in integer arithmetic (kernels/ref/ref.h).
//  Gather          in: T[V, D...] constant table (F32, or S8/U8 per tensor), I (S32/S64)
//                  indices. Out: Y[I.shape..., D...] = T[I[...]], with T's dtype and
//                  quantization (an embedding lookup). An index outside [0, V) is a run-time
//                  error naming the tensor, never a read outside the table.
//  Cast            value conversion between F32, S32, S64, Bool (and S8/U8 without
//                  quantization): float -> integer truncates toward zero and saturates;
//                  -> Bool gives x != 0 (NaN: true); Bool -> a number gives 0 or 1. An S8/U8
//                  tensor, quantized or not, -> S32/S64: its stored integers.
//  Sqrt Reciprocal Pow Exp Log Neg Abs  elementwise float functions (IEEE: sqrt of a
//                  negative and log of a negative are NaN, 1/0 is inf); Pow: x^alpha, the
//                  exponent a constant (alpha 2: x*x exactly; 0.5: sqrt). Quantized: a
//                  256-entry table, as the other unary ops.
//  Floor Ceil Round  elementwise (Round: half to even, as ONNX); quantized: a table.
//  Sin Cos Softsign ThresholdedRelu Shrink  elementwise (Sin, Cos in double rounded to
//                  float; Softsign x / (1 + |x|); ThresholdedRelu: x > alpha ? x : 0;
//                  Shrink: alpha = lambd, beta = bias); quantized: a table.
//  Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh  elementwise, in double rounded to
//                  float (outside the domain: NaN; Atanh(+-1): +-inf); quantized: a table.
//  GridSample      X[N,H,W,C] F32, grid[N,OH,OW,2] F32 (ONNX order: x then y, each in
//                  [-1, 1] across the input) -> Y[N,OH,OW,C] F32: each output pixel samples
//                  X at its grid point as ONNX Runtime's GridSample: the point mapped to
//                  pixels (`align_corners`: -1 and 1 the centres of the edge pixels, else
//                  their outer edges), then `grid_mode` 0 bilinear, 1 nearest (half to
//                  even), 2 bicubic (Keys, a = -0.75), reading pixels outside the input by
//                  `grid_padding` 0 zeros, 1 border (the index clamped), 2 reflection (the
//                  index reflected at the edges) (kernels/ref/ref.h grid_sample_f32).
//  ReduceMean ReduceSum ReduceMax ReduceMin  Y has X's rank; the reduced axes are those where Y's dimension
//                  is 1 and X's is not (keepdims; ONNX's keepdims=0 adds a Reshape). The
//                  reduced axes must be contiguous once size-1 axes are ignored. Float only:
//                  the sum in float (kernels/ref/ref.h, reduce_f32), the mean that sum /
//                  float(count); max / min: NaN if any element is NaN.
//  Equal Less Greater  numpy broadcasting of A and B (both F32, S32, S64 or Bool; not
//                  quantized) -> Bool.
//  And Or Xor Not  Bool -> Bool (Not: one input); And/Or/Xor broadcast.
//  Max Min         elementwise of A and B with numpy broadcasting (F32, S32 or S64, not
//                  quantized); a NaN operand gives NaN.
//  ArgMax          index along `axis` of the largest value (the first when equal; a NaN
//                  counts as the largest), X F32 or S8/U8 (the stored bytes order as the
//                  real values), Y S64 with X's shape and 1 on the axis.
//  CumSum          running sums along `axis` (F32 in float in index order; S32/S64 wrapping):
//                  Y[.., i, ..] = X[.., 0, ..] + ... + X[.., i, ..] (RoBERTa's position ids).
//  Where           in: C (Bool), X, Y (same dtype; quantized: equal parameters, which Y
//                  keeps). Out[i] = C[i] ? X[i] : Y[i], the three broadcast (numpy).
//  LSTM GRU        ONNX's, float, sequence-major: in X[S, B, I], W[D, G*H, I], R[D, G*H, H]
//                  (G: 4 gates i, o, f, c for LSTM; 3, z, r, h, for GRU), then optional
//                  (-1 when absent) B[D, 2*G*H], initial_h[D, B, H], and for LSTM
//                  initial_c[D, B, H] and peepholes P[D, 3*H]. Out: Y[S, D, B, H], Y_h[D, B, H]
//                  (and LSTM's Y_c[D, B, H]). `direction` 0 forward, 1 reverse, 2 both
//                  (D = 2); `clip` > 0 clamps the gates' inputs; GRU's
//                  `linear_before_reset`. Sigmoid and tanh activations (ref::lstm_f32).
//
// Adding an op: docs/adding-an-op.md.
#pragma once

#include <cstdint>

namespace edgeq {

// Properties of an op (the Flags column).
enum OpFlag : uint32_t {
  // The op clamps its output to [act_min, act_max]: a following ReLU / ReLU6 / Clip
  // folds into it (and into its quantized output range).
  kOpActRange = 1u << 0,
  // Input 1 is a weight tensor and input 2 an optional bias (the only input that may
  // be absent); quantized as int8 weights and an int32 bias of scale s_x * s_w.
  kOpWeights = 1u << 1,
  // Moves or copies data and computes nothing, so it commutes with per-tensor
  // (de)quantization (a Pad only when its fill value is 0: see is_data_movement()).
  kOpMovement = 1u << 2,
  // The output is the input's memory seen with another shape (no kernel runs).
  kOpView = 1u << 3,
  // Every output value is one of the input's values (or a Pad's fill): the output
  // keeps the input's quantization parameters (an op with a clamp only while the clamp
  // is unbounded: see preserves_range()).
  kOpRangePreserving = 1u << 4,
  // Converts between the float and the integer domain (or between two integer
  // parameter sets): never quantized by calibration, skipped by error reports.
  kOpConversion = 1u << 5,
  // Calibration may run the op in int8 (it has a quantized reference kernel).
  kOpQuantizable = 1u << 6,
};

// X(Name, Options, Shape, Prepare, Flags)
#define EDGEQ_OPS(X)                                                                                             \
  X(Conv2D, Conv2DOptions, conv, conv, kOpActRange | kOpWeights | kOpQuantizable)                                \
  X(FullyConnected, FullyConnectedOptions, fully_connected, fully_connected,                                     \
    kOpActRange | kOpWeights | kOpQuantizable)                                                                   \
  X(Add, BinaryOptions, binary, binary, kOpActRange | kOpQuantizable)                                            \
  X(Sub, BinaryOptions, binary, binary, kOpActRange | kOpQuantizable)                                            \
  X(Mul, BinaryOptions, binary, binary, kOpActRange | kOpQuantizable)                                            \
  X(Div, BinaryOptions, binary, binary, kOpActRange | kOpQuantizable)                                            \
  X(Relu, UnaryOptions, unary, unary, kOpQuantizable)                                                            \
  X(Clip, UnaryOptions, unary, unary, kOpQuantizable)                                                            \
  X(LeakyRelu, UnaryOptions, unary, unary, kOpQuantizable)                                                       \
  X(Sigmoid, UnaryOptions, unary, unary, kOpQuantizable)                                                         \
  X(HardSigmoid, UnaryOptions, unary, unary, kOpQuantizable)                                                     \
  X(HardSwish, UnaryOptions, unary, unary, kOpQuantizable)                                                       \
  X(Tanh, UnaryOptions, unary, unary, kOpQuantizable)                                                            \
  X(Softmax, AxisOptions, softmax, softmax, kOpQuantizable)                                                      \
  X(MaxPool2D, PoolOptions, pool, pool, kOpActRange | kOpRangePreserving | kOpQuantizable)                       \
  X(AvgPool2D, PoolOptions, pool, pool, kOpActRange | kOpQuantizable)                                            \
  X(GlobalAvgPool, PoolOptions, pool, pool, kOpActRange | kOpQuantizable)                                        \
  X(Concat, AxisOptions, concat, concat, kOpQuantizable)                                                         \
  X(Reshape, NONE, reshape, reshape, kOpMovement | kOpView | kOpRangePreserving | kOpQuantizable)                \
  X(Transpose, TransposeOptions, transpose, transpose, kOpMovement | kOpRangePreserving | kOpQuantizable)        \
  X(Pad, PadOptions, pad, pad, kOpMovement | kOpRangePreserving | kOpQuantizable)                                \
  X(ResizeNearest, ResizeOptions, resize_nearest, resize_nearest,                                                \
    kOpMovement | kOpRangePreserving | kOpQuantizable)                                                           \
  X(Split, AxisOptions, split, split, kOpMovement | kOpRangePreserving | kOpQuantizable)                         \
  X(Slice, SliceOptions, slice, slice, kOpMovement | kOpRangePreserving | kOpQuantizable)                        \
  X(Quantize, NONE, conversion, quantize, kOpConversion)                                                         \
  X(Dequantize, NONE, conversion, dequantize, kOpConversion)                                                     \
  X(Requantize, NONE, conversion, requantize, kOpConversion)                                                     \
  X(Lookup, NONE, lookup, lookup, 0)                                                                             \
  X(Erf, UnaryOptions, unary, unary, kOpQuantizable)                                                             \
  X(Softplus, UnaryOptions, unary, unary, kOpQuantizable)                                                        \
  X(Elu, UnaryOptions, unary, unary, kOpQuantizable)                                                             \
  X(Gelu, UnaryOptions, unary, unary, kOpQuantizable)                                                            \
  X(Mish, UnaryOptions, unary, unary, kOpQuantizable)                                                            \
  X(MatMul, MatMulOptions, matmul, matmul, kOpQuantizable)                                                       \
  X(LayerNorm, LayerNormOptions, layer_norm, layer_norm, kOpQuantizable)                                         \
  X(Gather, NONE, gather, gather, kOpRangePreserving | kOpQuantizable)                                           \
  X(Cast, NONE, cast, cast, kOpConversion)                                                                       \
  X(Sqrt, UnaryOptions, unary, unary, kOpQuantizable)                                                            \
  X(Reciprocal, UnaryOptions, unary, unary, kOpQuantizable)                                                      \
  X(Pow, UnaryOptions, unary, unary, kOpQuantizable)                                                             \
  X(Exp, UnaryOptions, unary, unary, kOpQuantizable)                                                             \
  X(Log, UnaryOptions, unary, unary, kOpQuantizable)                                                             \
  X(Neg, UnaryOptions, unary, unary, kOpQuantizable)                                                             \
  X(Abs, UnaryOptions, unary, unary, kOpQuantizable)                                                             \
  X(ReduceMean, NONE, reduce, reduce, 0)                                                                         \
  X(ReduceSum, NONE, reduce, reduce, 0)                                                                          \
  X(Equal, NONE, logical, logical, 0)                                                                            \
  X(Less, NONE, logical, logical, 0)                                                                             \
  X(Greater, NONE, logical, logical, 0)                                                                          \
  X(And, NONE, logical, logical, 0)                                                                              \
  X(Or, NONE, logical, logical, 0)                                                                               \
  X(Xor, NONE, logical, logical, 0)                                                                              \
  X(Not, NONE, logical, logical, 0)                                                                              \
  X(Where, NONE, where, where, 0)                                                                              \
  X(ReduceMax, NONE, reduce, reduce, 0)                                                                          \
  X(ReduceMin, NONE, reduce, reduce, 0)                                                                          \
  X(CumSum, AxisOptions, cumsum, cumsum, 0)                                                                      \
  X(ResizeLinear, ResizeOptions, resize_linear, resize_linear, 0)                                                \
  X(Max, NONE, minmax, minmax, 0)                                                                                \
  X(Min, NONE, minmax, minmax, 0)                                                                                \
  X(ResizeNearestTo, ResizeOptions, resize_nearest_to, resize_nearest_to,                                        \
    kOpMovement | kOpRangePreserving | kOpQuantizable)                                                           \
  X(ArgMax, AxisOptions, argmax, argmax, 0)                                                                      \
  X(PadReflect, PadOptions, pad, pad_mode, kOpMovement | kOpRangePreserving | kOpQuantizable)                    \
  X(PadEdge, PadOptions, pad, pad_mode, kOpMovement | kOpRangePreserving | kOpQuantizable)                      \
  X(LSTM, RecurrentOptions, lstm, recurrent, 0)                                                                  \
  X(GRU, RecurrentOptions, gru, recurrent, 0)                                                                    \
  X(ResizeCubic, ResizeOptions, resize_cubic, resize_linear, 0)                                                 \
  X(TopK, TopKOptions, topk, topk, 0)                                                                            \
  X(GatherElements, AxisOptions, gather_elements, gather_elements, 0)                                           \
  X(ScatterElements, ScatterOptions, scatter_elements, scatter, 0)                                               \
  X(ScatterND, ScatterOptions, scatter_nd, scatter, 0)                                                           \
  X(Mod, ModOptions, mod, mod, 0)                                                                                \
  X(Floor, UnaryOptions, unary, unary, kOpQuantizable)                                                           \
  X(Ceil, UnaryOptions, unary, unary, kOpQuantizable)                                                            \
  X(Round, UnaryOptions, unary, unary, kOpQuantizable)                                                           \
  X(Sin, UnaryOptions, unary, unary, kOpQuantizable)                                                             \
  X(Cos, UnaryOptions, unary, unary, kOpQuantizable)                                                             \
  X(Softsign, UnaryOptions, unary, unary, kOpQuantizable)                                                        \
  X(ThresholdedRelu, UnaryOptions, unary, unary, kOpQuantizable)                                                 \
  X(Shrink, UnaryOptions, unary, unary, kOpQuantizable)                                                          \
  X(GridSample, GridSampleOptions, grid_sample, grid_sample, 0)                                                 \
  X(Tan, UnaryOptions, unary, unary, kOpQuantizable)                                                           \
  X(Asin, UnaryOptions, unary, unary, kOpQuantizable)                                                          \
  X(Acos, UnaryOptions, unary, unary, kOpQuantizable)                                                          \
  X(Atan, UnaryOptions, unary, unary, kOpQuantizable)                                                          \
  X(Sinh, UnaryOptions, unary, unary, kOpQuantizable)                                                          \
  X(Cosh, UnaryOptions, unary, unary, kOpQuantizable)                                                          \
  X(Asinh, UnaryOptions, unary, unary, kOpQuantizable)                                                         \
  X(Acosh, UnaryOptions, unary, unary, kOpQuantizable)                                                         \
  X(Atanh, UnaryOptions, unary, unary, kOpQuantizable)

}  // namespace edgeq
