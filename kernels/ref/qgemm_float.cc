// Reference int8 products with a float output (FullyConnected and MatMul with quantized
// inputs and an F32 result: ONNX Runtime's MatMulIntegerToFloat, graph/op_table.h).
//
// The int32 sum of (a - za)(b - zb) is exact (wrapping modulo 2^32 like every int8
// product here), then scaled in float: y = float(acc) * (s_a * s_b[c]), the product of
// the two scales rounded to float first, then + bias[c] as a separate float addition
// (no fused multiply-add: the tree builds with -ffp-contract=off), then the clamp.
#include <cassert>
#include <cstdint>

#include "kernels/ref/internal.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {

template <typename T>
void qfully_connected_float(int32_t m, int32_t n, int32_t k, const T* input, int32_t input_zero_point,
                            float input_scale, const int8_t* weight, const int32_t* weight_zero_point,
                            const float* weight_scale, bool per_channel, const float* bias, float act_min,
                            float act_max, float* output) {
  assert(m >= 0 && n >= 0 && k >= 0);
  for (int32_t row = 0; row < m; ++row) {
    const T* x = input + static_cast<int64_t>(row) * k;
    for (int32_t col = 0; col < n; ++col) {
      const int8_t* w = weight + static_cast<int64_t>(col) * k;
      const int32_t w_zp = weight_zero_point[per_channel ? col : 0];
      uint32_t acc = 0;  // wraps modulo 2^32
      for (int32_t i = 0; i < k; ++i) {
        const int32_t xv = static_cast<int32_t>(x[i]) - input_zero_point;
        const int32_t wv = static_cast<int32_t>(w[i]) - w_zp;
        acc += static_cast<uint32_t>(xv) * static_cast<uint32_t>(wv);
      }
      const float scale = input_scale * weight_scale[per_channel ? col : 0];
      float v = static_cast<float>(static_cast<int32_t>(acc)) * scale;
      if (bias != nullptr) v = v + bias[col];
      output[static_cast<int64_t>(row) * n + col] = internal::clamp_f32(v, act_min, act_max);
    }
  }
}

template <typename TA, typename TB>
void qmatmul_float(const MatMulShape& s, const TA* a, int32_t a_zero_point, float a_scale, const TB* b,
                   int32_t b_zero_point, float b_scale, float* y) {
  const float scale = a_scale * b_scale;
  const int64_t a_size = int64_t{s.m} * s.k, b_size = int64_t{s.k} * s.n, y_size = int64_t{s.m} * s.n;
  for (int64_t t = 0; t < s.batches; ++t) {
    int64_t ai, bi;
    matmul_operands(s, t, &ai, &bi);
    const TA* am = a + ai * a_size;
    const TB* bm = b + bi * b_size;
    for (int32_t i = 0; i < s.m; ++i) {
      for (int32_t j = 0; j < s.n; ++j) {
        uint32_t acc = 0;  // wraps modulo 2^32
        for (int32_t k = 0; k < s.k; ++k) {
          const int32_t av = static_cast<int32_t>(am[int64_t{i} * s.k + k]) - a_zero_point;
          const int32_t bv = static_cast<int32_t>(bm[int64_t{k} * s.n + j]) - b_zero_point;
          acc += static_cast<uint32_t>(av) * static_cast<uint32_t>(bv);
        }
        y[t * y_size + int64_t{i} * s.n + j] = static_cast<float>(static_cast<int32_t>(acc)) * scale;
      }
    }
  }
}

template void qfully_connected_float<int8_t>(int32_t, int32_t, int32_t, const int8_t*, int32_t, float,
                                             const int8_t*, const int32_t*, const float*, bool, const float*, float,
                                             float, float*);
template void qfully_connected_float<uint8_t>(int32_t, int32_t, int32_t, const uint8_t*, int32_t, float,
                                              const int8_t*, const int32_t*, const float*, bool, const float*,
                                              float, float, float*);
#define EDGEQ_QMATMUL_FLOAT(TA, TB)                                                                       \
  template void qmatmul_float<TA, TB>(const MatMulShape&, const TA*, int32_t, float, const TB*, int32_t, \
                                      float, float*);
EDGEQ_QMATMUL_FLOAT(int8_t, int8_t)
EDGEQ_QMATMUL_FLOAT(int8_t, uint8_t)
EDGEQ_QMATMUL_FLOAT(uint8_t, int8_t)
EDGEQ_QMATMUL_FLOAT(uint8_t, uint8_t)
#undef EDGEQ_QMATMUL_FLOAT

}  // namespace ref
}  // namespace edgeq
