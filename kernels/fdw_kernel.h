// Contract of the float depthwise microkernels, driven by kern::FDwConvOp
// (kernels/fdwconv.h).
//
// A kernel computes `pixels` output pixels of a float depthwise convolution, c channels
// each, over n (<= kFDwMaxTaps) taps inside the image: pixel p's tap t reads
// in[t] + p * in_step, and it writes out + p * c:
//   out[ch] = start[ch] + x[0][ch] * w[0][ch] + ... + x[n-1][ch] * w[n-1][ch]
// summed in that order (one fused multiply-add per term on kernels with FMA, else a
// multiply and an add), then clamped to [lo, hi] as the reference clamps (a NaN stays
// NaN) when `last`. `start` is the bias, or the pixel's output itself when `resume`
// (a pixel whose taps come in several calls). Every channel's sum is independent of
// the others: tiles of lanes and the scalar tail differ only in how many channels
// they hold.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgeq {
namespace kern {

// Taps a call takes at most.
constexpr int32_t kFDwMaxTaps = 64;

using FDwUkernel = void (*)(const float* const* in, const float* const* w, int32_t n, size_t c, size_t pixels,
                            size_t in_step, const float* bias, float* out, bool resume, bool last, float lo, float hi);

struct FDwKernel {
  // By kernels.h's rule: f32_dwconv_ukernel__<isa>, e.g. f32_dwconv_ukernel__fma3.
  const char* name = nullptr;
  FDwUkernel fn = nullptr;  // null: the portable kernel (kern::fdw_kernel_portable)
};

}  // namespace kern
}  // namespace edgeq
