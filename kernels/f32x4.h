// Four floats at a time in GCC / Clang vector extensions, for the portable float loops
// of the kernel drivers (ffc.cc, fdwconv.cc): SSE2 on x86's baseline, NEON on ARM,
// where the compiler's -O2 cost model would leave the plain loops scalar.
#pragma once

#include <cstring>

namespace edgeq {
namespace kern {

typedef float F32x4 __attribute__((vector_size(16)));

inline F32x4 load_f32x4(const float* p) {
  F32x4 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store_f32x4(float* p, F32x4 v) { std::memcpy(p, &v, sizeof(v)); }
inline F32x4 splat_f32x4(float v) { return F32x4{v, v, v, v}; }

// The reference's clamp (ref::internal::clamp_f32): a NaN compares false and stays.
inline float clamp_f32(float v, float lo, float hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}
inline F32x4 clamp_f32x4(F32x4 v, F32x4 lo, F32x4 hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

}  // namespace kern
}  // namespace edgeq
