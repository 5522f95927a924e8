// Run-time dispatch (kernels/dispatch.cc) and what each level registers: the level
// picked as the best, and the kernels of every supported level with their names, which
// must follow the naming rule of kernels/kernels.h and agree with the registered tile
// and level.
//
// EDGEQ_EXPECT_ISA (set by tools/arm_test.sh per emulated CPU) names the level dispatch
// must pick as the best on this CPU.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace edgeq {
namespace kern {
namespace {

std::vector<Isa> supported_levels() {
  std::vector<Isa> levels;
  for (size_t i = 1; i < static_cast<size_t>(Isa::kCount); ++i)
    if (isa_supported(static_cast<Isa>(i))) levels.push_back(static_cast<Isa>(i));
  return levels;
}

// Whether `name` is "<prefix><isa>" for an ISA that `level` includes: the ISA of the
// code, which may be below the level (the i8mm level runs the dotprod depthwise kernels).
::testing::AssertionResult named_for(const char* name, const std::string& prefix, Isa level) {
  const std::string s = name != nullptr ? name : "(null)";
  Isa isa;
  if (s.compare(0, prefix.size(), prefix) != 0 || !parse_isa(s.substr(prefix.size()), &isa))
    return ::testing::AssertionFailure() << s << " is not " << prefix << "<isa>";
  if (isa == Isa::kRef || isa > level || !isa_supported(isa))
    return ::testing::AssertionFailure() << s << ": " << isa_name(isa) << " is not part of " << isa_name(level);
  return ::testing::AssertionSuccess();
}

// The level dispatch picks as the best must be the one expected for this CPU, and every
// level below a supported one must be supported too.
TEST(DispatchTest, PicksTheExpectedLevel) {
  const Isa best = best_isa();
  const char* expected = std::getenv("EDGEQ_EXPECT_ISA");
  if (expected != nullptr && *expected != '\0') {
    Isa want;
    ASSERT_TRUE(parse_isa(expected, &want)) << expected;
    EXPECT_EQ(best, want) << "best " << isa_name(best) << ", supported: " << supported_isa_names();
  }
  ASSERT_TRUE(isa_supported(best));
  if (best == Isa::kNeonDot || best == Isa::kNeonI8mm) {
    EXPECT_TRUE(isa_supported(Isa::kNeon));
  }
  if (best == Isa::kNeonI8mm) {
    EXPECT_TRUE(isa_supported(Isa::kNeonDot));
  }
}

// The amx level is registered exactly when the CPU has AMX-INT8 (read here from the
// kernel's /proc/cpuinfo flags, not from dispatch's CPUID): an AMX CPU whose level
// went missing fails, and a CPU without it says so rather than passing silently.
TEST(DispatchTest, AmxLevelFollowsTheCpu) {
#if defined(__x86_64__) && defined(__linux__)
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  bool amx_int8 = false, amx_tile = false;
  while (std::getline(in, line)) {
    if (line.compare(0, 5, "flags") != 0) continue;
    std::istringstream words(line);
    for (std::string w; words >> w;) {
      amx_int8 = amx_int8 || w == "amx_int8";
      amx_tile = amx_tile || w == "amx_tile";
    }
    break;
  }
  if (!amx_int8 || !amx_tile) {
    EXPECT_FALSE(isa_supported(Isa::kAmx));
    GTEST_SKIP() << "this CPU has no AMX-INT8 (no amx_int8 in /proc/cpuinfo): the amx level is not registered, "
                    "its kernel is not tested here";
  }
  ASSERT_TRUE(isa_supported(Isa::kAmx)) << "the CPU has AMX-INT8 but the amx level is not supported (tile data "
                                            "permission refused by the kernel?); supported: "
                                         << supported_isa_names();
  EXPECT_EQ(best_isa(), Isa::kAmx);
  EXPECT_STREQ(kernel_set(Isa::kAmx).gemm.name, "qu8_igemm_minmax_ukernel_32x32c4__amx");
#else
  EXPECT_FALSE(isa_supported(Isa::kAmx));
  GTEST_SKIP() << "AMX is an x86-64 Linux level";
#endif
}

// A GEMM kernel is qu8_igemm_minmax_ukernel_<MR>x<NR>c<KR>__<isa>, with the registered
// MR, NR and KR, and has both activation types.
TEST(DispatchTest, GemmKernelNames) {
  for (Isa isa : supported_levels()) {
    const QGemmKernel& k = kernel_set(isa).gemm;
    if (k.u8 == nullptr) continue;
    SCOPED_TRACE(isa_name(isa));
    ASSERT_NE(k.name, nullptr);
    EXPECT_NE(k.s8, nullptr);
    EXPECT_GT(k.mr, 0u);
    EXPECT_GT(k.nr, 0u);
    EXPECT_GT(k.kr, 0u);
    EXPECT_EQ(k.u8_row == nullptr, k.s8_row == nullptr);
    EXPECT_TRUE(named_for(k.name,
                          "qu8_igemm_minmax_ukernel_" + std::to_string(k.mr) + "x" + std::to_string(k.nr) + "c" +
                              std::to_string(k.kr) + "__",
                          isa));
  }
}

// A depthwise kernel is q8_dwconv_minmax_ukernel_<tile>c<group>__<isa>.
TEST(DispatchTest, DepthwiseKernelNames) {
  for (Isa isa : supported_levels()) {
    for (const DwKernel& k : kernel_set(isa).dw.kernel) {
      if (k.u8 == nullptr) continue;
      SCOPED_TRACE(isa_name(isa));
      ASSERT_NE(k.name, nullptr);
      EXPECT_TRUE(named_for(
          k.name, "q8_dwconv_minmax_ukernel_" + std::to_string(k.tile) + "c" + std::to_string(k.group) + "__", isa));
    }
  }
}

// Every misc family with functions has a name of the rule, and no family without
// functions has one.
TEST(DispatchTest, MiscKernelNames) {
  struct Family {
    const char* what;
    const char* name;
    bool has_functions;
    const char* prefix;
  };
  for (Isa level : supported_levels()) {
    SCOPED_TRACE(isa_name(level));
    const MiscKernels& m = kernel_set(level).misc;
    const Family families[] = {
        {"qbinary", m.names.qbinary, m.qbinary_s8 && m.qbinary_u8, "q8_vbinary_minmax_ukernel__"},
        {"qmaxpool", m.names.qmaxpool, m.qmaxpool_s8 && m.qmaxpool_u8, "q8_maxpool_minmax_ukernel__"},
        {"qavgpool", m.names.qavgpool, m.qavgpool_s8 && m.qavgpool_u8, "q8_avgpool_minmax_ukernel__"},
        {"qglobal_avgpool", m.names.qglobal_avgpool, m.qglobal_avgpool_s8 && m.qglobal_avgpool_u8,
         "q8_gavgpool_minmax_ukernel__"},
        {"lookup", m.names.lookup, m.lookup_s8 && m.lookup_u8, "x8_lut_ukernel__"},
        {"concat", m.names.concat, m.concat != nullptr, "xx_concat_ukernel__"},
        {"quantize", m.names.quantize, m.quantize_s8 && m.quantize_u8, "f32_q8_vcvt_ukernel__"},
        {"dequantize", m.names.dequantize, m.dequantize_s8 && m.dequantize_u8, "q8_f32_vcvt_ukernel__"},
        {"transpose", m.names.transpose, m.transpose != nullptr, "xx_transpose_ukernel__"},
        {"slice", m.names.slice, m.slice != nullptr, "xx_slice_ukernel__"},
        {"pad", m.names.pad, m.pad != nullptr, "xx_pad_ukernel__"},
    };
    for (const Family& f : families) {
      if (!f.has_functions) {
        EXPECT_EQ(f.name, nullptr) << f.what;
        continue;
      }
      EXPECT_TRUE(named_for(f.name, f.prefix, level)) << f.what;
    }
  }
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
