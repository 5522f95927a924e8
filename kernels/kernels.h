// The optimized int8 kernels: ISA-neutral contracts and run-time dispatch.
//
// Every ISA (x86: AVX2, AVX-VNNI, AVX512-VNNI; ARM: NEON, dotprod, i8mm) fills one
// KernelSet of function pointers. The CPU is detected once (cpuinfo); a session picks
// the best set the host runs, or the level forced by its options or by EDGEQ_ISA.
// A null pointer in a set means "no optimized kernel here: use kernels/ref/".
//
// Every kernel equals the scalar reference (kernels/ref/) bit for bit.
//
// Kernel names (XNNPACK's microkernel naming convention), the same on every architecture:
//   <dtype>_<op>_<activation>[_<requant>]_ukernel[_<tile>]__<isa>
//   dtype       qu8: uint8 activations and outputs (int8 weights); qs8: int8 activations
//               and outputs; q8: a family with a uint8 and an int8 instance; x8: any 8-bit
//               type; xx: any element size
//   op          igemm (indirect GEMM), dwconv (depthwise convolution, one output row a
//               call), vbinary (add, sub, mul, div), maxpool, avgpool, gavgpool (global
//               average pool), lut (256-entry table lookup), concat
//   activation  minmax: the outputs are clamped to [qmin, qmax]; none for ops without a clamp
//   requant     fp32 or fixed for a kernel that implements only that scheme; none for a
//               kernel that reads the scheme per call (every kernel today)
//   tile        GEMM <MR>x<NR>c<KR>: MR rows x NR channels, KR consecutive k per packed
//               weight group; depthwise <tile>c<group>: channels per tile, kernel rows
//               summed per lane (2: int16 pairs, 4: byte quads); none for kernels that
//               have no tile (elementwise, pooling, lookup, concat)
//   isa         the instructions the code uses: avx2, avxvnni, avx512vnni, amx, neon, neondot,
//               neoni8mm (a level may run a lower ISA's kernel: the x86 misc kernels are
//               AVX2 at every x86 level)
// A registered name is what a profile prints and a benchmark is called, and it can be
// found in the source and the binary:
//  * QGemmKernel::name and name_s8 are the C++ symbols of its u8 and s8 functions (in
//    edgeq::kern, or edgeq::kern::x86): registration stringifies the functions it
//    registers. The single-row variants' symbols are the same with MR 1.
//    Each file defining GEMM kernels is named after them (kernels/arm/) or after its ISA
//    (kernels/x86/igemm_<isa>.cc).
//  * DwKernel::name and MiscKernels::names name families: their functions are template
//    instances (kernels/dw_rows.h, the misc_<isa>.cc files) without a readable symbol,
//    one name for the uint8 and int8 instances, hence dtype q8, x8 or xx.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/fdw_kernel.h"
#include "kernels/fgemm.h"
#include "kernels/misc.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {

// kAmx: the AVX512-VNNI level with its GEMM on AMX tiles (kernels/x86/igemm_amx.cc).
enum class Isa : uint8_t { kRef, kAvx2, kAvxVnni, kAvx512Vnni, kAmx, kNeon, kNeonDot, kNeonI8mm, kCount };

const char* isa_name(Isa isa);  // "ref", "avx2", "avxvnni", "avx512vnni", "amx", "neon", "neondot",
                                 // "neoni8mm"
bool parse_isa(const std::string& name, Isa* out);
// True when this build has kernels for `isa` and the host CPU runs them (kRef: always).
bool isa_supported(Isa isa);
// The fastest supported level.
Isa best_isa();
// Comma-separated names of the supported levels, best last (for error messages).
std::string supported_isa_names();

// ------------------------------------------------------------------ requantization epilogue

