// The run-time-operand GEMM driver (see qmatmul.h for the algebra).
//
// Packed B: per B matrix, blocks of NR columns laid out as the conv packer does
// (qconv.cc): int32 bias[NR], then W[k / kr][NR][kr] (int16 for wide_weights kernels),
// zero beyond k and n; bias[j] = -(zA + act_offset) * colsum_j(w) mod 2^32, zA being
// A's zero point when it is one per tensor (mode 0), else 0 (the dynamic modes subtract
// z_i * colsum_j per row in the tile's finish).
// Tiles run over (Y matrix, row tile, column block), column blocks innermost so that a
// row tile's A rows stay in cache across the blocks.
// The dynamic modes quantize A into qa with the level's quantize kernel, and B in order
// into qb before packing it. Scalar rounding here avoids libm's nearbyint (round_small);
// the file is compiled at -O3 (kernels/sources.cmake) so that the tiles' finish loops
// vectorize, which changes no result (no fast-math).
#include "kernels/qmatmul.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <vector>

#include "kernels/ref/internal.h"

namespace edgeq {
namespace kern {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kReadSlack = 64;  // kernels read up to 64 bytes past round_up(k, kr) of a row
constexpr size_t kMaxMr = 32, kMaxTile = 32 * 64;  // up to the AMX kernel's 32 x 32

size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

// round_half_even(v) for |v| < 2^22, without libm's nearbyint (the baseline x86-64 build
// has no roundss): adding and subtracting 1.5 * 2^23 leaves v rounded to an integer in
// the default rounding mode, ties to even (no fused or reassociated arithmetic:
// -ffp-contract=off, no -ffast-math).
inline float round_small(float v) {
  constexpr float kMagic = 12582912.f;  // 1.5 * 2^23
  return (v + kMagic) - kMagic;
}

// clamp(round_half_even(v) + zp, qmin, qmax) for any v but NaN, given |qmin - zp| and
// |qmax - zp| below 2^22: v clamped to [qmin - zp, qmax - zp] first (rounding is
// monotonic and both bounds are integers), then rounded: internal::round_add_saturate's
// value.
inline int32_t round_clamp(float v, float lo, float hi, int32_t zp) {
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return static_cast<int32_t>(round_small(v)) + zp;
}

// The reference's quantize_value(x, scale, zp, qmin, qmax) bit for bit when zp lies in
// [qmin, qmax] (a NaN gives zp).
inline int32_t quantize(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  float v = x / scale;  // a division, as the reference
  v = v != v ? 0.f : v;
  return round_clamp(v, static_cast<float>(qmin - zp), static_cast<float>(qmax - zp), zp);
}

// The portable loops of kernels.h's RangeF32Fn, TileFinishF32Fn and SumU8Fn, for levels
// without their own (written so that they vectorize; finiteness from the exponent bits).
bool range_portable(size_t n, const float* x, float* lo, float* hi) {
  float l = 0.f, h = 0.f;
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    l = v < l ? v : l;
    h = v > h ? v : h;
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  *lo = l;
  *hi = h;
  return bad == 0;
}

void finish_portable(size_t mc, size_t nc, const int32_t* acc, size_t acc_stride, const uint32_t* colsum,
                     const uint32_t* z, const uint32_t* r, const float* rs, const float* cs, const float* bias,
                     float lo, float hi, float* out, size_t out_stride) {
  for (size_t i = 0; i < mc; ++i) {
    const int32_t* a = acc + i * acc_stride;
    float* o = out + i * out_stride;
    for (size_t j = 0; j < nc; ++j) {
      const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(a[j]) - z[i] * colsum[j] + r[i]);
      float x = static_cast<float>(v) * (rs[i] * cs[j]);
      if (bias != nullptr) x += bias[j];
      o[j] = ref::internal::clamp_f32(x, lo, hi);
    }
  }
}

uint32_t sum_portable(size_t n, const uint8_t* x) {
  uint32_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += x[i];
  return sum;
}

// ref::quantize to uint8 (for levels without a quantize kernel).
void scalar_quantize_u8(size_t n, const float* in, float scale, int32_t zero_point, uint8_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(quantize(in[i], scale, zero_point, 0, 255));
}

template <typename T>
int32_t load_as_i32(const void* p, size_t i) {
  return static_cast<int32_t>(static_cast<const T*>(p)[i]);
}

// Packs a k x n matrix, get(kk, j) in [-128, 127], into `blocks` blocks of NR columns
// at base (block_bytes each: int32 bias[nr], then W[k / kr][nr][kr], int16 when wide),
// zero beyond k and n, with the column sums in sums[0, n) and the bias
// -a_offset * colsum mod 2^32.
template <typename Get>
void pack_blocks(uint8_t* base, uint32_t* sums, size_t blocks, size_t block_bytes, size_t nr, size_t kr, bool wide,
                 size_t k, size_t n, uint32_t a_offset, const Get& get) {
  std::memset(base, 0, blocks * block_bytes);
  std::fill(sums, sums + n, 0u);
  for (size_t nb = 0; nb < blocks; ++nb) {
    uint8_t* block = base + nb * block_bytes;
    int8_t* wp = reinterpret_cast<int8_t*>(block + nr * sizeof(int32_t));
    int16_t* wp16 = reinterpret_cast<int16_t*>(wp);
    const size_t j0 = nb * nr, nj = std::min(nr, n - j0);
    for (size_t kk = 0; kk < k; ++kk) {
      const size_t row = (kk / kr) * nr * kr + kk % kr;
      for (size_t jj = 0; jj < nj; ++jj) {
        const int32_t v = get(kk, j0 + jj);
        assert(v >= -128 && v <= 127);
        if (wide) {
          wp16[row + jj * kr] = static_cast<int16_t>(v);
        } else {
          wp[row + jj * kr] = static_cast<int8_t>(v);
        }
        sums[j0 + jj] += static_cast<uint32_t>(v);
      }
    }
    for (size_t jj = 0; jj < nj; ++jj) {
      const uint32_t bias = 0u - a_offset * sums[j0 + jj];
      std::memcpy(block + jj * sizeof(int32_t), &bias, sizeof(bias));
    }
  }
}

// The layout of a kernel's packed B for k x n: NR-column blocks of block_bytes.
struct BlockLayout {
  size_t blocks, block_bytes;
  BlockLayout(const QGemmKernel& kernel, size_t k, size_t n)
      : blocks((n + kernel.nr - 1) / kernel.nr),
        block_bytes(round_up(kernel.nr * sizeof(int32_t) + round_up(k, kernel.kr) * kernel.nr *
                                                               (kernel.wide_weights ? 2 : 1),
                             kAlign)) {}
};

// What init() declines whatever the packed weights and the kernel's functions: the
// layout's parameters and the params.
bool layout_accepts(const QMatMulParams& params, const QGemmKernel& kernel) {
  const ref::MatMulShape& s = params.shape;
  if (kernel.mr == 0 || kernel.mr > kMaxMr || kernel.nr == 0 || kernel.kr == 0 ||
      size_t{kernel.mr} * kernel.nr > kMaxTile)
    return false;
  if (s.m <= 0 || s.n <= 0 || s.k <= 0 || s.batches <= 0) return false;
  if (params.mode == 0 && !params.y_f32 && params.rq.per_channel) return false;
  if (params.y_f32 && params.mode != 0) return false;
  if (params.weight != nullptr && ((params.mode == 0 && !params.y_f32) || s.batches != 1 || s.b_batches != 1))
    return false;
  return !params.a_prequantized || (params.weight != nullptr && params.mode == 1);
}

// What init() declines whatever the packed weights (a null ukernel: declined).
QIgemmUkernel accepted_ukernel(const QMatMulParams& params, const QGemmKernel& kernel) {
  const bool a_s8 = params.mode == 0 && params.a_s8;
  if (!kernel.int32_output || (a_s8 ? kernel.s8 : kernel.u8) == nullptr || !layout_accepts(params, kernel))
    return nullptr;
  return a_s8 ? kernel.s8 : kernel.u8;
}

}  // namespace

