# Shared part of the Debian cross toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake); they set EDGEQ_CROSS_TRIPLET and EDGEQ_CROSS_QEMU, then
# include this file.
#
# Compilers: Debian's g++-<triplet>, whose libc, libstdc++ and libgcc live in
# /usr/<triplet>. Libraries: edgeq's dependencies come from a build-local sysroot that
# tools/arm_sysroot.sh fills with Debian's ARM packages, given as -DEDGEQ_SYSROOT=DIR
# (or the EDGEQ_SYSROOT environment variable). Host programs (flatc) come from the
# host. Tests run through qemu-user (CMAKE_CROSSCOMPILING_EMULATOR, so ctest and
# GoogleTest's test discovery work unchanged); the emulated CPU is -DEDGEQ_QEMU_CPU=NAME,
# or when that is empty qemu's own QEMU_CPU environment variable at run time.
set(CMAKE_SYSTEM_NAME Linux)

if(NOT EDGEQ_SYSROOT AND DEFINED ENV{EDGEQ_SYSROOT})
  set(EDGEQ_SYSROOT "$ENV{EDGEQ_SYSROOT}")
endif()
if(NOT EDGEQ_SYSROOT OR NOT EXISTS "${EDGEQ_SYSROOT}/usr/lib/${EDGEQ_CROSS_TRIPLET}")
  message(FATAL_ERROR "edgeq: cross build for ${EDGEQ_CROSS_TRIPLET} needs -DEDGEQ_SYSROOT=DIR, a directory "
                      "filled by tools/arm_sysroot.sh (got '${EDGEQ_SYSROOT}')")
endif()
set(EDGEQ_QEMU_CPU "" CACHE STRING "qemu-user -cpu for running tests (empty: the QEMU_CPU environment variable)")
# try_compile projects read this file again in their own directories: pass these on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EDGEQ_SYSROOT EDGEQ_QEMU_CPU)

set(CMAKE_C_COMPILER ${EDGEQ_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${EDGEQ_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${EDGEQ_CROSS_TRIPLET})

set(CMAKE_FIND_ROOT_PATH "${EDGEQ_SYSROOT}" /usr/${EDGEQ_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (cpuinfo) reads the sysroot's .pc files and prefixes their paths.
set(ENV{PKG_CONFIG_LIBDIR} "${EDGEQ_SYSROOT}/usr/lib/${EDGEQ_CROSS_TRIPLET}/pkgconfig:${EDGEQ_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${EDGEQ_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")

# Shared libraries of the sysroot that other ones need (e.g. XNNPACK -> cpuinfo).
set(_edgeq_libdir "${EDGEQ_SYSROOT}/usr/lib/${EDGEQ_CROSS_TRIPLET}")
string(APPEND CMAKE_EXE_LINKER_FLAGS_INIT " -Wl,-rpath-link,${_edgeq_libdir}")
string(APPEND CMAKE_SHARED_LINKER_FLAGS_INIT " -Wl,-rpath-link,${_edgeq_libdir}")

find_program(EDGEQ_QEMU_EXECUTABLE ${EDGEQ_CROSS_QEMU})
if(EDGEQ_QEMU_EXECUTABLE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EDGEQ_QEMU_EXECUTABLE} -L /usr/${EDGEQ_CROSS_TRIPLET}
                                    -E LD_LIBRARY_PATH=${_edgeq_libdir})
  if(EDGEQ_QEMU_CPU)
    list(APPEND CMAKE_CROSSCOMPILING_EMULATOR -cpu ${EDGEQ_QEMU_CPU})
  endif()
endif()
