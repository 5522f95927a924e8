// Indirect-GEMM driver for quantized convolution and fully connected (see qconv.h).
//
// A convolution is a GEMM with M = batch * out_h * out_w output pixels, N = out_c
// channels and K = kernel_h * kernel_w taps x in_c channels. Instead of copying
// patches (im2col), the kernel reads every (pixel, tap) row of in_c bytes straight
// from the input through an indirection buffer of pointers; taps that fall into the
// padding point at a zero buffer filled with the input zero point.
//
// QConvPacked::init() packs once per node and layout (the weight blocks are the part
// a pre-packed file stores, layout version kQConvPackLayout):
//  * weights into NR-channel blocks: int32 bias[NR], then W[tap][k / kr][NR][kr]
//    (int8, or int16 for wide_weights kernels; zero beyond in_c and beyond out_c),
//    bias corrected for the input zero point:
//      bias'[j] = bias[j] - (x_zp + act_offset) * sum_{tap,k} W[j][tap][k]   (mod 2^32),
//    act_offset being the kernel's s8_act_offset or u8_act_offset (kernels.h);
//  * the requantization parameters into per-channel arrays padded to a multiple of NR;
//  * the zero buffer (in_c rounded up to kr, plus the kernels' read slack).
// QConvOp::init() only sizes its indirection buffer over that shared data.
// bind() rebuilds the indirection buffer only when the input pointer changed (the
// session's arena keeps it stable); the output is then cut into MR x NR tiles, one
// microkernel call per tile, which the scheduler (runtime/schedule.h) spreads over
// the thread pool.
//
// A grouped convolution (groups G > 1) is G independent GEMMs with K = taps x in_c / G
// and N = out_c / G. Each group's channels are packed into blocks of their own (a
// block never straddles two groups), so the tile grid runs over G x blocks-per-group
// "virtual" columns; the requantization arrays are expanded over the same virtual
// columns. The indirection buffer points at pixel starts, as for G = 1; a tile of
// group g calls the microkernel with a copy of its tile's pointers moved by
// g x in_c / G bytes (the padding taps keep pointing at the zero buffer). That copy
// is ks x MR pointers per tile, against ks x MR x NR x in_c / G multiply-adds.
// grid() says which order keeps the larger operand in cache: pixel tiles outer when
// the weights are smaller than the gathered activations, channel blocks outer otherwise.
#include "kernels/qconv.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>

namespace edgeq {
namespace kern {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kReadSlack = 64;  // kernels read up to 64 bytes past round_up(kc, kr)
// The tile's moved pointers of a grouped convolution live on the stack: taps x MR of at
// most this many (an 11x11 kernel with MR 8 fits).
constexpr size_t kMaxGroupedTilePointers = 1024;

size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

// The fp32 epilogue rounds after clamping the product to [qmin - zp, qmax - zp] in
// float, which needs both bounds to be exact floats.
bool fp32_bounds_exact(const ref::Requant& rq) {
  constexpr int64_t kExact = int64_t{1} << 24;
  const int64_t lo = int64_t{rq.qmin} - rq.zero_point, hi = int64_t{rq.qmax} - rq.zero_point;
  return lo >= -kExact && lo <= kExact && hi >= -kExact && hi <= kExact;
}

}  // namespace

// The immutable part: shared by every QConvOp over the same node and layout.
struct QConvPacked::Impl {
  size_t nr = 0, n = 0, kc = 0, ks = 0, n_blocks = 0;
  size_t groups = 1, group_n = 0, group_blocks = 0;  // group_n = out_c / groups channels per group
  size_t block_bytes = 0;  // one packed NR-channel block

  AlignedBuffer owned;               // weights packed here, or null
  const uint8_t* packed = nullptr;   // owned, or a pre-packed file's bytes in place
  std::vector<float> scale;
  std::vector<int32_t> multiplier, exponent;
  QuantEpilogue q;
  AlignedBuffer zero;
  size_t zero_bytes = 0;

  // False when the packed buffer cannot be allocated.
  bool pack_weights(const QConvParams& p, size_t kr, bool wide, int32_t act_offset);
  void pack_epilogue(const ref::Requant& rq);
  // Bytes beside the weight blocks: requantization arrays and zero buffer.
  size_t side_bytes() const {
    return zero_bytes + (scale.size() + multiplier.size() + exponent.size()) * sizeof(int32_t);
  }
};

// One op's state over shared packed data.
struct QConvOp::Impl {
  std::shared_ptr<const QConvPacked> shared;
  const QConvPacked::Impl* pk = nullptr;  // shared->impl_
  ref::ConvShape s{};
  QIgemmUkernel ukernel = nullptr;
  QIgemmUkernel ukernel_row = nullptr;  // for tiles of one row
  size_t mr = 0, nr = 0;
  size_t m = 0, n = 0, kc = 0, ks = 0, m_tiles = 0;
  bool n_outer = false;