uint32_t QMatMulPacked::a_offset(const QMatMulParams& params, const QGemmKernel& kernel) {
  const bool a_s8 = params.mode == 0 && params.a_s8;
  const uint32_t act = static_cast<uint32_t>(a_s8 ? kernel.s8_act_offset : kernel.u8_act_offset);
  return params.y_f32 ? static_cast<uint32_t>(params.a_zero_point) + act : act;
}

std::string qmatmul_layout_prefix(const char* kernel) { return std::string("qmatmul/") + kernel + "/"; }

std::string qmatmul_layout_name(const char* kernel, uint32_t a_offset) {
  return qmatmul_layout_prefix(kernel) + std::to_string(a_offset);
}

bool is_qmatmul_layout(const std::string& name) { return name.rfind("qmatmul/", 0) == 0; }

size_t QMatMulPacked::segment_bytes(const QMatMulParams& params, const QGemmKernel& layout) {
  if (!layout_accepts(params, layout) || params.weight == nullptr) return 0;
  const BlockLayout blocks(layout, static_cast<size_t>(params.shape.k), static_cast<size_t>(params.shape.n));
  return blocks.blocks * blocks.block_bytes + static_cast<size_t>(params.shape.n) * sizeof(uint32_t);
}

InitResult QMatMulPacked::make(const QMatMulParams& params, const QGemmKernel& layout, const void* ukernel,
                               const uint8_t* segment, size_t segment_nbytes,
                               std::shared_ptr<const QMatMulPacked>* out) {
  out->reset();
  const size_t size = segment_bytes(params, layout);
  if (size == 0) return InitResult::kDeclined;
  const size_t k = static_cast<size_t>(params.shape.k), n = static_cast<size_t>(params.shape.n);
  const BlockLayout blocks(layout, k, n);
  auto packed = std::make_shared<QMatMulPacked>();
  packed->bytes_ = blocks.blocks * blocks.block_bytes;
  packed->segment_size_ = size;
  packed->ukernel_ = ukernel;
  packed->a_offset_ = a_offset(params, layout);
  packed->k_ = params.shape.k;
  packed->n_ = params.shape.n;
  if (segment != nullptr) {
    if (segment_nbytes != size || reinterpret_cast<uintptr_t>(segment) % kAlign != 0) return InitResult::kDeclined;
    packed->base_ = segment;
    *out = std::move(packed);
    return InitResult::kReady;
  }
  packed->data_ = aligned_buffer(size, kAlign);
  if (!packed->data_) return InitResult::kOutOfMemory;
  packed->base_ = packed->data_.get();
  const int8_t* w = params.weight;
  pack_blocks(packed->data_.get(), reinterpret_cast<uint32_t*>(packed->data_.get() + packed->bytes_), blocks.blocks,
              blocks.block_bytes, layout.nr, layout.kr, layout.wide_weights, k, n, packed->a_offset_,
              [&](size_t kk, size_t j) { return int32_t{w[j * k + kk]}; });
  *out = std::move(packed);
  return InitResult::kReady;
}

