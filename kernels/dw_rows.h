// The depthwise row kernel (kernels/misc.h, DwArgs) as a template over an ISA's
// traits K, included by each ISA's translation unit, x86 and ARM alike (anonymous
// namespace: one copy per ISA, compiled with that ISA's flags).
//
// K provides: kTile (channels per tile), kGroup (kernel rows per group), order() (the
// accumulator order, misc.h), kMaskedTail (see below), Acc (the
// tile's int32 accumulators), Epilogue (clamp and zero point vectors), and
//   build<T>(src[kGroup], dst)   interleave kGroup rows' tile bytes into kTile * 4 bytes
//   load_bias(acc, bias)         acc = the packed bias
//   mac(acc, column, weights)    acc += column . weights (kTile * 4 bytes each)
//   requant(acc, rq, scheme, e)  acc = requantized outputs (clamped, zero point added)
//   store<T>(acc, dst)           the kTile outputs in channel order
//
// Per output row: the columns the row's windows cover are built once per tile into a
// stack scratch ([column][group][kTile * 4]), in chunks of output columns that fit
// kDwScratchBytes; each output pixel then sums kernel_w * groups column products.
// The last tile of a channel count that is not a multiple of kTile reads up to kTile
// bytes (the lanes past the channels have zero weights) where the input row has them,
// else a zeroed copy, and writes through a buffer; traits with kMaskedTail use masked
// loads and stores (build_masked, store_masked) instead. No byte outside the rows is
// read and none outside the output's channels written.
//
// Weights in registers (traits with kRegWeights, the 3x3 and 5x5 fast paths): before
// a tile's pixel loop the weights of the first reg_pairs() (group, column) pairs go
// into registers (K::Wreg, K::load_w), and every pixel multiplies its columns by them
// (K::mac_w) instead of reloading them; the pairs past the traits' register budget
// (kWeightRegs vector registers) are read from memory as before. KH, the kernel height
// when it is known at compile time (else 0), tells which group holds a single kernel
// row (kernel_h % kGroup == 1: the rows after it have zero weights); traits whose
// pair_regs(true) is smaller multiply by that row only, and traits with build_one
// build only its columns. When the budget leaves room (split()), the products go to two
// accumulator sets in turn, added before the requantization (int32 addition wraps the
// same in any order, so the sums equal the reference's): two dependency chains per
// vector instead of one, for the in-order cores' multiply latency.
//
// Traits with kRuntimeActType = true take the activation type at run time instead:
// one function serves int8 and uint8 (DwKernel::u8 == s8, reading DwArgs::act_s8),
// with build(src, dst, flip) given flip_of(act_s8), so that only the column build
// differs between the types (a byte XOR), not a second copy of every loop.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/misc.h"

