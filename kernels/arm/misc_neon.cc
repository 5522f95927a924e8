// NEON elementwise, pooling, lookup, concat, quantize and dequantize kernels (kernels/misc.h, MiscKernels) for
// AArch64 and ARMv7-A, each equal to its kernels/ref function bit for bit. The loops
// and the cases they take are kernels/misc_loops.h's, shared with the x86 kernels.
//
//  * qbinary: a row is computed 16 elements at a time with the reference's formulas:
//    fp32 scheme, dequantize, op and divide in float, then round half to even
//    (neon_epilogue.h); fixed point, the TFLite steps with neon_round_fixed. kDiv, and
//    zero points or scales outside what the vector code reproduces, go to ref::qbinary.
//  * pools: vectorized across channels (32 per block on AArch64, 16 on ARMv7), so every
//    channel's sum keeps the reference's order (average pool: float sum in window order).
//  * lookup: AArch64 looks 16 bytes up at once in the four 64-byte quarters of the table
//    (one tbl, then tbx on the index minus 64, 128, 192: out-of-range indices keep what
//    is there). ARMv7 does the same with vtbl4/vtbx4 on eight 32-byte eighths.
//  * concat: the reference's copies, with short ones inlined instead of memcpy calls.
//  * quantize: 16 floats at a time, divided by the scale and rounded half to even
//    (neon_round_nearest: NaN gives 0, large values saturate), then the zero point added
//    saturating and clamped; dequantize: (q - zp) converted and multiplied. Zero points
//    beyond 2^24 go to the reference.
//
// Float on ARMv7. NEON there has no division, and flushes denormal operands and results
// to zero. Divisions therefore run lane by lane on the VFP, which is IEEE like the
// reference (Linux leaves flush-to-zero off for it). The vector paths take only scales
// for which a flushed denormal cannot change a result (flush_safe_*), else the reference
// runs: with s_a, s_b normal every dequantized operand is normal or zero, and a denormal
// r = a' op b' divided by s_y >= 2^-124 is below 1/4, which rounds to 0 as the flushed
// r does. Average pool: with s_in >= 2^-100 every product and partial sum is 0 or a
// nonzero multiple of 2^-123, hence normal; the divisions run on the VFP, and adding
// the zero point to a flushed quotient below 2^-126 changes no rounded result. Max pool
// needs only s_in normal. Global average pool multiplies an integer by its scale once:
// a flushed scale or product is below 2^-95 in magnitude and rounds to 0 anyway.
// Quantize divides on the VFP and rounds a flushed denormal quotient to 0, as the
// reference rounds it. Dequantize takes only normal finite scales on ARMv7: a nonzero
// integer times one is normal or infinite, never flushed.
// AArch64 NEON is IEEE (flush-to-zero off) and divides itself.
#include "kernels/arm/misc_neon.h"

#include <arm_neon.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/arm/neon_epilogue.h"
#include "kernels/misc_loops.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {
namespace {

#if defined(__aarch64__)
constexpr int kPoolBlock = 32;  // channels per pool block
#else
constexpr int kPoolBlock = 16;  // 16 q registers
#endif

// The byte vector operations of int8 and uint8.
template <typename T>
struct Bytes;
template <>
struct Bytes<int8_t> {
  using V = int8x16_t;
  static V load(const int8_t* p) { return vld1q_s8(p); }
  static void store(int8_t* p, V v) { vst1q_s8(p, v); }
  static V dup(int32_t x) { return vdupq_n_s8(static_cast<int8_t>(x)); }
  static V max(V a, V b) { return vmaxq_s8(a, b); }
  static V min(V a, V b) { return vminq_s8(a, b); }
  static int16x8_t widen_lo(V v) { return vmovl_s8(vget_low_s8(v)); }
  static int16x8_t widen_hi(V v) { return vmovl_s8(vget_high_s8(v)); }
};
template <>
struct Bytes<uint8_t> {
  using V = uint8x16_t;
  static V load(const uint8_t* p) { return vld1q_u8(p); }
  static void store(uint8_t* p, V v) { vst1q_u8(p, v); }
  static V dup(int32_t x) { return vdupq_n_u8(static_cast<uint8_t>(x)); }
  static V max(V a, V b) { return vmaxq_u8(a, b); }
  static V min(V a, V b) { return vminq_u8(a, b); }
  static int16x8_t widen_lo(V v) { return vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v))); }
  static int16x8_t widen_hi(V v) { return vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(v))); }
};

