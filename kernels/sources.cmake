# Reference (scalar) kernels; the oracle for every optimized kernel.
set(EDGEQ_KERNEL_SOURCES
  kernels/ref/requant.cc
  kernels/ref/conv.cc
  kernels/ref/elementwise.cc
  kernels/ref/pool.cc
  kernels/ref/data.cc
)