// What a kernel needs to turn int32 accumulators into output bytes (kernels/ref/ref.h
// documents both schemes). Arrays hold one entry per output channel, padded with copies
// of the last channel's values to a multiple of the kernel's nr, so kernels may load
// whole vectors.
struct QuantEpilogue {
  ref::Scheme scheme = ref::Scheme::kFp32;
  const float* scale = nullptr;         // fp32 scheme
  const int32_t* multiplier = nullptr;  // fixed-point scheme
  const int32_t* exponent = nullptr;    // fixed-point scheme
  int32_t zero_point = 0;
  int32_t qmin = -128, qmax = 127;
  // Store the raw int32 accumulators instead (only kernels whose QGemmKernel has
  // int32_output): row i of the tile is nc int32 at c + i * c_stride bytes. For the
  // products whose correction or scaling is per row (kernels/qmatmul.h).
  bool int32_output = false;
  // When not null (only kernels whose QGemmKernel has acc_input): the accumulators start
  // at acc_in, MR rows of NR int32 (row stride NR), instead of the packed bias, which is
  // then not read. With int32_output this lets a driver split K into chunks (qconv.cc).
  const int32_t* acc_in = nullptr;
};

// ------------------------------------------------------------------ indirect GEMM

// Computes an mr x nc tile of C (mr <= MR, nc <= NR) of a convolution or matrix
// product written as an indirect GEMM:
//   acc[i][j] = packed_bias[j] + sum_{t < ks} sum_{k < kc} A(t, i)[k] * W(t, k, j)
//   C[i][j]   = requantize(acc[i][j], channel n0 + j)
// a:   ks * MR pointers, tap-major: a[t * MR + i] is row i's kc activation bytes for
//      tap t. Rows i >= mr repeat a valid pointer. Kernels may read up to 64 bytes
//      past round_up(kc, kr) of every row (the arena and the zero buffer have slack).
// w:   one packed NR-channel block: int32 packed_bias[NR], then int8
//      W[ks][round_up(kc, kr) / kr][NR][kr], zero where k >= kc or the channel >= n
//      (int16 elements, the same values sign-extended, for kernels with wide_weights).
// c:   row i of the tile starts at c + i * c_stride bytes; nc output bytes per row.
// The input zero point is folded into packed_bias by the packer:
//   packed_bias[j] = bias[j] - (x_zp + act_offset) * sum_{t,k} W(t, k, j)
// where act_offset is the QGemmKernel's s8_act_offset for int8 activations (128 for
// kernels that flip int8 activations to uint8 with x ^ 0x80) and its u8_act_offset for
// uint8 ones (-128 for kernels that flip uint8 activations to int8 with x ^ 0x80).
// Accumulation wraps modulo 2^32, like the reference.
// q: with the fp32 scheme, |qmin - zero_point| and |qmax - zero_point| must be at most
//    2^24 (the x86 kernels clamp in float before rounding; the driver checks this).
using QIgemmUkernel = void (*)(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                               const void* w, void* c, size_t c_stride, size_t n0, const QuantEpilogue* q);

// The vector loops of the int32-tile products (kernels/qmatmul.h), per level; a null
// pointer means qmatmul.cc's portable loop. Each gives the portable loop's result bit for
// bit (no fused multiply-add, the same comparisons).
// RangeF32Fn: internal::finite_range(n, x, 1, lo, hi): lo = min(0, x...), hi = max(0,
// x...) with NaN never taken, and whether every x is finite.
using RangeF32Fn = bool (*)(size_t n, const float* x, float* lo, float* hi);
// TileFinishF32Fn: an mc x nc tile of int32 sums to float, for i < mc, j < nc:
//   v = int32(acc[i * acc_stride + j] - z[i] * colsum[j] + r[i])   (modulo 2^32)
//   out[i * out_stride + j] = clamp(float(v) * (rs[i] * cs[j]) [+ bias[j] when bias], lo, hi)
// where clamp(x, lo, hi) = x < lo ? lo : (x > hi ? hi : x) (ref::internal::clamp_f32).
// One call per tile, so the column terms are loaded once for all its rows.
using TileFinishF32Fn = void (*)(size_t mc, size_t nc, const int32_t* acc, size_t acc_stride, const uint32_t* colsum,
                                 const uint32_t* z, const uint32_t* r, const float* rs, const float* cs,
                                 const float* bias, float lo, float hi, float* out, size_t out_stride);
