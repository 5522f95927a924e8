# Cross build for 32-bit ARM Linux, ARMv7-A with NEON and the hard-float ABI, with
# Debian's g++-arm-linux-gnueabihf.
#   tools/arm_sysroot.sh armhf build-armhf/sysroot
#   cmake -S . -B build-armhf -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake \
#         -DEDGEQ_SYSROOT=$PWD/build-armhf/sysroot
# NEON is the baseline of this build (every file gets -mfpu=neon). Tests run under
# qemu-arm (tools/arm_test.sh).
set(CMAKE_SYSTEM_PROCESSOR armv7-a)
set(EDGEQ_CROSS_TRIPLET arm-linux-gnueabihf)
set(EDGEQ_CROSS_QEMU qemu-arm)
set(CMAKE_C_FLAGS_INIT "-march=armv7-a -mfpu=neon -mfloat-abi=hard")
set(CMAKE_CXX_FLAGS_INIT "-march=armv7-a -mfpu=neon -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