  // [m_tiles][ks][mr], every entry written by build_indirection() before a run reads
  // it: left uninitialized, so creating an op costs no pass over it.
  std::unique_ptr<const void*[]> indirection;
  size_t indirection_size = 0;
  const void* indirect_x = nullptr;
  uint8_t* y = nullptr;

  void build_indirection(const void* x);
  void run_tile(size_t m0, size_t n0, size_t mc, size_t nc) const;
};

bool QConvPacked::Impl::pack_weights(const QConvParams& p, size_t kr, bool wide, int32_t act_offset) {
  const size_t kc_r = round_up(kc, kr);
  owned = aligned_buffer(n_blocks * block_bytes, kAlign);
  if (!owned) return false;
  packed = owned.get();
  std::memset(owned.get(), 0, n_blocks * block_bytes);
  // (x_zp + act_offset) and the correction are formed modulo 2^32, like the accumulators.
  const uint32_t x_offset = static_cast<uint32_t>(p.x_zero_point) + static_cast<uint32_t>(act_offset);
  for (size_t nb = 0; nb < n_blocks; ++nb) {
    uint8_t* block = owned.get() + nb * block_bytes;
    int8_t* wp = reinterpret_cast<int8_t*>(block + nr * sizeof(int32_t));
    int16_t* wp16 = reinterpret_cast<int16_t*>(block + nr * sizeof(int32_t));
    const size_t g = nb / group_blocks, first = (nb % group_blocks) * nr;  // group, its first channel in it
    for (size_t j = 0; j < nr && first + j < group_n; ++j) {
      const size_t ch = g * group_n + first + j;
      const int8_t* src = p.weight + ch * ks * kc;  // [out_c][taps][in_c]
      uint32_t wsum = 0;
      for (size_t t = 0; t < ks; ++t) {
        for (size_t k = 0; k < kc; ++k) {
          const int8_t v = src[t * kc + k];
          wsum += static_cast<uint32_t>(static_cast<int32_t>(v));
          const size_t at = ((t * (kc_r / kr) + k / kr) * nr + j) * kr + k % kr;
          if (wide) {
            wp16[at] = v;
          } else {
            wp[at] = v;
          }
        }
      }
      const uint32_t b = p.bias != nullptr ? static_cast<uint32_t>(p.bias[ch]) : 0u;
      const uint32_t folded = b - x_offset * wsum;
      std::memcpy(block + j * sizeof(int32_t), &folded, sizeof(folded));
    }
  }
  return true;
}

void QConvPacked::Impl::pack_epilogue(const ref::Requant& rq) {
  const size_t padded = n_blocks * nr;
  q.scheme = rq.scheme;
  q.zero_point = rq.zero_point;
  q.qmin = rq.qmin;
  q.qmax = rq.qmax;
  // Virtual column c is channel (c % (group_blocks * nr)) of group c / (group_blocks * nr).
  const size_t group_cols = group_blocks * nr;
  auto expand = [&](auto* src, auto& dst) {
    dst.resize(padded);
    for (size_t c = 0; c < padded; ++c)
      dst[c] = src[rq.per_channel ? c / group_cols * group_n + std::min(c % group_cols, group_n - 1) : 0];
  };
  if (rq.scheme == ref::Scheme::kFp32) {
    expand(rq.scale, scale);
    q.scale = scale.data();
  } else {
    expand(rq.multiplier, multiplier);
    expand(rq.exponent, exponent);
    q.multiplier = multiplier.data();
    q.exponent = exponent.data();
  }
}

void QConvOp::Impl::build_indirection(const void* x) {
  const uint8_t* in = static_cast<const uint8_t*>(x);
  const size_t pixels = static_cast<size_t>(s.out_h) * s.out_w;
  for (size_t mt = 0; mt < m_tiles; ++mt) {
    for (size_t i = 0; i < mr; ++i) {
      const size_t pix = std::min(mt * mr + i, m - 1);  // rows past m repeat the last pixel
      const int64_t b = static_cast<int64_t>(pix / pixels);
      const int64_t oh = static_cast<int64_t>(pix % pixels) / s.out_w;
      const int64_t ow = static_cast<int64_t>(pix % pixels) % s.out_w;
      for (size_t t = 0; t < ks; ++t) {
        const int64_t ih = oh * s.stride_h - s.pad_top + static_cast<int64_t>(t / s.kernel_w) * s.dilation_h;
        const int64_t iw = ow * s.stride_w - s.pad_left + static_cast<int64_t>(t % s.kernel_w) * s.dilation_w;
        const void* row = pk->zero.get();
        if (ih >= 0 && ih < s.in_h && iw >= 0 && iw < s.in_w) row = in + ((b * s.in_h + ih) * s.in_w + iw) * s.in_c;
        indirection[(mt * ks + t) * mr + i] = row;
      }
    }
  }
  indirect_x = x;
}

void QConvOp::Impl::run_tile(size_t m0, size_t n0, size_t mc, size_t nc) const {
  const QIgemmUkernel k = mc == 1 ? ukernel_row : ukernel;
  const void* const* a = indirection.get() + (m0 / mr) * ks * mr;
  const uint8_t* w = pk->packed + (n0 / nr) * pk->block_bytes;
  if (pk->groups == 1) {
    k(mc, nc, kc, ks, a, w, y + m0 * n + n0, n, n0, &pk->q);
    return;
  }
  // n0 is a virtual column: group g, its channel `first` (see the file comment).
  const size_t group_cols = pk->group_blocks * nr;
  const size_t g = n0 / group_cols, first = n0 % group_cols;
  const void* moved[kMaxGroupedTilePointers];
  const size_t offset = g * kc;
  for (size_t i = 0; i < ks * mr; ++i)
    moved[i] = a[i] == pk->zero.get() ? a[i] : static_cast<const uint8_t*>(a[i]) + offset;
  k(mc, std::min(nc, pk->group_n - first), kc, ks, moved, w, y + m0 * n + g * pk->group_n + first, n, n0, &pk->q);
}

QConvPacked::QConvPacked() = default;
QConvPacked::~QConvPacked() = default;

QConvPacked::Result QConvPacked::init(const QConvParams& p, const QGemmKernel& kernel, const uint8_t* prepacked,
                                      size_t prepacked_bytes) {
  impl_.reset();
  const ref::ConvShape& s = p.shape;
  if (kernel.nr == 0 || kernel.kr == 0) return kDeclined;
  if (s.groups <= 0 || s.in_c % s.groups != 0 || s.out_c % s.groups != 0 || s.batch <= 0 || s.out_h <= 0 ||
      s.out_w <= 0 || s.out_c <= 0 || s.in_c <= 0 || s.in_h <= 0 || s.in_w <= 0 || s.kernel_h <= 0 ||
      s.kernel_w <= 0 || p.weight == nullptr)
    return kDeclined;
  // A grouped tile's moved pointers are on the stack (run_tile).
  if (s.groups > 1 && static_cast<size_t>(s.kernel_h) * s.kernel_w * kernel.mr > kMaxGroupedTilePointers)
    return kDeclined;
  if (p.rq.scheme == ref::Scheme::kFp32 ? p.rq.scale == nullptr || !fp32_bounds_exact(p.rq)
                                        : p.rq.multiplier == nullptr || p.rq.exponent == nullptr)
    return kDeclined;
  // Padding taps read the zero buffer, whose bytes must equal the input zero point.
  const int32_t zp_lo = p.act_s8 ? -128 : 0, zp_hi = p.act_s8 ? 127 : 255;
  if (p.x_zero_point < zp_lo || p.x_zero_point > zp_hi) {
    const bool padded =
        s.pad_top > 0 || s.pad_left > 0 ||
        int64_t{s.out_h - 1} * s.stride_h + int64_t{s.kernel_h - 1} * s.dilation_h - s.pad_top >= s.in_h ||
        int64_t{s.out_w - 1} * s.stride_w + int64_t{s.kernel_w - 1} * s.dilation_w - s.pad_left >= s.in_w;
    if (padded) return kDeclined;
  }

  auto impl = std::make_unique<Impl>();
  impl->nr = kernel.nr;
  impl->n = static_cast<size_t>(s.out_c);
  impl->groups = static_cast<size_t>(s.groups);
  impl->kc = static_cast<size_t>(s.in_c) / impl->groups;
  impl->ks = static_cast<size_t>(s.kernel_h) * s.kernel_w;
  impl->group_n = impl->n / impl->groups;
  impl->group_blocks = (impl->group_n + impl->nr - 1) / impl->nr;
  impl->n_blocks = impl->groups * impl->group_blocks;
  const size_t kr = kernel.kr;
  const bool wide = kernel.wide_weights;
  impl->block_bytes =
      round_up(impl->nr * sizeof(int32_t) + impl->ks * round_up(impl->kc, kr) * impl->nr * (wide ? 2 : 1), kAlign);
  if (prepacked != nullptr) {
    if (prepacked_bytes != impl->n_blocks * impl->block_bytes || reinterpret_cast<uintptr_t>(prepacked) % kAlign != 0)
      return kBadSize;
    impl->packed = prepacked;
  } else if (!impl->pack_weights(p, kr, wide, p.act_s8 ? kernel.s8_act_offset : kernel.u8_act_offset)) {
    return kOutOfMemory;
  }
  impl->pack_epilogue(p.rq);
  impl->zero_bytes = round_up(impl->kc, kr) + kReadSlack;
  impl->zero = aligned_buffer(impl->zero_bytes, kAlign);
  if (!impl->zero) return kOutOfMemory;
  std::memset(impl->zero.get(), static_cast<uint8_t>(p.x_zero_point), impl->zero_bytes);
  impl_ = std::move(impl);
  return kReady;
}

const uint8_t* QConvPacked::weights() const { return impl_ ? impl_->packed : nullptr; }

size_t QConvPacked::weight_bytes() const { return impl_ ? impl_->n_blocks * impl_->block_bytes : 0; }

size_t QConvPacked::heap_bytes() const {
  if (!impl_) return 0;
  return (impl_->owned ? weight_bytes() : 0) + impl_->side_bytes();
}

QConvOp::QConvOp() = default;
QConvOp::~QConvOp() = default;

InitResult QConvOp::init(const QConvParams& p, const QGemmKernel& kernel) {
  impl_.reset();
  if ((p.act_s8 ? kernel.s8 : kernel.u8) == nullptr) return InitResult::kDeclined;
  auto packed = std::make_shared<QConvPacked>();
  switch (packed->init(p, kernel)) {
    case QConvPacked::kReady: break;
    case QConvPacked::kOutOfMemory: return InitResult::kOutOfMemory;
    default: return InitResult::kDeclined;
  }
  return init(std::move(packed), p.shape, p.act_s8, kernel);
}

InitResult QConvOp::init(std::shared_ptr<const QConvPacked> packed, const ref::ConvShape& s, bool act_s8,
                         const QGemmKernel& kernel) {
  impl_.reset();
  const QIgemmUkernel ukernel = act_s8 ? kernel.s8 : kernel.u8;
  if (!packed || !packed->impl_ || ukernel == nullptr || kernel.mr == 0 || kernel.nr != packed->impl_->nr ||
      (packed->impl_->groups > 1 && packed->impl_->ks * kernel.mr > kMaxGroupedTilePointers))
    return InitResult::kDeclined;
  auto impl = std::make_unique<Impl>();
  impl->pk = packed->impl_.get();
  impl->shared = std::move(packed);
  impl->s = s;
  impl->ukernel = ukernel;
  impl->ukernel_row =
      (act_s8 ? kernel.s8_row : kernel.u8_row) != nullptr ? (act_s8 ? kernel.s8_row : kernel.u8_row) : ukernel;
  impl->mr = kernel.mr;
  impl->nr = kernel.nr;
  impl->m = static_cast<size_t>(s.batch) * s.out_h * s.out_w;
  impl->n = impl->pk->n;
  impl->kc = impl->pk->kc;
  impl->ks = impl->pk->ks;
  impl->m_tiles = (impl->m + impl->mr - 1) / impl->mr;
  impl->n_outer = impl->n > impl->m;
  impl->indirection_size = impl->m_tiles * impl->ks * impl->mr;
  impl->indirection.reset(new (std::nothrow) const void*[impl->indirection_size]);
  if (!impl->indirection) return InitResult::kOutOfMemory;
  impl_ = std::move(impl);
  return InitResult::kReady;
}

QConvOp::Grid QConvOp::grid() const {
  const Impl& impl = *impl_;
  return Grid{impl.m, impl.pk->groups == 1 ? impl.n : impl.pk->n_blocks * impl.nr, impl.mr, impl.nr, impl.n_outer};
}

void QConvOp::bind(const void* x, void* y) {
  Impl& impl = *impl_;
  if (x != impl.indirect_x) impl.build_indirection(x);
  impl.y = static_cast<uint8_t*>(y);
}

void QConvOp::run_tile(size_t m0, size_t n0, size_t mc, size_t nc) const { impl_->run_tile(m0, n0, mc, nc); }

void QConvOp::run(const void* x, void* y) {
  bind(x, y);
  const Impl& impl = *impl_;
  const Grid g = grid();
  for (size_t m0 = 0; m0 < g.m; m0 += g.mr)
    for (size_t n0 = 0; n0 < g.n; n0 += g.nr) impl.run_tile(m0, n0, std::min(g.mr, g.m - m0), std::min(g.nr, g.n - n0));
}

size_t QConvOp::own_bytes() const { return impl_ ? impl_->indirection_size * sizeof(const void*) : 0; }

size_t QConvOp::packed_bytes() const {
  return impl_ ? impl_->shared->weight_bytes() + impl_->pk->side_bytes() + own_bytes() : 0;
}

}  // namespace kern
}  // namespace edgeq
