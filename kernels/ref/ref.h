// Portable scalar reference kernels: the oracle every optimized kernel must equal bit
// for bit. Written for clarity, not speed: plain loops over NHWC tensors.
//
// Contract (shared with later SIMD kernels): raw pointers and a params struct, no
// allocation, no threads, no error paths. Callers validated everything when the
// session was created; kernels only assert.
//
// Requantization (a quantized op's int32 accumulator -> output type), two schemes:
//  * fp32 (default; matches ONNX QuantizeLinear and ONNX Runtime):
//      y = clamp(round_half_even(float(acc) * scale) + zp, qmin, qmax)
//    where scale = (s_in * s_w[c]) / s_out computed in float in that order.
//  * fixed point (TFLite / gemmlowp): scale as int32 multiplier M (Q0.31) and
//    exponent e (scale = M * 2^(e-31)); y = clamp(RDBP(SRDHM(acc << max(e,0), M),
//    max(-e,0)) + zp, qmin, qmax): saturating rounding doubling high multiply
//    followed by rounding (half away from zero) divide by power of two. The left
//    shift saturates to int32; SRDHM rounds a*b/2^31 to nearest, ties toward +inf
//    (gemmlowp's nudge), and saturates INT32_MIN*INT32_MIN to INT32_MAX.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgeq {
namespace ref {

// ---------------------------------------------------------------- requantization

enum class Scheme : uint8_t { kFp32 = 0, kFixedPoint = 1 };

// Splits a positive real multiplier into (multiplier, exponent) with multiplier in
// [2^30, 2^31) and real = multiplier * 2^(exponent - 31). Multipliers too small to
// represent give (0, 0); callers reject a real <= 0 or not finite beforehand.
void quantize_multiplier(double real, int32_t* multiplier, int32_t* exponent);

// Why a requantization with real multiplier s_in * s_w / s_out cannot run, or nullptr
// when it can: the float ratio, computed in that order as every kernel does, must be a
// positive finite number, and under the fixed-point scheme its exponent at most 31.
// The runtime refuses such a node; the calibrator checks before it writes one.
const char* requant_unrepresentable(float s_in, float s_w, float s_out, Scheme scheme);

int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b);
int32_t rounding_divide_by_pot(int32_t x, int32_t exponent);

// Per-output-channel requantization parameters. Arrays hold one entry when
// per_channel is false, out_channels entries otherwise.
struct Requant {
  Scheme scheme = Scheme::kFp32;
  bool per_channel = false;
  const float* scale = nullptr;        // fp32 scheme
  const int32_t* multiplier = nullptr;  // fixed-point scheme
  const int32_t* exponent = nullptr;    // fixed-point scheme
  int32_t zero_point = 0;
  int32_t qmin = -128, qmax = 127;
};

int32_t requantize_fp32(int32_t acc, float scale, int32_t zero_point, int32_t qmin, int32_t qmax);
int32_t requantize_fixed(int32_t acc, int32_t multiplier, int32_t exponent, int32_t zero_point,
                         int32_t qmin, int32_t qmax);
// Requantizes with channel c's parameters of `rq`.
int32_t requantize(int32_t acc, const Requant& rq, size_t c);

// round_half_even(x / scale) + zero_point, saturated to [qmin, qmax]
// (ONNX QuantizeLinear; NaN maps to zero_point clamped to [qmin, qmax]; +-inf saturate).
int32_t quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax);

// ---------------------------------------------------------------- convolution

struct ConvShape {
  int32_t batch, in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_top, pad_left;  // bottom/right padding is implied by out_h/out_w
  int32_t groups;             // in_c and out_c are multiples of groups
};

// Quantized 2D convolution, NHWC. weight: [out_c][kernel_h][kernel_w][in_c/groups].
// weight_zero_point: one entry, or out_c entries when weight_zp_per_channel.
// bias: out_c int32 or null. Input positions outside the image count as
// input_zero_point (contribute zero).
// acc[c] = bias[c] + sum (x - input_zp) * (w - w_zp[c]); y = requantize(acc, rq, c).
// acc is int32: an exact sum that does not fit wraps modulo 2^32 (as an int32 SIMD
// accumulator does, whatever its summation order).
template <typename T>
void qconv2d(const ConvShape& s, const T* input, int32_t input_zero_point, const int8_t* weight,
             const int32_t* weight_zero_point, bool weight_zp_per_channel, const int32_t* bias,
             const Requant& rq, T* output);

// Float 2D convolution, NHWC, same layouts; output clamped to [act_min, act_max].
void conv2d_f32(const ConvShape& s, const float* input, const float* weight, const float* bias,
                float act_min, float act_max, float* output);

// ---------------------------------------------------------------- fully connected

// output[m][n] = requantize(bias[n] + sum_k (x[m][k] - input_zp) * (w[n][k] - w_zp[n]), rq, n)
template <typename T>
void qfully_connected(int32_t m, int32_t n, int32_t k, const T* input, int32_t input_zero_point,
                      const int8_t* weight, const int32_t* weight_zero_point,
                      bool weight_zp_per_channel, const int32_t* bias, const Requant& rq,
                      T* output);

void fully_connected_f32(int32_t m, int32_t n, int32_t k, const float* input, const float* weight,
                         const float* bias, float act_min, float act_max, float* output);