namespace edgeq {
namespace kern {
namespace {

// Copies n < 64 bytes in constant-size pieces, which compile to plain loads and stores
// (a memcpy call in the pixel loop would make the compiler save and restore live
// vector registers around it inside the loop).
template <size_t kPiece>
inline void copy_piece(uint8_t*& d, const uint8_t*& s, size_t n) {
  if (n & kPiece) {
    std::memcpy(d, s, kPiece);
    d += kPiece;
    s += kPiece;
  }
}

template <typename T>
inline void copy_short(T* dst, const T* src, size_t n) {
  uint8_t* d = reinterpret_cast<uint8_t*>(dst);
  const uint8_t* s = reinterpret_cast<const uint8_t*>(src);
  n *= sizeof(T);
  copy_piece<32>(d, s, n);
  copy_piece<16>(d, s, n);
  copy_piece<8>(d, s, n);
  copy_piece<4>(d, s, n);
  copy_piece<2>(d, s, n);
  copy_piece<1>(d, s, n);
}

template <class K, class = void>
struct RuntimeActType : std::false_type {};
template <class K>
struct RuntimeActType<K, std::void_t<decltype(K::kRuntimeActType)>> : std::bool_constant<K::kRuntimeActType> {};

template <class K, class = void>
struct RegWeights : std::false_type {};
template <class K>
struct RegWeights<K, std::void_t<decltype(K::kRegWeights)>> : std::bool_constant<K::kRegWeights> {};

// Whether group g of an NG-group window of KH kernel rows (0: not known) holds a
// single row.
template <class K, int NG, int KH>
constexpr bool one_row_group(int g) {
  return KH > 0 && g == NG - 1 && KH % K::kGroup == 1;
}

template <class K, class = void>
struct HasBuildOne : std::false_type {};
template <class K>
struct HasBuildOne<K, std::void_t<decltype(&K::build_one)>> : std::true_type {};

// Whether the column build of a window with a single-row group builds that row only
// (K::build_one, runtime activation type: the group's other rows in the scratch are
// left unread or multiplied by zero weights).
template <class K, int NG, int KH>
struct OneRowBuild : std::bool_constant<(HasBuildOne<K>::value && NG > 0 && one_row_group<K, NG, KH>(NG - 1))> {};

// The (group, column) pairs, in packed order (g * KW + kw), whose weights fit
// K::kWeightRegs registers.
template <class K, int KW, int NG, int KH>
constexpr int reg_pairs() {
  int regs = 0, n = 0;
  for (int i = 0; i < NG * KW; ++i) {
    const int r = K::pair_regs(one_row_group<K, NG, KH>(i / KW));
    if (regs + r > K::kWeightRegs) break;
    regs += r;
    ++n;
  }
  return n;
}

template <class K, int KW, int NG, int KH>
constexpr int reg_pair_regs() {
  int regs = 0;
  for (int i = 0; i < reg_pairs<K, KW, NG, KH>(); ++i) regs += K::pair_regs(one_row_group<K, NG, KH>(i / KW));
  return regs;
}

template <int... I, class F>
inline void static_for_impl(std::integer_sequence<int, I...>, F&& f) {
  (f(std::integral_constant<int, I>()), ...);
}

// f(std::integral_constant<int, i>) for i in [0, N), unrolled.
template <int N, class F>
inline void static_for(F&& f) {
  static_for_impl(std::make_integer_sequence<int, N>(), f);
}

// KW, NG, SW: kernel width, groups and stride fixed at compile time, or 0 to read them
// from the arguments; KH: the kernel height, or 0 when not fixed.
template <class K, typename T, int KW, int NG, int SW, int KH>
void dw_rows(const DwArgs* args) {
  const DwArgs& a = *args;
  constexpr int kTile = K::kTile;
  constexpr int kGroup = K::kGroup;
  constexpr size_t kColGroup = static_cast<size_t>(kTile) * 4;
  const int kw_n = KW > 0 ? KW : a.kernel_w;
  const int ng = NG > 0 ? NG : a.groups;
  const int sw = SW > 0 ? SW : a.stride_w;
  const int dw = a.dilation_w;
  const size_t c = a.channels;
  const size_t col_bytes = static_cast<size_t>(ng) * kColGroup;
  const int span = (kw_n - 1) * dw + 1;
  const int max_cols = static_cast<int>(kDwScratchBytes / col_bytes);
  const int chunk = (max_cols - span) / sw + 1;
  const size_t block = kColGroup * (4 + static_cast<size_t>(ng) * kw_n);
  const size_t tiles = (c + kTile - 1) / kTile;
  const uint8_t* const* rows = reinterpret_cast<const uint8_t* const*>(a.rows);
  const uint8_t* zero = static_cast<const uint8_t*>(a.zero);
  T* out = static_cast<T*>(a.out);
  const auto flip = [&] {
    if constexpr (RuntimeActType<K>::value) {
      return K::flip_of(a.act_s8);
    } else {
      return 0;
    }
  }();
  (void)flip;
  const typename K::Epilogue epi(a.zero_point, a.qmin, a.qmax);

  alignas(64) uint8_t scratch[kDwScratchBytes];
  alignas(64) uint8_t tail[kGroup][kTile];
  alignas(64) T out_tail[kTile];
  std::memset(tail, 0, sizeof(tail));

  for (int ow0 = 0; ow0 < a.out_w; ow0 += chunk) {
    const int ow1 = std::min(a.out_w, ow0 + chunk);
    const int ncols = (ow1 - 1 - ow0) * sw + span;
    const int64_t iw0 = static_cast<int64_t>(ow0) * sw - a.pad_left;
    for (size_t t = 0; t < tiles; ++t) {
      const size_t c0 = t * kTile;
      const size_t valid = std::min<size_t>(kTile, c - c0);
      const bool partial = valid < static_cast<size_t>(kTile);
      const size_t row_left = static_cast<size_t>(a.in_w) * c - c0;  // minus iw * c: bytes left
      const uint8_t* pk = static_cast<const uint8_t*>(a.packed) + block * t;
      for (int j = 0; j < ncols; ++j) {
        const int64_t iw = iw0 + j;
        const bool inside = iw >= 0 && iw < a.in_w;
#pragma GCC unroll 4
        for (int g = 0; g < ng; ++g) {
          const uint8_t* src[kGroup];
#pragma GCC unroll 4
          for (int r = 0; r < kGroup; ++r) {
            src[r] = (inside ? rows[g * kGroup + r] + static_cast<size_t>(iw) * c : zero) + c0;
            // A partial tile reads the next pixel's bytes (zero weights) while the
            // row has kTile bytes left; near the row's end it reads a copy.
            if (!K::kMaskedTail && partial && inside && row_left - static_cast<size_t>(iw) * c < kTile) {
              std::memcpy(tail[r], src[r], valid);
              src[r] = tail[r];
            }
          }
          uint8_t* dst = scratch + static_cast<size_t>(j) * col_bytes + g * kColGroup;
          if constexpr (K::kMaskedTail) {
            if (partial) {
              K::template build_masked<T>(src, valid, dst);
              continue;
            }
          }
          if constexpr (OneRowBuild<K, NG, KH>::value) {
            if (one_row_group<K, NG, KH>(g)) {
              K::build_one(src, dst, flip);
              continue;
            }
          }
          if constexpr (RuntimeActType<K>::value) {
            K::build(src, dst, flip);
          } else {
            K::template build<T>(src, dst);
          }
        }
      }
      const int32_t* bias = reinterpret_cast<const int32_t*>(pk);
      const uint8_t* rq = pk + kColGroup;
      const uint8_t* w = pk + 4 * kColGroup;
      // Requantizes and stores pixel ow's accumulators.
      const auto finish = [&](typename K::Acc& acc, int ow, auto scheme) {
        K::requant(acc, rq, decltype(scheme)::value, epi);
        T* dst = out + static_cast<size_t>(ow) * c + c0;
        if (!partial) {
          K::template store<T>(acc, dst);
        } else if constexpr (K::kMaskedTail) {
          K::template store_masked<T>(acc, dst, valid);
        } else {
          static_assert(K::kTile <= 64, "copy_short copies fewer than 64 bytes");
          K::template store<T>(acc, out_tail);
          copy_short(dst, out_tail, valid);
        }
      };
      // One loop per requantization scheme, so that each holds only its own epilogue.
      const auto pixels = [&](auto fixed_point) {
        using Scheme = std::integral_constant<ref::Scheme, decltype(fixed_point)::value ? ref::Scheme::kFixedPoint
                                                                                       : ref::Scheme::kFp32>;
        if constexpr (RegWeights<K>::value && KW > 0 && NG > 0) {
          constexpr int kRegPairs = reg_pairs<K, KW, NG, KH>();
          constexpr bool kSplit = K::split(reg_pair_regs<K, KW, NG, KH>());
          typename K::Wreg wr[kRegPairs > 0 ? kRegPairs : 1];
          static_for<kRegPairs>([&](auto i) {
            K::template load_w<one_row_group<K, NG, KH>(i / KW)>(wr[i], w + static_cast<size_t>(i) * kColGroup);
          });
          for (int ow = ow0; ow < ow1; ++ow) {
            typename K::Acc acc[2];
            K::load_bias(acc[0], bias);
            if constexpr (kSplit) K::zero(acc[1]);
            const uint8_t* col = scratch + static_cast<size_t>(ow - ow0) * sw * col_bytes;
            static_for<NG * KW>([&](auto i) {
              constexpr int kG = i / KW, kKw = i % KW;
              constexpr bool kOne = one_row_group<K, NG, KH>(kG);
              typename K::Acc& to = acc[kSplit ? i % 2 : 0];
              const uint8_t* x = col + static_cast<size_t>(kKw) * dw * col_bytes + kG * kColGroup;
              if constexpr (i < kRegPairs) {
                K::template mac_w<kOne>(to, x, wr[i]);
              } else {
                typename K::Wreg m;
                K::template load_w<kOne>(m, w + static_cast<size_t>(i) * kColGroup);
                K::template mac_w<kOne>(to, x, m);
              }
            });
            if constexpr (kSplit) K::add(acc[0], acc[1]);
            finish(acc[0], ow, Scheme());
          }
        } else {
          for (int ow = ow0; ow < ow1; ++ow) {
            typename K::Acc acc;
            K::load_bias(acc, bias);
            const uint8_t* col = scratch + static_cast<size_t>(ow - ow0) * sw * col_bytes;
#pragma GCC unroll 8
            for (int kw = 0; kw < kw_n; ++kw) {
#pragma GCC unroll 4
              for (int g = 0; g < ng; ++g) {
                K::mac(acc, col + static_cast<size_t>(kw) * dw * col_bytes + g * kColGroup,
                       w + (static_cast<size_t>(g) * kw_n + kw) * kColGroup);
              }
            }
            finish(acc, ow, Scheme());
          }
        }
      };
      if (a.scheme == ref::Scheme::kFixedPoint) {
        pixels(std::true_type());
      } else {
        pixels(std::false_type());
      }
    }
  }
}

// The fixed-window row kernel: with the kernel height too (square windows) for traits
// that keep their weights in registers, where it can save the zero rows' products.
template <class K, int KW>
constexpr bool kh_instance() {
  if constexpr (RegWeights<K>::value) {
    return KW % K::kGroup == 1 && (K::pair_regs(true) < K::pair_regs(false) || HasBuildOne<K>::value);
  } else {
    return false;
  }
}

template <class K, typename T, int KW, int NG, int SW>
void dw_rows_window(const DwArgs* a) {
  if constexpr (kh_instance<K, KW>()) {
    if (a->kernel_h == KW) return dw_rows<K, T, KW, NG, SW, KW>(a);
  }
  return dw_rows<K, T, KW, NG, SW, 0>(a);
}

// The row kernel for activation type T: specialised for 3x3 and 5x5 windows with
// stride 1 or 2 (any dilation), generic otherwise.
template <class K, typename T>
void dw_rows_dispatch(const DwArgs* a) {
  constexpr int kG3 = (3 + K::kGroup - 1) / K::kGroup;
  constexpr int kG5 = (5 + K::kGroup - 1) / K::kGroup;
  if (a->kernel_w == 3 && a->groups == kG3 && a->stride_w == 1) return dw_rows_window<K, T, 3, kG3, 1>(a);
  if (a->kernel_w == 3 && a->groups == kG3 && a->stride_w == 2) return dw_rows_window<K, T, 3, kG3, 2>(a);
  if (a->kernel_w == 5 && a->groups == kG5 && a->stride_w == 1) return dw_rows_window<K, T, 5, kG5, 1>(a);
  if (a->kernel_w == 5 && a->groups == kG5 && a->stride_w == 2) return dw_rows_window<K, T, 5, kG5, 2>(a);
  return dw_rows<K, T, 0, 0, 0, 0>(a);
}

// The kernel's layout fields (no function pointers yet).
template <class K>
DwKernel dw_kernel_layout_of(const char* name, int32_t s8_act_offset, int32_t u8_act_offset, uint32_t tile_cost) {
  DwKernel k;
  k.tile_cost = tile_cost;
  k.name = name;
  k.tile = K::kTile;
  k.group = K::kGroup;
  k.s8_act_offset = s8_act_offset;
  k.u8_act_offset = u8_act_offset;
  k.order = K::order();
  return k;
}

template <class K>
DwKernel dw_kernel_of(const char* name, int32_t s8_act_offset, int32_t u8_act_offset, uint32_t tile_cost) {
  DwKernel k = dw_kernel_layout_of<K>(name, s8_act_offset, u8_act_offset, tile_cost);
  if constexpr (RuntimeActType<K>::value) {
    k.u8 = k.s8 = dw_rows_dispatch<K, uint8_t>;  // outputs are written as bytes either way
  } else {
    k.u8 = dw_rows_dispatch<K, uint8_t>;
    k.s8 = dw_rows_dispatch<K, int8_t>;
  }
  return k;
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
