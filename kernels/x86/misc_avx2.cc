// AVX2 elementwise, pooling, lookup, concat, quantize and dequantize kernels (kernels/misc.h, MiscKernels),
// each equal to its kernels/ref function bit for bit.
//
//  * qbinary: the broadcast is collapsed to rows in which each operand is either
//    contiguous or one repeated element; a row is computed 16 elements at a time with
//    the reference's formulas (fp32 scheme: dequantize, op and divide in float;
//    fixed point: the TFLite steps with epilogue_avx2.h's FixedPoint; kDiv in float
//    under both schemes, as the reference). Zero points or scales outside what the
//    vector code reproduces go to ref::qbinary.
//  * pools: vectorized across channels, so every channel's sum keeps the reference's
//    order (average pool: float sum in window order).
//  * lookup: 32 bytes at a time with 16 vpshufb on 16-entry slices of the table (two
//    halves of 8 slices, prefix-XORed so that the slices an index does not select
//    cancel out), the half chosen by the index's top bit.
//  * concat: the reference's copies, with short ones inlined instead of memcpy calls.
//  * quantize: 32 floats at a time, divided by the scale (a division, as the reference)
//    and rounded with the epilogue's clamp (NaN gives the zero point); dequantize:
//    (q - zp) converted and multiplied, 32 at a time. Zero points beyond 2^24 go to the
//    reference.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/misc_loops.h"
#include "kernels/ref/ref.h"
#include "kernels/x86/byte_max.h"
#include "kernels/x86/epilogue_avx2.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

template <typename T>
int32_t type_min() {
  return std::numeric_limits<T>::lowest();
}

// 8 elements at p widened to int32.
template <typename T>
__m256i widen8(const T* p) {
  const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return is_signed<T>() ? _mm256_cvtepi8_epi32(x) : _mm256_cvtepu8_epi32(x);
}

// Two vectors of 8 int32 in the output range to 16 bytes.
template <typename T>
void store16(__m256i lo, __m256i hi, T* dst) {
  const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8);
  const __m128i a = _mm256_castsi256_si128(w), b = _mm256_extracti128_si256(w, 1);
  const __m128i bytes = is_signed<T>() ? _mm_packs_epi16(a, b) : _mm_packus_epi16(a, b);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), bytes);
}

using Clamp = OutputClamp<Lanes8>;
using Fixed = FixedPoint<Lanes8>;

// quantize_value(v, ...) for a vector of v = r / out_scale: NaN gives the zero point,
// then round half to even and clamp.
__m256i round_add_clamp(__m256 v, const Clamp& e) { return e.round(Lanes8::zero_nan(v)); }

// ------------------------------------------------------------------ binary

// The reference's formulas for one element pair of int32 vectors.
struct BinaryMath {
  ref::BinaryOp op;
  bool fixed;
  Clamp e;
  __m256i za, zb;
  __m256 sa, sb, sy;  // fp32
  Fixed am, bm;       // fixed add/sub: the operands' multipliers
  Fixed ym;           // fixed: the output multiplier

  explicit BinaryMath(ref::BinaryOp o, const ref::BinaryQParams& p)
      : op(o),
        fixed(p.scheme == ref::Scheme::kFixedPoint && o != ref::BinaryOp::kDiv),  // kDiv: in float, as the reference
        e(p.out_zero_point, p.qmin, p.qmax) {
    za = _mm256_set1_epi32(p.a_zero_point);
    zb = _mm256_set1_epi32(p.b_zero_point);
    sa = _mm256_set1_ps(p.a_scale);
    sb = _mm256_set1_ps(p.b_scale);
    sy = _mm256_set1_ps(p.out_scale);
    int32_t m = 0, x = 0;
    if (fixed && op == ref::BinaryOp::kMul) {
      ref::quantize_multiplier(
          static_cast<double>(p.a_scale) * static_cast<double>(p.b_scale) / static_cast<double>(p.out_scale), &m, &x);
      ym = fixed_point(m, x);
    } else if (fixed) {
      const double twice_max = 2.0 * std::max(static_cast<double>(p.a_scale), static_cast<double>(p.b_scale));
      ref::quantize_multiplier(static_cast<double>(p.a_scale) / twice_max, &m, &x);
      am = fixed_point(m, x);
      ref::quantize_multiplier(static_cast<double>(p.b_scale) / twice_max, &m, &x);
      bm = fixed_point(m, x);
      ref::quantize_multiplier(twice_max / (static_cast<double>(int64_t{1} << 20) * p.out_scale), &m, &x);
      ym = fixed_point(m, x);
    }
  }