InitResult QMatMulPacked::pack_weights(const QMatMulParams& params, const QGemmKernel& kernel,
                                       std::shared_ptr<const QMatMulPacked>* out) {
  out->reset();
  const QIgemmUkernel uk = accepted_ukernel(params, kernel);
  if (uk == nullptr || params.weight == nullptr) return InitResult::kDeclined;
  return make(params, kernel, reinterpret_cast<const void*>(uk), nullptr, 0, out);
}

InitResult QMatMulPacked::pack_layout(const QMatMulParams& params, const QGemmKernel& layout,
                                      std::shared_ptr<const QMatMulPacked>* out) {
  return make(params, layout, nullptr, nullptr, 0, out);
}

InitResult QMatMulPacked::from_segment(const QMatMulParams& params, const QGemmKernel& kernel, const uint8_t* data,
                                       size_t nbytes, std::shared_ptr<const QMatMulPacked>* out) {
  out->reset();
  const QIgemmUkernel uk = accepted_ukernel(params, kernel);
  if (uk == nullptr || params.weight == nullptr || data == nullptr) return InitResult::kDeclined;
  return make(params, kernel, reinterpret_cast<const void*>(uk), data, nbytes, out);
}

struct QMatMulOp::Impl {
  QMatMulParams p;
  ref::MatMulShape s;
  QIgemmUkernel ukernel = nullptr, ukernel_row = nullptr;
  QuantizeFn<uint8_t> quantize_u8 = nullptr;  // the level's, or scalar_quantize_u8
  RangeF32Fn range = nullptr;                 // the level's loops, or the portable ones
  TileFinishF32Fn finish = nullptr;
  SumU8Fn sum_u8 = nullptr;
  size_t mr = 0, nr = 0, kr = 0, blocks = 0, block_bytes = 0, m_tiles = 0;
  bool wide = false, fc = false;
  uint32_t act_offset = 0;  // the kernel's offset for A's type

  // The memory of the packed B, and of the dynamic modes' quantized A and B. A fully
  // connected layer's packed weights are the op's own; what a run rewrites (a
  // run-time B packed, the quantized copies) is the op's own too unless the caller
  // asked for an external workspace (QMatMulParams::external_workspace).
  struct Region {
    AlignedBuffer own;
    uint8_t* p = nullptr;
    size_t bytes = 0, offset = 0;  // offset: in the workspace, for per-run regions
    bool per_run = false;
  };
  Region packed;                  // b_batches * blocks * block_bytes (not for a fully connected layer)
  // A fully connected layer's weights and column sums, packed once (maybe shared).
  std::shared_ptr<const QMatMulPacked> fc_packed;
  bool fc_packed_here = false;  // init() packed it (the op's own bytes)
  std::vector<uint8_t> direct;    // per B matrix: w = b - zb (mode 0)
  std::vector<int32_t> d;         // per B matrix: o - zb, the row term's factor
  std::vector<uint32_t> col_wz;   // a fully connected layer's zero points per column (n), or empty
  std::vector<uint32_t> colsum;   // b_batches * n (a fully connected layer: fc_packed's)
  std::vector<float> col_scale;   // b_batches * n (dynamic)
  std::vector<uint8_t> col_ok;    // b_batches * n (dynamic)
  std::vector<uint8_t> cols_ok;   // per B matrix: every column finite
  std::vector<float> col_lo;      // mode 2: b_batches * n, the columns' minima
  Region qb;                      // dynamic MatMul: quantized B, b_batches * k * n
  Region qa;                      // dynamic: quantized A, a_batches * m * k (+ slack)
  size_t workspace_bytes = 0;     // external workspace: the per-run regions' total
  std::vector<float> row_scale;   // a_batches * m (dynamic)
  std::vector<int32_t> row_zp;
  std::vector<uint8_t> row_ok;
  std::vector<uint32_t> rowsum;   // a_batches * m: sum_k (a - zA), when a d is not 0
  std::vector<float> y_scale;     // the direct epilogue's padded arrays (mode 0)
  std::vector<int32_t> y_multiplier, y_exponent;
  QuantEpilogue direct_q, raw_q;

  // Bound per run.
  const uint8_t* a = nullptr;
  const void* b = nullptr;
  void* y = nullptr;
  const uint8_t* a_rows_q = nullptr;   // the dynamic modes' quantized A rows: qa, or A itself
  float a_scale = 1.f, b_scale = 1.f;  // mode 1
  int32_t a_zp = 0, b_zp = 0;
  bool finite = true;

  template <typename Get>
  void pack(size_t matrix, uint32_t a_offset, const Get& get);
  void pack_matrix(size_t bi);
  void finish_tile(int64_t t, int64_t ai, int64_t bi, size_t m0, size_t mc, size_t n0, size_t nc,
                   const int32_t* acc, size_t ldc) const;
  void column_zero_points(int64_t ai, size_t m0, size_t mc, size_t n0, size_t nc, int32_t* acc, size_t ldc) const;
  int32_t weight_zero_point(size_t j) const {
    return col_wz.empty() ? p.weight_zero_point : static_cast<int32_t>(col_wz[j]);
  }
  float double_dot(int64_t r, int64_t bi, size_t j) const;
  const uint32_t* colsums() const { return fc ? fc_packed->colsum() : colsum.data(); }
  const uint8_t* packed_b() const { return fc ? fc_packed->weights() : packed.p; }
};