// 16 elements widened to 4 vectors of int32.
template <typename T>
inline void widen16(typename Bytes<T>::V v, int32x4_t (&x)[4]) {
  const int16x8_t lo = Bytes<T>::widen_lo(v), hi = Bytes<T>::widen_hi(v);
  x[0] = vmovl_s16(vget_low_s16(lo));
  x[1] = vmovl_s16(vget_high_s16(lo));
  x[2] = vmovl_s16(vget_low_s16(hi));
  x[3] = vmovl_s16(vget_high_s16(hi));
}

// 4 vectors of int32 in the output type's range to 16 bytes: the low byte of each value
// is its int8 or uint8 representation alike.
template <typename T>
inline void narrow16(const int32x4_t (&y)[4], T* dst) {
  const int16x8_t lo = vcombine_s16(vmovn_s32(y[0]), vmovn_s32(y[1]));
  const int16x8_t hi = vcombine_s16(vmovn_s32(y[2]), vmovn_s32(y[3]));
  vst1q_s8(reinterpret_cast<int8_t*>(dst), vcombine_s8(vmovn_s16(lo), vmovn_s16(hi)));
}

// a / d in every lane, correctly rounded.
inline float32x4_t div_n(float32x4_t a, float d) {
#if defined(__aarch64__)
  return vdivq_f32(a, vdupq_n_f32(d));
#else
  a = vsetq_lane_f32(vgetq_lane_f32(a, 0) / d, a, 0);
  a = vsetq_lane_f32(vgetq_lane_f32(a, 1) / d, a, 1);
  a = vsetq_lane_f32(vgetq_lane_f32(a, 2) / d, a, 2);
  return vsetq_lane_f32(vgetq_lane_f32(a, 3) / d, a, 3);
#endif
}

// a / b in every lane, correctly rounded (ARMv7: lane by lane in VFP, which does not
// flush denormals).
inline float32x4_t div_v(float32x4_t a, float32x4_t b) {
#if defined(__aarch64__)
  return vdivq_f32(a, b);
#else
  a = vsetq_lane_f32(vgetq_lane_f32(a, 0) / vgetq_lane_f32(b, 0), a, 0);
  a = vsetq_lane_f32(vgetq_lane_f32(a, 1) / vgetq_lane_f32(b, 1), a, 1);
  a = vsetq_lane_f32(vgetq_lane_f32(a, 2) / vgetq_lane_f32(b, 2), a, 2);
  return vsetq_lane_f32(vgetq_lane_f32(a, 3) / vgetq_lane_f32(b, 3), a, 3);
#endif
}

// Output zero point (added saturating) and clamp. A saturated int32 plus |zp| <= 2^24
// lands beyond the clamp bounds like the reference's exact sum.
struct OutClamp {
  int32x4_t zp, lo, hi;
  OutClamp(int32_t zero_point, int32_t qmin, int32_t qmax)
      : zp(vdupq_n_s32(zero_point)), lo(vdupq_n_s32(qmin)), hi(vdupq_n_s32(qmax)) {}
  int32x4_t operator()(int32x4_t r) const { return vminq_s32(vmaxq_s32(vqaddq_s32(r, zp), lo), hi); }
};

// ARMv7: see the top of the file.
constexpr bool kFlushesDenormals =
#if defined(__aarch64__)
    false;
#else
    true;
#endif

bool flush_safe_binary(ref::BinaryOp op, const ref::BinaryQParams& p) {
  // (kDiv computes in float under both schemes.)
  return !kFlushesDenormals || (p.scheme == ref::Scheme::kFixedPoint && op != ref::BinaryOp::kDiv) ||
         (p.a_scale >= FLT_MIN && p.b_scale >= FLT_MIN && p.out_scale >= 0x1p-124f);
}

// ------------------------------------------------------------------ binary

