// Quantization-parameter math (see qparams.h). Mirrors PyTorch 1.13's
// calculate_qmin_qmax and _calculate_qparams step by step in float32.
#include "quant/qparams.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace edgeq {
namespace quant {

namespace {

int32_t floor_div2(int32_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }  // Python's v // 2

}  // namespace

std::string scheme_string(const QScheme& s) {
  std::string out = dtype_name(s.dtype);
  out += s.symmetric ? " symmetric" : " affine";
  if (s.narrow_range) out += " narrow";
  if (s.reduce_range) out += " reduce-range";
  out += s.per_channel ? " per-channel(axis=" + std::to_string(s.axis) + ")" : " per-tensor";
  return out;
}

Status quant_range(const QScheme& s, int32_t* qmin, int32_t* qmax, bool* custom) {
  if (s.dtype != DType::kS8 && s.dtype != DType::kU8)
    return InvalidArgument(std::string("quantization scheme: dtype must be s8 or u8, not ") + dtype_name(s.dtype));
  if (!(s.eps > 0.f) || !std::isfinite(s.eps))
    return InvalidArgument("quantization scheme: eps must be positive and finite");
  if (s.per_channel && s.axis < 0) return InvalidArgument("quantization scheme: negative per-channel axis");
  const bool s8 = s.dtype == DType::kS8;
  int32_t lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
  if (s.narrow_range) {
    // A narrowed range is a customized one in PyTorch's terms: reduce_range halves it.
    if (s8)
      lo = -127;
    else
      lo = 1;
    if (s.reduce_range) {
      lo = floor_div2(lo);
      hi = floor_div2(hi);
    }
  } else if (s.reduce_range) {
    if (s8) {
      lo = -64;
      hi = 63;
    } else {
      if (s.symmetric)
        return Unsupported("quantization scheme: symmetric u8 with reduce_range needs narrow_range (as PyTorch)");
      hi = 127;
    }
  }
  *qmin = lo;
  *qmax = hi;
  if (custom) *custom = s.narrow_range;
  return Status::Ok();
}

Status choose_qparams(const QScheme& s, float min, float max, float* scale, int32_t* zero_point) {
  int32_t qmin = 0, qmax = 0;
  bool custom = false;
  EDGEQ_RETURN_IF_ERROR(quant_range(s, &qmin, &qmax, &custom));
  if (!std::isfinite(min) || !std::isfinite(max))
    return InvalidArgument("choose_qparams: range [" + std::to_string(min) + ", " + std::to_string(max) +
                           "] is not finite");
  if (!(min <= max))
    return InvalidArgument("choose_qparams: min " + std::to_string(min) + " > max " + std::to_string(max));
  const float min_neg = std::min(min, 0.f);
  const float max_pos = std::max(max, 0.f);
  float sc = 0.f;
  int32_t zp = 0;
  if (s.symmetric) {
    const float amax = std::max(-min_neg, max_pos);
    // PyTorch divides by float(qmax - qmin) / 2 (exact in float32 for every range here).
    sc = amax / (static_cast<float>(qmax - qmin) / 2.f);
    sc = std::max(sc, s.eps);
    if (s.dtype == DType::kU8) zp = custom ? floor_div2(qmin + qmax) : 128;
  } else {
    sc = (max_pos - min_neg) / static_cast<float>(qmax - qmin);
    sc = std::max(sc, s.eps);
    // torch.round: half to even; the default rounding mode makes nearbyint do that.
    const float r = std::nearbyint(min_neg / sc);
    zp = qmin - static_cast<int32_t>(r);  // |r| <= qmax - qmin: min_neg / sc lies in [-(qmax-qmin), 0]
    zp = std::min(std::max(zp, qmin), qmax);
  }
  if (!std::isfinite(sc))
    return InvalidArgument("choose_qparams: range [" + std::to_string(min) + ", " + std::to_string(max) +
                           "] overflows the float scale");
  *scale = sc;
  *zero_point = zp;
  return Status::Ok();
}

Status choose_qparams(const QScheme& s, const float* min, const float* max, size_t n, std::vector<float>* scale,
                      std::vector<int32_t>* zero_point) {
  if (n == 0) return InvalidArgument("choose_qparams: no ranges");
  scale->assign(n, 1.f);
  zero_point->assign(n, 0);
  for (size_t c = 0; c < n; ++c) {
    Status st = choose_qparams(s, min[c], max[c], &(*scale)[c], &(*zero_point)[c]);
    if (!st.ok()) {
      if (n == 1) return st;
      return Status(st.code(), "channel " + std::to_string(c) + ": " + st.message());
    }
  }
  return Status::Ok();
}

}  // namespace quant
}  // namespace edgeq