template <typename Get>
void QMatMulOp::Impl::pack(size_t matrix, uint32_t a_offset, const Get& get) {
  const size_t n = static_cast<size_t>(s.n);
  pack_blocks(packed.p + matrix * blocks * block_bytes, colsum.data() + matrix * n, blocks, block_bytes, nr, kr, wide,
              static_cast<size_t>(s.k), n, a_offset, get);
}

// Packs B matrix bi for this run.
void QMatMulOp::Impl::pack_matrix(size_t bi) {
  const size_t n = static_cast<size_t>(s.n);
  const size_t base = bi * static_cast<size_t>(s.k) * n;
  if (p.mode == 0) {
    const int32_t o = p.b_s8 ? 0 : 128, zb = p.b_zero_point;
    auto value = [&](size_t kk, size_t j) {
      return p.b_s8 ? load_as_i32<int8_t>(b, base + kk * n + j) : load_as_i32<uint8_t>(b, base + kk * n + j);
    };
    // direct: every b - zb fits int8 (and A's type is Y's, the kernel's epilogue writing Y).
    // A float Y takes the int32 tile always, without the row term when b - zb fits.
    bool fits = p.y_f32 || p.a_s8 == p.y_s8;
    for (size_t i = 0; fits && i < static_cast<size_t>(s.k) * n; ++i) {
      const int32_t v = (p.b_s8 ? load_as_i32<int8_t>(b, base + i) : load_as_i32<uint8_t>(b, base + i)) - zb;
      fits = v >= -128 && v <= 127;
    }
    direct[bi] = fits && !p.y_f32;
    d[bi] = fits ? 0 : o - zb;
    const int32_t sub = fits ? zb : o;
    const uint32_t a_offset = static_cast<uint32_t>(p.a_zero_point) + act_offset;
    pack(bi, a_offset, [&](size_t kk, size_t j) { return value(kk, j) - sub; });
    return;
  }
  // Dynamic: B quantized in order first (loops over contiguous values, which vectorize),
  // then packed from that int8 copy.
  const float* bf = static_cast<const float*>(b) + base;
  const size_t count = static_cast<size_t>(s.k) * n;
  int8_t* q = reinterpret_cast<int8_t*>(qb.p) + base;
  if (p.mode == 1) {  // uint8 with the tensor's (s_b, z_b), kept as q - 128
    quantize_u8(count, bf, b_scale, b_zp, reinterpret_cast<uint8_t*>(q));
    for (size_t i = 0; i < count; ++i) q[i] = static_cast<int8_t>(static_cast<uint8_t>(q[i]) - 128);
  } else {  // mode 2: each column int8, symmetric; its range and finiteness row by row
    float* hi = col_scale.data() + bi * n;
    float* lo = col_lo.data() + bi * n;
    uint8_t* ok = col_ok.data() + bi * n;
    std::fill(hi, hi + n, 0.f);
    std::fill(lo, lo + n, 0.f);
    std::fill(ok, ok + n, uint8_t{1});
    for (size_t kk = 0; kk < static_cast<size_t>(s.k); ++kk) {
      const float* row = bf + kk * n;
      for (size_t j = 0; j < n; ++j) {
        const float v = row[j];
        lo[j] = v < lo[j] ? v : lo[j];
        hi[j] = v > hi[j] ? v : hi[j];
        ok[j] &= static_cast<uint8_t>(v - v == 0.f);  // false for NaN and infinities
      }
    }
    for (size_t j = 0; j < n; ++j) {
      float scale = std::max(-lo[j], hi[j]) / 127.f;
      if (!(scale > 0.f) || !std::isfinite(scale)) scale = 1.f;
      hi[j] = scale;
    }
    cols_ok[bi] = std::all_of(ok, ok + n, [](uint8_t v) { return v != 0; });
    for (size_t kk = 0; kk < static_cast<size_t>(s.k); ++kk)
      for (size_t j = 0; j < n; ++j) q[kk * n + j] = static_cast<int8_t>(quantize(bf[kk * n + j], hi[j], 0, -127, 127));
  }
  pack(bi, act_offset, [&](size_t kk, size_t j) { return int32_t{q[kk * n + j]}; });
}

float QMatMulOp::Impl::double_dot(int64_t r, int64_t bi, size_t j) const {
  const float* x = reinterpret_cast<const float*>(a) + r * s.k;
  double sum = 0.0;
  if (fc) {  // as ref::dynamic_fully_connected's rows in double
    const int8_t* w = p.weight + j * static_cast<size_t>(s.k);
    const double ws = p.weight_scale[p.per_channel ? j : 0];
    for (int32_t k = 0; k < s.k; ++k)
      sum += static_cast<double>(x[k]) * (static_cast<double>(w[k] - weight_zero_point(j)) * ws);
    float v = static_cast<float>(sum);
    if (p.bias) v += p.bias[j];
    return ref::internal::clamp_f32(v, p.act_min, p.act_max);
  }
  const float* col = static_cast<const float*>(b) + bi * int64_t{s.k} * s.n + j;
  for (int32_t k = 0; k < s.k; ++k) sum += static_cast<double>(x[k]) * static_cast<double>(col[int64_t{k} * s.n]);
  return static_cast<float>(sum);
}