// Dynamically quantized fully connected: float in and out, int8 weights (zero point 0,
// scale per tensor or per output channel). Each input row is quantized at run time to
// uint8 with its own affine parameters: [lo, hi] = [min(0, row min), max(0, row max)],
// s = (hi - lo) / 255 (1 when the row is all zeros), z = clamp(round_half_even(-lo / s),
// 0, 255), q = quantize_value(x, s, z, 0, 255). Then per output n, in int32 (wrapping):
// acc = sum_k (q[k] - z) * w[n][k], and y = clamp(float(acc) * (s * w_scale[n]) + bias[n],
// act_min, act_max), the product s * w_scale[n] computed in float first. A row holding
// a NaN or an infinity has no quantization: it is computed in double instead,
// y = clamp(float(sum_k x[k] * w[n][k] * w_scale[n]) + bias[n]), so NaN and infinities
// propagate as in float arithmetic. `row` is scratch space for k bytes.
void dynamic_fully_connected(int32_t m, int32_t n, int32_t k, const float* input, const int8_t* weight,
                             const float* weight_scale, bool per_channel, const float* bias, float act_min,
                             float act_max, uint8_t* row, float* output);

// ---------------------------------------------------------------- broadcasting elementwise

constexpr int kMaxDims = 6;

// Output index -> input offsets for numpy broadcasting, right-aligned to kMaxDims.
// Build with make_broadcast(); dims of size 1 in an input get stride 0.
struct Broadcast {
  int32_t out_shape[kMaxDims];
  int64_t a_stride[kMaxDims];
  int64_t b_stride[kMaxDims];
};
// Returns false when an input does not broadcast to out_shape (its rank exceeds
// out_rank, or a right-aligned dim is neither 1 nor the output's) or rank > kMaxDims.
bool make_broadcast(const int32_t* a_shape, int a_rank, const int32_t* b_shape, int b_rank,
                    const int32_t* out_shape, int out_rank, Broadcast* bc);

enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kDiv };

void binary_f32(BinaryOp op, const Broadcast& bc, const float* a, const float* b, float act_min,
                float act_max, float* out);

// Quantized binary op with each operand's own scale and zero point.
// fp32 scheme: real values a' = s_a(a - z_a), b' likewise; y = quantize_value(a' op b', s_y, z_y,
// qmin, qmax) computed in float. Fixed-point scheme (add/sub as TFLite: inputs shifted left by
// 20 bits and rescaled to a common scale with quantize_multiplier multipliers; mul: the
// product (a-z_a)(b-z_b) rescaled by s_a*s_b/s_y); kDiv always uses the fp32 formula.
// The exact integer steps are spelled out at the top of kernels/ref/elementwise.cc.
struct BinaryQParams {
  float a_scale, b_scale, out_scale;
  int32_t a_zero_point, b_zero_point, out_zero_point;
  int32_t qmin, qmax;
  Scheme scheme;
};
template <typename T>
void qbinary(BinaryOp op, const Broadcast& bc, const T* a, const T* b, const BinaryQParams& p,
             T* out);

// ---------------------------------------------------------------- unary

enum class UnaryOp : uint8_t {
  kRelu,
  kClip,
  kLeakyRelu,
  kSigmoid,
  kHardSigmoid,
  kHardSwish,
  kTanh,
  kErf,
  kSoftplus,  // log(1 + exp(x))
  kElu,       // x < 0: alpha * (exp(x) - 1)
  kGelu,      // alpha 0: x/2 * (1 + erf(x/sqrt(2))); 1: x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
  kMish,      // x * tanh(softplus(x))
  kSqrt,
  kReciprocal,
  kPow,       // x^alpha (alpha 1: x; 2: x * x; 3: x * x * x; 0.5: sqrt(x); else powf)
  kExp,
  kLog,
  kNeg,
  kAbs,
  kFloor,
  kCeil,
  kRound,           // half to even (ONNX Round)
  kSin,
  kCos,
  kSoftsign,        // x / (1 + |x|)
  kThresholdedRelu, // x > alpha ? x : 0
  kShrink,          // x < -alpha: x + beta; x > alpha: x - beta; else 0 (alpha: lambd, beta: bias)
  kTan,             // Tan .. Atanh: in double, rounded to float
  kAsin,
  kAcos,
  kAtan,
  kSinh,
  kCosh,
  kAsinh,
  kAcosh,
  kAtanh
};

// The float function, for both the float kernel and table construction, computed in
// double and rounded to float once.
// Clip: [alpha, beta]; LeakyRelu: alpha; HardSigmoid: alpha, beta; Elu: alpha; Gelu:
// alpha selects the form.
float unary_value(UnaryOp op, float x, float alpha, float beta);
void unary_f32(UnaryOp op, float alpha, float beta, size_t n, const float* in, float* out);

// table[i] for the input byte i (int8 inputs index by (uint8_t)q) =
// quantize_value(f(s_in * (q - z_in)), s_out, z_out, dtype range).
template <typename T>
void build_unary_table(UnaryOp op, float alpha, float beta, float in_scale, int32_t in_zero_point,
                       float out_scale, int32_t out_zero_point, T table[256]);
template <typename T>
void lookup(size_t n, const T* in, const T table[256], T* out);

// ---------------------------------------------------------------- softmax