  static Fixed fixed_point(int32_t m, int32_t x) {
    return Fixed::from_exponent(_mm256_set1_epi32(m), _mm256_set1_epi32(x));
  }

  __m256i operator()(__m256i a, __m256i b) const {
    const __m256i ca = _mm256_sub_epi32(a, za), cb = _mm256_sub_epi32(b, zb);
    if (fixed) {
      __m256i raw;
      if (op == ref::BinaryOp::kMul) {
        raw = _mm256_mullo_epi32(ca, cb);
      } else {
        const __m256i a1 = am.apply(_mm256_slli_epi32(ca, 20));
        const __m256i b1 = bm.apply(_mm256_slli_epi32(cb, 20));
        raw = op == ref::BinaryOp::kSub ? _mm256_sub_epi32(a1, b1) : _mm256_add_epi32(a1, b1);
      }
      return e.add_zero_point(ym.apply(raw));
    }
    const __m256 ra = _mm256_mul_ps(sa, _mm256_cvtepi32_ps(ca));
    const __m256 rb = _mm256_mul_ps(sb, _mm256_cvtepi32_ps(cb));
    __m256 r;
    if (op == ref::BinaryOp::kAdd) {
      r = _mm256_add_ps(ra, rb);
    } else if (op == ref::BinaryOp::kSub) {
      r = _mm256_sub_ps(ra, rb);
    } else if (op == ref::BinaryOp::kMul) {
      r = _mm256_mul_ps(ra, rb);
    } else {
      r = _mm256_div_ps(ra, rb);  // IEEE: x / 0 is an infinity (saturates), 0 / 0 NaN (the zero point)
    }
    return round_add_clamp(_mm256_div_ps(r, sy), e);
  }
};

// n output elements; an operand with step 0 repeats its one element.
template <typename T>
void binary_row(const BinaryMath& f, size_t n, const T* a, bool a_step, const T* b, bool b_step, T* out) {
  const __m256i a_rep = _mm256_set1_epi32(a[0]), b_rep = _mm256_set1_epi32(b[0]);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a0 = a_step ? widen8(a + i) : a_rep, a1 = a_step ? widen8(a + i + 8) : a_rep;
    const __m256i b0 = b_step ? widen8(b + i) : b_rep, b1 = b_step ? widen8(b + i + 8) : b_rep;
    store16(f(a0, b0), f(a1, b1), out + i);
  }
  if (i < n) {
    const size_t rest = n - i;
    T ta[16] = {}, tb[16] = {}, to[16];
    if (a_step) std::memcpy(ta, a + i, rest * sizeof(T));
    if (b_step) std::memcpy(tb, b + i, rest * sizeof(T));
    const __m256i a0 = a_step ? widen8(ta) : a_rep, a1 = a_step ? widen8(ta + 8) : a_rep;
    const __m256i b0 = b_step ? widen8(tb) : b_rep, b1 = b_step ? widen8(tb + 8) : b_rep;
    store16(f(a0, b0), f(a1, b1), to);
    std::memcpy(out + i, to, rest * sizeof(T));
  }
}

template <typename T>
void qbinary_rows(ref::BinaryOp op, const ref::Broadcast& bc, const T* a, const T* b, const ref::BinaryQParams& p,
                  T* out) {
  if (!binary_supported(op, p, true)) return ref::qbinary(op, bc, a, b, p, out);
  const BinaryMath f(op, p);
  for_each_binary_row(bc, a, b, out, [&](size_t n, const T* ra, bool a_step, const T* rb, bool b_step, T* o) {
    binary_row(f, n, ra, a_step, rb, b_step, o);
  });
}

// ------------------------------------------------------------------ pooling

template <typename T>
__m256i max_bytes(__m256i a, __m256i b) {
  return is_signed<T>() ? _mm256_max_epi8(a, b) : _mm256_max_epu8(a, b);
}
template <typename T>
__m256i min_bytes(__m256i a, __m256i b) {
  return is_signed<T>() ? _mm256_min_epi8(a, b) : _mm256_min_epu8(a, b);
}