// Zero points per column wz[j] (ONNX Runtime's per-channel asymmetric weights): the
// tile holds sum_k q w, and sum_k (q - z)(w - wz[j]) = [sum_k (q - z) w] - wz[j] (rowsum -
// k z), so each row's term times each column's zero point comes off before the finish,
// modulo 2^32 as the reference's sum.
void QMatMulOp::Impl::column_zero_points(int64_t ai, size_t m0, size_t mc, size_t n0, size_t nc, int32_t* acc,
                                         size_t ldc) const {
  const uint32_t kk = static_cast<uint32_t>(s.k);
  const uint32_t* wz = col_wz.data() + n0;
  for (size_t i = 0; i < mc; ++i) {
    const size_t row = static_cast<size_t>(ai * s.m) + m0 + i;
    const uint32_t r = rowsum[row] - kk * static_cast<uint32_t>(row_zp[row]);
    int32_t* a = acc + i * ldc;
    for (size_t j = 0; j < nc; ++j) a[j] = static_cast<int32_t>(static_cast<uint32_t>(a[j]) - wz[j] * r);
  }
}

void QMatMulOp::Impl::finish_tile(int64_t t, int64_t ai, int64_t bi, size_t m0, size_t mc, size_t n0, size_t nc,
                                  const int32_t* acc, size_t ldc) const {
  const size_t n = static_cast<size_t>(s.n);
  const uint32_t dk = static_cast<uint32_t>(d[bi]);
  const uint32_t kk = static_cast<uint32_t>(s.k);
  if (p.mode == 0 && p.y_f32) {  // ref::qmatmul_float, ref::qfully_connected_float
    const uint32_t za = static_cast<uint32_t>(p.a_zero_point);
    float* out = static_cast<float*>(y) + (t * s.m + m0) * n + n0;
    const float* cs = col_scale.data() + bi * n + n0;
    const float* bias = fc && p.bias != nullptr ? p.bias + n0 : nullptr;
    // A MatMul has no clamp: the infinite bounds change no value (NaN included).
    const float lo = fc ? p.act_min : -INFINITY, hi = fc ? p.act_max : INFINITY;
    // rs = 1: 1 * cs[j] is cs[j]; z = 0: no column term.
    uint32_t z[kMaxMr], r[kMaxMr];
    float rs[kMaxMr];
    for (size_t i = 0; i < mc; ++i) {
      z[i] = 0;
      r[i] = dk == 0 ? 0u : dk * (rowsum[ai * s.m + m0 + i] - kk * za);
      rs[i] = 1.f;
    }
    finish(mc, nc, acc, ldc, colsums() + bi * n + n0, z, r, rs, cs, bias, lo, hi, out, n);
    return;
  }
  if (p.mode == 0) {
    const uint32_t za = static_cast<uint32_t>(p.a_zero_point);
    uint8_t* out = static_cast<uint8_t*>(y) + (t * s.m + m0) * n + n0;
    const bool fp32 = p.rq.scheme == ref::Scheme::kFp32;
    const float scale = fp32 ? p.rq.scale[0] : 0.f;
    const float lo = static_cast<float>(p.rq.qmin - p.rq.zero_point), hi = static_cast<float>(p.rq.qmax - p.rq.zero_point);
    for (size_t i = 0; i < mc; ++i) {
      const uint32_t r = dk == 0 ? 0u : dk * (rowsum[ai * s.m + m0 + i] - kk * za);
      const int32_t* row = acc + i * ldc;
      uint8_t* o = out + i * n;
      if (fp32) {  // ref::requantize_fp32: the scale is finite and positive, so no NaN
        for (size_t j = 0; j < nc; ++j) {
          const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(row[j]) + r);
          o[j] = static_cast<uint8_t>(round_clamp(static_cast<float>(v) * scale, lo, hi, p.rq.zero_point));
        }
      } else {
        for (size_t j = 0; j < nc; ++j) {
          const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(row[j]) + r);
          o[j] = static_cast<uint8_t>(ref::requantize(v, p.rq, 0));
        }
      }
    }
    return;
  }
  float* out = static_cast<float*>(y) + (t * s.m + m0) * n + n0;
  const uint32_t* sums = colsums() + bi * n + n0;
  const float* cs = col_scale.data() + bi * n + n0;
  const float* bias = fc && p.bias != nullptr ? p.bias + n0 : nullptr;
  const float lo = fc ? p.act_min : -INFINITY, hi = fc ? p.act_max : INFINITY;
  const int64_t row0 = ai * s.m + static_cast<int64_t>(m0);
  if (dk == 0 && cols_ok[bi] && std::all_of(&row_ok[row0], &row_ok[row0] + mc, [](uint8_t v) { return v != 0; })) {
    // No row term (a fully connected layer's): the rows' own parameters, in place.
    static const uint32_t kNoRowTerm[kMaxMr] = {};
    finish(mc, nc, acc, ldc, sums, reinterpret_cast<const uint32_t*>(&row_zp[row0]), kNoRowTerm, &row_scale[row0], cs,
           bias, lo, hi, out, n);
    return;
  }
  // Rows whose outputs all take the int32 path go to the level's tile loop in runs.
  uint32_t z[kMaxMr], r[kMaxMr];
  float rs[kMaxMr];
  size_t run0 = 0, run = 0;  // rows [run0, run0 + run) wait for the tile loop
  auto flush = [&]() {
    if (run != 0) finish(run, nc, acc + run0 * ldc, ldc, sums, z, r, rs, cs, bias, lo, hi, out + run0 * n, n);
    run = 0;
  };
  for (size_t i = 0; i < mc; ++i) {
    const int64_t row = ai * s.m + static_cast<int64_t>(m0 + i);
    const uint32_t zi = static_cast<uint32_t>(row_zp[row]);
    const uint32_t ri = dk == 0 ? 0u : dk * (rowsum[row] - kk * zi);
    const float rsi = row_scale[row];
    if (row_ok[row] && cols_ok[bi]) {
      if (run == 0) run0 = i;
      z[run] = zi;
      r[run] = ri;
      rs[run] = rsi;
      ++run;
      continue;
    }
    flush();
    const int32_t* a_row = acc + i * ldc;
    float* o = out + i * n;
    for (size_t j = 0; j < nc; ++j) {  // some outputs in double
      if (!row_ok[row] || !col_ok[bi * n + n0 + j]) {
        o[j] = double_dot(row, bi, n0 + j);
      } else {  // a MatMul's finite column (a fully connected layer's are all finite)
        const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(a_row[j]) - zi * sums[j] + ri);
        o[j] = static_cast<float>(v) * (rsi * cs[j]);
      }
    }
  }
  flush();
}

