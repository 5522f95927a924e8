// NEON row normalizations (kernels/misc.h): quantized softmax over contiguous rows and
// layer normalization (int8, uint8, float), each equal to its kernels/ref/norm.cc
// function bit for bit (the numerics are in kernels/ref/ref.h). AArch64 and ARMv7.
//
//  * softmax: the row maximum 16 bytes at a time; NEON has no gather, so the table
//    entries are read one by one (integer sums: exact in any order) and kept for the
//    outputs, computed 8 at a time (one float multiply, rounding half to even as
//    neon_epilogue.h's neon_round_nearest).
//  * quantized layer norm: sum (vpadal) and sum of squares (vmlal) of 16 bytes at a
//    time as int16 (int32 lanes cannot overflow for channels <= 65536), then
//    t = C*q - S1 and the reference's float steps 8 elements at a time.
//  * float layer norm: the reference's 16 summation lanes are four vectors.
// Tails of fewer than 8 outputs go through an 8-element buffer (kernels/norm_blocks.h).
#include <arm_neon.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/arm/misc_neon.h"
#include "kernels/arm/neon_epilogue.h"
#include "kernels/norm_blocks.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {
namespace {

// 8 values of T widened to int16.
inline int16x8_t load8_s16(const int8_t* p) { return vmovl_s8(vld1_s8(p)); }
inline int16x8_t load8_s16(const uint8_t* p) { return vreinterpretq_s16_u16(vmovl_u8(vld1_u8(p))); }

// Stores 8 int32 lanes (values already in T's range) as T.
inline void store8(int8_t* p, int32x4_t a, int32x4_t b) {
  vst1_s8(p, vqmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))));
}
inline void store8(uint8_t* p, int32x4_t a, int32x4_t b) {
  vst1_u8(p, vqmovun_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))));
}

inline int8x16_t load16(const int8_t* p) { return vld1q_s8(p); }
inline uint8x16_t load16(const uint8_t* p) { return vld1q_u8(p); }
inline int8x16_t max16(int8x16_t a, int8x16_t b) { return vmaxq_s8(a, b); }
inline uint8x16_t max16(uint8x16_t a, uint8x16_t b) { return vmaxq_u8(a, b); }
inline void store16(int8_t* p, int8x16_t v) { vst1q_s8(p, v); }
inline void store16(uint8_t* p, uint8x16_t v) { vst1q_u8(p, v); }

template <typename T>
int32_t row_max(const T* x, int32_t n) {
  int32_t m = std::numeric_limits<T>::lowest(), j = 0;
  if (n >= 16) {
    auto v = load16(x);
    for (j = 16; j + 16 <= n; j += 16) v = max16(v, load16(x + j));
    T lanes[16];
    store16(lanes, v);
    for (T l : lanes) m = std::max<int32_t>(m, l);
  }
  for (; j < n; ++j) m = std::max<int32_t>(m, x[j]);
  return m;
}

template <typename T>
void qsoftmax_rows_neon(int64_t rows, int32_t n, const T* in, const uint32_t table[256], float out_scale,
                        int32_t out_zero_point, T* out) {
  const int32x4_t zp = vdupq_n_s32(out_zero_point);
  const int32x4_t lo = vdupq_n_s32(std::numeric_limits<T>::lowest());
  const int32x4_t hi = vdupq_n_s32(std::numeric_limits<T>::max());
  const float32x4_t cap = vdupq_n_f32(65536.f);
  // The first pass keeps the table entries of the first kBuffered elements for the second.
  constexpr int32_t kBuffered = 2048;
  uint32_t e_buf[kBuffered + 8];
  for (int64_t r = 0; r < rows; ++r) {
    const T* x = in + r * n;
    const int32_t max_q = row_max(x, n);
    uint64_t sum = 0;
    for (int32_t j = 0; j < n; ++j) {
      const uint32_t e = table[max_q - x[j]];
      if (j < kBuffered) e_buf[j] = e;
      sum += e;
    }
    std::fill(e_buf + std::min(n, kBuffered), e_buf + std::min(n, kBuffered) + 8, 0u);  // the last block's padding
    const float32x4_t scale = vdupq_n_f32(ref::qsoftmax_row_multiplier(sum, out_scale));
    blocks_of_8<T>(n, x, out + r * n, static_cast<T>(max_q), [&](const T* xb, T* yb, int32_t at) {
      uint32_t fetched[8];
      const uint32_t* e = e_buf + at;
      if (at + 8 > kBuffered) {
        for (int i = 0; i < 8; ++i) fetched[i] = table[max_q - xb[i]];
        e = fetched;
      }
      int32x4_t q[2];
      for (int h = 0; h < 2; ++h) {
        const float32x4_t v = vminq_f32(vmulq_f32(vcvtq_f32_u32(vld1q_u32(e + 4 * h)), scale), cap);
        q[h] = vminq_s32(vmaxq_s32(vaddq_s32(neon_round_nearest(v), zp), lo), hi);
      }
      store8(yb, q[0], q[1]);
    });
  }
}