// outer x axis_size x inner layout; softmax over the middle dimension.
void softmax_f32(int64_t outer, int32_t axis_size, int64_t inner, const float* in, float* out);
// Quantized softmax (kernels/ref/norm.cc). Along a slice the inputs differ from their
// maximum m by d_j = m - q_j in [0, 255] steps, so exp(x_j - max) = exp(-s_in * d_j) is
// one of 256 values, held as integers: the table E[d] = round(2^23 * exp(-s_in * d))
// (computed in double; E[0] = 2^23). Per slice, in exact integer arithmetic,
// S = sum_j E[d_j] (uint64), then r = float(1 / (double(S) * double(s_out))) and
//   y_j = clamp(nearbyint(min(float(E[d_j]) * r, 65536)) + z_out, type range)
// (one float product, rounded half to even). The zero point of X cancels. Every step
// is exact or one IEEE float operation, so SIMD kernels match it bit for bit; the
// table's rounding (2^-24 of the slice's largest probability) is far below an 8-bit
// output step.
constexpr int kSoftmaxTableBits = 23;
void qsoftmax_table(float in_scale, uint32_t table[256]);
// The quantized softmax over `axis_size` contiguous elements of `rows` rows (inner == 1)
// with a table from qsoftmax_table(): the function optimized kernels replace.
template <typename T>
void qsoftmax_rows(int64_t rows, int32_t row_size, const T* in, const uint32_t table[256], float out_scale,
                   int32_t out_zero_point, T* out);
// The per-row multiplier r above (shared with the optimized kernels).
float qsoftmax_row_multiplier(uint64_t sum, float out_scale);
// Any layout (outer x axis_size x inner): builds the table and computes as above.
template <typename T>
void qsoftmax(int64_t outer, int32_t axis_size, int64_t inner, const T* in, float in_scale,
              int32_t in_zero_point, float out_scale, int32_t out_zero_point, T* out);

// ---------------------------------------------------------------- pooling

struct PoolShape {
  int32_t batch, in_h, in_w, channels;
  int32_t out_h, out_w;
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_top, pad_left;
  bool count_include_pad;  // average pool: divide by kernel area (true) or by valid taps
};

// Max over valid taps (padding never wins; a NaN tap gives NaN), then clamp to
// [act_min, act_max].
void maxpool_f32(const PoolShape& s, const float* in, float act_min, float act_max, float* out);
void avgpool_f32(const PoolShape& s, const float* in, float act_min, float act_max, float* out);

// Quantized pools. Max pool: the window max m is requantized like requantize_tensor,
// y = quantize_value(s_in * (m - z_in), s_out, z_out, qmin, qmax); when the in and out
// scale and zero point are equal, y = clamp(m, qmin, qmax) (a pure copy with a clamp).
// Average pool, as ONNX Runtime's QLinearAveragePool computes it: every in-image tap is
// dequantized in float, s_in * float(q - z_in), the taps are summed in float in window
// order (rows, then columns), the sum is divided by float(cnt), and
// y = clamp(round_half_even(avg / s_out + float(z_out)), qmin, qmax): the zero point is
// added before rounding, which decides exact ties. cnt = the in-image taps, or
// kernel_h * kernel_w when count_include_pad. Global average pool, as ONNX Runtime's
// QLinearGlobalAveragePool: y = requantize_fp32(sum(q - z_in), s_in / (s_out * float(hw)),
// z_out, qmin, qmax), that scale computed in float in that order. A window without
// in-image taps: max gives the type's lowest value, average the real value 0.
struct PoolQParams {
  float in_scale, out_scale;
  int32_t in_zero_point, out_zero_point;
  int32_t qmin, qmax;
};
template <typename T>
void qmaxpool(const PoolShape& s, const T* in, const PoolQParams& p, T* out);
template <typename T>
void qavgpool(const PoolShape& s, const T* in, const PoolQParams& p, T* out);

void global_avgpool_f32(int32_t batch, int32_t hw, int32_t channels, const float* in,
                        float act_min, float act_max, float* out);
template <typename T>
void qglobal_avgpool(int32_t batch, int32_t hw, int32_t channels, const T* in,
                     const PoolQParams& p, T* out);

// ---------------------------------------------------------------- quantize / requantize

template <typename T>
void quantize(size_t n, const float* in, float scale, int32_t zero_point, T* out);
// dequantize and dequantize_per_axis also exist for T = int32_t (biases); (q - zp) is
// formed exactly before the conversion to float.
template <typename T>
void dequantize(size_t n, const T* in, float scale, int32_t zero_point, float* out);
// Per-axis dequantize (e.g. of weights): outer x axis_size x inner layout.
template <typename T>
void dequantize_per_axis(int64_t outer, int32_t axis_size, int64_t inner, const T* in,
                         const float* scale, const int32_t* zero_point, float* out);
// y = quantize_value(s_in * (x - z_in), s_out, z_out, qmin, qmax)
template <typename TI, typename TO>
void requantize_tensor(size_t n, const TI* in, float in_scale, int32_t in_zero_point,
                       float out_scale, int32_t out_zero_point, int32_t qmin, int32_t qmax,
                       TO* out);

// ---------------------------------------------------------------- data movement
// Element size in bytes is a parameter: these serve every dtype. Ranks are <= kMaxDims.

// out = in permuted: out.shape[i] = in_shape[perm[i]].
void transpose(int rank, const int32_t* in_shape, const int32_t* perm, size_t elem_size,
               const void* in, void* out);
// Concatenates `count` inputs along axis. Each input is outer x in_axis[i]*inner elements.
void concat(int64_t outer, int64_t inner, int count, const int32_t* in_axis_sizes,
            const void* const* inputs, size_t elem_size, void* out);
// Inverse of concat.
void split(int64_t outer, int64_t inner, int32_t in_axis, int count, const int32_t* out_axis_sizes,
           const void* in, size_t elem_size, void* const* outputs);
// Constant pad; `fill` is one element of elem_size bytes. pads: [begins..., ends...].
void pad(int rank, const int32_t* in_shape, const int32_t* pads, size_t elem_size,
         const void* fill, const void* in, void* out);
