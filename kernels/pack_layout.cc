// The GEMM weight layouts of every level (see pack_layout.h).
#include "kernels/pack_layout.h"

namespace edgeq {
namespace kern {
namespace {

struct Layout {
  Isa isa;
  const char* name;
  const char* name_s8;
  uint32_t mr, nr, kr;
  int32_t s8_act_offset, u8_act_offset;
  bool wide_weights;
  const char* w127_name = nullptr;  // QGemmKernel::w127_name
  bool w127_only = false;           // QGemmKernel::w127_only
};

constexpr Layout kLayouts[] = {
    {Isa::kAvx2, "qu8_igemm_minmax_ukernel_3x8c8__avx2", "qs8_igemm_minmax_ukernel_3x8c8__avx2", 3, 8, 8, 0, 0, true},
    {Isa::kAvxVnni, "qu8_igemm_minmax_ukernel_6x16c4__avxvnni", "qs8_igemm_minmax_ukernel_6x16c4__avxvnni", 6, 16, 4,
     128, 0, false},
    {Isa::kAvx512Vnni, "qu8_igemm_minmax_ukernel_8x32c4__avx512vnni", "qs8_igemm_minmax_ukernel_8x32c4__avx512vnni", 8,
     32, 4, 128, 0, false},
    {Isa::kAmx, "qu8_igemm_minmax_ukernel_32x32c4__amx", "qs8_igemm_minmax_ukernel_32x32c4__amx", 32, 32, 4, 128, 0,
     false},
    {Isa::kNeon, "qu8_igemm_minmax_ukernel_2x8c8__neon", "qs8_igemm_minmax_ukernel_2x8c8__neon", 2, 8, 8, 0, -128,
     false, "qu8_igemm_minmax_ukernel_2x8c16__neon_mlal"},  // AArch64
    {Isa::kNeon, "qu8_igemm_minmax_ukernel_2x4c8__neon", "qs8_igemm_minmax_ukernel_2x4c8__neon", 2, 4, 8, 0, -128,
     false, "qu8_igemm_minmax_ukernel_2x4c16__neon_mlal"},  // ARMv7
    // The neon kernels for weights in [-127, 127] (KernelSet::gemm_w127).
    {Isa::kNeon, "qu8_igemm_minmax_ukernel_2x8c16__neon_mlal", "qs8_igemm_minmax_ukernel_2x8c16__neon_mlal", 2, 8, 16,
     0, -128, false, nullptr, true},  // AArch64
    {Isa::kNeon, "qu8_igemm_minmax_ukernel_2x4c16__neon_mlal", "qs8_igemm_minmax_ukernel_2x4c16__neon_mlal", 2, 4, 16,
     0, -128, false, nullptr, true},  // ARMv7
    {Isa::kNeonDot, "qu8_igemm_minmax_ukernel_4x16c4__neondot", "qs8_igemm_minmax_ukernel_4x16c4__neondot", 4, 16, 4,
     0, -128, false},
    {Isa::kNeonI8mm, "qu8_igemm_minmax_ukernel_4x16c8__neoni8mm", "qs8_igemm_minmax_ukernel_4x16c8__neoni8mm", 4, 16,
     8, 0, 0, false},
};

}  // namespace

std::vector<QGemmKernel> gemm_pack_layouts(Isa isa) {
  std::vector<QGemmKernel> out;
  for (const Layout& l : kLayouts) {
    if (l.isa != isa) continue;
    QGemmKernel k;
    k.name = l.name;
    k.name_s8 = l.name_s8;
    k.mr = l.mr;
    k.nr = l.nr;
    k.kr = l.kr;
    k.s8_act_offset = l.s8_act_offset;
    k.u8_act_offset = l.u8_act_offset;
    k.wide_weights = l.wide_weights;
    k.w127_name = l.w127_name;
    k.w127_only = l.w127_only;
    out.push_back(k);
  }
  return out;
}

}  // namespace kern
}  // namespace edgeq