template <typename T>
void qmaxpool_avx2(const ref::PoolShape& s, const T* in, const ref::PoolQParams& p, T* out) {
  if (!pool_supported(s, p)) return ref::qmaxpool(s, in, p, out);
  const bool same = p.in_scale == p.out_scale && p.in_zero_point == p.out_zero_point;
  const __m256i lowest = _mm256_set1_epi8(static_cast<char>(type_min<T>()));
  const __m256i qmin = _mm256_set1_epi8(static_cast<char>(p.qmin)), qmax = _mm256_set1_epi8(static_cast<char>(p.qmax));
  const Clamp e(p.out_zero_point, p.qmin, p.qmax);
  const __m256i zin = _mm256_set1_epi32(p.in_zero_point);
  const __m256 sin = _mm256_set1_ps(p.in_scale), sout = _mm256_set1_ps(p.out_scale);
  for_each_pool_pixel(s, [&](int64_t o, const int64_t* taps, int count) {
    for_each_channel_block<32>(s.channels, in, taps, count, out + o, [&](const auto& src, T* dst) {
      __m256i m = lowest;
      for (int t = 0; t < count; ++t) m = max_bytes<T>(m, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src(t))));
      if (same) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), min_bytes<T>(max_bytes<T>(m, qmin), qmax));
        return;
      }
      alignas(32) T bytes[32];
      _mm256_store_si256(reinterpret_cast<__m256i*>(bytes), m);
      for (int h = 0; h < 32; h += 16) {
        __m256i r[2];
        for (int k = 0; k < 2; ++k) {
          const __m256 real = _mm256_mul_ps(sin, _mm256_cvtepi32_ps(_mm256_sub_epi32(widen8(bytes + h + 8 * k), zin)));
          r[k] = round_add_clamp(_mm256_div_ps(real, sout), e);
        }
        store16(r[0], r[1], dst + h);
      }
    });
  });
}

template <typename T>
void qavgpool_avx2(const ref::PoolShape& s, const T* in, const ref::PoolQParams& p, T* out) {
  if (!pool_supported(s, p)) return ref::qavgpool(s, in, p, out);
  const Clamp e(0, p.qmin, p.qmax);
  const __m256i zin = _mm256_set1_epi32(p.in_zero_point);
  const __m256 sin = _mm256_set1_ps(p.in_scale), sout = _mm256_set1_ps(p.out_scale);
  const __m256 zout = _mm256_set1_ps(static_cast<float>(p.out_zero_point));
  const __m256i empty = _mm256_set1_epi32(std::min(std::max(p.out_zero_point, p.qmin), p.qmax));
  for_each_pool_pixel(s, [&](int64_t o, const int64_t* taps, int count) {
    const int32_t divisor = s.count_include_pad ? s.kernel_h * s.kernel_w : count;
    const __m256 fcount = _mm256_set1_ps(static_cast<float>(divisor));
    for_each_channel_block<32>(s.channels, in, taps, count, out + o, [&](const auto& src, T* dst) {
      __m256 sum[4];
      for (int k = 0; k < 4; ++k) sum[k] = _mm256_setzero_ps();
      for (int t = 0; t < count; ++t) {
        const T* x = src(t);
        for (int k = 0; k < 4; ++k) {
          const __m256 real = _mm256_mul_ps(sin, _mm256_cvtepi32_ps(_mm256_sub_epi32(widen8(x + 8 * k), zin)));
          sum[k] = _mm256_add_ps(sum[k], real);
        }
      }
      __m256i r[4];
      for (int k = 0; k < 4; ++k) {
        if (divisor == 0) {
          r[k] = empty;
          continue;
        }
        __m256 v = _mm256_add_ps(_mm256_div_ps(_mm256_div_ps(sum[k], fcount), sout), zout);
        v = _mm256_blendv_ps(v, zout, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        r[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, e.lo_f), e.hi_f));
      }
      store16(r[0], r[1], dst);
      store16(r[2], r[3], dst + 16);
    });
  });
}