QMatMulOp::QMatMulOp() = default;
QMatMulOp::~QMatMulOp() = default;

InitResult QMatMulOp::init(const QMatMulParams& params, const QGemmKernel& kernel,
                           std::shared_ptr<const QMatMulPacked> fc_packed) {
  impl_.reset();
  const ref::MatMulShape& s = params.shape;
  const bool a_s8 = params.mode == 0 && params.a_s8;
  const QIgemmUkernel uk = accepted_ukernel(params, kernel);
  if (uk == nullptr) return InitResult::kDeclined;
  if ((params.weight_zero_point != 0 || params.weight_zero_points != nullptr) &&
      (params.weight == nullptr || params.mode != 1))
    return InitResult::kDeclined;
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.p = params;
  m.s = s;
  m.fc = params.weight != nullptr;
  if (m.fc) {  // the weights packed once: given (for this layout and offset), or here
    if (fc_packed == nullptr) {
      const InitResult r = QMatMulPacked::pack_weights(params, kernel, &fc_packed);
      if (!r) return r;
      m.fc_packed_here = true;
    }
    if (fc_packed->ukernel_ != reinterpret_cast<const void*>(uk) || fc_packed->k_ != s.k || fc_packed->n_ != s.n ||
        fc_packed->a_offset_ != QMatMulPacked::a_offset(params, kernel))
      return InitResult::kDeclined;
    m.fc_packed = std::move(fc_packed);
  }
  m.ukernel = uk;
  m.quantize_u8 = params.quantize_u8 != nullptr ? params.quantize_u8 : &scalar_quantize_u8;
  m.range = kernel.range_f32 != nullptr ? kernel.range_f32 : &range_portable;
  m.finish = kernel.finish_f32 != nullptr ? kernel.finish_f32 : &finish_portable;
  m.sum_u8 = kernel.sum_u8 != nullptr ? kernel.sum_u8 : &sum_portable;
  const QIgemmUkernel row = a_s8 ? kernel.s8_row : kernel.u8_row;
  m.ukernel_row = row != nullptr ? row : m.ukernel;
  m.mr = kernel.mr;
  m.nr = kernel.nr;
  m.kr = kernel.kr;
  m.wide = kernel.wide_weights;
  m.act_offset = static_cast<uint32_t>(a_s8 ? kernel.s8_act_offset : kernel.u8_act_offset);
  const size_t k = static_cast<size_t>(s.k), n = static_cast<size_t>(s.n);
  const BlockLayout layout(kernel, k, n);
  m.blocks = layout.blocks;
  m.block_bytes = layout.block_bytes;
  m.m_tiles = (static_cast<size_t>(s.m) + m.mr - 1) / m.mr;
  const size_t bb = static_cast<size_t>(s.b_batches), rows = static_cast<size_t>(s.a_batches) * s.m;
  const bool dynamic = !params.y_f32 && params.mode != 0;
  m.packed.bytes = m.fc ? 0 : bb * m.blocks * m.block_bytes;
  m.packed.per_run = !m.fc;
  if (dynamic && !params.a_prequantized) {
    m.qa.bytes = rows * k + round_up(k, m.kr) + kReadSlack;
    m.qa.per_run = true;
    if (!m.fc) {
      m.qb.bytes = bb * k * n;
      m.qb.per_run = true;
    }
  }
  for (Impl::Region* r : {&m.packed, &m.qa, &m.qb}) {
    if (r->bytes == 0) continue;
    if (params.external_workspace && r->per_run) {
      r->offset = m.workspace_bytes;
      m.workspace_bytes += round_up(r->bytes, kAlign);
      continue;
    }
    r->own = aligned_buffer(r->bytes, kAlign);
    if (!r->own) return InitResult::kOutOfMemory;
    r->p = r->own.get();
    r->per_run = false;  // the op's own
  }
  m.direct.assign(bb, 0);
  // The row term's factor: a fully connected layer's weights w - wz give
  // sum (q - z)(w - wz) = [sum (q - z) w] - wz (rowsum - k z).
  m.d.assign(bb, m.fc ? -params.weight_zero_point : 0);
  if (params.weight_zero_points != nullptr) {  // per column: one value is the row term's
    const int32_t* wz = params.weight_zero_points;
    if (std::all_of(wz, wz + n, [&](int32_t z) { return z == wz[0]; })) {
      m.p.weight_zero_point = wz[0];
      m.d.assign(bb, -wz[0]);
    } else {
      m.d.assign(bb, 0);
      m.col_wz.assign(wz, wz + n);
    }
  }
  if (!m.fc) m.colsum.assign(bb * n, 0);
  m.cols_ok.assign(bb, 1);
  m.rowsum.assign(rows, 0);
  m.raw_q.int32_output = true;
  if (params.y_f32) {
    // The scales per column, each product rounded to float as the reference does (a
    // fully connected layer's weights are packed, A's zero point in the bias).
    m.col_scale.resize(bb * n);
    for (size_t j = 0; j < bb * n; ++j)
      m.col_scale[j] = params.a_scale * (m.fc ? params.weight_scale[params.per_channel ? j : 0] : params.b_scale);
  } else if (params.mode == 0) {
    // The direct epilogue: per-tensor parameters copied over the padded columns.
    const size_t padded = m.blocks * m.nr;
    m.direct_q.scheme = params.rq.scheme;
    m.direct_q.zero_point = params.rq.zero_point;
    m.direct_q.qmin = params.rq.qmin;
    m.direct_q.qmax = params.rq.qmax;
    if (params.rq.scheme == ref::Scheme::kFp32) {
      m.y_scale.assign(padded, params.rq.scale[0]);
      m.direct_q.scale = m.y_scale.data();
    } else {
      m.y_multiplier.assign(padded, params.rq.multiplier[0]);
      m.y_exponent.assign(padded, params.rq.exponent[0]);
      m.direct_q.multiplier = m.y_multiplier.data();
      m.direct_q.exponent = m.y_exponent.data();
    }
    // The x86 fp32 epilogue needs its bounds exact in float (qconv.cc checks the same).
    const int64_t lo = int64_t{params.rq.qmin} - params.rq.zero_point, hi = int64_t{params.rq.qmax} - params.rq.zero_point;
    // (and the int32 tiles' rounding, round_small, below 2^22)
    if (lo < -(int64_t{1} << 22) || hi > (int64_t{1} << 22)) return InitResult::kDeclined;
  } else {
    // Bytes past a row's k meet zero weights: whatever they hold adds nothing (an own
    // copy is zeroed all the same; a workspace holds what its last user left).
    if (m.qa.p != nullptr) std::memset(m.qa.p, 0, m.qa.bytes);
    m.row_scale.assign(rows, 1.f);
    m.row_zp.assign(rows, 0);
    m.row_ok.assign(rows, 1);
    m.col_scale.assign(bb * n, 1.f);
    m.col_ok.assign(bb * n, 1);
    if (!m.fc) {
      m.col_lo.assign(bb * n, 0.f);
    }
    if (m.fc) {  // the constant weights' scales per column (the weights are packed)
      for (size_t j = 0; j < n; ++j) m.col_scale[j] = params.weight_scale[params.per_channel ? j : 0];
    }
  }
  impl_ = std::move(impl);
  return InitResult::kReady;
}

