// The float depthwise microkernel (kernels/fdw_kernel.h) as a template over a vector
// type V, instantiated by each ISA's file with its own flags (fdwconv.cc portable,
// kernels/x86/fdw_fma3.cc, fdw_avx512.cc). V gives Reg, kLanes, load / store
// (unaligned), splat, madd(a, b, acc) = acc + a * b (fused where V fuses),
// clamp(v, lo, hi) keeping NaN, and madd1 for one float, fused alike.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/fdw_kernel.h"

namespace edgeq {
namespace kern {
namespace {

// One pixel: x[t] its taps' inputs. kN > 0: exactly kN taps (n == kN), the tap loops
// unrolled; kN == 0: any n.
template <typename V, int32_t kN>
void fdw_pixel(const float* const* x, const float* const* w, int32_t n, size_t c, const float* start, float* out,
               bool last, typename V::Reg vlo, typename V::Reg vhi, float lo, float hi) {
  using Reg = typename V::Reg;
  constexpr size_t kL = V::kLanes;
  if (kN > 0) n = kN;
  size_t ch = 0;
  // Four vectors of channels in registers across the taps.
  for (; ch + 4 * kL <= c; ch += 4 * kL) {
    Reg a0 = V::load(start + ch), a1 = V::load(start + ch + kL);
    Reg a2 = V::load(start + ch + 2 * kL), a3 = V::load(start + ch + 3 * kL);
    for (int32_t t = 0; t < n; ++t) {
      const float* xt = x[t] + ch;
      const float* k = w[t] + ch;
      a0 = V::madd(V::load(xt), V::load(k), a0);
      a1 = V::madd(V::load(xt + kL), V::load(k + kL), a1);
      a2 = V::madd(V::load(xt + 2 * kL), V::load(k + 2 * kL), a2);
      a3 = V::madd(V::load(xt + 3 * kL), V::load(k + 3 * kL), a3);
    }
    if (last) {
      a0 = V::clamp(a0, vlo, vhi);
      a1 = V::clamp(a1, vlo, vhi);
      a2 = V::clamp(a2, vlo, vhi);
      a3 = V::clamp(a3, vlo, vhi);
    }
    V::store(out + ch, a0);
    V::store(out + ch + kL, a1);
    V::store(out + ch + 2 * kL, a2);
    V::store(out + ch + 3 * kL, a3);
  }
  for (; ch + kL <= c; ch += kL) {
    Reg a = V::load(start + ch);
    for (int32_t t = 0; t < n; ++t) a = V::madd(V::load(x[t] + ch), V::load(w[t] + ch), a);
    V::store(out + ch, last ? V::clamp(a, vlo, vhi) : a);
  }
  for (; ch < c; ++ch) {
    float a = start[ch];
    for (int32_t t = 0; t < n; ++t) a = V::madd1(x[t][ch], w[t][ch], a);
    if (last) {
      a = a < lo ? lo : a;
      a = a > hi ? hi : a;
    }
    out[ch] = a;
  }
}

template <typename V, int32_t kN>
void fdw_pixels(const float* const* in, const float* const* w, int32_t n, size_t c, size_t pixels, size_t in_step,
                const float* bias, float* out, bool resume, bool last, float lo, float hi) {
  constexpr int32_t kMax = kN > 0 ? kN : kFDwMaxTaps;
  const float* x[kMax];
  for (int32_t t = 0; t < n; ++t) x[t] = in[t];
  const typename V::Reg vlo = V::splat(lo), vhi = V::splat(hi);
  for (size_t p = 0; p < pixels; ++p, out += c) {
    fdw_pixel<V, kN>(x, w, n, c, resume ? out : bias, out, last, vlo, vhi, lo, hi);
    for (int32_t t = 0; t < n; ++t) x[t] += in_step;
  }
}

// The microkernel: 3x3 and 5x5 windows on their unrolled instances.
template <typename V>
void fdw_taps(const float* const* in, const float* const* w, int32_t n, size_t c, size_t pixels, size_t in_step,
              const float* bias, float* out, bool resume, bool last, float lo, float hi) {
  if (n == 9) return fdw_pixels<V, 9>(in, w, n, c, pixels, in_step, bias, out, resume, last, lo, hi);
  if (n == 25) return fdw_pixels<V, 25>(in, w, n, c, pixels, in_step, bias, out, resume, last, lo, hi);
  fdw_pixels<V, 0>(in, w, n, c, pixels, in_step, bias, out, resume, last, lo, hi);
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