template <typename T>
void qglobal_avgpool_avx2(int32_t batch, int32_t hw, int32_t channels, const T* in, const ref::PoolQParams& p, T* out) {
  if (!global_pool_supported(hw, p)) return ref::qglobal_avgpool(batch, hw, channels, in, p, out);
  const float divisor = p.out_scale * static_cast<float>(hw);
  const __m256 scale = finite_scale<Lanes8>(_mm256_set1_ps(p.in_scale / divisor));
  const Clamp e(p.out_zero_point, p.qmin, p.qmax);
  const __m256i offset = _mm256_set1_epi32(hw * p.in_zero_point);
  for (int32_t n = 0; n < batch; ++n) {
    const T* x = in + static_cast<int64_t>(n) * hw * channels;
    T* y = out + static_cast<int64_t>(n) * channels;
    for (int32_t c0 = 0; c0 < channels; c0 += 16) {
      const int32_t width = std::min(16, channels - c0);
      __m256i acc[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
      T tmp[16] = {};
      for (int32_t i = 0; i < hw; ++i) {
        const T* px = x + static_cast<int64_t>(i) * channels + c0;
        if (width < 16) {
          std::memcpy(tmp, px, static_cast<size_t>(width) * sizeof(T));
          px = tmp;
        }
        acc[0] = _mm256_add_epi32(acc[0], widen8(px));
        acc[1] = _mm256_add_epi32(acc[1], widen8(px + 8));
      }
      __m256i r[2];
      // Unrolled, so that acc stays in registers through the loop above.
#pragma GCC unroll 2
      for (int k = 0; k < 2; ++k) {
        r[k] = e.requantize(_mm256_sub_epi32(acc[k], offset), scale);
      }
      T res[16];
      store16(r[0], r[1], res);
      std::memcpy(y + c0, res, static_cast<size_t>(width) * sizeof(T));
    }
  }
}

// ------------------------------------------------------------------ lookup

template <typename T>
void lookup_avx2(size_t n, const T* in, const T table[256], T* out) {
  const uint8_t* t = reinterpret_cast<const uint8_t*>(table);
  __m256i lo[8], hi[8];
  for (int k = 0; k < 8; ++k) {
    lo[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t + 16 * k)));
    hi[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t + 128 + 16 * k)));
  }
  for (int k = 7; k > 0; --k) {
    lo[k] = _mm256_xor_si256(lo[k], lo[k - 1]);
    hi[k] = _mm256_xor_si256(hi[k], hi[k - 1]);
  }
  const __m256i step = _mm256_set1_epi8(16), flip = _mm256_set1_epi8(-128);
  auto lookup32 = [&](__m256i idx) {
    __m256i vl = idx, vh = _mm256_xor_si256(idx, flip);
    __m256i rl = _mm256_shuffle_epi8(lo[0], vl), rh = _mm256_shuffle_epi8(hi[0], vh);
    for (int k = 1; k < 8; ++k) {
      vl = _mm256_sub_epi8(vl, step);
      vh = _mm256_sub_epi8(vh, step);
      rl = _mm256_xor_si256(rl, _mm256_shuffle_epi8(lo[k], vl));
      rh = _mm256_xor_si256(rh, _mm256_shuffle_epi8(hi[k], vh));
    }
    return _mm256_blendv_epi8(rl, rh, idx);
  };
  const uint8_t* x = reinterpret_cast<const uint8_t*>(in);
  uint8_t* y = reinterpret_cast<uint8_t*>(out);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i r = lookup32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), r);
  }
  if (i < n) {
    alignas(32) uint8_t tmp[32] = {};
    std::memcpy(tmp, x + i, n - i);
    _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), lookup32(_mm256_load_si256(reinterpret_cast<__m256i*>(tmp))));
    std::memcpy(y + i, tmp, n - i);
  }
}

// ------------------------------------------------------------------ concat

// memcpy for short runs without the call: two possibly overlapping loads and stores.
inline void copy_bytes(char* dst, const char* src, size_t n) {
  if (n >= 32 && n <= 64) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + n - 32));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), a);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + n - 32), b);
  } else if (n >= 16 && n < 32) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + n - 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), a);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + n - 16), b);
  } else if (n >= 8 && n < 16) {
    uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n < 8) {
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    std::memcpy(dst, src, n);
  }
}

// A pixel's bilinear blend (misc_loops.h, resize_linear_rows), 8 channels at a time,
// the last ones under a mask: the reference's float operations lane by lane.
void blend_avx2(int64_t channels, const float* a00, const float* a01, const float* a10, const float* a11, float wx,
                float wy, float* out) {
  const float ux = 1.f - wx, uy = 1.f - wy;
  const __m256 vux = _mm256_set1_ps(ux), vwx = _mm256_set1_ps(wx), vuy = _mm256_set1_ps(uy), vwy = _mm256_set1_ps(wy);
  int64_t k = 0;
  for (; k + 8 <= channels; k += 8) {
    const __m256 top = _mm256_add_ps(_mm256_mul_ps(vux, _mm256_loadu_ps(a00 + k)), _mm256_mul_ps(vwx, _mm256_loadu_ps(a01 + k)));
    const __m256 bottom =
        _mm256_add_ps(_mm256_mul_ps(vux, _mm256_loadu_ps(a10 + k)), _mm256_mul_ps(vwx, _mm256_loadu_ps(a11 + k)));
    _mm256_storeu_ps(out + k, _mm256_add_ps(_mm256_mul_ps(vuy, top), _mm256_mul_ps(vwy, bottom)));
  }
  if (k < channels) {  // the last 1-7 channels under a mask (masked-off lanes neither load nor store)
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(channels - k)), lane);
    const __m256 top =
        _mm256_add_ps(_mm256_mul_ps(vux, _mm256_maskload_ps(a00 + k, m)), _mm256_mul_ps(vwx, _mm256_maskload_ps(a01 + k, m)));
    const __m256 bottom =
        _mm256_add_ps(_mm256_mul_ps(vux, _mm256_maskload_ps(a10 + k, m)), _mm256_mul_ps(vwx, _mm256_maskload_ps(a11 + k, m)));
    _mm256_maskstore_ps(out + k, m, _mm256_add_ps(_mm256_mul_ps(vuy, top), _mm256_mul_ps(vwy, bottom)));
  }
}

