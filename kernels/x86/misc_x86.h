// Registration entry points of the x86 depthwise and misc kernels, one per ISA
// translation unit (kernels/x86/misc_register.cc fills the KernelSets from them).
#pragma once

#include "kernels/misc.h"

namespace edgeq {
namespace kern {

DwKernels dw_kernels_avx2();
DwKernels dw_kernels_avxvnni();
DwKernels dw_kernels_avx512vnni();
MiscKernels misc_kernels_avx2();
// The AVX2 quantized Add / Sub / Mul / Div (misc_avx2.cc), to which the AVX-512 kernel
// hands what it leaves.
void qbinary_avx2(ref::BinaryOp op, const ref::Broadcast& bc, const int8_t* a, const int8_t* b,
                  const ref::BinaryQParams& p, int8_t* out);
void qbinary_avx2(ref::BinaryOp op, const ref::Broadcast& bc, const uint8_t* a, const uint8_t* b,
                  const ref::BinaryQParams& p, uint8_t* out);
// Sets the quantized Add / Sub / Mul / Div of `k` to the AVX-512 kernel (binary_avx512.cc).
void add_binary_kernels_avx512(MiscKernels* k);
// Sets the softmax and layer norm kernels of `k` (kernels/x86/norm_avx2.cc).
void add_norm_kernels_avx2(MiscKernels* k);
// Set the float unary kernel of `k` (kernels/unary_f32_math.h): 256-bit without FMA
// (unary_f32_avx2.cc, CPUs with AVX2 but no FMA3), 256-bit with FMA3 (unary_f32_fma3.cc),
// 512-bit with FMA (unary_f32_avx512.cc, AVX-512F).
void add_unary_kernels_avx2(MiscKernels* k);
void add_unary_kernels_fma3(MiscKernels* k);
void add_unary_kernels_avx512(MiscKernels* k);
// Sets the quantized softmax of `k` to the AVX-512 VBMI kernel (softmax_avx512vbmi.cc).
void add_softmax_kernels_avx512vbmi(MiscKernels* k);
// Set the float softmax of `k` (softmax_f32_avx2.cc, softmax_f32_avx512.cc).
void add_softmax_kernels_avx2_fma(MiscKernels* k);
void add_softmax_kernels_avx512(MiscKernels* k);
// Sets the float layer norm of `k` to the AVX-512F kernel (norm_avx512.cc).
void add_norm_kernels_avx512(MiscKernels* k);
// Sets QuantizeLinear of `k` to the AVX-512F kernel without a division (quantize_avx512.cc).
void add_quantize_kernels_avx512(MiscKernels* k);

}  // namespace kern
}  // namespace edgeq