// SumU8Fn: the sum of n bytes.
using SumU8Fn = uint32_t (*)(size_t n, const uint8_t* x);

struct QGemmKernel {
  const char* name = nullptr;     // the u8 function's symbol, e.g. "qu8_igemm_minmax_ukernel_8x32c4__avx512vnni"
  const char* name_s8 = nullptr;  // the s8 function's symbol ("qs8_igemm_minmax_ukernel_8x32c4__avx512vnni")
  uint32_t mr = 0, nr = 0, kr = 0;
  int32_t s8_act_offset = 0;
  int32_t u8_act_offset = 0;  // the same for uint8 activations (-128 for kernels that flip them to int8)
  // W is packed as int16 (kernels that multiply in int16 and would otherwise widen
  // every weight vector in their inner loop).
  bool wide_weights = false;
  QIgemmUkernel u8 = nullptr;  // uint8 activations
  QIgemmUkernel s8 = nullptr;  // int8 activations
  // Optional single-row variants for tiles with mr == 1 (a fully connected layer on one
  // row): the same contract, packing and pointer layout (row 0 of tap t is a[t * MR],
  // MR being this struct's mr), only faster. Null: the driver calls u8 / s8 with mr = 1.
  QIgemmUkernel u8_row = nullptr;
  QIgemmUkernel s8_row = nullptr;
  // The kernels honour QuantEpilogue::int32_output.
  bool int32_output = false;
  // Valid only for layers with no weight equal to -128 (it sums two products in int16,
  // which (-128) * (-128) twice would overflow): a level's KernelSet::gemm_w127.
  bool w127_only = false;
  // On a level's exact kernel: the u8 name of its gemm_w127, which takes the layers
  // without -128 weights in its place (kernels/gemm_pick.h), or null.
  const char* w127_name = nullptr;
  // The int32-tile products' loops (see RangeF32Fn); null: the portable ones.
  RangeF32Fn range_f32 = nullptr;
  TileFinishF32Fn finish_f32 = nullptr;
  SumU8Fn sum_u8 = nullptr;
  // The u8 and s8 functions differ only in flipping the activations (x ^ 0x80) and store
  // the same bytes for the same clamped results (their epilogues are type-agnostic): a
  // driver may flip an input once and run the other function (QConvOp::flip_bytes).
  bool flip_swappable = false;
  // The kernels honour QuantEpilogue::acc_in (and int32_output): QConvOp may split a
  // layer's K into chunks that stay in the L1 cache (kernels/gemm_blocking.h).
  bool acc_input = false;
};

// ------------------------------------------------------------------ kernel sets

// All optimized kernels of one ISA level.
struct KernelSet {
  Isa isa = Isa::kRef;
  QGemmKernel gemm;
  // A faster GEMM kernel for layers whose constant weights hold no -128 (w127_only),
  // picked per layer by gemm_for_weights() (kernels/gemm_pick.h); null functions: none.
  // Operands packed per call from activations (MatMul's B) keep `gemm`.
  QGemmKernel gemm_w127;
  DwKernels dw;
  MiscKernels misc;
  FGemmKernel fgemm;  // float MatMul of two activations (kernels/fgemm.h)
  FDwKernel fdw;      // float depthwise convolution (kernels/fdw_kernel.h); null: portable
};

// The kernels of a supported level (isa_supported(isa) must hold). kRef gives a set of
// null pointers.
const KernelSet& kernel_set(Isa isa);

// Filled by each ISA family's registration file (kernels/x86/, kernels/arm/): add the
// kernels of `isa` to `set`; levels of another architecture leave it unchanged.
void register_gemm_kernels(Isa isa, KernelSet* set);
void register_misc_kernels(Isa isa, KernelSet* set);

}  // namespace kern
}  // namespace edgeq