// out[i] = in[start + i*step] per dimension, out_shape gives the counts.
void slice(int rank, const int32_t* in_shape, const int32_t* out_shape, const int32_t* starts,
           const int32_t* steps, size_t elem_size, const void* in, void* out);
// Pad by mirroring (reflect: source index -i before the start, 2(n-1) - i past the end)
// or by repeating the edge element (clamped index); pads as pad().
void pad_mode(bool reflect, int rank, const int32_t* in_shape, const int32_t* pads, size_t elem_size, const void* in,
              void* out);
// Nearest-neighbour upsampling of NHWC by integer factors.
void resize_nearest(int32_t batch, int32_t in_h, int32_t in_w, int32_t channels, int32_t scale_h,
                    int32_t scale_w, size_t elem_size, const void* in, void* out);

// ---------------------------------------------------------------- gather and cast (gather.cc)

// GatherElements along `axis` (rank <= kMaxDims): out (the indices' shape) [.., j, ..] =
// in [.., idx[.., j, ..], ..], elements of elem_size bytes; every index must be in
// [-in_shape[axis], in_shape[axis]) (negative: from the end; checked beforehand).
template <typename I>
void gather_elements(int rank, const int32_t* in_shape, const int32_t* idx_shape, int axis, size_t elem_size,
                     const void* in, const I* idx, void* out);
// ScatterElements / ScatterND (scatter.cc): out = data, then each update written at its
// index, or combined with the value there by the reduction (ONNX's `reduction`: add and
// mul wrap on integers; max / min as std::max / std::min), in the updates' order (a
// repeated index: the last write wins without a reduction). kBytes: any element type,
// no reduction (8-bit tensors of one quantization, bool). out may be data.
enum class ScatterReduction : uint8_t { kNone = 0, kAdd = 1, kMul = 2, kMax = 3, kMin = 4 };
enum class ScatterType : uint8_t { kBytes, kF32, kS32, kS64 };
// ScatterElements along `axis`: updates and indices have idx_shape (rank <= kMaxDims, at
// most `shape` on every axis but `axis`); out[.., idx[.., j, ..], ..] (op)= updates[.., j, ..].
// Indices in [-shape[axis], shape[axis]) (negative: from the end).
template <typename I>
void scatter_elements(int rank, const int32_t* shape, const int32_t* idx_shape, int axis, ScatterType type,
                      ScatterReduction r, size_t elem_size, const void* data, const I* idx, const void* updates,
                      void* out);
// ScatterND: `tuples` index tuples of `depth` entries (idx: [tuples, depth], depth <= rank),
// each addressing a slice of data's last rank - depth axes; updates: [tuples, slice].
// Entry d in [-shape[d], shape[d]).
template <typename I>
void scatter_nd(int rank, const int32_t* shape, size_t tuples, int depth, ScatterType type, ScatterReduction r,
                size_t elem_size, const void* data, const I* idx, const void* updates, void* out);
// Position (in idx) of the first ScatterND index entry out of range, or tuples * depth.
template <typename I>
size_t first_tuple_out_of_range(size_t tuples, int depth, const int32_t* shape, const I* idx);
// Position of the first index outside [-rows, rows), or `count` when all are inside.
template <typename I>
size_t first_index_out_of_range(size_t count, const I* idx, int64_t rows);
// Row i of out = row idx[i] of table (a negative index counts from the end, as ONNX
// Gather's: row idx[i] + rows); `rows` rows of row_bytes bytes (any dtype). Every index
// must be in range (checked beforehand with first_index_out_of_range). I: int32/int64.
template <typename I>
void gather_rows(size_t count, const I* idx, const void* table, size_t rows, size_t row_bytes, void* out);
// Value conversion between float, int32 and int64: float -> integer truncates toward
// zero and saturates (NaN gives 0); int64 -> int32 saturates; integer -> float rounds
// to nearest even.
template <typename From, typename To>
void cast(size_t n, const From* in, To* out);

// ---------------------------------------------------------------- masks and reductions (logical.cc)
// Bool tensors hold one byte per element: any non-zero byte reads as true, and these
// kernels write 0 or 1.

enum class LogicalOp : uint8_t { kEqual, kLess, kGreater, kAnd, kOr, kXor, kNot };

// Output index -> offsets of K inputs for numpy broadcasting, right-aligned to kMaxDims
// (dims of size 1 in an input get stride 0), walked a row of the innermost dimension at
// a time.
template <int K>
struct BroadcastN {
  int32_t out_shape[kMaxDims];
  int64_t stride[K][kMaxDims];
};
// Returns false as make_broadcast() does, for any input.
template <int K>
bool make_broadcast_n(const std::vector<int32_t>* const in_shapes[K], const std::vector<int32_t>& out_shape,
                      BroadcastN<K>* bc);

// out[i] = (a op b) as 0/1; op kEqual, kLess or kGreater (IEEE: a NaN compares false).
// T: float, int32_t, int64_t, or uint8_t holding bools (compared as 0/1).
template <typename T>
void compare(LogicalOp op, const BroadcastN<2>& bc, const T* a, const T* b, uint8_t* out);
// kAnd, kOr, kXor on bools; kNot of `a` (b unused, bc's second input ignored).
void logical(LogicalOp op, const BroadcastN<2>& bc, const uint8_t* a, const uint8_t* b, uint8_t* out);
// out[i] = cond[i] ? x[i] : y[i] for elements of `elem_size` bytes, 1, 4 or 8 (inputs in
// that order): the chosen element's bits are copied.
void where(const BroadcastN<3>& bc, size_t elem_size, const uint8_t* cond, const void* x, const void* y,
           void* out);
