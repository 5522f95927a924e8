// Tests of the reference data-movement kernels on several element sizes.
//
// Elements are random bytes, so a kernel that moves the wrong bytes (or the right
// element with the wrong size) shows up. The naive side works in the opposite
// direction where it can: transpose scatters from input coordinates, slice builds
// per-dimension index lists, pad tests membership of each output coordinate.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {
namespace {

using Shape = std::vector<int32_t>;
using Bytes = std::vector<uint8_t>;

const size_t kElemSizes[] = {1, 2, 3, 4, 8};

int64_t count(const Shape& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

Bytes random_bytes(std::mt19937* rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>((*rng)() & 0xff);
  return b;
}

std::vector<int64_t> coords_of(const Shape& shape, int64_t flat) {
  std::vector<int64_t> c(shape.size());
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    c[d] = flat % shape[d];
    flat /= shape[d];
  }
  return c;
}

int64_t flat_of(const Shape& shape, const std::vector<int64_t>& c) {
  int64_t f = 0;
  for (size_t d = 0; d < shape.size(); ++d) f = f * shape[d] + c[d];
  return f;
}

void copy_elem(Bytes* dst, int64_t di, const Bytes& src, int64_t si, size_t es) {
  std::memcpy(dst->data() + di * es, src.data() + si * es, es);
}

TEST(RefTranspose, MatchesScatter) {
  std::mt19937 rng(400);
  const struct {
    Shape shape, perm;
  } cases[] = {
      {{}, {}},
      {{5}, {0}},
      {{3, 4}, {1, 0}},
      {{2, 3, 4, 5}, {0, 3, 1, 2}},  // NHWC -> NCHW
      {{2, 3, 4, 5}, {0, 2, 3, 1}},  // NCHW -> NHWC
      {{2, 1, 3, 2, 1, 4}, {5, 3, 0, 4, 2, 1}},
      {{0, 3}, {1, 0}},
      {{7, 1, 9}, {2, 1, 0}},
  };
  for (const auto& c : cases) {
    const int rank = static_cast<int>(c.shape.size());
    Shape out_shape(rank);
    for (int d = 0; d < rank; ++d) out_shape[d] = c.shape[c.perm[d]];
    for (size_t es : kElemSizes) {
      const int64_t n = count(c.shape);
      const Bytes in = random_bytes(&rng, n * es);
      Bytes out(n * es + 1, 0xAB), expected(n * es + 1, 0xAB);
      transpose(rank, c.shape.data(), c.perm.data(), es, in.data(), out.data());
      for (int64_t i = 0; i < n; ++i) {
        const std::vector<int64_t> ic = coords_of(c.shape, i);
        std::vector<int64_t> oc(rank);
        for (int d = 0; d < rank; ++d) oc[d] = ic[c.perm[d]];
        copy_elem(&expected, flat_of(out_shape, oc), in, i, es);
      }
      ASSERT_EQ(out, expected) << "rank " << rank << " elem " << es;  // incl. no overrun
    }
  }
  // A 2x3 int32 transpose by hand.
  const int32_t m[6] = {1, 2, 3, 4, 5, 6};
  const int32_t shape[2] = {2, 3}, perm[2] = {1, 0};
  int32_t t[6];
  transpose(2, shape, perm, sizeof(int32_t), m, t);
  const int32_t expected[6] = {1, 4, 2, 5, 3, 6};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t[i], expected[i]);
}