void concat_avx2(int64_t outer, int64_t inner, int count, const int32_t* in_axis_sizes, const void* const* inputs,
                 size_t elem_size, void* out) {
  concat_copies(outer, inner, count, in_axis_sizes, inputs, elem_size, out, copy_bytes);
}

// ------------------------------------------------------------------ quantize, dequantize

template <typename T>
void quantize_avx2(size_t n, const float* in, float scale, int32_t zero_point, T* out) {
  if (!convert_supported(zero_point)) return ref::quantize(n, in, scale, zero_point, out);
  const Clamp e(zero_point, type_min<T>(), std::numeric_limits<T>::max());
  const __m256 s = _mm256_set1_ps(scale);
  for_each_block<32>(n, in, out, [&](const float* x, T* y) {
    __m256i r[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) r[k] = round_add_clamp(_mm256_div_ps(_mm256_loadu_ps(x + 8 * k), s), e);
    store16(r[0], r[1], y);
    store16(r[2], r[3], y + 16);
  });
}

template <typename T>
void dequantize_avx2(size_t n, const T* in, float scale, int32_t zero_point, float* out) {
  if (!convert_supported(zero_point)) return ref::dequantize(n, in, scale, zero_point, out);
  const __m256i z = _mm256_set1_epi32(zero_point);
  const __m256 s = _mm256_set1_ps(scale);
  for_each_block<32>(n, in, out, [&](const T* x, float* y) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(widen8(x + 8 * k), z)), s));
    }
  });
}

}  // namespace

void qbinary_avx2(ref::BinaryOp op, const ref::Broadcast& bc, const int8_t* a, const int8_t* b,
                  const ref::BinaryQParams& p, int8_t* out) {
  qbinary_rows(op, bc, a, b, p, out);
}

void qbinary_avx2(ref::BinaryOp op, const ref::Broadcast& bc, const uint8_t* a, const uint8_t* b,
                  const ref::BinaryQParams& p, uint8_t* out) {
  qbinary_rows(op, bc, a, b, p, out);
}

MiscKernels misc_kernels_avx2() {
  MiscKernels k;
  k.qbinary_s8 = qbinary_rows<int8_t>;
  k.qbinary_u8 = qbinary_rows<uint8_t>;
  k.qmaxpool_s8 = qmaxpool_avx2<int8_t>;
  k.qmaxpool_u8 = qmaxpool_avx2<uint8_t>;
  k.qavgpool_s8 = qavgpool_avx2<int8_t>;
  k.qavgpool_u8 = qavgpool_avx2<uint8_t>;
  k.qglobal_avgpool_s8 = qglobal_avgpool_avx2<int8_t>;
  k.qglobal_avgpool_u8 = qglobal_avgpool_avx2<uint8_t>;
  k.lookup_s8 = lookup_avx2<int8_t>;
  k.lookup_u8 = lookup_avx2<uint8_t>;
  k.concat = concat_avx2;
  k.split = split_copies<copy_bytes>;  // kernels/misc_loops.h, with this file's short copies
  k.pad_mode = pad_mode_runs<copy_bytes>;
  k.resize_nearest = resize_indexed_copies<copy_bytes>;
  k.resize_linear_f32 = resize_linear_rows<blend_avx2>;
  k.quantize_s8 = quantize_avx2<int8_t>;
  k.quantize_u8 = quantize_avx2<uint8_t>;
  k.dequantize_s8 = dequantize_avx2<int8_t>;
  k.dequantize_u8 = dequantize_avx2<uint8_t>;
  k.transpose = transpose_channels_last;  // kernels/misc_loops.h, compiled with this file's flags
  k.slice = slice_runs;                   // likewise
  k.pad = pad_runs;                       // likewise
  return k;
}

}  // namespace kern
}  // namespace edgeq