// The reference's formulas for 4 element pairs.
struct BinaryNeon {
  ref::BinaryOp op;
  bool fixed;
  OutClamp e;
  int32x4_t za, zb;
  float32x4_t sa, sb;  // fp32
  float sy;
  NeonFixed fa, fb, fy;  // fixed point: operand rescales (add/sub), output

  BinaryNeon(ref::BinaryOp o, const ref::BinaryQParams& p)
      : op(o),
        fixed(p.scheme == ref::Scheme::kFixedPoint && o != ref::BinaryOp::kDiv),  // kDiv: in float, as the reference
        e(p.out_zero_point, p.qmin, p.qmax) {
    za = vdupq_n_s32(p.a_zero_point);
    zb = vdupq_n_s32(p.b_zero_point);
    sa = vdupq_n_f32(p.a_scale);
    sb = vdupq_n_f32(p.b_scale);
    sy = p.out_scale;
    fa = fb = fy = fixed_params(0, 0);
    int32_t m = 0, x = 0;
    if (fixed && op == ref::BinaryOp::kMul) {
      ref::quantize_multiplier(
          static_cast<double>(p.a_scale) * static_cast<double>(p.b_scale) / static_cast<double>(p.out_scale), &m, &x);
      fy = fixed_params(m, x);
    } else if (fixed) {
      const double twice_max = 2.0 * std::max(static_cast<double>(p.a_scale), static_cast<double>(p.b_scale));
      ref::quantize_multiplier(static_cast<double>(p.a_scale) / twice_max, &m, &x);
      fa = fixed_params(m, x);
      ref::quantize_multiplier(static_cast<double>(p.b_scale) / twice_max, &m, &x);
      fb = fixed_params(m, x);
      ref::quantize_multiplier(twice_max / (static_cast<double>(int64_t{1} << 20) * p.out_scale), &m, &x);
      fy = fixed_params(m, x);
    }
  }

  static NeonFixed fixed_params(int32_t m, int32_t x) { return neon_fixed_params(vdupq_n_s32(m), vdupq_n_s32(x)); }

  int32x4_t operator()(int32x4_t a, int32x4_t b) const {
    const int32x4_t ca = vsubq_s32(a, za), cb = vsubq_s32(b, zb);
    if (fixed) {
      int32x4_t raw;
      if (op == ref::BinaryOp::kMul) {
        raw = vmulq_s32(ca, cb);  // |ca|, |cb| <= 1024 + 255: exact
      } else {
        const int32x4_t a1 = neon_round_fixed(vshlq_n_s32(ca, 20), fa);
        const int32x4_t b1 = neon_round_fixed(vshlq_n_s32(cb, 20), fb);
        raw = op == ref::BinaryOp::kSub ? vsubq_s32(a1, b1) : vaddq_s32(a1, b1);
      }
      return e(neon_round_fixed(raw, fy));
    }
    const float32x4_t ra = vmulq_f32(sa, vcvtq_f32_s32(ca));
    const float32x4_t rb = vmulq_f32(sb, vcvtq_f32_s32(cb));
    float32x4_t r;
    if (op == ref::BinaryOp::kAdd) {
      r = vaddq_f32(ra, rb);
    } else if (op == ref::BinaryOp::kSub) {
      r = vsubq_f32(ra, rb);
    } else if (op == ref::BinaryOp::kMul) {
      r = vmulq_f32(ra, rb);
    } else {
      r = div_v(ra, rb);  // IEEE: x / 0 is an infinity (saturates), 0 / 0 NaN (the zero point)
    }
    return e(neon_round_nearest(div_n(r, sy)));
  }
};

// n output elements; an operand with step false repeats its one element.
template <typename T>
void binary_row(const BinaryNeon& f, size_t n, const T* a, bool a_step, const T* b, bool b_step, T* out) {
  const int32x4_t a_rep = vdupq_n_s32(a[0]), b_rep = vdupq_n_s32(b[0]);
  auto block16 = [&](const T* pa, const T* pb, T* po) {
    int32x4_t xa[4] = {a_rep, a_rep, a_rep, a_rep}, xb[4] = {b_rep, b_rep, b_rep, b_rep}, y[4];
    if (a_step) widen16<T>(Bytes<T>::load(pa), xa);
    if (b_step) widen16<T>(Bytes<T>::load(pb), xb);
    for (int k = 0; k < 4; ++k) y[k] = f(xa[k], xb[k]);
    narrow16(y, po);
  };
  size_t i = 0;
  for (; i + 16 <= n; i += 16) block16(a + i, b + i, out + i);
  if (i < n) {
    const size_t rest = n - i;
    T ta[16] = {}, tb[16] = {}, to[16];
    if (a_step) std::memcpy(ta, a + i, rest * sizeof(T));
    if (b_step) std::memcpy(tb, b + i, rest * sizeof(T));
    block16(ta, tb, to);
    std::memcpy(out + i, to, rest * sizeof(T));
  }
}

