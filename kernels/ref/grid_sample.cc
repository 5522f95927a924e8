// Reference kernel of ONNX GridSample (ref.h grid_sample_f32): flow warping, spatial
// transformers and deformable sampling, on NHWC float. The arithmetic follows ONNX
// Runtime's CPU kernel term by term (its float expressions in its order), so that the
// results agree to the last bit where its fast paths do not reorder them.
#include <cmath>
#include <cstdint>

#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {
namespace {

// Coordinates are held within +-kFar pixels: 2^22, where a coordinate, its floor plus one
// and their differences are all exact floats.
constexpr float kFar = 4194304.f;

// A pixel coordinate from a normalized one (finite or NaN).
float to_pixels(float g, int32_t length, bool align_corners) {
  const float v = align_corners ? (g + 1.f) / 2.f * static_cast<float>(length - 1)
                                : ((g + 1.f) * static_cast<float>(length) - 1.f) / 2.f;
  return std::isnan(v) ? v : std::fmin(std::fmax(v, -kFar), kFar);
}

// Index i (|i| <= kFar + 2) reflected into [lo, hi] (lo < hi) as a float, by the nearer
// edge as many times as it takes.
float reflect(float i, float lo, float hi) {
  const float range = hi - lo;
  if (i < lo) {
    const float d = lo - i;
    const int64_t k = static_cast<int64_t>(d / range);
    const float r = d - static_cast<float>(k) * range;
    return k % 2 == 0 ? lo + r : hi - r;
  }
  if (i > hi) {
    const float d = i - hi;
    const int64_t k = static_cast<int64_t>(d / range);
    const float r = d - static_cast<float>(k) * range;
    return k % 2 == 0 ? hi - r : lo + r;
  }
  return i;
}

struct Sampler {
  GridPadding padding;
  int32_t h, w, c;
  float lo_x, hi_x, lo_y, hi_y;  // the reflection edges

  Sampler(GridPadding p, bool align_corners, int32_t in_h, int32_t in_w, int32_t channels)
      : padding(p), h(in_h), w(in_w), c(channels) {
    lo_x = align_corners ? 0.f : -0.5f;
    lo_y = lo_x;
    hi_x = align_corners ? static_cast<float>(in_w - 1) : static_cast<float>(in_w) - 0.5f;
    hi_y = align_corners ? static_cast<float>(in_h - 1) : static_cast<float>(in_h) - 0.5f;
  }

  // One index along an axis of `length` by the padding, or -1 for a zero.
  int64_t index(int64_t i, int32_t length, float lo, float hi) const {
    if (i >= 0 && i < length) return i;
    if (padding == GridPadding::kZeros) return -1;
    if (padding == GridPadding::kBorder || length == 1 || !(hi > lo)) return i < 0 ? 0 : length - 1;
    int64_t r = static_cast<int64_t>(reflect(static_cast<float>(i), lo, hi));
    return r < 0 ? 0 : (r >= length ? length - 1 : r);
  }

  // The channels of pixel (y, x) of image `img` (NHWC rows), or null for zeros.
  const float* pixel(const float* img, int64_t y, int64_t x) const {
    const int64_t yy = index(y, h, lo_y, hi_y), xx = index(x, w, lo_x, hi_x);
    if (yy < 0 || xx < 0) return nullptr;
    return img + (yy * w + xx) * c;
  }
};

inline float at(const float* p, int64_t k) { return p != nullptr ? p[k] : 0.f; }

// Keys' cubic convolution weights for fraction t (a = -0.75), ONNX Runtime's form.
void keys_weights(float t, float wt[4]) {
  constexpr float a = -0.75f;
  t = std::fabs(t);
  wt[0] = ((a * (t + 1.f) - 5.f * a) * (t + 1.f) + 8.f * a) * (t + 1.f) - 4.f * a;
  wt[1] = ((a + 2.f) * t - (a + 3.f)) * t * t + 1.f;
  wt[2] = ((a + 2.f) * (1.f - t) - (a + 3.f)) * (1.f - t) * (1.f - t) + 1.f;
  wt[3] = ((a * (2.f - t) - 5.f * a) * (2.f - t) + 8.f * a) * (2.f - t) - 4.f * a;
}

}  // namespace

void grid_sample_f32(GridMode mode, GridPadding padding, bool align_corners, int32_t in_h, int32_t in_w,
                     int32_t channels, int32_t out_h, int32_t out_w, int64_t row0, int64_t row1, const float* in,
                     const float* grid, float* out) {
  const Sampler s(padding, align_corners, in_h, in_w, channels);
  const int64_t c = channels, image = int64_t{in_h} * in_w * c;
  for (int64_t row = row0; row < row1; ++row) {
    const float* img = in + (row / out_h) * image;
    for (int32_t ox = 0; ox < out_w; ++ox) {
      const float* g = grid + (row * out_w + ox) * 2;
      float* o = out + (row * out_w + ox) * c;
      const float x = to_pixels(g[0], in_w, align_corners), y = to_pixels(g[1], in_h, align_corners);
      if (std::isnan(x) || std::isnan(y)) {
        for (int64_t k = 0; k < c; ++k) o[k] = NAN;
        continue;
      }
      if (mode == GridMode::kNearest) {
        const float* p = s.pixel(img, static_cast<int64_t>(std::nearbyint(y)), static_cast<int64_t>(std::nearbyint(x)));
        for (int64_t k = 0; k < c; ++k) o[k] = at(p, k);
        continue;
      }
      const int64_t x1 = static_cast<int64_t>(std::floor(x)), y1 = static_cast<int64_t>(std::floor(y));
      if (mode == GridMode::kBilinear) {
        const int64_t x2 = x1 + 1, y2 = y1 + 1;
        const float* p11 = s.pixel(img, y1, x1);
        const float* p12 = s.pixel(img, y1, x2);
        const float* p21 = s.pixel(img, y2, x1);
        const float* p22 = s.pixel(img, y2, x2);
        const float dx2 = static_cast<float>(x2) - x, dx1 = x - static_cast<float>(x1);
        const float dy2 = static_cast<float>(y2) - y, dy1 = y - static_cast<float>(y1);
        for (int64_t k = 0; k < c; ++k)
          o[k] = dy2 * (dx2 * at(p11, k) + dx1 * at(p12, k)) + dy1 * (dx2 * at(p21, k) + dx1 * at(p22, k));
        continue;
      }
      const int64_t x0 = x1 - 1, y0 = y1 - 1;
      const float* p[4][4];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) p[i][j] = s.pixel(img, y0 + i, x0 + j);
      float wx[4], wy[4];
      keys_weights(x - static_cast<float>(x0) - 1.f, wx);
      keys_weights(y - static_cast<float>(y0) - 1.f, wy);
      for (int64_t k = 0; k < c; ++k) {
        float v[4];
        for (int i = 0; i < 4; ++i)
          v[i] = wx[0] * at(p[i][0], k) + wx[1] * at(p[i][1], k) + wx[2] * at(p[i][2], k) + wx[3] * at(p[i][3], k);
        o[k] = wy[0] * v[0] + wy[1] * v[1] + wy[2] * v[2] + wy[3] * v[3];
      }
    }
  }
}

}  // namespace ref
}  // namespace edgeq
