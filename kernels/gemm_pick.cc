// Which of a level's GEMM kernels runs a layer (see gemm_pick.h).
#include "kernels/gemm_pick.h"

#include <algorithm>

namespace edgeq {
namespace kern {

bool weights_hold_int8_min(const int8_t* w, size_t n) { return std::find(w, w + n, int8_t{-128}) != w + n; }

const QGemmKernel& gemm_for_weights(const KernelSet& set, const int8_t* w, size_t n) {
  if (set.gemm_w127.u8 == nullptr || weights_hold_int8_min(w, n)) return set.gemm;
  return set.gemm_w127;
}

bool gemm_layout_takes(const QGemmKernel& layout, bool has_int8_min) {
  if (layout.w127_only) return !has_int8_min;
  if (layout.w127_name != nullptr) return has_int8_min;
  return true;
}

}  // namespace kern
}  // namespace edgeq