// Over `count` consecutive blocks of `inner` elements of each of `outer` slices:
// out[o, i] = the float sum of in[o, 0.., i] in index order (mean: that sum / float(count)),
// except for inner == 1 (a row), summed as layer_norm_f32 sums: element k added to lane
// k % 16 in order, the lanes folded by halves into lane 0. Max and min: the largest /
// smallest element, NaN when any element is NaN (-0 and +0 as the first met).
enum class ReduceOp : uint8_t { kSum, kMean, kMax, kMin };
void reduce_f32(ReduceOp op, int64_t outer, int64_t count, int64_t inner, const float* in, float* out);
// The same on integers (kSum wrapping, kMax, kMin; not kMean). T: int32_t, int64_t.
template <typename T>
void reduce_int(ReduceOp op, int64_t outer, int64_t count, int64_t inner, const T* in, T* out);
// Integer Add, Sub, Mul, Div with numpy broadcasting, wrapping as two's-complement
// arithmetic does; Div truncates toward zero (ONNX Div on integers), x / 0 is 0 and
// MIN / -1 wraps to MIN. T: int32_t, int64_t.
template <typename T>
void binary_int(BinaryOp op, const BroadcastN<2>& bc, const T* a, const T* b, T* out);
// ONNX Mod with numpy broadcasting. Integers: fmod 0 takes the divisor's sign (Python's
// %), fmod 1 the dividend's (C's %); x mod 0 is 0 and MIN mod -1 is 0. float (fmod 1):
// std::fmod. T: float, int32_t, int64_t.
template <typename T>
void mod(bool fmod, const BroadcastN<2>& bc, const T* a, const T* b, T* out);
// out[i] = max(a, b) (is_max) or min(a, b), numpy broadcasting; NaN when either is NaN.
// T: float, int32_t, int64_t.
template <typename T>
void min_max(bool is_max, const BroadcastN<2>& bc, const T* a, const T* b, T* out);
// Over the middle dimension of [outer, count, inner]: out[o, i] = the first k with the
// largest in[o, k, i] (a NaN wins; T: float, or int8 / uint8 bytes compared as stored).
template <typename T>
void argmax(int64_t outer, int64_t count, int64_t inner, const T* in, int64_t* out);
// Running sums over the middle dimension of [outer, count, inner]: out[o, k, i] =
// in[o, 0, i] + ... + in[o, k, i], in index order (floats rounded at each step, integers
// wrapping). T: float, int32_t, int64_t.
template <typename T>
void cumsum(int64_t outer, int64_t count, int64_t inner, const T* in, T* out);
// Bilinear resize of NHWC float: for each output row o (columns alike), with s the
// axis's given coordinate scale, or out / in (float) when that is 0, the source coordinate r = (o + 0.5) / s - 0.5 (kHalfPixel; kPytorchHalfPixel
// the same but 0 when out is 1), o * (in - 1) / (out - 1) (kAlignCorners; 0 when out is
// 1) or o / s (kAsymmetric), clamped to [0, in - 1]; i0 = floor(r), i1 = min(i0 + 1,
// in - 1), w = r - i0; y = (1 - wy) * ((1 - wx) * a00 + wx * a01) + wy * ((1 - wx) * a10
// + wx * a11), each a float operation in that order.
enum class ResizeCoord : uint8_t { kHalfPixel = 0, kPytorchHalfPixel = 1, kAlignCorners = 2, kAsymmetric = 3 };
// Nearest: the source coordinate as above (kTfHalfPixelForNn: (o + 0.5) / s), rounded
// by NearestRound (round_prefer_floor: a .5 goes down; round_prefer_ceil: up), clamped
// to [0, in - 1]; computed in float as ONNX Runtime does.
enum class NearestRound : uint8_t { kRoundPreferFloor = 0, kRoundPreferCeil = 1, kFloor = 2, kCeil = 3 };
constexpr uint8_t kTfHalfPixelForNn = 4;  // a ResizeCoord value nearest resizing takes too
// `scale`: the coordinate scale s (0: out / in).
int32_t nearest_source(uint8_t coord, NearestRound round, int32_t o, int32_t in_len, int32_t out_len,
                       float scale = 0.f);
// Y[n, y, x] = X[n, rows[y], cols[x]] for pixels of `pixel_bytes` bytes (NHWC, any dtype).
void resize_nearest_indexed(int32_t batch, int32_t in_h, int32_t in_w, int32_t out_h, int32_t out_w,
                            size_t pixel_bytes, const int32_t* rows, const int32_t* cols, const void* in, void* out);
// One output index's taps: i0 = floor(r), i1 and the weight w of i1 (ResizeLinear's).
struct LinearTap {
  int32_t i0, i1;
  float w;
};
LinearTap linear_tap(ResizeCoord mode, int32_t o, int32_t in_len, int32_t out_len, float scale);
// Output rows [row0, row1) of the flattened [N * out_h] rows; scale_h / scale_w: the
// coordinate scales (0: out / in).
void resize_linear_f32(ResizeCoord mode, int32_t batch, int32_t in_h, int32_t in_w, int32_t channels, int32_t out_h,
                       int32_t out_w, int64_t row0, int64_t row1, const float* in, float* out, float scale_h = 0.f,
                       float scale_w = 0.f);
// TopK along the middle dimension of [outer, count, inner]: for each (o, i), the k
// largest (or smallest) of the count values and their indices, in that order; equal
// values in index order; a NaN (float) orders above every number, NaNs by index.
// values / indices: [outer, k, inner]. T: float, int32_t, int64_t, int8_t, uint8_t.
template <typename T>
void topk(int64_t outer, int64_t count, int64_t inner, int64_t k, bool largest, const T* in, T* values,
          int64_t* indices);