// The int8 / uint8 layer norm's vector steps (kernels/norm_blocks.h).
template <typename T>
struct QLnNeon {
  struct Row {
    int32_t channels;
    int32x4_t sum, zp;
    float32x4_t multiplier, lo, hi;
  };
  static void sums(const T* x, int32_t body, int64_t* sum, int64_t* sum_squares) {
    int32x4_t s1 = vdupq_n_s32(0), s2 = vdupq_n_s32(0);
    for (int32_t c = 0; c < body; c += 16) {
      const int16x8_t a = load8_s16(x + c), b = load8_s16(x + c + 8);
      s1 = vpadalq_s16(vpadalq_s16(s1, a), b);
      s2 = vmlal_s16(vmlal_s16(s2, vget_low_s16(a), vget_low_s16(a)), vget_high_s16(a), vget_high_s16(a));
      s2 = vmlal_s16(vmlal_s16(s2, vget_low_s16(b), vget_low_s16(b)), vget_high_s16(b), vget_high_s16(b));
    }
    int32_t l1[4], l2[4];
    vst1q_s32(l1, s1);
    vst1q_s32(l2, s2);
    *sum = int64_t{l1[0]} + l1[1] + l1[2] + l1[3];
    *sum_squares = int64_t{l2[0]} + l2[1] + l2[2] + l2[3];
  }
  static Row row(int32_t channels, const ref::QLayerNormParams& p, float multiplier, int32_t sum) {
    return {channels,
            vdupq_n_s32(sum),
            vdupq_n_s32(p.out_zero_point),
            vdupq_n_f32(multiplier),
            vdupq_n_f32(static_cast<float>(p.qmin - p.out_zero_point)),
            vdupq_n_f32(static_cast<float>(p.qmax - p.out_zero_point))};
  }
  static void out8(const Row& r, const T* x, const float* g, const float* b, T* y) {
    const int16x8_t v = load8_s16(x);
    const int32x4_t half[2] = {vmovl_s16(vget_low_s16(v)), vmovl_s16(vget_high_s16(v))};
    int32x4_t q[2];
    for (int h = 0; h < 2; ++h) {
      const int32x4_t t = vsubq_s32(vmulq_n_s32(half[h], r.channels), r.sum);
      float32x4_t w = vmulq_f32(vmulq_f32(vcvtq_f32_s32(t), r.multiplier), vld1q_f32(g + 4 * h));
      w = vaddq_f32(w, vld1q_f32(b + 4 * h));
      w = vminq_f32(vmaxq_f32(w, r.lo), r.hi);  // no NaN here: the same as the reference's compares
      q[h] = vaddq_s32(neon_round_nearest(w), r.zp);
    }
    store8(y, q[0], q[1]);
  }
};

// The reference's 16 summation lanes as four vectors (kernels/norm_blocks.h).
struct F32Neon {
  struct Acc {
    float32x4_t v[4];  // lanes 4i..4i+3
  };
  static Acc zero() {
    Acc acc;
    for (auto& v : acc.v) v = vdupq_n_f32(0.f);
    return acc;
  }
  static void add(Acc& acc, const float* x) {
    for (int i = 0; i < 4; ++i) acc.v[i] = vaddq_f32(acc.v[i], vld1q_f32(x + 4 * i));
  }
  static void add_squares(Acc& acc, const float* x, float mean) {
    const float32x4_t m = vdupq_n_f32(mean);
    for (int i = 0; i < 4; ++i) {
      const float32x4_t d = vsubq_f32(vld1q_f32(x + 4 * i), m);
      acc.v[i] = vaddq_f32(acc.v[i], vmulq_f32(d, d));
    }
  }
  static void store(const Acc& acc, float* lane) {
    for (int i = 0; i < 4; ++i) vst1q_f32(lane + 4 * i, acc.v[i]);
  }
  static int32_t normalize(const float* x, int32_t channels, float mean, float rstd, const float* gamma,
                           const float* beta, float* y) {
    const float32x4_t m = vdupq_n_f32(mean), s = vdupq_n_f32(rstd);
    int32_t c = 0;
    for (; c + 4 <= channels; c += 4) {
      const float32x4_t n = vmulq_f32(vsubq_f32(vld1q_f32(x + c), m), s);
      const float32x4_t b = beta != nullptr ? vld1q_f32(beta + c) : vdupq_n_f32(0.f);
      vst1q_f32(y + c, vaddq_f32(vmulq_f32(n, vld1q_f32(gamma + c)), b));
    }
    return c;
  }
};

}  // namespace

void add_norm_kernels_neon(MiscKernels* k) {
  k->qsoftmax_s8 = qsoftmax_rows_neon<int8_t>;
  k->qsoftmax_u8 = qsoftmax_rows_neon<uint8_t>;
  k->qlayer_norm_s8 = qlayer_norm_rows<int8_t, QLnNeon<int8_t>>;
  k->qlayer_norm_u8 = qlayer_norm_rows<uint8_t, QLnNeon<uint8_t>>;
  k->layer_norm_f32 = layer_norm_f32_rows<F32Neon>;
}

}  // namespace kern
}  // namespace edgeq