template <typename T>
void qbinary_neon(ref::BinaryOp op, const ref::Broadcast& bc, const T* a, const T* b, const ref::BinaryQParams& p,
                  T* out) {
  if (!binary_supported(op, p, true) || !flush_safe_binary(op, p)) return ref::qbinary(op, bc, a, b, p, out);
  const BinaryNeon f(op, p);
  for_each_binary_row(bc, a, b, out, [&](size_t n, const T* ra, bool a_step, const T* rb, bool b_step, T* o) {
    binary_row(f, n, ra, a_step, rb, b_step, o);
  });
}

// ------------------------------------------------------------------ pooling

template <typename T>
void qmaxpool_neon(const ref::PoolShape& s, const T* in, const ref::PoolQParams& p, T* out) {
  using B = Bytes<T>;
  const bool same = p.in_scale == p.out_scale && p.in_zero_point == p.out_zero_point;
  if (!pool_supported(s, p) || (kFlushesDenormals && !same && !(p.in_scale >= FLT_MIN))) {
    return ref::qmaxpool(s, in, p, out);
  }
  const typename B::V lowest = B::dup(std::numeric_limits<T>::lowest());
  const typename B::V qmin = B::dup(p.qmin), qmax = B::dup(p.qmax);
  const OutClamp e(p.out_zero_point, p.qmin, p.qmax);
  const int32x4_t zin = vdupq_n_s32(p.in_zero_point);
  const float32x4_t sin = vdupq_n_f32(p.in_scale);
  for_each_pool_pixel(s, [&](int64_t o, const int64_t* taps, int count) {
    for_each_channel_block<kPoolBlock>(s.channels, in, taps, count, out + o, [&](const auto& src, T* dst) {
      for (int h = 0; h < kPoolBlock; h += 16) {
        typename B::V m = lowest;
        for (int t = 0; t < count; ++t) m = B::max(m, B::load(src(t) + h));
        if (same) {
          B::store(dst + h, B::min(B::max(m, qmin), qmax));
          continue;
        }
        int32x4_t x[4];
        widen16<T>(m, x);
        for (int k = 0; k < 4; ++k) {
          const float32x4_t real = vmulq_f32(sin, vcvtq_f32_s32(vsubq_s32(x[k], zin)));
          x[k] = e(neon_round_nearest(div_n(real, p.out_scale)));
        }
        narrow16(x, dst + h);
      }
    });
  });
}

