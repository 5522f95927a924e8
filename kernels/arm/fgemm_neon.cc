// The ARM float GEMM microkernels (kernels/fgemm.h).
//
// AArch64: an 8x8 tile, sixteen accumulators of 4 floats. Four k at a time, each row's
// A[i][k..k+3] is loaded as one vector and, per k, the panel's 8 floats are multiplied
// by one lane of it (fused multiply-add by lane), so every output still sums its terms
// in k order; the last kc % 4 terms broadcast A[i][k] instead.
// ARMv7 NEON: a 4x8 tile, eight accumulators, two k at a time with multiply-then-add by
// lane (vmla: ARMv7 NEON has no fused form before VFPv4, and flushes subnormals to zero).
// Rows past mr repeat row mr - 1; partial tiles store through a stack copy.
#include <arm_neon.h>

#include <cstring>

#include "kernels/arm/fgemm_neon.h"

namespace edgeq {
namespace kern {
namespace {

#if defined(__aarch64__)
constexpr size_t kMr = 8, kNr = 8, kKStep = 4;
constexpr const char* kName = "f32_gemm_ukernel_8x8__neonfma";
using AVec = float32x4_t;
inline AVec load_a(const float* p) { return vld1q_f32(p); }
template <int kLane>
inline float32x4_t madd_lane(float32x4_t acc, float32x4_t b, AVec a) {
  return vfmaq_laneq_f32(acc, b, a, kLane);
}
inline float32x4_t madd_scalar(float32x4_t acc, float32x4_t b, float a) { return vfmaq_n_f32(acc, b, a); }
#else
constexpr size_t kMr = 4, kNr = 8, kKStep = 2;
constexpr const char* kName = "f32_gemm_ukernel_4x8__neon";
using AVec = float32x2_t;
inline AVec load_a(const float* p) { return vld1_f32(p); }
template <int kLane>
inline float32x4_t madd_lane(float32x4_t acc, float32x4_t b, AVec a) {
  return vmlaq_lane_f32(acc, b, a, kLane);
}
inline float32x4_t madd_scalar(float32x4_t acc, float32x4_t b, float a) { return vmlaq_n_f32(acc, b, a); }
#endif

// One k: the panel's row times lane kLane of every row's A vector.
template <int kLane>
inline void step(float32x4_t (&acc)[kMr][2], const AVec (&a)[kMr], const float*& w) {
  const float32x4_t b0 = vld1q_f32(w), b1 = vld1q_f32(w + 4);
  w += kNr;
#pragma GCC unroll 8
  for (size_t i = 0; i < kMr; ++i) {
    acc[i][0] = madd_lane<kLane>(acc[i][0], b0, a[i]);
    acc[i][1] = madd_lane<kLane>(acc[i][1], b1, a[i]);
  }
}

void fgemm_neon(size_t mr, size_t nc, size_t kc, const float* a, size_t a_stride, const float* w, float* c,
                size_t c_stride) {
  const float* rows[kMr];
#pragma GCC unroll 8
  for (size_t i = 0; i < kMr; ++i) rows[i] = a + (i < mr ? i : mr - 1) * a_stride;
  float32x4_t acc[kMr][2];
#pragma GCC unroll 8
  for (size_t i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = vdupq_n_f32(0.f);
  size_t k = 0;
  for (; k + kKStep <= kc; k += kKStep) {
    AVec av[kMr];
#pragma GCC unroll 8
    for (size_t i = 0; i < kMr; ++i) av[i] = load_a(rows[i] + k);
    step<0>(acc, av, w);
    step<1>(acc, av, w);
#if defined(__aarch64__)
    step<2>(acc, av, w);
    step<3>(acc, av, w);
#endif
  }
  for (; k < kc; ++k, w += kNr) {
    const float32x4_t b0 = vld1q_f32(w), b1 = vld1q_f32(w + 4);
#pragma GCC unroll 8
    for (size_t i = 0; i < kMr; ++i) {
      acc[i][0] = madd_scalar(acc[i][0], b0, rows[i][k]);
      acc[i][1] = madd_scalar(acc[i][1], b1, rows[i][k]);
    }
  }
#pragma GCC unroll 8
  for (size_t i = 0; i < kMr; ++i) {
    if (i >= mr) break;
    float* out = c + i * c_stride;
    if (nc == kNr) {
      vst1q_f32(out, acc[i][0]);
      vst1q_f32(out + 4, acc[i][1]);
    } else {
      float tile[kNr];
      vst1q_f32(tile, acc[i][0]);
      vst1q_f32(tile + 4, acc[i][1]);
      std::memcpy(out, tile, nc * sizeof(float));
    }
  }
}

}  // namespace

FGemmKernel fgemm_kernel_neon() {
  FGemmKernel k;
  k.name = kName;
  k.mr = kMr;
  k.nr = kNr;
  k.fn = &fgemm_neon;
  return k;
}

}  // namespace kern
}  // namespace edgeq
