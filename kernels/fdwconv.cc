// The float depthwise convolution (see fdwconv.h): packing, the pixel loop (the
// pointers of the taps inside the image, handed to the level's microkernel) and the
// portable microkernel.
#include "kernels/fdwconv.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/f32x4.h"
#include "kernels/fdw_taps.h"

namespace edgeq {
namespace kern {

size_t FDwPacked::packed_bytes(int32_t c, int32_t taps) {
  return (static_cast<size_t>(taps) + 1) * static_cast<size_t>(c) * sizeof(float);
}

InitResult FDwPacked::pack(const float* weight, const float* bias, int32_t c, int32_t taps,
                           std::shared_ptr<const FDwPacked>* out) {
  out->reset();
  if (c <= 0 || taps <= 0) return InitResult::kDeclined;
  auto p = std::make_shared<FDwPacked>();
  p->data_ = aligned_buffer(packed_bytes(c, taps), 64);
  if (!p->data_) return InitResult::kOutOfMemory;
  float* dst = reinterpret_cast<float*>(p->data_.get());
  const size_t cc = static_cast<size_t>(c), tt = static_cast<size_t>(taps);
  for (size_t t = 0; t < tt; ++t)
    for (size_t ch = 0; ch < cc; ++ch) dst[t * cc + ch] = weight[ch * tt + t];
  for (size_t ch = 0; ch < cc; ++ch) dst[tt * cc + ch] = bias != nullptr ? bias[ch] : 0.f;
  p->data_ptr_ = dst;
  p->c_ = c;
  p->taps_ = taps;
  *out = std::move(p);
  return InitResult::kReady;
}

InitResult FDwPacked::wrap(const uint8_t* data, size_t nbytes, int32_t c, int32_t taps,
                           std::shared_ptr<const FDwPacked>* out) {
  out->reset();
  if (c <= 0 || taps <= 0 || data == nullptr || nbytes != packed_bytes(c, taps) ||
      reinterpret_cast<uintptr_t>(data) % 64 != 0)
    return InitResult::kDeclined;
  auto p = std::make_shared<FDwPacked>();
  p->data_ptr_ = reinterpret_cast<const float*>(data);
  p->c_ = c;
  p->taps_ = taps;
  *out = std::move(p);
  return InitResult::kReady;
}

InitResult FDwConvOp::init(const ref::ConvShape& s, std::shared_ptr<const FDwPacked> packed, const FDwKernel& kernel,
                           float act_min, float act_max) {
  if (!packed || kernel.fn == nullptr || s.groups != s.in_c || s.out_c != s.in_c || s.in_c != packed->channels() ||
      s.kernel_h * s.kernel_w != packed->tap_count() || s.batch <= 0 || s.out_h <= 0 || s.out_w <= 0)
    return InitResult::kDeclined;
  s_ = s;
  packed_ = std::move(packed);
  kernel_ = kernel;
  act_min_ = act_min;
  act_max_ = act_max;
  return InitResult::kReady;
}

namespace {

// Taps of one output pixel taken at a time: input and weight pointers of the taps
// inside the image, in tap order.
constexpr int32_t kTapBatch = kFDwMaxTaps;

// The portable vectors: four floats, a multiply and an add per term.
struct PortableF32 {
  using Reg = F32x4;
  static constexpr size_t kLanes = 4;
  static Reg load(const float* p) { return load_f32x4(p); }
  static void store(float* p, Reg v) { store_f32x4(p, v); }
  static Reg splat(float v) { return splat_f32x4(v); }
  static Reg madd(Reg a, Reg b, Reg acc) { return acc + a * b; }
  static float madd1(float a, float b, float acc) { return acc + a * b; }
  static Reg clamp(Reg v, Reg lo, Reg hi) { return clamp_f32x4(v, lo, hi); }
};

}  // namespace

FDwKernel fdw_kernel_portable() {
  FDwKernel k;
  k.name = "f32_dwconv_ukernel__portable";
  k.fn = fdw_taps<PortableF32>;
  return k;
}

void FDwConvOp::run_rows(const float* x, float* y, size_t r0, size_t r1) const {
  const size_t c = static_cast<size_t>(s_.in_c), kw = static_cast<size_t>(s_.kernel_w);
  const size_t in_w = static_cast<size_t>(s_.in_w);
  const float* w = packed_->taps();
  const float* bias = packed_->bias();
  const float* in[kTapBatch];
  const float* wt[kTapBatch];
  // An interior pixel (its window's columns all inside the image): the taps of the
  // row's valid window rows, their weights the same for every such pixel of the row.
  const float* row_in[kTapBatch];
  const float* row_wt[kTapBatch];
  for (size_t r = r0; r < r1; ++r) {
    const int64_t oh = static_cast<int64_t>(r % static_cast<size_t>(s_.out_h));
    const size_t b = r / static_cast<size_t>(s_.out_h);
    const int64_t iy0 = oh * s_.stride_h - s_.pad_top;
    const float* image = x + b * static_cast<size_t>(s_.in_h) * in_w * c;
    float* out = y + r * static_cast<size_t>(s_.out_w) * c;
    // row_in[t]: tap t's input at column 0 of its window row (a pixel adds its ix0 * c);
    // the interior path only when the row's taps fit one batch.
    int32_t row_taps = 0;
    bool row_fits = true;
    for (int32_t ky = 0; ky < s_.kernel_h && row_fits; ++ky) {
      const int64_t iy = iy0 + int64_t{ky} * s_.dilation_h;
      if (iy < 0 || iy >= s_.in_h) continue;
      row_fits = row_taps + s_.kernel_w <= kTapBatch;
      for (int32_t kx = 0; kx < s_.kernel_w && row_fits; ++kx, ++row_taps) {
        row_in[row_taps] = image + (static_cast<size_t>(iy) * in_w + static_cast<size_t>(kx) * s_.dilation_w) * c;
        row_wt[row_taps] = w + (static_cast<size_t>(ky) * kw + static_cast<size_t>(kx)) * c;
      }
    }
    // The interior columns [ow0, ow1): every window column inside the image.
    const int64_t span = int64_t{s_.kernel_w - 1} * s_.dilation_w;
    int64_t ow0 = (s_.pad_left + s_.stride_w - 1) / s_.stride_w;
    int64_t ow1 = s_.in_w - span + s_.pad_left > 0 ? (s_.in_w - span + s_.pad_left - 1) / s_.stride_w + 1 : 0;
    ow1 = std::min<int64_t>(ow1, s_.out_w);
    if (!row_fits || ow0 >= ow1) ow0 = ow1 = s_.out_w;
    for (int64_t ow = 0; ow < s_.out_w; ++ow, out += c) {
      const int64_t ix0 = ow * s_.stride_w - s_.pad_left;
      if (ow == ow0) {
        const size_t shift = static_cast<size_t>(ix0) * c;
        for (int32_t t = 0; t < row_taps; ++t) in[t] = row_in[t] + shift;
        const size_t pixels = static_cast<size_t>(ow1 - ow0);
        kernel_.fn(in, row_wt, row_taps, c, pixels, static_cast<size_t>(s_.stride_w) * c, bias, out, false, true,
                   act_min_, act_max_);
        ow = ow1 - 1;
        out += (pixels - 1) * c;
        continue;
      }
      // The taps inside the image, in tap order, in batches of kTapBatch; each batch
      // adds to what the one before stored, the last one clamps.
      int32_t n = 0;
      bool started = false;
      for (int32_t ky = 0; ky < s_.kernel_h; ++ky) {
        const int64_t iy = iy0 + int64_t{ky} * s_.dilation_h;
        if (iy < 0 || iy >= s_.in_h) continue;
        const float* row = image + static_cast<size_t>(iy) * in_w * c;
        for (int32_t kx = 0; kx < s_.kernel_w; ++kx) {
          const int64_t ix = ix0 + int64_t{kx} * s_.dilation_w;
          if (ix < 0 || ix >= s_.in_w) continue;
          if (n == kTapBatch) {
            kernel_.fn(in, wt, n, c, 1, 0, bias, out, started, false, act_min_, act_max_);
            started = true;
            n = 0;
          }
          in[n] = row + static_cast<size_t>(ix) * c;
          wt[n] = w + (static_cast<size_t>(ky) * kw + static_cast<size_t>(kx)) * c;
          ++n;
        }
      }
      kernel_.fn(in, wt, n, c, 1, 0, bias, out, started, true, act_min_, act_max_);
    }
  }
}

}  // namespace kern
}  // namespace edgeq