template <typename T>
void qavgpool_neon(const ref::PoolShape& s, const T* in, const ref::PoolQParams& p, T* out) {
  if (!pool_supported(s, p) || (kFlushesDenormals && !(p.in_scale >= 0x1p-100f))) {
    return ref::qavgpool(s, in, p, out);
  }
  constexpr int kVectors = kPoolBlock / 4;
  const OutClamp clamp(0, p.qmin, p.qmax);
  const int32x4_t zin = vdupq_n_s32(p.in_zero_point);
  const float32x4_t sin = vdupq_n_f32(p.in_scale);
  const float32x4_t zout = vdupq_n_f32(static_cast<float>(p.out_zero_point));
  const int32x4_t empty = vdupq_n_s32(std::min(std::max(p.out_zero_point, p.qmin), p.qmax));
  for_each_pool_pixel(s, [&](int64_t o, const int64_t* taps, int count) {
    const int32_t divisor = s.count_include_pad ? s.kernel_h * s.kernel_w : count;
    const float fcount = static_cast<float>(divisor);
    for_each_channel_block<kPoolBlock>(s.channels, in, taps, count, out + o, [&](const auto& src, T* dst) {
      float32x4_t sum[kVectors];
      for (int k = 0; k < kVectors; ++k) sum[k] = vdupq_n_f32(0.0f);
      for (int t = 0; t < count; ++t) {
        const T* x = src(t);
        for (int h = 0; h < kVectors / 4; ++h) {
          int32x4_t q[4];
          widen16<T>(Bytes<T>::load(x + 16 * h), q);
          for (int k = 0; k < 4; ++k) {
            const float32x4_t real = vmulq_f32(sin, vcvtq_f32_s32(vsubq_s32(q[k], zin)));
            sum[4 * h + k] = vaddq_f32(sum[4 * h + k], real);
          }
        }
      }
      for (int h = 0; h < kVectors / 4; ++h) {
        int32x4_t r[4];
        for (int k = 0; k < 4; ++k) {
          if (divisor == 0) {
            r[k] = empty;
            continue;
          }
          float32x4_t v = vaddq_f32(div_n(div_n(sum[4 * h + k], fcount), p.out_scale), zout);
          v = vbslq_f32(neon_nan_mask(v), zout, v);  // NaN gives the zero point
          r[k] = clamp(neon_round_nearest(v));
        }
        narrow16(r, dst + 16 * h);
      }
    });
  });
}

template <typename T>
void qglobal_avgpool_neon(int32_t batch, int32_t hw, int32_t channels, const T* in, const ref::PoolQParams& p, T* out) {
  if (!global_pool_supported(hw, p)) return ref::qglobal_avgpool(batch, hw, channels, in, p, out);
  const float divisor = p.out_scale * static_cast<float>(hw);
  const float32x4_t scale = vdupq_n_f32(p.in_scale / divisor);
  const OutClamp e(p.out_zero_point, p.qmin, p.qmax);
  const int32x4_t offset = vdupq_n_s32(hw * p.in_zero_point);
  for (int32_t n = 0; n < batch; ++n) {
    const T* x = in + static_cast<int64_t>(n) * hw * channels;
    T* y = out + static_cast<int64_t>(n) * channels;
    for (int32_t c0 = 0; c0 < channels; c0 += 16) {
      const int32_t width = std::min(16, channels - c0);
      int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
      T tmp[16] = {};
      for (int32_t i = 0; i < hw; ++i) {
        const T* px = x + static_cast<int64_t>(i) * channels + c0;
        if (width < 16) {
          std::memcpy(tmp, px, static_cast<size_t>(width) * sizeof(T));
          px = tmp;
        }
        const typename Bytes<T>::V v = Bytes<T>::load(px);
        const int16x8_t lo = Bytes<T>::widen_lo(v), hi = Bytes<T>::widen_hi(v);
        acc[0] = vaddw_s16(acc[0], vget_low_s16(lo));
        acc[1] = vaddw_s16(acc[1], vget_high_s16(lo));
        acc[2] = vaddw_s16(acc[2], vget_low_s16(hi));
        acc[3] = vaddw_s16(acc[3], vget_high_s16(hi));
      }
      int32x4_t r[4];
      for (int k = 0; k < 4; ++k) r[k] = e(neon_round_fp32(vsubq_s32(acc[k], offset), scale));
      T res[16];
      narrow16(r, res);
      std::memcpy(y + c0, res, static_cast<size_t>(width) * sizeof(T));
    }
  }
}

// ------------------------------------------------------------------ lookup

#if defined(__aarch64__)
// 16 bytes per vector; 4 vectors per step keep four independent tbl/tbx chains going.
constexpr size_t kLookupStep = 64;

struct Table {
  uint8x16x4_t quarter[4];
  explicit Table(const uint8_t* t) {
    for (int k = 0; k < 4; ++k) quarter[k] = vld1q_u8_x4(t + 64 * k);
  }
  uint8x16_t operator()(uint8x16_t idx) const {
    const uint8x16_t step = vdupq_n_u8(64);
    uint8x16_t r = vqtbl4q_u8(quarter[0], idx);
    for (int k = 1; k < 4; ++k) {
      idx = vsubq_u8(idx, step);  // indices below 64 * k wrap above 191: out of range
      r = vqtbx4q_u8(r, quarter[k], idx);
    }
    return r;
  }
};

