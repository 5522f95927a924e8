# Cross build for Android on 64-bit ARM: a thin wrapper around the Android NDK's own
# toolchain file. UNTESTED: no NDK can be installed on the machines this project is
# built and tested on (Debian packages only), so this file has never been run; it
# follows the NDK's documented interface (build/cmake/android.toolchain.cmake with
# ANDROID_ABI and ANDROID_PLATFORM).
#
#   cmake -S . -B build-android -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/android-arm64.cmake \
#         -DANDROID_NDK=/path/to/ndk -DEDGEQ_ANDROID_PREFIX=/path/to/deps
#
# ANDROID_NDK: the NDK's root (or the ANDROID_NDK / ANDROID_NDK_ROOT / ANDROID_NDK_HOME
# environment variable). ANDROID_PLATFORM defaults to android-24.
# EDGEQ_ANDROID_PREFIX: an install prefix holding Android arm64 builds of cpuinfo (with
# its pkg-config file), pthreadpool and the FlatBuffers headers; Debian has none.
# The importer, the tests, the benchmarks and the edgeq tool are off (there is no
# emulator here); flatc comes from the host. The tool and the benchmarks can be turned
# on (-DEDGEQ_BUILD_CLI=ON -DEDGEQ_BUILD_BENCHMARKS=ON) when the prefix also holds
# CLI11, nlohmann-json, stb_image and Google Benchmark for Android.
foreach(_var ANDROID_NDK ANDROID_NDK_ROOT ANDROID_NDK_HOME)
  if(NOT ANDROID_NDK AND DEFINED ENV{${_var}})
    set(ANDROID_NDK "$ENV{${_var}}")
  endif()
endforeach()
if(NOT ANDROID_NDK OR NOT EXISTS "${ANDROID_NDK}/build/cmake/android.toolchain.cmake")
  message(FATAL_ERROR "edgeq: set ANDROID_NDK (option or environment) to the Android NDK's root (got '${ANDROID_NDK}')")
endif()
if(NOT EDGEQ_ANDROID_PREFIX AND DEFINED ENV{EDGEQ_ANDROID_PREFIX})
  set(EDGEQ_ANDROID_PREFIX "$ENV{EDGEQ_ANDROID_PREFIX}")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ANDROID_NDK EDGEQ_ANDROID_PREFIX)

set(ANDROID_ABI arm64-v8a)
if(NOT ANDROID_PLATFORM)
  set(ANDROID_PLATFORM android-24)
endif()
include("${ANDROID_NDK}/build/cmake/android.toolchain.cmake")

if(EDGEQ_ANDROID_PREFIX)
  list(APPEND CMAKE_FIND_ROOT_PATH "${EDGEQ_ANDROID_PREFIX}")
  set(ENV{PKG_CONFIG_LIBDIR} "${EDGEQ_ANDROID_PREFIX}/lib/pkgconfig:${EDGEQ_ANDROID_PREFIX}/share/pkgconfig")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(EDGEQ_BUILD_IMPORTER OFF CACHE BOOL "The ONNX importer (off for Android)")
set(EDGEQ_BUILD_TESTS OFF CACHE BOOL "Tests (off for Android: no emulator)")
set(EDGEQ_BUILD_BENCHMARKS OFF CACHE BOOL "Benchmarks (off for Android)")
set(EDGEQ_BUILD_CLI OFF CACHE BOOL "The edgeq tool (off for Android)")
