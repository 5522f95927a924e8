// The int8 multiply-accumulate peak loops behind kernels_bench.cc's peak/<isa>
// benchmarks and %peak counters. Each loop runs `iters` iterations of independent
// accumulator chains of one ISA level's multiply-accumulate step in inline assembly
// (no loads, no dependences between chains) and returns the MACs of one iteration.
// Each level's loop lives in a file compiled for that level only (bench/sources.cmake);
// a loop may run only where kern::isa_supported says the level runs.
#pragma once

#include <cstdint>

namespace edgeq {
namespace bench {

using PeakLoop = double (*)(uint64_t iters);

// x86 (peak_x86.cc).
double peak_loop_avx2(uint64_t iters);        // vpmaddwd + vpaddd: 16 MACs per pair
double peak_loop_avxvnni(uint64_t iters);     // ymm vpdpbusd: 32 MACs
double peak_loop_avx512vnni(uint64_t iters);  // zmm vpdpbusd: 64 MACs
double peak_loop_amx(uint64_t iters);         // tdpbusd on 16 x 64 tiles: 16,384 MACs

// ARM (peak_arm_neon.cc; the other two on AArch64 only).
double peak_loop_neon(uint64_t iters);      // smull + sadalp (vmull.s8 + vpadal.s16 on ARMv7): 8 MACs per pair
double peak_loop_neondot(uint64_t iters);   // sdot: 16 MACs
double peak_loop_neoni8mm(uint64_t iters);  // smmla: 32 MACs

// Float multiply-add loops (peak_f32.cc), returning the multiply-adds of one iteration.
double peak_loop_f32_fma3(uint64_t iters);    // x86: ymm vfmadd231ps, 8
double peak_loop_f32_avx512(uint64_t iters);  // x86: zmm vfmadd231ps, 16
double peak_loop_f32_neon(uint64_t iters);    // ARM: fmla .4s (vmla.f32 on ARMv7), 4

}  // namespace bench
}  // namespace edgeq