// Bicubic resize of NHWC float, ONNX Resize's cubic mode as ONNX Runtime computes it: per
// output row / column the source coordinate r as resize_linear_f32's (not clamped),
// i = floor(r), s = r - i, taps i-1 .. i+2 with Keys' weights for distances 1+s, s, 1-s,
// 2-s and coefficient a (cubic_weights); a tap outside [0, in) reads the nearest edge
// pixel, or with exclude_outside weighs 0 and the others are divided by their sum. A
// pixel: for each of the 4 rows the sum of its 4 taps' weight * value (in tap order),
// then the sum of the rows' weight * that (in row order), in float. Output rows [row0,
// row1) of the flattened [N * out_h] rows.
void cubic_weights(float s, float a, float w[4]);
void resize_cubic_f32(ResizeCoord mode, int32_t batch, int32_t in_h, int32_t in_w, int32_t channels, int32_t out_h,
                      int32_t out_w, int64_t row0, int64_t row1, const float* in, float* out, float scale_h, float scale_w,
                      float a, bool exclude_outside);
// ONNX GridSample on NHWC float (grid_sample.cc), as ONNX Runtime computes it: output
// pixel (n, oy, ox) samples X[n] at grid[n][oy][ox] = (gx, gy) in [-1, 1], mapped to
// pixel coordinates x = (gx + 1) / 2 * (W - 1) with align_corners, else
// ((gx + 1) * W - 1) / 2 (y likewise with H); then
//  * kBilinear: x1 = floor(x), x2 = x1 + 1 (y alike), the result
//    dy2 * (dx2 * p11 + dx1 * p12) + dy1 * (dx2 * p21 + dx1 * p22) in float, with
//    dx1 = x - x1, dx2 = x2 - x, p_ij = pixel (y_i, x_j);
//  * kNearest: the pixel at (nearbyint(y), nearbyint(x)), halves to even;
//  * kBicubic: the 4 x 4 pixels from (floor(y) - 1, floor(x) - 1), Keys' weights with
//    a = -0.75 for the fractions, each row's 4 taps summed in order, then the rows.
// A pixel index outside the input reads by `padding`: kZeros 0, kBorder the index
// clamped, kReflection the index reflected at the edges (-0.5 and W - 0.5, or 0 and
// W - 1 with align_corners, as many times as it takes) and truncated. A coordinate
// that is NaN gives NaN (so does an infinite grid value on a one-pixel axis with
// align_corners: 0 * inf); the others are first held within +-2^22 pixels (zeros and
// border padding sample such far points alike; where reflection lands them is not
// meaningful at that distance). Output rows [row0, row1) of the flattened [N * out_h]
// rows.
enum class GridMode : int32_t { kBilinear = 0, kNearest = 1, kBicubic = 2 };
enum class GridPadding : int32_t { kZeros = 0, kBorder = 1, kReflection = 2 };
void grid_sample_f32(GridMode mode, GridPadding padding, bool align_corners, int32_t in_h, int32_t in_w,
                     int32_t channels, int32_t out_h, int32_t out_w, int64_t row0, int64_t row1, const float* in,
                     const float* grid, float* out);
// Casts to and from bool: x != 0 (NaN: true), and 0/1.
template <typename From>
void cast_to_bool(size_t n, const From* in, uint8_t* out);
template <typename To>
void cast_from_bool(size_t n, const uint8_t* in, To* out);

// ---------------------------------------------------------------- recurrent (recurrent.cc)

// ONNX's LSTM and GRU in float, sequence-major: x[seq][batch][input], W[D][G*H][input],
// R[D][G*H][H], B[D][2*G*H] (the input biases, then the recurrent ones), h0 / c0
// [D][batch][H], LSTM peepholes p[D][3*H] (i, o, f); y[seq][D][batch][H], yh / yc
// [D][batch][H]. Gates in ONNX order (LSTM i, o, f, c; GRU z, r, h); D = 2 when
// direction is 2 (the second direction runs backwards in time), direction 1 runs the
// one direction backwards. LSTM: i = s(.. + p_i c), f = s(.. + p_f c), c' = tanh(..),
// c = f c + i c', o = s(.. + p_o c), h = o tanh(c). GRU: z = s(..), r = s(..),
// h' = tanh(x W_h + r (h R_h + Rb_h) + Wb_h) with linear_before_reset, else
// tanh(x W_h + (r h) R_h + Rb_h + Wb_h); h = (1 - z) h' + z h. s(v) = 1 / (1 + exp(-v));
// clip > 0 clamps every activation's input to [-clip, clip]. Each gate's input is the
// input product, the recurrent product and the two biases added in that order, each
// product summed in index order.
struct RecurrentShape {
  int32_t seq = 0, batch = 0, input = 0, hidden = 0;
  int32_t direction = 0;  // 0 forward, 1 reverse, 2 both
  float clip = 0.f;
};
void lstm_f32(const RecurrentShape& s, const float* x, const float* w, const float* r, const float* b,
              const float* h0, const float* c0, const float* p, float* y, float* yh, float* yc);
void gru_f32(const RecurrentShape& s, bool linear_before_reset, const float* x, const float* w, const float* r,
             const float* b, const float* h0, float* y, float* yh);

