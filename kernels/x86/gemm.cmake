# x86 GEMM / indirect-GEMM kernels. Each ISA's files get that ISA's flags; the rest of
# the project stays at baseline x86-64.
list(APPEND EDGEQ_KERNEL_SOURCES kernels/x86/gemm_register.cc)