void QMatMulOp::begin(const void* a, const void* b, void* y) {
  Impl& m = *impl_;
  m.a = static_cast<const uint8_t*>(a);
  m.b = b;
  m.y = y;
  if (m.p.a_prequantized) {  // set_a_quantization() gave the parameters
    m.a_rows_q = m.a;
    m.finite = true;
    return;
  }
  m.a_rows_q = m.qa.p;
  if (m.p.mode != 1) return;
  // The tensor-wide DynamicQuantizeLinear parameters of A and of B.
  const ref::MatMulShape& s = m.s;
  float lo, hi;
  bool ok = m.range(static_cast<size_t>(s.a_batches * s.m) * s.k, static_cast<const float*>(a), &lo, &hi);
  ref::dynamic_uint8_params(lo, hi, &m.a_scale, &m.a_zp);
  if (!m.fc) {
    ok = m.range(static_cast<size_t>(s.b_batches * s.k) * s.n, static_cast<const float*>(b), &lo, &hi) && ok;
    ref::dynamic_uint8_params(lo, hi, &m.b_scale, &m.b_zp);
    std::fill(m.d.begin(), m.d.end(), 128 - m.b_zp);
    std::fill(m.col_scale.begin(), m.col_scale.end(), m.b_scale);
  }
  m.finite = ok;
  std::fill(m.row_ok.begin(), m.row_ok.end(), static_cast<uint8_t>(ok));
}

void QMatMulOp::set_a_quantization(float scale, int32_t zero_point) {
  impl_->a_scale = scale;
  impl_->a_zp = zero_point;
}

size_t QMatMulOp::b_parts() const { return impl_->fc ? 0 : static_cast<size_t>(impl_->s.b_batches); }

void QMatMulOp::pack_b(size_t begin, size_t end) {
  Impl& m = *impl_;
  if (m.p.mode == 1 && !m.finite) return;  // every output in double
  for (size_t bi = begin; bi < end; ++bi) m.pack_matrix(bi);
}

size_t QMatMulOp::a_rows() const { return static_cast<size_t>(impl_->s.a_batches) * impl_->s.m; }

