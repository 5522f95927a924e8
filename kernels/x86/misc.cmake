# x86 depthwise, elementwise, pooling, lookup and concat kernels. Each ISA's files get
# that ISA's flags; the rest of the project stays at baseline x86-64. No file here may
# contract a float multiply and add into an FMA (the kernels equal kernels/ref bit for
# bit), hence -ffp-contract=off.
set(EDGEQ_X86_MISC_AVX2 kernels/x86/dw_avx2.cc kernels/x86/misc_avx2.cc kernels/x86/norm_avx2.cc)
set(EDGEQ_X86_MISC_AVXVNNI kernels/x86/dw_avxvnni.cc)
set(EDGEQ_X86_MISC_AVX512VNNI kernels/x86/dw_avx512vnni.cc)
set_source_files_properties(${EDGEQ_X86_MISC_AVX2} PROPERTIES COMPILE_OPTIONS "-mavx2;-ffp-contract=off")
set_source_files_properties(${EDGEQ_X86_MISC_AVXVNNI} PROPERTIES COMPILE_OPTIONS "-mavx2;-mavxvnni;-ffp-contract=off")
# GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized in its own intrinsics.
set_source_files_properties(${EDGEQ_X86_MISC_AVX512VNNI} PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512vnni;-ffp-contract=off;-Wno-maybe-uninitialized")
# The float unary kernel (kernels/unary_f32_math.h): AVX2 without FMA, with FMA3, and
# AVX-512F; its only fused operations are the explicit ones, hence -ffp-contract=off.
set_source_files_properties(kernels/x86/unary_f32_avx2.cc PROPERTIES COMPILE_OPTIONS "-mavx2;-ffp-contract=off")
set_source_files_properties(kernels/x86/unary_f32_fma3.cc PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-ffp-contract=off")
set_source_files_properties(kernels/x86/unary_f32_avx512.cc PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-ffp-contract=off;-Wno-uninitialized;-Wno-maybe-uninitialized")
# QuantizeLinear without a division (kernels/x86/quantize_avx512.cc; its fused operations
# are the explicit ones) and the float layer norm on one 16-lane vector (norm_avx512.cc).
set_source_files_properties(kernels/x86/quantize_avx512.cc kernels/x86/norm_avx512.cc PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-ffp-contract=off;${EDGEQ_X86_INTRINSIC_WARNINGS_LIST}")
# Quantized Add / Sub / Mul / Div requantized without a division (binary_avx512.cc).
set_source_files_properties(kernels/x86/binary_avx512.cc PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-ffp-contract=off;${EDGEQ_X86_INTRINSIC_WARNINGS_LIST}")
list(APPEND EDGEQ_KERNEL_SOURCES kernels/x86/unary_f32_avx2.cc kernels/x86/unary_f32_fma3.cc
  kernels/x86/unary_f32_avx512.cc kernels/x86/quantize_avx512.cc kernels/x86/norm_avx512.cc
  kernels/x86/binary_avx512.cc)
list(APPEND EDGEQ_KERNEL_SOURCES kernels/x86/misc_register.cc ${EDGEQ_X86_MISC_AVX2} ${EDGEQ_X86_MISC_AVXVNNI}
  ${EDGEQ_X86_MISC_AVX512VNNI})
# Softmax: the int8 kernel without gathers (AVX-512 VBMI) and the float kernels (AVX2 with
# FMA3, AVX-512F; kernels/softmax_f32_rows.h).
set(EDGEQ_X86_SOFTMAX_AVX512VBMI kernels/x86/softmax_avx512vbmi.cc)
set_source_files_properties(${EDGEQ_X86_SOFTMAX_AVX512VBMI} PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512vbmi;-ffp-contract=off;${EDGEQ_X86_INTRINSIC_WARNINGS_LIST}")
set_source_files_properties(kernels/x86/softmax_f32_avx2.cc PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
set_source_files_properties(kernels/x86/softmax_f32_avx512.cc PROPERTIES
  COMPILE_OPTIONS "-mavx512f;${EDGEQ_X86_INTRINSIC_WARNINGS_LIST}")
list(APPEND EDGEQ_KERNEL_SOURCES ${EDGEQ_X86_SOFTMAX_AVX512VBMI} kernels/x86/softmax_f32_avx2.cc
  kernels/x86/softmax_f32_avx512.cc)
