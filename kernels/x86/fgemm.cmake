# x86 float GEMM microkernels (kernels/fgemm.h). The 256-bit file holds a fused (FMA3)
# and an unfused instance: -ffp-contract=off keeps the compiler from fusing the latter.
# Compiled at -O3 so the tile loops unroll into registers in every build type.
set(EDGEQ_X86_FGEMM_AVX2 kernels/x86/fgemm_avx2.cc)
set(EDGEQ_X86_FGEMM_AVX512 kernels/x86/fgemm_avx512.cc)
set_source_files_properties(${EDGEQ_X86_FGEMM_AVX2} PROPERTIES COMPILE_OPTIONS "-O3;-mavx2;-mfma;-ffp-contract=off")
set_source_files_properties(${EDGEQ_X86_FGEMM_AVX512} PROPERTIES
  COMPILE_OPTIONS "-O3;-mavx512f;-ffp-contract=off;-Wno-uninitialized;-Wno-maybe-uninitialized")
list(APPEND EDGEQ_KERNEL_SOURCES ${EDGEQ_X86_FGEMM_AVX2} ${EDGEQ_X86_FGEMM_AVX512})
# The float depthwise microkernels (kernels/fdw_kernel.h): FMA3 and AVX-512F, their only
# fused operations the explicit ones.
set_source_files_properties(kernels/x86/fdw_fma3.cc PROPERTIES COMPILE_OPTIONS "-O3;-mavx2;-mfma;-ffp-contract=off")
set_source_files_properties(kernels/x86/fdw_avx512.cc PROPERTIES
  COMPILE_OPTIONS "-O3;-mavx512f;-ffp-contract=off;-Wno-uninitialized;-Wno-maybe-uninitialized")
list(APPEND EDGEQ_KERNEL_SOURCES kernels/x86/fdw_fma3.cc kernels/x86/fdw_avx512.cc)
