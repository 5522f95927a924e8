# Cross build for 64-bit ARM Linux (AArch64) with Debian's g++-aarch64-linux-gnu.
#   tools/arm_sysroot.sh arm64 build-arm64/sysroot
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake \
#         -DEDGEQ_SYSROOT=$PWD/build-arm64/sysroot
# The baseline is ARMv8-A with NEON; the dotprod and i8mm kernels get their own flags
# per file (kernels/arm/arm.cmake) and are chosen at run time. Tests run under
# qemu-aarch64 (tools/arm_test.sh).
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(EDGEQ_CROSS_TRIPLET aarch64-linux-gnu)
set(EDGEQ_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