// ---------------------------------------------------------------- layer normalization
// (kernels/ref/norm.cc) over the last axis of `channels` elements, `rows` rows.
//
// Float: the sums run in 16 lanes, element c added to lane c % 16 in order, the lanes
// then folded by halves (lane l += lane l + 8, then + 4, + 2, + 1) into lane 0:
//   mean = sum(x) / float(C); var = sum((x - mean) * (x - mean)) / float(C);
//   rstd = float(1 / sqrt(double(var) + double(epsilon)));
//   y = ((x - mean) * rstd) * gamma + beta     (beta absent: 0), each a float operation.
// 16 lanes are two AVX2 vectors, one AVX-512 vector or four NEON vectors.
void layer_norm_f32(int64_t rows, int32_t channels, const float* in, const float* gamma, const float* beta,
                    float epsilon, float* out);

// Quantized (X, Y both int8 or both uint8, per tensor): with q the stored values,
//   S1 = sum q, S2 = sum q*q (exact integers; X's zero point cancels),
//   V = C * S2 - S1 * S1 (= C^2 var / s_x^2, exact in int64),
//   t_c = C * q_c - S1 (= C (x_c - mean) / s_x, exact int32),
// so (x - mean) / sqrt(var + eps) = t_c * r with, in double rounded once to float,
//   r = float(s_x / sqrt(s_x^2 V + eps C^2))    (r = 0 when V = 0: a constant row, all t_c 0),
// r in [0, 1]; with gamma and beta finite after folding nothing below is NaN.
// gamma and beta are folded at preparation into g_c = gamma_c / s_y and b_c = beta_c / s_y
// (qlayer_norm_fold). Then per element, each a float operation:
//   w = (float(t_c) * r) * g_c + b_c, clamped to [qmin - z_y, qmax - z_y],
//   y = nearbyint(w) + z_y    (rounding half to even).
// channels <= kQLayerNormMaxChannels (so t_c and the SIMD kernels' int32 lane sums fit).
constexpr int32_t kQLayerNormMaxChannels = 65536;
struct QLayerNormParams {
  float in_scale = 1.f;
  float epsilon = 0.f;
  const float* gamma = nullptr;  // g_c, `channels` entries
  const float* beta = nullptr;   // b_c, `channels` entries
  int32_t out_zero_point = 0;
  int32_t qmin = -128, qmax = 127;
};
// g_c = gamma_c / out_scale, b_c = beta_c / out_scale (0 without beta), in float.
void qlayer_norm_fold(int32_t channels, const float* gamma, const float* beta, float out_scale, float* g, float* b);
// The per-row multiplier r above from the row's exact sums (shared with the optimized kernels).
float qlayer_norm_row_multiplier(int32_t channels, int64_t sum, int64_t sum_squares, float in_scale, float epsilon);
template <typename T>
void qlayer_norm(int64_t rows, int32_t channels, const T* in, const QLayerNormParams& p, T* out);

// ---------------------------------------------------------------- matrix product of two activations

// Y[..., m, n] = A[..., m, k] x B[..., k, n]; the batch dimensions (all but the last two)
// broadcast as numpy's do. Matrices are dense and row-major; matrix i of A starts at
// a + i * m * k. Build with make_matmul_shape().
struct MatMulShape {
  int32_t m = 0, n = 0, k = 0;
  int64_t batches = 1;              // Y's matrices
  int64_t a_batches = 1, b_batches = 1;
  int rank = 0;                     // Y's batch rank
  int32_t batch[kMaxDims] = {};     // Y's batch dimensions
  int64_t a_stride[kMaxDims] = {};  // A's matrix index step per batch dimension (0: broadcast)
  int64_t b_stride[kMaxDims] = {};
};
// False when a rank is outside [2, kMaxDims], k differs or the batches do not broadcast.
bool make_matmul_shape(const int32_t* a_shape, int a_rank, const int32_t* b_shape, int b_rank, MatMulShape* s);
// The A and B matrices of Y's matrix `y_batch`.
void matmul_operands(const MatMulShape& s, int64_t y_batch, int64_t* a_index, int64_t* b_index);

// Where a float MatMul's operands and result lie in memory. Dense by default; the
// runtime's view fold (runtime/view_fold.h) reads a Slice / Reshape / Transpose chain in
// place instead of copying it. Element (Y batch t, row i, column j) of an operand is at
//   offset + sum_d index_d(t) * batch[d] + i * row + j * col
// where index_d(t) is t's index along Y's batch dimension d (as in matmul_operands) and
// batch[d] is 0 where the operand broadcasts along d.
struct MatMulView {
  int64_t offset = 0, row = 0, col = 1;
  int64_t batch[kMaxDims] = {};
};
struct MatMulViews {
  MatMulView a, b, y;
};
// The dense row-major layouts of make_matmul_shape's operands and result.
MatMulViews dense_matmul_views(const MatMulShape& s);
// The element offset of Y matrix t's origin in view v.
int64_t view_matrix_offset(const MatMulShape& s, const MatMulView& v, int64_t t);
// The element offset of B matrix bi's origin (bi as matmul_operands gives it) in view v.
int64_t view_b_matrix_offset(const MatMulShape& s, const MatMulView& v, int64_t bi);

// Float: y = sum over k in order of a * b, in float (no fused multiply-add).
void matmul_f32(const MatMulShape& s, const float* a, const float* b, float* y);
// The same through views (the dense views give matmul_f32's result bit for bit).
void matmul_f32(const MatMulShape& s, const MatMulViews& v, const float* a, const float* b, float* y);

// Quantized, A, B and Y each int8 or uint8 per tensor: acc = sum_k (a - za)(b - zb) in
// int32 (wrapping), y = requantize(acc, rq, 0) (rq per tensor: scale (s_a * s_b) / s_y).
template <typename TA, typename TB, typename TY>
void qmatmul(const MatMulShape& s, const TA* a, int32_t a_zero_point, const TB* b, int32_t b_zero_point,
             const Requant& rq, TY* y);

