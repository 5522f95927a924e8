# x86 GEMM / indirect-GEMM kernels. Each ISA's files get that ISA's flags; the rest of
# the project stays at baseline x86-64 (dispatch only calls a kernel the CPU runs).
set(EDGEQ_X86_GEMM_AVX2_SOURCES kernels/x86/igemm_avx2.cc)
set(EDGEQ_X86_GEMM_AVXVNNI_SOURCES kernels/x86/igemm_avxvnni.cc)
set(EDGEQ_X86_GEMM_AVX512VNNI_SOURCES kernels/x86/igemm_avx512vnni.cc)
set(EDGEQ_X86_GEMM_AMX_SOURCES kernels/x86/igemm_amx.cc)
# GCC 12 flags the _mm*_undefined_*() placeholders inside its own intrinsic headers as
# (maybe-)uninitialized; those two warnings are off for these files only.
set(EDGEQ_X86_INTRINSIC_WARNINGS_LIST "-Wno-uninitialized;-Wno-maybe-uninitialized")
set_source_files_properties(${EDGEQ_X86_GEMM_AVX2_SOURCES}
  PROPERTIES COMPILE_OPTIONS "-mavx2;${EDGEQ_X86_INTRINSIC_WARNINGS_LIST}")
set_source_files_properties(${EDGEQ_X86_GEMM_AVXVNNI_SOURCES}
  PROPERTIES COMPILE_OPTIONS "-mavx2;-mavxvnni;${EDGEQ_X86_INTRINSIC_WARNINGS_LIST}")
set_source_files_properties(${EDGEQ_X86_GEMM_AVX512VNNI_SOURCES}
  PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512vnni;${EDGEQ_X86_INTRINSIC_WARNINGS_LIST}")
set_source_files_properties(${EDGEQ_X86_GEMM_AMX_SOURCES} PROPERTIES COMPILE_OPTIONS
  "-mavx512f;-mavx512bw;-mavx512vl;-mavx512vnni;-mamx-tile;-mamx-int8;${EDGEQ_X86_INTRINSIC_WARNINGS_LIST}")
list(APPEND EDGEQ_KERNEL_SOURCES
  kernels/x86/gemm_register.cc
  ${EDGEQ_X86_GEMM_AMX_SOURCES}
  ${EDGEQ_X86_GEMM_AVX2_SOURCES}
  ${EDGEQ_X86_GEMM_AVXVNNI_SOURCES}
  ${EDGEQ_X86_GEMM_AVX512VNNI_SOURCES})
# The int32-tile products' loops (kernels/x86/tile_loops_x86.h): no FMA contraction,
# they equal the portable loops of kernels/qmatmul.cc bit for bit.
set_source_files_properties(kernels/x86/tile_loops_avx2.cc PROPERTIES COMPILE_OPTIONS "-O3;-mavx2;-ffp-contract=off")
set_source_files_properties(kernels/x86/tile_loops_avx512.cc
  PROPERTIES COMPILE_OPTIONS "-O3;-mavx512f;-mavx512bw;-mavx512vl;-ffp-contract=off;${EDGEQ_X86_INTRINSIC_WARNINGS_LIST}")
list(APPEND EDGEQ_KERNEL_SOURCES kernels/x86/tile_loops_avx2.cc kernels/x86/tile_loops_avx512.cc)