void lookup_bytes(const uint8_t* t, const uint8_t* x, uint8_t* y, size_t n) {
  const Table table(t);
  for (size_t i = 0; i < n; i += 64) {
    const uint8x16x4_t v = vld1q_u8_x4(x + i);
    uint8x16x4_t r;
    for (int k = 0; k < 4; ++k) r.val[k] = table(v.val[k]);
    vst1q_u8_x4(y + i, r);
  }
}
#else
// 8 bytes per d register; 4 of them per step, so that each 32-byte eighth of the table
// (4 d registers, reloaded from L1 every step: the whole table would need all 32) serves
// 32 lookups.
constexpr size_t kLookupStep = 32;

void lookup_bytes(const uint8_t* t, const uint8_t* x, uint8_t* y, size_t n) {
  const uint8x8_t step = vdup_n_u8(32);
  for (size_t i = 0; i < n; i += 32) {
    uint8x8_t idx[4], r[4];
    uint8x8x4_t eighth;
    for (int j = 0; j < 4; ++j) {
      idx[j] = vld1_u8(x + i + 8 * j);
      eighth.val[j] = vld1_u8(t + 8 * j);
    }
    for (int j = 0; j < 4; ++j) r[j] = vtbl4_u8(eighth, idx[j]);
    for (int k = 1; k < 8; ++k) {
      for (int j = 0; j < 4; ++j) eighth.val[j] = vld1_u8(t + 32 * k + 8 * j);
      for (int j = 0; j < 4; ++j) {
        idx[j] = vsub_u8(idx[j], step);  // indices below 32 * k wrap above 31: out of range
        r[j] = vtbx4_u8(r[j], eighth, idx[j]);
      }
    }
    for (int j = 0; j < 4; ++j) vst1_u8(y + i + 8 * j, r[j]);
  }
}
#endif

// lookup_bytes takes whole steps; the last partial one goes through a padded copy.
template <typename T>
void lookup_neon(size_t n, const T* in, const T table[256], T* out) {
  const uint8_t* t = reinterpret_cast<const uint8_t*>(table);
  const uint8_t* x = reinterpret_cast<const uint8_t*>(in);
  uint8_t* y = reinterpret_cast<uint8_t*>(out);
  const size_t whole = n - n % kLookupStep;
  lookup_bytes(t, x, y, whole);
  if (whole < n) {
    uint8_t tmp[kLookupStep] = {};
    std::memcpy(tmp, x + whole, n - whole);
    lookup_bytes(t, tmp, tmp, kLookupStep);
    std::memcpy(y + whole, tmp, n - whole);
  }
}

// ------------------------------------------------------------------ concat

