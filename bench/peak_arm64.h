// The body shared by the AArch64 dotprod and i8mm peak loops (peak_arm_dot.cc,
// peak_arm_i8mm.cc): 24 independent accumulators v0-v23, each updated once per
// iteration by `INSN vR.4s, v30.16b, v31.16b` on zero operands (the timing of these
// instructions does not depend on the values). Each file includes this under its
// own ISA flags, so the assembler accepts the instruction there only.
#pragma once

#define EDGEQ_PEAK_STEP(insn, r) #insn " v" #r ".4s, v30.16b, v31.16b\n\t"
#define EDGEQ_PEAK_STEP4(insn, a, b, c, d) \
  EDGEQ_PEAK_STEP(insn, a) EDGEQ_PEAK_STEP(insn, b) EDGEQ_PEAK_STEP(insn, c) EDGEQ_PEAK_STEP(insn, d)
#define EDGEQ_PEAK_ARM64_LOOP(insn, iters) \
  asm volatile("movi v30.16b, #0\n\t"                                                                          \
               "movi v31.16b, #0\n\t"                                                                          \
               "1:\n\t" EDGEQ_PEAK_STEP4(insn, 0, 1, 2, 3) EDGEQ_PEAK_STEP4(insn, 4, 5, 6, 7)                  \
                   EDGEQ_PEAK_STEP4(insn, 8, 9, 10, 11) EDGEQ_PEAK_STEP4(insn, 12, 13, 14, 15)                 \
                       EDGEQ_PEAK_STEP4(insn, 16, 17, 18, 19) EDGEQ_PEAK_STEP4(insn, 20, 21, 22, 23)           \
               "subs %0, %0, #1\n\t"                                                                           \
               "b.ne 1b\n\t"                                                                                   \
               : "+r"(iters)                                                                                    \
               :                                                                                                \
               : "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", \
                 "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v30", "v31")
