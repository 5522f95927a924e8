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
// The indirection of one tile of MR pixels (ks x MR pointers, at most
// kMaxTilePointers) is built on the stack by the task that runs it, then used for
// every channel block of the task (pixel-outer layers: m >= n). A whole-image
// indirection buffer would cost a pointer per tap per output pixel and session (4.9
// MiB for ResNet-18's 7x7 stem). Building it per tile costs ks x MR pointer stores
// against ks x MR x n x in_c multiply-adds. Channel-outer layers (n > m: few pixels)
// run a task per tile and channel block, which would build each tile's pointers once
// per block: they keep the whole-image buffer, built by bind() when the input pointer
// changes, which holds fewer than n x ks pointers (a fraction 8 / in_c of their
// weights' bytes). The build is kept cheap (build_tile): a 1x1 stride-1
// convolution (and a fully connected layer) reads pixel p at p x in_c; a full tile
// whose pixels lie on one output row with their whole windows inside the input (most
// tiles of the other convolutions) is its window origin plus a per-op table of ks x MR
// offsets; only border tiles look at every tap. Pointer rows past the last pixel point
// at the zero buffer (the kernels read all MR rows, store mc).
//
// A grouped convolution (groups G > 1) is G independent GEMMs with K = taps x in_c / G
// and N = out_c / G. Each group's channels are packed into blocks of their own (a
// block never straddles two groups), so the tile grid runs over G x blocks-per-group
// "virtual" columns; the requantization arrays are expanded over the same virtual
// columns. A tile of group g points at its pixels' rows moved by g x in_c / G bytes
// (the padding taps keep pointing at the zero buffer).
// grid() says which order keeps the larger operand in cache: pixel tiles outer when
// the weights are smaller than the gathered activations (a task then runs one pixel
// tile over every channel block, sharing its pointers), channel blocks outer otherwise.
//
// Blocked layers (kernels/gemm_blocking.h: one block's weights exceed half the L1, on
// kernels with QGemmKernel::acc_input, when blocking is asked for) run channel blocks outer too, a task being one
// channel block over a group of pixel tiles (Grid::m_step rows): for every K chunk
// (whole taps, or a channel slice of one tap) every tile of the group runs the kernel
// on the chunk's weights, the first chunk from the packed bias, the others from the
// tile's int32 accumulators (QuantEpilogue::acc_in) kept on the task's stack, each but
// the last storing them back (int32_output), the last requantizing. The chunk's
// weights are the block's bytes from its first tap and channel on (the layout is
// tap-major, k-block-major within a tap), so nothing is packed again; the kernel is
// given those bytes minus NR int32 as its block, the bias it skips. Integer addition
// wraps, so the split sums equal the whole one bit for bit. A chunk's pointers are a
// slice of its tile's (a channel slice moves them by its first channel): the
// whole-image buffer of channel-outer layers, else the group's tiles built on the
// task's stack (groups capped at kMaxTilePointers pointers), once per channel block.
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
// A tile's pointers live on the stack of the task that runs it: taps x MR of at most
// this many (64 KiB; a 16x16 kernel with MR 32 fits).
constexpr size_t kMaxTilePointers = kQConvMaxTilePointers;
// Blocked layers (see the file comment) need kernels of at most this many rows.
constexpr size_t kMaxBlockedMr = 64;

size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

// a[j] = base + off[j], j < n: a tile's pointers from its window origin (vectorized at
// -O3, kernels/sources.cmake).
void add_offsets(const uint8_t* base, const ptrdiff_t* __restrict off, size_t n, const void** __restrict a) {
  for (size_t j = 0; j < n; ++j) a[j] = base + off[j];
}

// The same in integer arithmetic, for addresses that may lie outside the input (a
// border tile's, replaced afterwards): no out-of-bounds pointer is ever formed.
void add_offsets_wrapping(uintptr_t base, const ptrdiff_t* __restrict off, size_t n, const void** __restrict a) {
  for (size_t j = 0; j < n; ++j) a[j] = reinterpret_cast<const void*>(base + static_cast<uintptr_t>(off[j]));
}

// The fp32 epilogue rounds after clamping the product to [qmin - zp, qmax - zp] in
// float, which needs both bounds to be exact floats.
bool fp32_bounds_exact(const ref::Requant& rq) {
  constexpr int64_t kExact = int64_t{1} << 24;
  const int64_t lo = int64_t{rq.qmin} - rq.zero_point, hi = int64_t{rq.qmax} - rq.zero_point;
  return lo >= -kExact && lo <= kExact && hi >= -kExact && hi <= kExact;
}

}  // namespace