TEST(RefConcatSplit, MatchNaiveAndRoundTrip) {
  std::mt19937 rng(401);
  const struct {
    int64_t outer, inner;
    Shape sizes;
  } cases[] = {
      {1, 1, {3}},    {2, 3, {1, 4, 2}},    {4, 1, {5, 0, 3}},
      {1, 7, {2, 2}}, {3, 5, {1, 1, 1, 1}}, {0, 4, {2, 3}},
  };
  for (const auto& c : cases) {
    for (size_t es : kElemSizes) {
      const int count_in = static_cast<int>(c.sizes.size());
      int32_t total = 0;
      for (int32_t s : c.sizes) total += s;
      std::vector<Bytes> parts;
      std::vector<const void*> ptrs;
      for (int32_t s : c.sizes) parts.push_back(random_bytes(&rng, c.outer * s * c.inner * es + 1));
      for (const Bytes& p : parts) ptrs.push_back(p.data());
      Bytes out(c.outer * total * c.inner * es + 1, 0xCD);
      concat(c.outer, c.inner, count_in, c.sizes.data(), ptrs.data(), es, out.data());
      Bytes expected(out.size(), 0xCD);
      for (int64_t o = 0; o < c.outer; ++o) {
        int64_t axis_pos = 0;
        for (int i = 0; i < count_in; ++i) {
          for (int64_t a = 0; a < c.sizes[i]; ++a, ++axis_pos) {
            for (int64_t k = 0; k < c.inner; ++k) {
              copy_elem(&expected, (o * total + axis_pos) * c.inner + k, parts[i],
                        (o * c.sizes[i] + a) * c.inner + k, es);
            }
          }
        }
      }
      ASSERT_EQ(out, expected);
      std::vector<Bytes> back;
      std::vector<void*> back_ptrs;
      for (int32_t s : c.sizes) back.emplace_back(c.outer * s * c.inner * es + 1, 0xEE);
      for (Bytes& b : back) back_ptrs.push_back(b.data());
      split(c.outer, c.inner, total, count_in, c.sizes.data(), out.data(), es, back_ptrs.data());
      for (int i = 0; i < count_in; ++i) {
        Bytes want = parts[i];
        want.back() = 0xEE;  // the guard byte is untouched
        ASSERT_EQ(back[i], want) << i;
      }
    }
  }
}

TEST(RefPad, MatchesMembership) {
  std::mt19937 rng(402);
  const struct {
    Shape shape, pads;
  } cases[] = {
      {{}, {}},
      {{3}, {0, 0}},
      {{3}, {2, 1}},
      {{2, 3}, {1, 0, 0, 2}},
      {{1, 2, 2, 3}, {0, 1, 1, 0, 0, 1, 1, 0}},  // NHWC spatial padding
      {{2, 1, 3, 2}, {1, 2, 0, 1, 0, 1, 3, 2}},
      {{0, 2}, {1, 1, 1, 1}},
  };
  for (const auto& c : cases) {
    const int rank = static_cast<int>(c.shape.size());
    Shape out_shape(rank);
    for (int d = 0; d < rank; ++d) out_shape[d] = c.shape[d] + c.pads[d] + c.pads[rank + d];
    for (size_t es : kElemSizes) {
      const Bytes in = random_bytes(&rng, count(c.shape) * es);
      const Bytes fill = random_bytes(&rng, es);
      Bytes out(count(out_shape) * es + 1, 0x77);
      pad(rank, c.shape.data(), c.pads.data(), es, fill.data(), in.data(), out.data());
      Bytes expected(out.size(), 0x77);
      for (int64_t o = 0; o < count(out_shape); ++o) {
        const std::vector<int64_t> oc = coords_of(out_shape, o);
        std::vector<int64_t> ic(rank);
        bool inside = true;
        for (int d = 0; d < rank; ++d) {
          ic[d] = oc[d] - c.pads[d];
          inside = inside && ic[d] >= 0 && ic[d] < c.shape[d];
        }
        if (inside) {
          copy_elem(&expected, o, in, flat_of(c.shape, ic), es);
        } else {
          std::memcpy(expected.data() + o * es, fill.data(), es);
        }
      }
      ASSERT_EQ(out, expected) << "rank " << rank << " elem " << es;
    }
  }
  // A float pad by hand: [1, 2] -> [-1, 1, 2, -1, -1].
  const float in[2] = {1.f, 2.f}, fill = -1.f;
  const int32_t shape[1] = {2}, pads[2] = {1, 2};
  float out[5];
  pad(1, shape, pads, sizeof(float), &fill, in, out);
  const float expected[5] = {-1.f, 1.f, 2.f, -1.f, -1.f};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[i], expected[i]);
}