// ONNX DynamicQuantizeLinear's parameters for values in [lo, hi] (lo <= 0 <= hi, finite):
// scale (hi - lo) / 255 (1 when that is not a positive finite number), zero point
// round_half_even(-lo / scale) clamped to [0, 255].
void dynamic_uint8_params(float lo, float hi, float* scale, int32_t* zero_point);

// Dynamically quantized float matmul (FullyConnected and MatMul `dynamic`, graph/op_table.h).
//  mode 1, ONNX DynamicQuantizeLinear on A and on B as whole tensors (uint8, scales s_a,
//    s_b, zero points z_a, z_b), then acc = sum_k (qa - z_a)(qb - z_b) in int32 (wrapping)
//    and y = float(acc) * (s_a * s_b), that product in float first (ONNX Runtime's
//    MatMulInteger -> Cast -> Mul). A or B holding a NaN or an infinity: every output is
//    computed in double instead, y = float(sum_k double(a) * double(b)).
//  mode 2, edgeq's accuracy mode: each row of each A matrix quantized to uint8 as
//    dynamic_uint8_params says (s_i, z_i), each column of each B matrix to int8
//    symmetrically: s_j = max |b| / 127 (1 when 0), qb = quantize_value(b, s_j, 0, -127, 127);
//    acc = sum_k (qa - z_i) qb, y = float(acc) * (s_i * s_j). An output whose row or
//    column holds a NaN or an infinity is computed in double as above.
// `scratch`: dynamic_matmul_scratch_bytes(s, mode) bytes, 4-byte aligned.
size_t dynamic_matmul_scratch_bytes(const MatMulShape& s, int mode);
void dynamic_matmul(const MatMulShape& s, int mode, const float* a, const float* b, void* scratch, float* y);

// dynamic_fully_connected with `dynamic` mode 1: the m x k input quantized as ONE tensor
// (dynamic_uint8_params of its range, as ONNX DynamicQuantizeLinear), then per output
// acc = sum_k (q - z)(w[n][k] - wz[n]) and y = clamp(float(acc) * (s * w_scale[n]) +
// bias[n]), wz being the weights' zero points (ONNX Runtime's asymmetric weights):
// weight_zero_point[0] for every column, or weight_zero_point[n] with
// zero_point_per_channel; nullptr for 0. An input holding a NaN or an infinity: every row
// in double as dynamic_fully_connected does, with w - wz. `q`: scratch for m * k bytes.
void dynamic_fully_connected_per_tensor(int32_t m, int32_t n, int32_t k, const float* input, const int8_t* weight,
                                        const int32_t* weight_zero_point, bool zero_point_per_channel,
                                        const float* weight_scale, bool per_channel, const float* bias, float act_min,
                                        float act_max, uint8_t* q, float* output);

// Dynamically quantized 2D convolution (ONNX Runtime's DynamicQuantizeLinear ->
// ConvInteger -> Cast -> Mul(x_scale * w_scale) [-> Add bias]): float input and output,
// NHWC, int8 weights [out_c][kernel_h][kernel_w][in_c/groups] (scale per tensor or per
// output channel) with zero points wz as dynamic_fully_connected_per_tensor takes them
// (nullptr: 0). The whole input is quantized as ONE tensor as that function does (s, z
// from its range), positions outside the image count as z (contribute zero); per output,
// in int32 (wrapping), acc = sum (q - z) * (w - wz[c]), and y = clamp(float(acc) * (s *
// w_scale[c]) + bias[c], act_min, act_max). An input holding a NaN or an infinity is
// computed in double instead, y = clamp(float(sum x * (w - wz[c]) * w_scale[c]) +
// bias[c]). `q`: scratch for the input's batch * in_h * in_w * in_c bytes.
void dynamic_conv2d(const ConvShape& s, const float* input, const int8_t* weight, const int32_t* weight_zero_point,
                    bool zero_point_per_channel, const float* weight_scale, bool per_channel, const float* bias,
                    float act_min, float act_max, uint8_t* q, float* output);

// ---------------------------------------------------------------- int8 products with a float output

// FullyConnected with a quantized input (int8/uint8 per tensor) and an F32 output (ONNX
// Runtime's MatMulIntegerToFloat): per output, in int32 (wrapping),
// acc = sum_k (x[m][k] - input_zp) * (w[n][k] - w_zp[n]), then
// y = clamp(float(acc) * (input_scale * w_scale[n]) + bias[n], act_min, act_max): the
// scale product rounded to float first, then the multiply, then the addition (two
// roundings, no fused multiply-add). w_zp and w_scale are per channel when per_channel.
template <typename T>
void qfully_connected_float(int32_t m, int32_t n, int32_t k, const T* input, int32_t input_zero_point,
                            float input_scale, const int8_t* weight, const int32_t* weight_zero_point,
                            const float* weight_scale, bool per_channel, const float* bias, float act_min,
                            float act_max, float* output);

// MatMul of two quantized activations (each int8 or uint8 per tensor) with an F32
// output: acc = sum_k (a - za)(b - zb) in int32 (wrapping), y = float(acc) * (s_a * s_b),
// the scale product rounded to float first.
template <typename TA, typename TB>
void qmatmul_float(const MatMulShape& s, const TA* a, int32_t a_zero_point, float a_scale, const TB* b,
                   int32_t b_zero_point, float b_scale, float* y);

}  // namespace ref
}  // namespace edgeq