void QMatMulOp::prepare_a(size_t begin, size_t end) {
  Impl& m = *impl_;
  const size_t k = static_cast<size_t>(m.s.k);
  if (m.p.mode == 0) {
    if (std::any_of(m.d.begin(), m.d.end(), [](int32_t v) { return v != 0; })) {
      for (size_t r = begin; r < end; ++r) {
        uint32_t sum = 0;
        for (size_t kk = 0; kk < k; ++kk)
          sum += static_cast<uint32_t>(m.p.a_s8 ? load_as_i32<int8_t>(m.a, r * k + kk)
                                                : load_as_i32<uint8_t>(m.a, r * k + kk));
        m.rowsum[r] = sum;
      }
    }
    return;
  }
  // Row sums feed only the row term, which a product without one (a fully connected
  // layer whose weights' zero point is 0: d is 0) never reads.
  const bool sums = !m.col_wz.empty() || std::any_of(m.d.begin(), m.d.end(), [](int32_t v) { return v != 0; });
  if (m.p.a_prequantized) {
    for (size_t r = begin; r < end; ++r) {
      m.row_scale[r] = m.a_scale;
      m.row_zp[r] = m.a_zp;
      if (sums) m.rowsum[r] = m.sum_u8(k, m.a + r * k);
    }
    return;
  }
  const float* af = reinterpret_cast<const float*>(m.a);
  if (m.p.mode == 1) {  // one tensor's parameters: the range's rows in one call
    if (!m.finite) return;
    std::fill(m.row_scale.begin() + static_cast<std::ptrdiff_t>(begin),
              m.row_scale.begin() + static_cast<std::ptrdiff_t>(end), m.a_scale);
    std::fill(m.row_zp.begin() + static_cast<std::ptrdiff_t>(begin), m.row_zp.begin() + static_cast<std::ptrdiff_t>(end),
              m.a_zp);
    m.quantize_u8((end - begin) * k, af + begin * k, m.a_scale, m.a_zp, m.qa.p + begin * k);
    for (size_t r = begin; sums && r < end; ++r) m.rowsum[r] = m.sum_u8(k, m.qa.p + r * k);
    return;
  }
  for (size_t r = begin; r < end; ++r) {
    const float* x = af + r * k;
    float lo, hi;
    m.row_ok[r] = m.range(k, x, &lo, &hi);
    ref::dynamic_uint8_params(lo, hi, &m.row_scale[r], &m.row_zp[r]);
    uint8_t* q = m.qa.p + r * k;
    m.quantize_u8(k, x, m.row_scale[r], m.row_zp[r], q);
    if (sums) m.rowsum[r] = m.sum_u8(k, q);
  }
}

size_t QMatMulOp::tiles() const {
  const Impl& m = *impl_;
  return static_cast<size_t>(m.s.batches) * m.m_tiles * m.blocks;
}

size_t QMatMulOp::elements() const {
  const Impl& m = *impl_;
  return static_cast<size_t>(m.s.batches) * m.s.m * m.s.n;
}

void QMatMulOp::run_tiles(size_t begin, size_t end) const {
  const Impl& m = *impl_;
  const size_t n = static_cast<size_t>(m.s.n), k = static_cast<size_t>(m.s.k);
  const size_t ms = static_cast<size_t>(m.s.m);
  alignas(64) int32_t tile[kMaxTile];
  for (size_t t = begin; t < end; ++t) {
    const size_t nb = t % m.blocks, mt = t / m.blocks % m.m_tiles;
    const int64_t yb = static_cast<int64_t>(t / m.blocks / m.m_tiles);
    int64_t ai = 0, bi = 0;
    ref::matmul_operands(m.s, yb, &ai, &bi);
    const size_t m0 = mt * m.mr, mc = std::min(m.mr, ms - m0);
    const size_t n0 = nb * m.nr, nc = std::min(m.nr, n - n0);
    if (m.p.mode == 1 && !m.finite) {  // no quantization holds the operands
      m.finish_tile(yb, ai, bi, m0, mc, n0, nc, tile, m.nr);
      continue;
    }
    const uint8_t* rows = m.p.mode == 0 ? m.a + (static_cast<size_t>(ai) * ms + m0) * k
                                        : m.a_rows_q + (static_cast<size_t>(ai) * ms + m0) * k;
    const void* a[kMaxMr];
    for (size_t i = 0; i < m.mr; ++i) a[i] = rows + std::min(i, mc - 1) * k;
    const uint8_t* w = m.packed_b() + (static_cast<size_t>(bi) * m.blocks + nb) * m.block_bytes;
    const QIgemmUkernel uk = mc == 1 ? m.ukernel_row : m.ukernel;
    if (m.p.mode == 0 && m.direct[bi]) {
      uint8_t* c = static_cast<uint8_t*>(m.y) + (static_cast<size_t>(yb) * ms + m0) * n + n0;
      uk(mc, nc, k, 1, a, w, c, n, n0, &m.direct_q);
      continue;
    }
    uk(mc, nc, k, 1, a, w, tile, m.nr * sizeof(int32_t), n0, &m.raw_q);
    if (!m.col_wz.empty()) m.column_zero_points(ai, m0, mc, n0, nc, tile, m.nr);
    m.finish_tile(yb, ai, bi, m0, mc, n0, nc, tile, m.nr);
  }
}

void QMatMulOp::run(const void* a, const void* b, void* y) {
  begin(a, b, y);
  pack_b(0, b_parts());
  prepare_a(0, a_rows());
  run_tiles(0, tiles());
}

size_t QMatMulOp::scratch_bytes() const {
  if (!impl_) return 0;
  const Impl& m = *impl_;
  const size_t rows = m.rowsum.size();
  size_t own = 0;
  for (const Impl::Region* r : {&m.packed, &m.qa, &m.qb})
    if (r->own) own += r->bytes;
  // A fully connected layer's packed weights: the op's only when it packed them.
  if (m.fc_packed_here) own += m.fc_packed->heap_bytes();
  return own + rows * (sizeof(uint32_t) + sizeof(float) + sizeof(int32_t) + 1) +
         (m.colsum.size() + m.col_scale.size() + m.col_lo.size()) * sizeof(float) + m.col_ok.size();
}

size_t QMatMulOp::workspace_bytes() const { return impl_ ? impl_->workspace_bytes : 0; }

void QMatMulOp::set_workspace(uint8_t* workspace) {
  if (!impl_) return;
  for (Impl::Region* r : {&impl_->packed, &impl_->qa, &impl_->qb})
    if (r->per_run) r->p = workspace + r->offset;
}

}  // namespace kern
}  // namespace edgeq
