// The reference GridSample (kernels/ref/grid_sample.cc) on hand-computed samples and on
// hostile grids. ONNX Runtime's agreement on ordinary grids is checked by the committed
// model ops/grid_sample; here: exact values where the arithmetic is exact, and grids no
// model should hold (NaN, infinities, huge values, a one-pixel input with reflection)
// giving defined results without reading outside the input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {
namespace {

// x: an h x w image of one channel, 1, 2, ... row by row (a 2 x 3 one by default).
// One sample at (gx, gy).
float sample(GridMode mode, GridPadding padding, bool align, float gx, float gy, int32_t h = 2, int32_t w = 3) {
  std::vector<float> x(static_cast<size_t>(h * w));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i + 1);
  const float grid[2] = {gx, gy};
  float y = -1.f;
  grid_sample_f32(mode, padding, align, h, w, 1, 1, 1, 0, 1, x.data(), grid, &y);
  return y;
}

TEST(RefGridSample, CornersAndCentres) {
  // align_corners: -1 and 1 are the centres of the edge pixels.
  EXPECT_EQ(sample(GridMode::kBilinear, GridPadding::kZeros, true, -1.f, -1.f), 1.f);
  EXPECT_EQ(sample(GridMode::kBilinear, GridPadding::kZeros, true, 1.f, 1.f), 6.f);
  // Half way along x between pixels 0 and 1 of row 0: x = 0.5.
  EXPECT_EQ(sample(GridMode::kBilinear, GridPadding::kZeros, true, -0.5f, -1.f), 1.5f);
  // Without align_corners -1 is the outer edge: x = -0.5, half pixel 0 and half a zero.
  EXPECT_EQ(sample(GridMode::kBilinear, GridPadding::kZeros, false, -1.f, -0.5f), 0.5f);
  // ... or, with border padding, half pixel (1, 0) twice.
  EXPECT_EQ(sample(GridMode::kBilinear, GridPadding::kBorder, false, -1.f, 0.5f), 4.f);
  // Nearest: x = 0.5 rounds half to even (pixel 0), x = 1.5 to pixel 2.
  EXPECT_EQ(sample(GridMode::kNearest, GridPadding::kZeros, true, -0.5f, -1.f), 1.f);
  EXPECT_EQ(sample(GridMode::kNearest, GridPadding::kZeros, true, 0.5f, -1.f), 3.f);
  // Bicubic on a pixel centre is the pixel (Keys' weights there are 0, 1, 0, 0).
  EXPECT_EQ(sample(GridMode::kBicubic, GridPadding::kBorder, true, 0.f, 1.f), 5.f);
}

TEST(RefGridSample, PaddingModesOutside) {
  // Pixel index -1 (x = -1 with align_corners: gx = -2): zeros 0, border pixel 0,
  // reflection about 0: pixel 1.
  EXPECT_EQ(sample(GridMode::kNearest, GridPadding::kZeros, true, -2.f, -1.f), 0.f);
  EXPECT_EQ(sample(GridMode::kNearest, GridPadding::kBorder, true, -2.f, 1.f), 4.f);
  EXPECT_EQ(sample(GridMode::kNearest, GridPadding::kReflection, true, -2.f, -1.f), 2.f);
  // Index 3 past the right edge (gx = 2): reflection about 2 gives pixel 1.
  EXPECT_EQ(sample(GridMode::kNearest, GridPadding::kReflection, true, 2.f, -1.f), 2.f);
}

TEST(RefGridSample, HostileGridsAreDefined) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (GridMode mode : {GridMode::kBilinear, GridMode::kNearest, GridMode::kBicubic}) {
    for (GridPadding padding : {GridPadding::kZeros, GridPadding::kBorder, GridPadding::kReflection}) {
      for (bool align : {false, true}) {
        EXPECT_TRUE(std::isnan(sample(mode, padding, align, nan, 0.f)));
        EXPECT_TRUE(std::isnan(sample(mode, padding, align, 0.f, nan)));
        for (float far : {inf, -inf, 1e30f, -1e30f, 3e7f}) {
          const float v = sample(mode, padding, align, far, far);
          EXPECT_TRUE(std::isfinite(v)) << far;
          if (padding == GridPadding::kZeros) {
            EXPECT_EQ(v, 0.f) << far;
          }
          // A one-pixel image (reflection with align_corners: an empty range) gives its
          // pixel, zeros, or with align_corners, where every finite grid value maps to
          // the pixel's centre, the pixel (an infinity: 0 * inf, NaN).
          const float one = sample(mode, padding, align, far, -far, 1, 1);
          if (align && std::isinf(far)) {
            EXPECT_TRUE(std::isnan(one)) << far;
          } else {
            EXPECT_EQ(one, padding == GridPadding::kZeros && !align ? 0.f : 1.f) << far;
          }
        }
      }
      if (padding == GridPadding::kBorder) {
        EXPECT_EQ(sample(GridMode::kNearest, padding, false, inf, inf), 6.f);
        EXPECT_EQ(sample(GridMode::kNearest, padding, false, -inf, inf), 4.f);
      }
    }
  }
}

}  // namespace
}  // namespace ref
}  // namespace edgeq
