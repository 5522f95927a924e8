# ARM kernels (AArch64, and ARMv7-A with NEON). Each ISA's files get that ISA's flags;
# the rest of the project stays at the target's baseline, and dispatch.cc picks a level
# at run time (EDGEQ_ISA=neon|neondot|neoni8mm forces one).
# GEMM kernel files are named after their functions (kernels/arm/gemm_ukernels.h); the
# NEON ones have a tile per target: 2x8c8 / 2x8c16 (mlal) on AArch64, 2x4c8 / 2x4c16 on ARMv7.
list(APPEND EDGEQ_KERNEL_SOURCES kernels/arm/gemm_register.cc kernels/arm/misc_register.cc kernels/arm/dw_neon.cc)
# GCC's first scheduling pass hoists every multiply of an unrolled tile ahead of its
# accumulations and runs out of the 32 vector registers (spills in the inner loop);
# without it the loops keep each product next to its use. See tools/arm_mac_report.sh.
# No float multiply and add may fuse (the epilogue equals kernels/ref bit for bit).
set(EDGEQ_ARM_GEMM_FLAGS -ffp-contract=off)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  set(EDGEQ_ARM_GEMM_FLAGS -fno-schedule-insns -ffp-contract=off)
endif()
# The AArch64 depthwise kernels keep GCC's first scheduling pass: their pixel loops hold
# the weights in registers and need the loads and epilogue steps spread apart to hide
# latencies on in-order cores (the cycle model: 20-30% fewer cycles on the Cortex-A53 / A55).
set(EDGEQ_ARM_DW_FLAGS -ffp-contract=off)
set_source_files_properties(kernels/arm/dw_neon.cc PROPERTIES COMPILE_OPTIONS "${EDGEQ_ARM_DW_FLAGS}")
# Elementwise, pooling, lookup and concat kernels: NEON at every level, bit-exact float.
list(APPEND EDGEQ_KERNEL_SOURCES kernels/arm/misc_neon.cc kernels/arm/norm_neon.cc)
set(EDGEQ_ARM_MISC_FLAGS -ffp-contract=off)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  list(APPEND EDGEQ_KERNEL_SOURCES kernels/arm/q8_igemm_minmax_ukernel_2x8c8__neon.cc
    kernels/arm/q8_igemm_minmax_ukernel_2x8c16__neon_mlal.cc
    kernels/arm/q8_igemm_minmax_ukernel_4x16c4__neondot.cc kernels/arm/q8_igemm_minmax_ukernel_4x16c8__neoni8mm.cc
    kernels/arm/dw_neondot.cc)
  set_source_files_properties(kernels/arm/q8_igemm_minmax_ukernel_2x8c8__neon.cc
    kernels/arm/q8_igemm_minmax_ukernel_2x8c16__neon_mlal.cc PROPERTIES COMPILE_OPTIONS "${EDGEQ_ARM_GEMM_FLAGS}")
  set_source_files_properties(kernels/arm/q8_igemm_minmax_ukernel_4x16c4__neondot.cc PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+dotprod;${EDGEQ_ARM_GEMM_FLAGS}")
  set_source_files_properties(kernels/arm/dw_neondot.cc PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+dotprod;${EDGEQ_ARM_DW_FLAGS}")
  set_source_files_properties(kernels/arm/q8_igemm_minmax_ukernel_4x16c8__neoni8mm.cc PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+i8mm;${EDGEQ_ARM_GEMM_FLAGS}")
else()
  list(APPEND EDGEQ_KERNEL_SOURCES kernels/arm/q8_igemm_minmax_ukernel_2x4c8__neon.cc
    kernels/arm/q8_igemm_minmax_ukernel_2x4c16__neon_mlal.cc)
  # Debian's armhf baseline has no NEON: only these files get it.
  set_source_files_properties(kernels/arm/q8_igemm_minmax_ukernel_2x4c8__neon.cc
    kernels/arm/q8_igemm_minmax_ukernel_2x4c16__neon_mlal.cc PROPERTIES COMPILE_OPTIONS "-mfpu=neon;${EDGEQ_ARM_GEMM_FLAGS}")
  # ARMv7's 16 q registers: the first scheduling pass costs more in spills than it hides.
  set_source_files_properties(kernels/arm/dw_neon.cc PROPERTIES COMPILE_OPTIONS "-mfpu=neon;${EDGEQ_ARM_GEMM_FLAGS}")
  set(EDGEQ_ARM_MISC_FLAGS -mfpu=neon -ffp-contract=off)
endif()
set_source_files_properties(kernels/arm/misc_neon.cc kernels/arm/norm_neon.cc PROPERTIES COMPILE_OPTIONS "${EDGEQ_ARM_MISC_FLAGS}")
# Float GEMM and depthwise microkernels (kernels/fgemm.h, kernels/fdw_kernel.h) at every
# level: AArch64 FMA, ARMv7 NEON multiply-then-add (-mfpu=neon: Debian's armhf baseline
# has none). -O3 unrolls the tile loops into registers in every build type.
list(APPEND EDGEQ_KERNEL_SOURCES kernels/arm/fgemm_neon.cc kernels/arm/fdw_neon.cc)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set_source_files_properties(kernels/arm/fgemm_neon.cc kernels/arm/fdw_neon.cc PROPERTIES
    COMPILE_OPTIONS "-O3;-ffp-contract=off")
else()
  set_source_files_properties(kernels/arm/fgemm_neon.cc kernels/arm/fdw_neon.cc PROPERTIES
    COMPILE_OPTIONS "-O3;-mfpu=neon;-ffp-contract=off")
endif()
# The float unary kernel (kernels/unary_f32_math.h): NEON at every level, no fused
# multiply-add.
list(APPEND EDGEQ_KERNEL_SOURCES kernels/arm/unary_f32_neon.cc)
set_source_files_properties(kernels/arm/unary_f32_neon.cc PROPERTIES COMPILE_OPTIONS "${EDGEQ_ARM_MISC_FLAGS}")
# The float softmax (kernels/softmax_f32_rows.h): AArch64 only (it needs FMA, vrndn, vmaxnm).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  list(APPEND EDGEQ_KERNEL_SOURCES kernels/arm/softmax_f32_neon.cc)
endif()
