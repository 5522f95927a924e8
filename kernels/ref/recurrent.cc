// Reference kernels of ONNX's LSTM and GRU (float): the recurrences as the ONNX
// operators define them, with sigmoid and tanh activations, one time step after the
// other and, for each, every gate's input as the input and recurrent products plus both
// biases (each product summed in index order).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {
namespace {

float sigmoid(float v) { return 1.f / (1.f + std::exp(-v)); }

float clipped(float v, float clip) { return clip > 0.f ? std::min(std::max(v, -clip), clip) : v; }

// out[j] = sum_k a[k] * m[j * len + k] for j < rows.
void product(const float* a, const float* m, int32_t rows, int32_t len, float* out) {
  for (int32_t j = 0; j < rows; ++j) {
    float sum = 0.f;
    const float* row = m + static_cast<size_t>(j) * len;
    for (int32_t k = 0; k < len; ++k) sum += a[k] * row[k];
    out[j] = sum;
  }
}

// The time step of each of the s steps direction `dir` visits in order.
int32_t step_time(const RecurrentShape& s, int32_t dir, int32_t step) {
  const bool reverse = s.direction == 1 || (s.direction == 2 && dir == 1);
  return reverse ? s.seq - 1 - step : step;
}

}  // namespace

void lstm_f32(const RecurrentShape& s, const float* x, const float* w, const float* r, const float* b,
              const float* h0, const float* c0, const float* p, float* y, float* yh, float* yc) {
  const int32_t hs = s.hidden, in = s.input, dirs = s.direction == 2 ? 2 : 1;
  std::vector<float> h(static_cast<size_t>(hs)), c(static_cast<size_t>(hs)), gx(4 * static_cast<size_t>(hs)),
      gh(4 * static_cast<size_t>(hs));
  for (int32_t d = 0; d < dirs; ++d) {
    const float* wd = w + static_cast<size_t>(d) * 4 * hs * in;
    const float* rd = r + static_cast<size_t>(d) * 4 * hs * hs;
    const float* wb = b + static_cast<size_t>(d) * 8 * hs;
    const float* rb = wb + 4 * hs;
    const float* pd = p + static_cast<size_t>(d) * 3 * hs;  // peepholes i, o, f
    for (int32_t n = 0; n < s.batch; ++n) {
      const size_t state = (static_cast<size_t>(d) * s.batch + n) * hs;
      std::copy(h0 + state, h0 + state + hs, h.begin());
      std::copy(c0 + state, c0 + state + hs, c.begin());
      for (int32_t step = 0; step < s.seq; ++step) {
        const int32_t t = step_time(s, d, step);
        product(x + (static_cast<size_t>(t) * s.batch + n) * in, wd, 4 * hs, in, gx.data());
        product(h.data(), rd, 4 * hs, hs, gh.data());
        for (int32_t j = 0; j < hs; ++j) {
          // Gate rows: i [0, H), o [H, 2H), f [2H, 3H), c [3H, 4H).
          const auto gate = [&](int32_t g) { return gx[g * hs + j] + gh[g * hs + j] + wb[g * hs + j] + rb[g * hs + j]; };
          const float i = sigmoid(clipped(gate(0) + pd[j] * c[j], s.clip));
          const float f = sigmoid(clipped(gate(2) + pd[2 * hs + j] * c[j], s.clip));
          const float cc = std::tanh(clipped(gate(3), s.clip));
          c[j] = f * c[j] + i * cc;
          const float o = sigmoid(clipped(gate(1) + pd[hs + j] * c[j], s.clip));
          h[j] = o * std::tanh(c[j]);
        }
        std::copy(h.begin(), h.end(), y + ((static_cast<size_t>(t) * dirs + d) * s.batch + n) * hs);
      }
      std::copy(h.begin(), h.end(), yh + state);
      std::copy(c.begin(), c.end(), yc + state);
    }
  }
}

void gru_f32(const RecurrentShape& s, bool linear_before_reset, const float* x, const float* w, const float* r,
             const float* b, const float* h0, float* y, float* yh) {
  const int32_t hs = s.hidden, in = s.input, dirs = s.direction == 2 ? 2 : 1;
  std::vector<float> h(static_cast<size_t>(hs)), gx(3 * static_cast<size_t>(hs)), gh(3 * static_cast<size_t>(hs)),
      rh(static_cast<size_t>(hs)), hh(static_cast<size_t>(hs)), z(static_cast<size_t>(hs)), rs(static_cast<size_t>(hs));
  for (int32_t d = 0; d < dirs; ++d) {
    const float* wd = w + static_cast<size_t>(d) * 3 * hs * in;
    const float* rd = r + static_cast<size_t>(d) * 3 * hs * hs;
    const float* wb = b + static_cast<size_t>(d) * 6 * hs;
    const float* rb = wb + 3 * hs;
    for (int32_t n = 0; n < s.batch; ++n) {
      const size_t state = (static_cast<size_t>(d) * s.batch + n) * hs;
      std::copy(h0 + state, h0 + state + hs, h.begin());
      for (int32_t step = 0; step < s.seq; ++step) {
        const int32_t t = step_time(s, d, step);
        product(x + (static_cast<size_t>(t) * s.batch + n) * in, wd, 3 * hs, in, gx.data());
        // Gate rows: z [0, H), r [H, 2H), h [2H, 3H).
        product(h.data(), rd, 2 * hs, hs, gh.data());
        for (int32_t j = 0; j < hs; ++j) {
          z[j] = sigmoid(clipped(gx[j] + gh[j] + wb[j] + rb[j], s.clip));
          rs[j] = sigmoid(clipped(gx[hs + j] + gh[hs + j] + wb[hs + j] + rb[hs + j], s.clip));
        }
        const float* rh_rows = rd + static_cast<size_t>(2) * hs * hs;
        if (linear_before_reset) {
          product(h.data(), rh_rows, hs, hs, hh.data());  // h Rh
          for (int32_t j = 0; j < hs; ++j) hh[j] = rs[j] * (hh[j] + rb[2 * hs + j]);
        } else {
          for (int32_t j = 0; j < hs; ++j) rh[j] = rs[j] * h[j];
          product(rh.data(), rh_rows, hs, hs, hh.data());  // (r * h) Rh
          for (int32_t j = 0; j < hs; ++j) hh[j] += rb[2 * hs + j];
        }
        for (int32_t j = 0; j < hs; ++j) {
          const float cand = std::tanh(clipped(gx[2 * hs + j] + hh[j] + wb[2 * hs + j], s.clip));
          h[j] = (1.f - z[j]) * cand + z[j] * h[j];
        }
        std::copy(h.begin(), h.end(), y + ((static_cast<size_t>(t) * dirs + d) * s.batch + n) * hs);
      }
      std::copy(h.begin(), h.end(), yh + state);
    }
  }
}

}  // namespace ref
}  // namespace edgeq