ref::ConvShape fold_window_columns(const ref::ConvShape& s) {
  const bool right_padded = int64_t{s.out_w - 1} * s.stride_w + s.kernel_w > s.in_w;
  if (s.kernel_w <= 1 || s.stride_w != s.kernel_w || s.dilation_w != 1 || s.pad_left != 0 || right_padded ||
      s.in_w % s.kernel_w != 0 || s.groups != 1 || s.out_w != s.in_w / s.kernel_w)
    return s;
  ref::ConvShape f = s;
  f.in_c = s.in_c * s.kernel_w;
  f.in_w = s.in_w / s.kernel_w;
  f.kernel_w = 1;
  f.stride_w = 1;
  return f;
}

WindowRowFold fold_window_rows(const ref::ConvShape& s, size_t kr) {
  WindowRowFold f;
  if (kr == 0 || s.groups != 1 || s.kernel_w < kRowFoldMinWidth || s.dilation_w != 1 || s.in_c <= 0 ||
      static_cast<size_t>(s.in_c) > kr || s.in_w <= 0 || s.out_w <= 0 || s.stride_w <= 0 || s.pad_left < 0)
    return f;
  const int64_t out_w = s.out_w, stride = s.stride_w;
  // Window x covers columns [x * stride - pad_left, ... + kernel_w).
  const int64_t begin = std::min<int64_t>((int64_t{s.pad_left} + stride - 1) / stride, out_w);
  const int64_t last_start = int64_t{s.in_w} + s.pad_left - s.kernel_w;  // the last x * stride that fits
  const int64_t end = std::max(begin, std::min<int64_t>(last_start < 0 ? 0 : last_start / stride + 1, out_w));
  f.active = true;
  f.source = s;
  f.inside_begin = static_cast<size_t>(begin);
  f.inside_end = static_cast<size_t>(end);
  f.edge_windows = static_cast<size_t>(out_w - (end - begin));
  f.shape = s;
  f.shape.in_c = s.in_c * s.kernel_w;
  f.shape.in_w = s.out_w;
  f.shape.kernel_w = 1;
  f.shape.stride_w = 1;
  f.shape.pad_left = 0;
  return f;
}