TEST(RefSlice, MatchesIndexLists) {
  std::mt19937 rng(403);
  const struct {
    Shape in, out, starts, steps;
  } cases[] = {
      {{10}, {3}, {2}, {3}},
      {{10}, {10}, {9}, {-1}},  // reverse
      {{10}, {4}, {8}, {-2}},
      {{4, 5}, {2, 3}, {1, 0}, {2, 2}},
      {{2, 3, 4, 5}, {1, 3, 2, 2}, {1, 0, 3, 4}, {1, 1, -2, -3}},
      {{3, 3}, {0, 3}, {0, 0}, {1, 1}},
      {{2, 1, 6}, {2, 1, 1}, {0, 0, 5}, {1, 1, 1}},
  };
  for (const auto& c : cases) {
    const int rank = static_cast<int>(c.in.size());
    for (size_t es : kElemSizes) {
      const Bytes in = random_bytes(&rng, count(c.in) * es);
      Bytes out(count(c.out) * es + 1, 0x11);
      slice(rank, c.in.data(), c.out.data(), c.starts.data(), c.steps.data(), es, in.data(),
            out.data());
      // Per-dimension lists of selected input indices, combined in row-major order.
      std::vector<std::vector<int64_t>> picks(rank);
      for (int d = 0; d < rank; ++d) {
        for (int64_t v = c.starts[d]; static_cast<int64_t>(picks[d].size()) < c.out[d];
             v += c.steps[d]) {
          picks[d].push_back(v);
        }
      }
      Bytes expected(out.size(), 0x11);
      for (int64_t o = 0; o < count(c.out); ++o) {
        const std::vector<int64_t> oc = coords_of(c.out, o);
        std::vector<int64_t> ic(rank);
        for (int d = 0; d < rank; ++d) ic[d] = picks[d][oc[d]];
        copy_elem(&expected, o, in, flat_of(c.in, ic), es);
      }
      ASSERT_EQ(out, expected) << "rank " << rank << " elem " << es;
    }
  }
  const int8_t v[5] = {1, 2, 3, 4, 5};
  const int32_t in_shape[1] = {5}, out_shape[1] = {3}, starts[1] = {4}, steps[1] = {-2};
  int8_t r[3];
  slice(1, in_shape, out_shape, starts, steps, 1, v, r);
  EXPECT_EQ(r[0], 5);
  EXPECT_EQ(r[1], 3);
  EXPECT_EQ(r[2], 1);
}

TEST(RefResizeNearest, MatchesNaive) {
  std::mt19937 rng(404);
  const int32_t cases[][6] = {// batch, h, w, c, scale_h, scale_w
                              {1, 1, 1, 1, 1, 1},
                              {1, 2, 2, 1, 2, 2},
                              {2, 3, 4, 5, 2, 3},
                              {1, 1, 3, 7, 4, 1},
                              {3, 2, 1, 2, 1, 5}};
  for (const auto& c : cases) {
    const int32_t b = c[0], h = c[1], w = c[2], ch = c[3], sh = c[4], sw = c[5];
    for (size_t es : kElemSizes) {
      const Bytes in = random_bytes(&rng, static_cast<size_t>(b) * h * w * ch * es);
      const size_t out_n = static_cast<size_t>(b) * h * sh * w * sw * ch;
      Bytes out(out_n * es + 1, 0x22), expected(out_n * es + 1, 0x22);
      resize_nearest(b, h, w, ch, sh, sw, es, in.data(), out.data());
      for (int n = 0; n < b; ++n)
        for (int y = 0; y < h * sh; ++y)
          for (int x = 0; x < w * sw; ++x)
            for (int k = 0; k < ch; ++k)
              copy_elem(&expected, ((static_cast<int64_t>(n) * h * sh + y) * w * sw + x) * ch + k,
                        in, ((static_cast<int64_t>(n) * h + y / sh) * w + x / sw) * ch + k, es);
      ASSERT_EQ(out, expected);
    }
  }
  const int8_t in[4] = {1, 2, 3, 4};
  int8_t out[16];
  resize_nearest(1, 2, 2, 1, 2, 2, 1, in, out);
  const int8_t expected[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  for (int i = 0; i < 16; ++i) EXPECT_EQ(out[i], expected[i]) << i;
}

}  // namespace
}  // namespace ref
}  // namespace edgeq
