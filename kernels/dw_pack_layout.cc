// The depthwise kernels' layouts of every level (see dw_pack_layout.h). The orders map
// a tile's accumulator position to its channel, as each kernel's traits say.
#include "kernels/dw_pack_layout.h"

namespace edgeq {
namespace kern {
namespace {

// The orders, built once: position i -> channel.
struct Orders {
  uint8_t identity[64];
  uint8_t pairs_avx2[32];  // i = 8v + 4l + e -> 16(v / 2) + 8l + 4(v % 2) + e
  uint8_t quads_ymm[32];   // i = 8v + 4l + e -> 16l + 4v + e
  uint8_t quads_zmm[64];   // i = 16v + 4l + e -> 16l + 4v + e
  Orders() {
    for (int i = 0; i < 64; ++i) {
      identity[i] = static_cast<uint8_t>(i);
      quads_zmm[i] = static_cast<uint8_t>(16 * ((i % 16) / 4) + 4 * (i / 16) + i % 4);
    }
    for (int i = 0; i < 32; ++i) {
      const int v = i / 8, l = (i / 4) % 2, e = i % 4;
      pairs_avx2[i] = static_cast<uint8_t>(16 * (v / 2) + 8 * l + 4 * (v % 2) + e);
      quads_ymm[i] = static_cast<uint8_t>(4 * v + 16 * l + e);
    }
  }
};

const Orders& orders() {
  static const Orders o;
  return o;
}

DwKernel layout(const char* name, uint32_t tile, uint32_t group, int32_t s8_offset, int32_t u8_offset,
                const uint8_t* order, uint32_t tile_cost) {
  DwKernel k;
  k.name = name;
  k.tile = tile;
  k.group = group;
  k.s8_act_offset = s8_offset;
  k.u8_act_offset = u8_offset;
  k.order = order;
  k.tile_cost = tile_cost;
  return k;
}

}  // namespace

DwKernels dw_pack_layouts(Isa isa) {
  const Orders& o = orders();
  DwKernels set;
  switch (isa) {
    case Isa::kAvx2:
      set.kernel[0] = layout("q8_dwconv_minmax_ukernel_32c2__avx2", 32, 2, 0, 0, o.pairs_avx2, 1);
      break;
    case Isa::kAvxVnni:
      set.kernel[0] = layout("q8_dwconv_minmax_ukernel_32c4__avxvnni", 32, 4, 128, 0, o.quads_ymm, 1);
      break;
    case Isa::kAvx512Vnni:
    case Isa::kAmx:  // the AVX512-VNNI depthwise kernels
      set.kernel[0] = layout("q8_dwconv_minmax_ukernel_64c4__avx512vnni", 64, 4, 128, 0, o.quads_zmm, 5);
      set.kernel[1] = layout("q8_dwconv_minmax_ukernel_32c4__avx512vnni", 32, 4, 128, 0, o.quads_ymm, 4);
      break;
    case Isa::kNeon:
      set.kernel[0] = layout("q8_dwconv_minmax_ukernel_16c2__neon", 16, 2, 0, -128, o.identity, 2);
      set.kernel[1] = layout("q8_dwconv_minmax_ukernel_8c2__neon", 8, 2, 0, -128, o.identity, 1);
      break;
    case Isa::kNeonDot:
    case Isa::kNeonI8mm:  // the dotprod kernels (every i8mm core has dotprod)
      set.kernel[0] = layout("q8_dwconv_minmax_ukernel_32c4__neondot", 32, 4, 0, -128, o.identity, 9);
      set.kernel[1] = layout("q8_dwconv_minmax_ukernel_16c4__neondot", 16, 4, 0, -128, o.identity, 5);
      break;
    default:
      break;
  }
  return set;
}

}  // namespace kern
}  // namespace edgeq