namespace {

// The shape the packed weights and the tiles are laid out for: fold_window_columns, or
// else fold_window_rows for this kr, or the shape itself.
ref::ConvShape packed_shape(const ref::ConvShape& s, size_t kr) {
  const ref::ConvShape cols = fold_window_columns(s);
  const WindowRowFold rows = fold_window_rows(cols, kr);
  return rows.active ? rows.shape : cols;
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
  size_t m = 0, n = 0, kc = 0, ks = 0;
  bool n_outer = false;
  bool pointwise = false;  // 1x1, stride 1, no padding: pixel p reads input pixel p
  // Input pixel (b, h, w) of s, w in [px_begin, px_end), is at x + (b * in_h + h) *
  // row_bytes + px_offset + w * px_bytes: in_w * in_c, 0 and in_c, or a window-row
  // fold's window w (stride_w * in_c bytes apart, from -pad_left * in_c). The fold's
  // other windows are in `edges`: edge_windows slots of round_up(kc, kr) bytes per input
  // row, then kReadSlack; others read the zero buffer.
  size_t row_bytes = 0, px_bytes = 0;
  ptrdiff_t px_offset = 0;
  int64_t px_begin = 0, px_end = 0;
  WindowRowFold rows;
  AlignedBuffer edges;
  size_t edge_bytes = 0, edge_slot = 0;
  // The edge slot of window w (outside [px_begin, px_end)) of input row r.
  uint8_t* edge_window(size_t r, int64_t w) const {
    const size_t slot = w < px_begin ? static_cast<size_t>(w) : static_cast<size_t>(px_begin + (w - px_end));
    return edges.get() + (r * rows.edge_windows + slot) * edge_slot;
  }
  void build_edges(const uint8_t* x) const;
  // Blocked layers (see the file comment): tiles_per_task > 0, and the K chunks.
  ConvBlocking blocking;
  struct Chunk {
    size_t tap0, taps, k0, kc;
    size_t w_offset;  // bytes from the block's start to the chunk's weights minus NR int32
  };
  std::vector<Chunk> chunks;
  // [ks][mr]: the byte offset of tap t of a tile's pixel i from the tile's first
  // pixel's window origin, for tiles on one output row with every window inside.
  std::unique_ptr<ptrdiff_t[]> inner;
  // Channel-outer layers only: [m_tiles][ks][mr], every tile's pointers, built by
  // bind() when the input pointer changes (see the file comment).
  std::unique_ptr<const void*[]> indirection;
  size_t indirection_size = 0;
  const void* indirect_x = nullptr;

  // Activations flipped once (see QConvOp::flip_bytes): the other type's kernels, which
  // do not flip, run on a copy of the input with every byte xor 0x80 and a zero buffer
  // flipped alike; `ukernel`, `ukernel_row` and `zero` are bind()'s choice for the run.
  QIgemmUkernel native = nullptr, native_row = nullptr, flipped = nullptr, flipped_row = nullptr;
  AlignedBuffer flip_zero;
  uint8_t* flip_buf = nullptr;
  size_t in_bytes = 0;
  bool flipping = false;
  const void* zero = nullptr;

  const void* x = nullptr;
  uint8_t* y = nullptr;

  // a[t * mr + i]: the input row of tap t of pixel m0 + i (i < mc) moved by `offset`
  // bytes, or the zero buffer (padding taps, i >= mc).
  void build_tile(size_t m0, size_t mc, size_t offset, const void** a) const;
  void run_tile(size_t m0, size_t n0, size_t mc, size_t nc) const;
  // Blocked layers: rows [m0, m0 + mc) (mc <= tiles_per_task x mr) of columns [n0, n0 + nc).
  void run_blocked(size_t m0, size_t n0, size_t mc, size_t nc) const;
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

void QConvOp::Impl::build_tile(size_t m0, size_t mc, size_t offset, const void** a) const {
  const uint8_t* in = static_cast<const uint8_t*>(x) + offset;
  const int64_t in_c = s.in_c, in_w = s.in_w, in_h = s.in_h, kw = s.kernel_w;
  const int64_t row_bytes = static_cast<int64_t>(this->row_bytes), px_bytes = static_cast<int64_t>(this->px_bytes);
  if (mc < mr)
    for (size_t t = 0; t < ks; ++t)
      for (size_t i = mc; i < mr; ++i) a[t * mr + i] = zero;
  if (pointwise) {
    const uint8_t* first = in + m0 * static_cast<size_t>(in_c);
    for (size_t i = 0; i < mc; ++i) a[i] = first + i * static_cast<size_t>(in_c);
    return;
  }
  const size_t q = m0 / static_cast<size_t>(s.out_w), oh_all = q;
  const int64_t ow = static_cast<int64_t>(m0 - q * static_cast<size_t>(s.out_w));
  const int64_t b = static_cast<int64_t>(oh_all / static_cast<size_t>(s.out_h));
  const int64_t oh = static_cast<int64_t>(oh_all) - b * s.out_h;
  const int64_t ih0 = oh * s.stride_h - s.pad_top, iw0 = ow * s.stride_w - s.pad_left;
  const int64_t last_iw = (ow + static_cast<int64_t>(mc) - 1) * s.stride_w - s.pad_left + (kw - 1) * s.dilation_w;
  if (mc == mr && ow + static_cast<int64_t>(mc) <= s.out_w && ih0 >= 0 &&
      ih0 + (s.kernel_h - 1) * int64_t{s.dilation_h} < in_h && iw0 >= px_begin && last_iw < px_end) {
    // One output row, every window inside: the tile's window origin plus fixed offsets.
    const uint8_t* origin = in + (b * in_h + ih0) * row_bytes + px_offset + iw0 * px_bytes;
    add_offsets(origin, inner.get(), ks * mr, a);
    return;
  }
  // Border tiles, a run of pixels on one output row at a time (one division per run):
  // every pointer as if the window were inside (the origin plus the inner offsets, in
  // integer arithmetic: the address may lie outside the input, and is then replaced),
  // then the taps on rows outside the input become the zero buffer, and those left or
  // right of the inside columns (only the run's first and last few pixels have them)
  // the zero buffer or their edge window.
  const uintptr_t base = reinterpret_cast<uintptr_t>(in);
  for (size_t i = 0; i < mc;) {
    const size_t pix = m0 + i;
    const size_t pq = pix / static_cast<size_t>(s.out_w);
    const int64_t pow = static_cast<int64_t>(pix - pq * static_cast<size_t>(s.out_w));
    const int64_t pb = static_cast<int64_t>(pq / static_cast<size_t>(s.out_h));
    const int64_t poh = static_cast<int64_t>(pq) - pb * s.out_h;
    const size_t run = std::min(mc - i, static_cast<size_t>(s.out_w - pow));
    const int64_t pih = poh * s.stride_h - s.pad_top, piw = pow * s.stride_w - s.pad_left;
    const uintptr_t origin =
        base + static_cast<uintptr_t>((pb * in_h + pih) * row_bytes + static_cast<int64_t>(px_offset) + piw * px_bytes);
    const ptrdiff_t* offsets = inner.get();
    for (size_t t = 0; t < ks; ++t) add_offsets_wrapping(origin, offsets + t * mr, run, a + t * mr + i);
    // The run's pixels r < left have a tap left of the inside columns, those r >= right
    // one right of them (iw grows with r and tw).
    size_t left = 0, right = run;
    while (left < run && piw + static_cast<int64_t>(left) * s.stride_w < px_begin) ++left;
    while (right > left &&
           piw + static_cast<int64_t>(right - 1) * s.stride_w + (kw - 1) * s.dilation_w >= px_end)
      --right;
    for (int64_t th = 0; th < s.kernel_h; ++th) {
      const int64_t ih = pih + th * s.dilation_h;
      const void** tap_row = a + static_cast<size_t>(th * kw) * mr + i;  // tap_row[tw * mr + r]
      if (ih < 0 || ih >= in_h) {
        for (int64_t tw = 0; tw < kw; ++tw)
          for (size_t r = 0; r < run; ++r) tap_row[tw * mr + r] = zero;
        continue;
      }
      const size_t row_index = static_cast<size_t>(pb * in_h + ih);
      auto patch = [&](size_t r) {
        const int64_t piw_r = piw + static_cast<int64_t>(r) * s.stride_w;
        for (int64_t tw = 0; tw < kw; ++tw) {
          const int64_t iw = piw_r + tw * s.dilation_w;
          if (iw >= px_begin && iw < px_end) continue;
          tap_row[tw * mr + r] = edges && iw >= 0 && iw < in_w ? static_cast<const void*>(edge_window(row_index, iw)) : zero;
        }
      };
      for (size_t r = 0; r < left; ++r) patch(r);
      for (size_t r = std::max(right, left); r < run; ++r) patch(r);
    }
    i += run;
  }
}

void QConvOp::Impl::build_edges(const uint8_t* x) const {
  const ref::ConvShape& o = rows.source;
  const size_t in_c = static_cast<size_t>(o.in_c), n_rows = static_cast<size_t>(o.batch) * static_cast<size_t>(o.in_h);
  for (size_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = x + r * row_bytes;
    for (int64_t w = 0; w < s.out_w; ++w) {
      if (w == px_begin) w = px_end;
      if (w >= s.out_w) break;
      uint8_t* slot = edge_window(r, w);
      const int64_t col0 = w * o.stride_w - o.pad_left;
      const int64_t lo = std::max<int64_t>(col0, 0), hi = std::min<int64_t>(col0 + o.kernel_w, o.in_w);
      if (lo < hi)  // the columns inside the input; the others keep the zero point
        std::memcpy(slot + static_cast<size_t>(lo - col0) * in_c, row + static_cast<size_t>(lo) * in_c,
                    static_cast<size_t>(hi - lo) * in_c);
    }
  }
}

void QConvOp::Impl::run_blocked(size_t m0, size_t n0, size_t mc, size_t nc) const {
  alignas(64) int32_t acc[kMaxGroupAcc];  // [tile][mr][nr]
  const void* moved[kMaxBlockedMr];       // a channel slice's pointers
  const void* built[kMaxTilePointers];    // [tile][ks][mr] of the group, or the whole-image buffer
  const size_t tile_acc = mr * nr;
  const void* const* group = indirection ? indirection.get() + (m0 / mr) * ks * mr : built;
  if (!indirection)
    for (size_t r0 = m0, t = 0; r0 < m0 + mc; r0 += mr, ++t)
      build_tile(r0, std::min(mr, m0 + mc - r0), 0, built + t * ks * mr);
  QuantEpilogue mid = pk->q, last = pk->q;
  mid.int32_output = true;
  for (size_t c = n0; c < n0 + nc; c += nr) {
    const size_t cols = std::min(nr, n0 + nc - c);
    const uint8_t* block = pk->packed + (c / nr) * pk->block_bytes;
    for (size_t ci = 0; ci < chunks.size(); ++ci) {
      const Chunk& ch = chunks[ci];
      const bool final = ci + 1 == chunks.size();
      QuantEpilogue& q = final ? last : mid;
      for (size_t r0 = m0, t = 0; r0 < m0 + mc; r0 += mr, ++t) {
        const size_t rows = std::min(mr, m0 + mc - r0);
        const QIgemmUkernel k = rows == 1 ? ukernel_row : ukernel;
        int32_t* tile = acc + t * tile_acc;
        const void* const* a = group + t * ks * mr + ch.tap0 * mr;
        if (ch.k0 != 0) {
          for (size_t i = 0; i < mr; ++i) moved[i] = static_cast<const uint8_t*>(a[i]) + ch.k0;
          a = moved;
        }
        q.acc_in = ci == 0 ? nullptr : tile;
        if (final) {
          k(rows, cols, ch.kc, ch.taps, a, block + ch.w_offset, y + r0 * n + c, n, c, &q);
        } else {
          // Every row the next chunk reads: the single-row kernel reads row 0, the others all mr.
          k(k == ukernel ? mr : 1, nr, ch.kc, ch.taps, a, block + ch.w_offset, tile, nr * sizeof(int32_t), c, &q);
        }
      }
    }
  }
}

void QConvOp::Impl::run_tile(size_t m0, size_t n0, size_t mc, size_t nc) const {
  if (blocking.tiles_per_task != 0) return run_blocked(m0, n0, mc, nc);
  const QIgemmUkernel k = mc == 1 ? ukernel_row : ukernel;
  const void* built[kMaxTilePointers];
  // The tile's pointers kept by bind() (channel-outer layers), or none.
  const void* const* kept = indirection ? indirection.get() + (m0 / mr) * ks * mr : nullptr;
  if (pk->groups == 1) {
    const void* const* a = kept;
    if (a == nullptr) {
      build_tile(m0, mc, 0, built);
      a = built;
    }
    for (size_t c = n0; c < n0 + nc; c += nr)
      k(mc, std::min(nr, n0 + nc - c), kc, ks, a, pk->packed + (c / nr) * pk->block_bytes, y + m0 * n + c, n, c,
        &pk->q);
    return;
  }
  // Virtual column c: group c / group_cols, its channel c % group_cols (see the file
  // comment); the pointers are moved again when the group changes.
  const size_t group_cols = pk->group_blocks * nr;
  size_t current = pk->groups;
  for (size_t c = n0; c < n0 + nc; c += nr) {
    const size_t g = c / group_cols, first = c % group_cols;
    if (g != current && kept == nullptr) build_tile(m0, mc, g * kc, built);
    if (g != current && kept != nullptr)
      for (size_t i = 0; i < ks * mr; ++i)
        built[i] = kept[i] == zero ? zero : static_cast<const uint8_t*>(kept[i]) + g * kc;
    current = g;
    k(mc, std::min(std::min(nr, n0 + nc - c), pk->group_n - first), kc, ks, built,
      pk->packed + (c / nr) * pk->block_bytes, y + m0 * n + g * pk->group_n + first, n, c, &pk->q);
  }
}

QConvPacked::QConvPacked() = default;
QConvPacked::~QConvPacked() = default;

QConvPacked::Result QConvPacked::init(const QConvParams& p, const QGemmKernel& kernel, const uint8_t* prepacked,
                                      size_t prepacked_bytes) {
  impl_.reset();
  if (kernel.nr == 0 || kernel.kr == 0) return kDeclined;
  const ref::ConvShape s = packed_shape(p.shape, kernel.kr);
  if (s.groups <= 0 || s.in_c % s.groups != 0 || s.out_c % s.groups != 0 || s.batch <= 0 || s.out_h <= 0 ||
      s.out_w <= 0 || s.out_c <= 0 || s.in_c <= 0 || s.in_h <= 0 || s.in_w <= 0 || s.kernel_h <= 0 ||
      s.kernel_w <= 0 || p.weight == nullptr)
    return kDeclined;
  // A tile's pointers are on the stack (run_tile).
  if (static_cast<size_t>(s.kernel_h) * s.kernel_w * kernel.mr > kMaxTilePointers)
    return kDeclined;
  if (p.rq.scheme == ref::Scheme::kFp32 ? p.rq.scale == nullptr || !fp32_bounds_exact(p.rq)
                                        : p.rq.multiplier == nullptr || p.rq.exponent == nullptr)
    return kDeclined;
  // Padding taps read the zero buffer, whose bytes must equal the input zero point.
  const int32_t zp_lo = p.act_s8 ? -128 : 0, zp_hi = p.act_s8 ? 127 : 255;
  if (p.x_zero_point < zp_lo || p.x_zero_point > zp_hi) {
    const ref::ConvShape& o = p.shape;  // a window-row fold's edge windows hold the zero point too
    const bool padded =
        o.pad_top > 0 || o.pad_left > 0 ||
        int64_t{o.out_h - 1} * o.stride_h + int64_t{o.kernel_h - 1} * o.dilation_h - o.pad_top >= o.in_h ||
        int64_t{o.out_w - 1} * o.stride_w + int64_t{o.kernel_w - 1} * o.dilation_w - o.pad_left >= o.in_w;
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

InitResult QConvOp::init(const QConvParams& p, const QGemmKernel& kernel, const CacheSizes* caches) {
  impl_.reset();
  if ((p.act_s8 ? kernel.s8 : kernel.u8) == nullptr) return InitResult::kDeclined;
  auto packed = std::make_shared<QConvPacked>();
  switch (packed->init(p, kernel)) {
    case QConvPacked::kReady: break;
    case QConvPacked::kOutOfMemory: return InitResult::kOutOfMemory;
    default: return InitResult::kDeclined;
  }
  return init(std::move(packed), p.shape, p.act_s8, kernel, caches);
}

InitResult QConvOp::init(std::shared_ptr<const QConvPacked> packed, const ref::ConvShape& shape, bool act_s8,
                         const QGemmKernel& kernel, const CacheSizes* caches) {
  impl_.reset();
  const ref::ConvShape cols = fold_window_columns(shape);
  const WindowRowFold rows = fold_window_rows(cols, kernel.kr);
  const ref::ConvShape s = rows.active ? rows.shape : cols;
  const QIgemmUkernel ukernel = act_s8 ? kernel.s8 : kernel.u8;
  if (!packed || !packed->impl_ || ukernel == nullptr || kernel.mr == 0 || kernel.nr != packed->impl_->nr ||
      packed->impl_->ks * kernel.mr > kMaxTilePointers)
    return InitResult::kDeclined;
  auto impl = std::make_unique<Impl>();
  impl->pk = packed->impl_.get();
  impl->shared = std::move(packed);
  impl->s = s;
  impl->rows = rows;
  if (rows.active) {
    const size_t in_c = static_cast<size_t>(rows.source.in_c);
    impl->row_bytes = static_cast<size_t>(rows.source.in_w) * in_c;
    impl->px_bytes = static_cast<size_t>(rows.source.stride_w) * in_c;
    impl->px_offset = -static_cast<ptrdiff_t>(rows.source.pad_left) * static_cast<ptrdiff_t>(in_c);
    impl->px_begin = static_cast<int64_t>(rows.inside_begin);
    impl->px_end = static_cast<int64_t>(rows.inside_end);
    if (rows.edge_windows != 0) {
      // The slots' padding columns are the zero point (the zero buffer's byte), written
      // once; bind() rewrites only the input's columns.
      impl->edge_slot = round_up(impl->pk->kc, kernel.kr);
      impl->edge_bytes = static_cast<size_t>(s.batch) * static_cast<size_t>(s.in_h) * rows.edge_windows *
                             impl->edge_slot + kReadSlack;
      impl->edges = aligned_buffer(impl->edge_bytes, kAlign);
      if (!impl->edges) return InitResult::kOutOfMemory;
      std::memset(impl->edges.get(), impl->pk->zero.get()[0], impl->edge_bytes);
    }
  } else {
    impl->row_bytes = static_cast<size_t>(s.in_w) * static_cast<size_t>(s.in_c);
    impl->px_bytes = static_cast<size_t>(s.in_c);
    impl->px_begin = 0;
    impl->px_end = s.in_w;
  }
  impl->ukernel = impl->native = ukernel;
  impl->ukernel_row = impl->native_row =
      (act_s8 ? kernel.s8_row : kernel.u8_row) != nullptr ? (act_s8 ? kernel.s8_row : kernel.u8_row) : ukernel;
  impl->zero = impl->pk->zero.get();
  // A kernel that flips its activations' sign bit (x ^ 0x80) for every multiply while the
  // other type's kernel multiplies them as they are: flipping the input once instead gives
  // the same sums (the packing already folded the offset in) at the other kernel's speed.
  // Not with a window-row fold, whose edge windows hold the zero point as it is.
  const bool s8_flips = act_s8 && kernel.s8_act_offset == 128 && kernel.u8_act_offset == 0 && kernel.u8 != nullptr;
  const bool u8_flips = !act_s8 && kernel.u8_act_offset == -128 && kernel.s8_act_offset == 0 && kernel.s8 != nullptr;
  if ((s8_flips || u8_flips) && kernel.flip_swappable && !rows.active) {
    impl->flipped = act_s8 ? kernel.u8 : kernel.s8;
    const QIgemmUkernel row = act_s8 ? kernel.u8_row : kernel.s8_row;
    impl->flipped_row = row != nullptr ? row : impl->flipped;
    impl->flip_zero = aligned_buffer(impl->pk->zero_bytes, kAlign);
    if (!impl->flip_zero) return InitResult::kOutOfMemory;
    for (size_t b = 0; b < impl->pk->zero_bytes; ++b) impl->flip_zero.get()[b] = impl->pk->zero.get()[b] ^ 0x80u;
    impl->in_bytes = static_cast<size_t>(shape.batch) * static_cast<size_t>(shape.in_h) *
                     static_cast<size_t>(shape.in_w) * static_cast<size_t>(shape.in_c);
  }
  impl->mr = kernel.mr;
  impl->nr = kernel.nr;
  impl->m = static_cast<size_t>(s.batch) * s.out_h * s.out_w;
  impl->n = impl->pk->n;
  impl->kc = impl->pk->kc;
  impl->ks = impl->pk->ks;
  if (impl->pk->groups == 1 && kernel.mr <= kMaxBlockedMr && (caches != nullptr || blocking_enabled()))
    impl->blocking = conv_blocking(caches != nullptr ? *caches : host_cache_sizes(), impl->m, impl->kc, impl->ks, kernel);
  if (impl->blocking.tiles_per_task != 0 && impl->n <= impl->m) {
    // The group's pointers are built on the stack (see the file comment).
    const size_t cap = kMaxTilePointers / (impl->ks * impl->mr), tiles = (impl->m + impl->mr - 1) / impl->mr;
    size_t& group = impl->blocking.tiles_per_task;
    if (cap < 2) impl->blocking = ConvBlocking();
    if (group > cap) group = (tiles + (tiles + cap - 1) / cap - 1) / ((tiles + cap - 1) / cap);
  }
  if (impl->blocking.tiles_per_task != 0) {
    const ConvBlocking& b = impl->blocking;
    const size_t col_bytes = impl->nr * (kernel.wide_weights ? 2 : 1);
    const size_t kc_r = round_up(impl->kc, kernel.kr);
    for (size_t t0 = 0; t0 < impl->ks; t0 += b.chunk_taps)
      for (size_t k0 = 0; k0 < impl->kc; k0 += b.chunk_k)
        impl->chunks.push_back({t0, std::min(b.chunk_taps, impl->ks - t0), k0, std::min(b.chunk_k, impl->kc - k0),
                                (t0 * kc_r + k0) * col_bytes});
  }
  impl->n_outer = impl->n > impl->m || impl->blocking.tiles_per_task != 0;
  if (impl->n > impl->m) {
    impl->indirection_size = (impl->m + impl->mr - 1) / impl->mr * impl->ks * impl->mr;
    impl->indirection.reset(new (std::nothrow) const void*[impl->indirection_size]);
    if (!impl->indirection) return InitResult::kOutOfMemory;
  }
  impl->pointwise = !rows.active && s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 &&
                    s.pad_top == 0 && s.pad_left == 0 && s.in_h == s.out_h && s.in_w == s.out_w;
  if (!impl->pointwise) {
    impl->inner.reset(new (std::nothrow) ptrdiff_t[impl->ks * impl->mr]);
    if (!impl->inner) return InitResult::kOutOfMemory;
    for (size_t t = 0; t < impl->ks; ++t)
      for (size_t i = 0; i < impl->mr; ++i)
        impl->inner[t * impl->mr + i] =
            (static_cast<ptrdiff_t>(t) / s.kernel_w) * s.dilation_h * static_cast<ptrdiff_t>(impl->row_bytes) +
            ((static_cast<ptrdiff_t>(t) % s.kernel_w) * s.dilation_w + static_cast<ptrdiff_t>(i) * s.stride_w) *
                static_cast<ptrdiff_t>(impl->px_bytes);
  }
  impl_ = std::move(impl);
  return InitResult::kReady;
}

QConvOp::Grid QConvOp::grid() const {
  const Impl& impl = *impl_;
  const size_t m_step = impl.blocking.tiles_per_task != 0 ? impl.blocking.tiles_per_task * impl.mr : impl.mr;
  return Grid{impl.m, impl.pk->groups == 1 ? impl.n : impl.pk->n_blocks * impl.nr, impl.mr, impl.nr, impl.n_outer,
              m_step};
}

void QConvOp::bind(const void* x, void* y) {
  Impl& impl = *impl_;
  const bool flip = impl.flipped != nullptr && impl.flip_buf != nullptr;
  if (flip) {
    const uint8_t* in = static_cast<const uint8_t*>(x);
    uint8_t* out = impl.flip_buf;
    size_t i = 0;
    for (; i + 8 <= impl.in_bytes; i += 8) {
      uint64_t v;
      std::memcpy(&v, in + i, 8);
      v ^= 0x8080808080808080ull;
      std::memcpy(out + i, &v, 8);
    }
    for (; i < impl.in_bytes; ++i) out[i] = in[i] ^ 0x80u;
    x = out;
  }
  if (flip != impl.flipping) impl.indirect_x = nullptr;  // its pointers name the other zero buffer
  impl.flipping = flip;
  impl.ukernel = flip ? impl.flipped : impl.native;
  impl.ukernel_row = flip ? impl.flipped_row : impl.native_row;
  impl.zero = flip ? static_cast<const void*>(impl.flip_zero.get()) : impl.pk->zero.get();
  impl.x = x;
  impl.y = static_cast<uint8_t*>(y);
  if (impl.edges) impl.build_edges(static_cast<const uint8_t*>(x));
  if (impl.indirection && x != impl.indirect_x) {
    for (size_t m0 = 0; m0 < impl.m; m0 += impl.mr)
      impl.build_tile(m0, std::min(impl.mr, impl.m - m0), 0, impl.indirection.get() + m0 * impl.ks);
    impl.indirect_x = x;
  }
}

void QConvOp::run_tile(size_t m0, size_t n0, size_t mc, size_t nc) const { impl_->run_tile(m0, n0, mc, nc); }

void QConvOp::run(const void* x, void* y) {
  bind(x, y);
  const Impl& impl = *impl_;
  const Grid g = grid();
  // The order of the scheduler's tasks (runtime/schedule.cc): channel blocks outer when
  // the grid says so, each block's weights then loaded once for all its pixel tiles.
  if (g.n_outer) {
    for (size_t n0 = 0; n0 < g.n; n0 += g.nr)
      for (size_t m0 = 0; m0 < g.m; m0 += g.m_step)
        impl.run_tile(m0, n0, std::min(g.m_step, g.m - m0), std::min(g.nr, g.n - n0));
    return;
  }
  for (size_t m0 = 0; m0 < g.m; m0 += g.m_step) impl.run_tile(m0, 0, std::min(g.m_step, g.m - m0), g.n);
}

size_t QConvOp::own_bytes() const {
  if (!impl_) return 0;
  return (impl_->inner ? impl_->ks * impl_->mr * sizeof(ptrdiff_t) : 0) + impl_->indirection_size * sizeof(const void*) +
         impl_->edge_bytes + (impl_->flip_zero ? impl_->pk->zero_bytes : 0);
}

size_t QConvOp::flip_bytes() const { return impl_ && impl_->flipped != nullptr ? impl_->in_bytes : 0; }

void QConvOp::set_flip_buffer(void* buffer) {
  if (impl_) impl_->flip_buf = static_cast<uint8_t*>(buffer);
}

size_t QConvOp::packed_bytes() const {
  return impl_ ? impl_->shared->weight_bytes() + impl_->pk->side_bytes() + own_bytes() : 0;
}

}  // namespace kern
}  // namespace edgeq
