// Which of a level's GEMM kernels runs a layer (see gemm_pick.h).
#include "kernels/gemm_pick.h"

#include <algorithm>

namespace edgeq {
namespace kern {

bool weights_hold_int8_min(const int8_t* w, size_t n) { return std::find(w, w + n, int8_t{-128}) != w + n; }

bool gemm_w127_suits(const int8_t* w, size_t n, size_t kc) { return kc > 8 && !weights_hold_int8_min(w, n); }

const QGemmKernel& gemm_for_weights(const KernelSet& set, const int8_t* w, size_t n, size_t kc) {
  return set.gemm_w127.u8 != nullptr && gemm_w127_suits(w, n, kc) ? set.gemm_w127 : set.gemm;
}

bool gemm_layout_takes(const QGemmKernel& layout, bool w127_suits) {
  if (layout.w127_only) return w127_suits;
  if (layout.w127_name != nullptr) return !w127_suits;
  return true;
}

}  // namespace kern
}  // namespace edgeq
