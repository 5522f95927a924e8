// Depthwise convolution driver (see qdwconv.h): weight packing (or pre-packed weights
// used in place) and row scheduling.
#include "kernels/qdwconv.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <new>

namespace edgeq {
namespace kern {

namespace {

constexpr int32_t kMaxRows = 64;  // kernel rows, rounded up to whole groups
constexpr size_t kSlack = 64;     // bytes the row kernels may read past the end

// n bytes and the slack.
AlignedBuffer aligned_bytes(size_t n) { return aligned_buffer(n + kSlack); }

// Kernel rows per group of the layout, rounded up: the groups of a kernel_h-row window.
int32_t row_groups(const ref::ConvShape& s, const DwKernel& k) {
  const int32_t group = static_cast<int32_t>(k.group);
  return (s.kernel_h + group - 1) / group;
}

// One tile's packed block: bias and three requantization words per channel, then the
// weights of every group and column.
size_t tile_block_bytes(const ref::ConvShape& s, const DwKernel& k) {
  return static_cast<size_t>(k.tile) * 4 * (4 + static_cast<size_t>(row_groups(s, k)) * s.kernel_w);
}

// Whether no weight of an int16 layout (group 2) is -128, read from the packed blocks
// (so that a pre-packed file's raw weights stay untouched); false for int8 layouts.
bool packed_w127(const uint8_t* packed, const ref::ConvShape& s, const DwKernel& k) {
  if (k.group != 2) return false;
  const size_t block = tile_block_bytes(s, k), tiles = (static_cast<size_t>(s.in_c) + k.tile - 1) / k.tile;
  for (size_t t = 0; t < tiles; ++t) {
    const uint8_t* b = packed + block * t;
    for (size_t o = static_cast<size_t>(k.tile) * 16; o < block; o += 2) {
      int16_t v;
      std::memcpy(&v, b + o, sizeof(v));
      if (v == -128) return false;
    }
  }
  return true;
}

// Whether the vector epilogue reproduces ref::requantize for every channel.
bool epilogue_supported(const ref::Requant& rq, int32_t channels) {
  // |qmin - zp| and |qmax - zp| stay at most 2^22: exact floats, and the range of ARM's
  // rounding by one add (NeonOutputClamp, kernels/arm/neon_epilogue.h).
  constexpr int32_t kLimit = 1 << 21;
  const auto within = [](int32_t v) { return v >= -kLimit && v <= kLimit; };
  if (!within(rq.zero_point) || !within(rq.qmin) || !within(rq.qmax) || rq.qmin > rq.qmax) return false;
  const int32_t n = rq.per_channel ? channels : 1;
  for (int32_t i = 0; i < n; ++i) {
    if (rq.scheme == ref::Scheme::kFixedPoint) {
      if (rq.multiplier[i] == std::numeric_limits<int32_t>::min() || rq.exponent[i] < -31) return false;
    } else if (!std::isfinite(rq.scale[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

struct QDwConvOp::Impl {
  ref::ConvShape s;
  DwKernel kernel;
  DwRowUkernel ukernel = nullptr;
  int32_t groups = 0;
  int32_t x_zero_point = 0;
  ref::Scheme scheme = ref::Scheme::kFp32;
  int32_t zero_point = 0, qmin = 0, qmax = 0;
  bool act_s8 = false;
  bool w127 = false;                      // DwArgs::w127
  size_t packed_size = 0, zero_size = 0;  // packed_size: without the slack
  AlignedBuffer owned;                    // packed here, or null
  const uint8_t* packed = nullptr;        // owned, or a pre-packed file's bytes
  AlignedBuffer zero_row;  // in_w * channels bytes of x_zp

  // False when the packed buffer cannot be allocated.
  bool pack(const QDwConvParams& p, int32_t act_offset);
  void run_row(size_t row, const uint8_t* x, uint8_t* y) const;
};

bool QDwConvOp::Impl::pack(const QDwConvParams& p, int32_t act_offset) {
  const int32_t c_total = s.in_c, kh_n = s.kernel_h, kw_n = s.kernel_w;
  const int32_t tile = static_cast<int32_t>(kernel.tile), group = static_cast<int32_t>(kernel.group);
  const size_t block = tile_block_bytes(s, kernel);
  const int32_t tiles = (c_total + tile - 1) / tile;
  owned = aligned_bytes(packed_size);
  if (!owned) return false;
  packed = owned.get();
  std::memset(owned.get(), 0, packed_size + kSlack);  // the slack too: a pre-packed file stores it
  const ref::Requant& rq = p.rq;
  for (int32_t t = 0; t < tiles; ++t) {
    uint8_t* b = owned.get() + block * static_cast<size_t>(t);
    int32_t* bias = reinterpret_cast<int32_t*>(b);
    int32_t* rq0 = bias + tile;
    int32_t* rq1 = rq0 + tile;
    int32_t* rq2 = rq1 + tile;
    uint8_t* w = b + static_cast<size_t>(tile) * 16;
    for (int32_t i = 0; i < tile; ++i) {
      const int32_t c = t * tile + kernel.order[i];
      const bool valid = c < c_total;
      const int32_t rc = rq.per_channel ? (valid ? c : c_total - 1) : 0;
      if (rq.scheme == ref::Scheme::kFixedPoint) {
        rq0[i] = rq.multiplier[rc];
        rq1[i] = rq.exponent[rc] > 0 ? rq.exponent[rc] : 0;
        rq2[i] = rq.exponent[rc] > 0 ? 0 : -rq.exponent[rc];
      } else {
        std::memcpy(&rq0[i], &rq.scale[rc], sizeof(float));
      }
      if (!valid) continue;
      uint32_t wsum = 0;  // modulo 2^32, like the accumulator
      for (int32_t kh = 0; kh < kh_n; ++kh) {
        const int32_t g = kh / group, r = kh % group;
        for (int32_t kw = 0; kw < kw_n; ++kw) {
          const int8_t v = p.weight[(static_cast<size_t>(c) * kh_n + kh) * kw_n + kw];
          wsum += static_cast<uint32_t>(static_cast<int32_t>(v));
          uint8_t* dst = w + (static_cast<size_t>(g) * kw_n + kw) * tile * 4 + static_cast<size_t>(i) * 4;
          if (group == 2) {
            const int16_t v16 = v;
            std::memcpy(dst + r * 2, &v16, sizeof(v16));
          } else {
            dst[r] = static_cast<uint8_t>(v);
          }
        }
      }
      const uint32_t b0 = p.bias != nullptr ? static_cast<uint32_t>(p.bias[c]) : 0u;
      const uint32_t folded = b0 - static_cast<uint32_t>(p.x_zero_point + act_offset) * wsum;
      std::memcpy(&bias[i], &folded, sizeof(folded));
    }
  }
  return true;
}

void QDwConvOp::Impl::run_row(size_t row, const uint8_t* x, uint8_t* y) const {
  const size_t c = static_cast<size_t>(s.in_c);
  const int32_t n = static_cast<int32_t>(row / static_cast<size_t>(s.out_h));
  const int32_t oh = static_cast<int32_t>(row % static_cast<size_t>(s.out_h));
  const void* rows[kMaxRows];
  const int32_t group = static_cast<int32_t>(kernel.group);
  for (int32_t kh = 0; kh < groups * group; ++kh) {
    const int64_t ih = static_cast<int64_t>(oh) * s.stride_h - s.pad_top + static_cast<int64_t>(kh) * s.dilation_h;
    if (kh < s.kernel_h && ih >= 0 && ih < s.in_h) {
      rows[kh] = x + (static_cast<size_t>(n) * s.in_h + static_cast<size_t>(ih)) * s.in_w * c;
    } else {
      rows[kh] = zero_row.get();
    }
  }
  DwArgs a;
  a.rows = rows;
  a.zero = zero_row.get();
  a.packed = packed;
  a.out = y + row * static_cast<size_t>(s.out_w) * c;
  a.channels = c;
  a.in_w = s.in_w;
  a.out_w = s.out_w;
  a.kernel_w = s.kernel_w;
  a.groups = groups;
  a.stride_w = s.stride_w;
  a.dilation_w = s.dilation_w;
  a.pad_left = s.pad_left;
  a.scheme = scheme;
  a.zero_point = zero_point;
  a.qmin = qmin;
  a.qmax = qmax;
  a.act_s8 = act_s8;
  a.kernel_h = s.kernel_h;
  a.w127 = w127;
  ukernel(&a);
}

QDwConvOp::QDwConvOp() = default;
QDwConvOp::~QDwConvOp() = default;

InitResult QDwConvOp::init(const QDwConvParams& p, const DwKernel& kernel, const uint8_t* prepacked,
                           bool pack_only) {
  impl_.reset();
  const ref::ConvShape& s = p.shape;
  const DwRowUkernel uk = p.act_s8 ? kernel.s8 : kernel.u8;
  if ((uk == nullptr && !pack_only) || kernel.tile == 0 || kernel.order == nullptr ||
      (kernel.group != 2 && kernel.group != 4))
    return InitResult::kDeclined;
  if (s.groups != s.in_c || s.out_c != s.in_c || s.in_c < 1 || p.weight == nullptr) return InitResult::kDeclined;
  if (s.kernel_h < 1 || s.kernel_w < 1 || s.stride_h < 1 || s.stride_w < 1 || s.dilation_h < 1 || s.dilation_w < 1 ||
      s.batch < 0 || s.in_h < 0 || s.in_w < 0 || s.out_h < 0 || s.out_w < 0) {
    return InitResult::kDeclined;
  }
  if (!epilogue_supported(p.rq, s.out_c)) return InitResult::kDeclined;
  // Padding taps read x_zp as an activation byte: it must be one.
  if (p.x_zero_point < (p.act_s8 ? -128 : 0) || p.x_zero_point > (p.act_s8 ? 127 : 255)) return InitResult::kDeclined;
  const int32_t group = static_cast<int32_t>(kernel.group);
  const int32_t groups = (s.kernel_h + group - 1) / group;
  if (groups * group > kMaxRows) return InitResult::kDeclined;
  const size_t col_bytes = static_cast<size_t>(groups) * kernel.tile * 4;
  const size_t cols = static_cast<size_t>(s.kernel_w - 1) * static_cast<size_t>(s.dilation_w) + 1;
  if (cols > kDwScratchBytes / col_bytes) return InitResult::kDeclined;

  auto impl = std::make_unique<Impl>();
  impl->s = s;
  impl->kernel = kernel;
  impl->ukernel = uk;
  impl->groups = groups;
  impl->x_zero_point = p.x_zero_point;
  impl->scheme = p.rq.scheme;
  impl->zero_point = p.rq.zero_point;
  impl->qmin = p.rq.qmin;
  impl->qmax = p.rq.qmax;
  impl->act_s8 = p.act_s8;
  impl->packed_size = packed_weight_bytes(s, kernel) - kSlack;
  if (prepacked != nullptr) {
    impl->packed = prepacked;
  } else if (!impl->pack(p, p.act_s8 ? kernel.s8_act_offset : kernel.u8_act_offset)) {
    return InitResult::kOutOfMemory;
  }
  impl->w127 = packed_w127(impl->packed, s, kernel);
  impl->zero_size = static_cast<size_t>(s.in_w > 0 ? s.in_w : 1) * static_cast<size_t>(s.in_c);
  impl->zero_row = aligned_bytes(impl->zero_size);
  if (!impl->zero_row) return InitResult::kOutOfMemory;
  std::memset(impl->zero_row.get(), static_cast<uint8_t>(p.x_zero_point), impl->zero_size + 64);
  impl_ = std::move(impl);
  return InitResult::kReady;
}

void QDwConvOp::bind(const void* x, void* y) {
  x_ = static_cast<const uint8_t*>(x);
  y_ = static_cast<uint8_t*>(y);
}

std::unique_ptr<QDwConvOp> QDwConvOp::share() const {
  std::unique_ptr<QDwConvOp> op(new (std::nothrow) QDwConvOp());
  if (op) op->impl_ = impl_;
  return op;
}

size_t QDwConvOp::rows() const {
  const ref::ConvShape& s = impl_->s;
  return s.out_w == 0 ? 0 : static_cast<size_t>(s.batch) * static_cast<size_t>(s.out_h);
}

void QDwConvOp::run_rows(size_t r0, size_t r1) const {
  for (size_t r = r0; r < r1; ++r) impl_->run_row(r, x_, y_);
}

void QDwConvOp::run(const void* x, void* y) {
  bind(x, y);
  run_rows(0, rows());
}

const DwKernel* pick_dw_kernel(const DwKernels& set, int32_t channels) {
  const DwKernel* best = nullptr;
  size_t best_cost = 0;
  const size_t c = channels > 0 ? static_cast<size_t>(channels) : 1;
  for (const DwKernel& k : set.kernel) {
    if (k.tile == 0) continue;
    const size_t cost = (c + k.tile - 1) / k.tile * k.tile_cost;
    if (best == nullptr || cost < best_cost) {
      best = &k;
      best_cost = cost;
    }
  }
  return best;
}

InitResult QDwConvOp::init(const QDwConvParams& p, const DwKernels& set, const uint8_t* prepacked) {
  const DwKernel* best = pick_dw_kernel(set, p.shape.in_c);
  if (best == nullptr) return InitResult::kDeclined;
  return init(p, *best, prepacked);
}

size_t QDwConvOp::packed_weight_bytes(const ref::ConvShape& s, const DwKernel& kernel) {
  if (kernel.tile == 0 || kernel.group == 0 || s.in_c < 1) return 0;
  const size_t tiles = (static_cast<size_t>(s.in_c) + kernel.tile - 1) / kernel.tile;
  return tile_block_bytes(s, kernel) * tiles + kSlack;
}

const uint8_t* QDwConvOp::weights() const { return impl_ ? impl_->packed : nullptr; }

size_t QDwConvOp::weight_bytes() const { return impl_ ? impl_->packed_size + kSlack : 0; }

size_t QDwConvOp::packed_bytes() const {
  return impl_ ? (impl_->owned ? impl_->packed_size + kSlack : 0) + impl_->zero_size : 0;
}

const char* QDwConvOp::kernel_name() const { return impl_ ? impl_->kernel.name : "ref"; }

}  // namespace kern
}  // namespace edgeq
