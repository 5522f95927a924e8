# x86 depthwise, elementwise, pooling, lookup and concat kernels, per-ISA flags.
list(APPEND EDGEQ_KERNEL_SOURCES kernels/x86/misc_register.cc)