// memcpy for short runs without the call: up to 64 bytes as 16-byte copies, the last
// one overlapping its predecessor (inputs and output never overlap).
inline void copy_bytes(char* dst_chars, const char* src_chars, size_t n) {
  uint8_t* dst = reinterpret_cast<uint8_t*>(dst_chars);
  const uint8_t* src = reinterpret_cast<const uint8_t*>(src_chars);
  if (n > 64) {
    std::memcpy(dst, src, n);
  } else if (n >= 16) {
    for (size_t i = 0; i + 16 < n; i += 16) vst1q_u8(dst + i, vld1q_u8(src + i));
    vst1q_u8(dst + n - 16, vld1q_u8(src + n - 16));
  } else if (n >= 8) {
    vst1_u8(dst, vld1_u8(src));
    vst1_u8(dst + n - 8, vld1_u8(src + n - 8));
  } else {
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

// A pixel's bilinear blend (misc_loops.h, resize_linear_rows), 4 channels at a time;
// the last ones as the scalar code, the same float operations (vmulq / vaddq, never a
// fused multiply-add).
void blend_neon(int64_t channels, const float* a00, const float* a01, const float* a10, const float* a11, float wx,
                float wy, float* out) {
  const float ux = 1.f - wx, uy = 1.f - wy;
  const float32x4_t vux = vdupq_n_f32(ux), vwx = vdupq_n_f32(wx), vuy = vdupq_n_f32(uy), vwy = vdupq_n_f32(wy);
  int64_t k = 0;
  for (; k + 4 <= channels; k += 4) {
    const float32x4_t top = vaddq_f32(vmulq_f32(vux, vld1q_f32(a00 + k)), vmulq_f32(vwx, vld1q_f32(a01 + k)));
    const float32x4_t bottom = vaddq_f32(vmulq_f32(vux, vld1q_f32(a10 + k)), vmulq_f32(vwx, vld1q_f32(a11 + k)));
    vst1q_f32(out + k, vaddq_f32(vmulq_f32(vuy, top), vmulq_f32(vwy, bottom)));
  }
  for (; k < channels; ++k) {
    const float top = ux * a00[k] + wx * a01[k];
    const float bottom = ux * a10[k] + wx * a11[k];
    out[k] = uy * top + wy * bottom;
  }
}

void concat_neon(int64_t outer, int64_t inner, int count, const int32_t* in_axis_sizes, const void* const* inputs,
                 size_t elem_size, void* out) {
  concat_copies(outer, inner, count, in_axis_sizes, inputs, elem_size, out, copy_bytes);
}

// ------------------------------------------------------------------ quantize, dequantize

template <typename T>
void quantize_neon(size_t n, const float* in, float scale, int32_t zero_point, T* out) {
  if (!convert_supported(zero_point)) return ref::quantize(n, in, scale, zero_point, out);
  const OutClamp e(zero_point, std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max());
  for_each_block<16>(n, in, out, [&](const float* x, T* y) {
    int32x4_t r[4];
    for (int k = 0; k < 4; ++k) r[k] = e(neon_round_nearest(div_n(vld1q_f32(x + 4 * k), scale)));
    narrow16(r, y);
  });
}

template <typename T>
void dequantize_neon(size_t n, const T* in, float scale, int32_t zero_point, float* out) {
  const bool flush_safe = !kFlushesDenormals || (std::isfinite(scale) && std::fabs(scale) >= FLT_MIN);
  if (!convert_supported(zero_point) || !flush_safe) return ref::dequantize(n, in, scale, zero_point, out);
  const int32x4_t z = vdupq_n_s32(zero_point);
  const float32x4_t s = vdupq_n_f32(scale);
  for_each_block<16>(n, in, out, [&](const T* x, float* y) {
    int32x4_t v[4];
    widen16<T>(Bytes<T>::load(x), v);
    for (int k = 0; k < 4; ++k) vst1q_f32(y + 4 * k, vmulq_f32(vcvtq_f32_s32(vsubq_s32(v[k], z)), s));
  });
}

}  // namespace

MiscKernels misc_kernels_neon() {
  MiscKernels k;
  k.qbinary_s8 = qbinary_neon<int8_t>;
  k.qbinary_u8 = qbinary_neon<uint8_t>;
  k.qmaxpool_s8 = qmaxpool_neon<int8_t>;
  k.qmaxpool_u8 = qmaxpool_neon<uint8_t>;
  k.qavgpool_s8 = qavgpool_neon<int8_t>;
  k.qavgpool_u8 = qavgpool_neon<uint8_t>;
  k.qglobal_avgpool_s8 = qglobal_avgpool_neon<int8_t>;
  k.qglobal_avgpool_u8 = qglobal_avgpool_neon<uint8_t>;
  k.lookup_s8 = lookup_neon<int8_t>;
  k.lookup_u8 = lookup_neon<uint8_t>;
  k.concat = concat_neon;
  k.split = split_copies<copy_bytes>;  // kernels/misc_loops.h, with this file's short copies
  k.pad_mode = pad_mode_runs<copy_bytes>;
  k.resize_nearest = resize_indexed_copies<copy_bytes>;
  k.resize_linear_f32 = resize_linear_rows<blend_neon>;
  k.quantize_s8 = quantize_neon<int8_t>;
  k.quantize_u8 = quantize_neon<uint8_t>;
  k.dequantize_s8 = dequantize_neon<int8_t>;
  k.dequantize_u8 = dequantize_neon<uint8_t>;
  k.transpose = transpose_channels_last;  // kernels/misc_loops.h, compiled with this file's flags
  k.slice = slice_runs;                   // likewise
  k.pad = pad_runs;                       // likewise
  return k;
}

}  // namespace kern
}  // namespace edgeq
