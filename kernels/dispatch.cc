// Run-time dispatch: detects the CPU once with cpuinfo and builds one KernelSet per
// supported level on first use.
//
// Debian's cpuinfo predates AVX-VNNI, AMX and i8mm, so those are read directly: CPUID
// leaf 7 sub-leaf 1 (EAX bit 4) and leaf 7 (EDX bits 24, 25) on x86, getauxval(AT_HWCAP2)
// on AArch64 Linux.
//
// AMX: Linux enables a process's tile data state only on request (arch_prctl
// ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA, kernel 5.16 and later); without it the
// first tile instruction faults. The amx level asks once and is supported only when the
// CPU has AMX-TILE and AMX-INT8, the OS enabled both tile state components in XCR0, and
// the request succeeded.
#include <cpuinfo.h>

#include <mutex>

#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace edgeq {
namespace kern {
namespace {

constexpr const char* kNames[] = {"ref", "avx2", "avxvnni", "avx512vnni", "amx", "neon", "neondot", "neoni8mm"};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(Isa::kCount), "one name per level");

bool cpu_ready() {
  static const bool ok = cpuinfo_initialize();
  return ok;
}

#if defined(__x86_64__) || defined(__i386__)
bool x86_avxvnni() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
  return (eax >> 4) & 1u;
}
#endif

#if defined(__x86_64__) && defined(__linux__)
bool x86_amx_int8_usable() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool tile = (edx >> 24) & 1u, int8 = (edx >> 25) & 1u;
  if (!tile || !int8) return false;
  // OSXSAVE (leaf 1 ECX bit 27) before reading XCR0; XCR0 bits 17 (XTILECFG) and 18
  // (XTILEDATA) say the OS manages the tile state.
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !((ecx >> 27) & 1u)) return false;
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & (3u << 17)) != (3u << 17)) return false;
  constexpr long kArchReqXcompPerm = 0x1023;  // ARCH_REQ_XCOMP_PERM (asm/prctl.h)
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

bool x86_amx() {
  static const bool ok = x86_amx_int8_usable();  // the request is made once per process
  return ok;
}
#endif

#if defined(__aarch64__) && defined(__linux__)
bool arm_i8mm() {
  constexpr unsigned long kHwcap2I8mm = 1ul << 13;  // HWCAP2_I8MM
  return (getauxval(AT_HWCAP2) & kHwcap2I8mm) != 0;
}
#endif

// Whether the host CPU runs `isa` (whether this build has kernels for it is separate).
bool host_runs(Isa isa) {
  if (isa == Isa::kRef) return true;
  if (!cpu_ready()) return false;
  switch (isa) {
#if defined(__x86_64__) || defined(__i386__)
    case Isa::kAvx2: return cpuinfo_has_x86_avx2();
    case Isa::kAvxVnni: return cpuinfo_has_x86_avx2() && x86_avxvnni();
    case Isa::kAvx512Vnni:
      return cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx512vl() &&
             cpuinfo_has_x86_avx512vnni();
#endif
#if defined(__x86_64__) && defined(__linux__)
    case Isa::kAmx: return host_runs(Isa::kAvx512Vnni) && x86_amx();
#endif
#if defined(__aarch64__) || defined(__arm__)
    case Isa::kNeon: return cpuinfo_has_arm_neon();
    case Isa::kNeonDot: return cpuinfo_has_arm_neon() && cpuinfo_has_arm_neon_dot();
#endif
#if defined(__aarch64__) && defined(__linux__)
    case Isa::kNeonI8mm: return cpuinfo_has_arm_neon_dot() && arm_i8mm();
#endif
    default: return false;
  }
}

KernelSet* sets() {
  static KernelSet s[static_cast<size_t>(Isa::kCount)];
  return s;
}

const KernelSet& build(Isa isa) {
  static std::once_flag once[static_cast<size_t>(Isa::kCount)];
  const size_t i = static_cast<size_t>(isa);
  std::call_once(once[i], [isa, i] {
    KernelSet& k = sets()[i];
    k.isa = isa;
    if (isa != Isa::kRef) {
      register_gemm_kernels(isa, &k);
      register_misc_kernels(isa, &k);
    }
  });
  return sets()[i];
}

}  // namespace

const char* isa_name(Isa isa) {
  const size_t i = static_cast<size_t>(isa);
  return i < static_cast<size_t>(Isa::kCount) ? kNames[i] : "unknown";
}

bool parse_isa(const std::string& name, Isa* out) {
  for (size_t i = 0; i < static_cast<size_t>(Isa::kCount); ++i)
    if (name == kNames[i]) {
      *out = static_cast<Isa>(i);
      return true;
    }
  return false;
}

bool isa_supported(Isa isa) {
  if (isa == Isa::kRef) return true;
  if (static_cast<size_t>(isa) >= static_cast<size_t>(Isa::kCount) || !host_runs(isa)) return false;
  // A level counts as built in when its registration provides a GEMM or depthwise kernel.
  return build(isa).gemm.u8 != nullptr || build(isa).dw.kernel[0].u8 != nullptr;
}

Isa best_isa() {
  Isa best = Isa::kRef;
  for (size_t i = 1; i < static_cast<size_t>(Isa::kCount); ++i)
    if (isa_supported(static_cast<Isa>(i))) best = static_cast<Isa>(i);
  return best;
}

std::string supported_isa_names() {
  std::string s;
  for (size_t i = 0; i < static_cast<size_t>(Isa::kCount); ++i)
    if (isa_supported(static_cast<Isa>(i))) s += (s.empty() ? "" : ", ") + std::string(kNames[i]);
  return s;
}

const KernelSet& kernel_set(Isa isa) { return build(isa); }

bool is_channels_last_perm(int rank, const int32_t* perm) {
  if (rank < 3 || perm[0] != 0 || perm[rank - 1] != 1) return false;
  for (int d = 1; d < rank - 1; ++d) {
    if (perm[d] != d + 1) return false;
  }
  return true;
}

bool is_channels_first_perm(int rank, const int32_t* perm) {
  if (rank < 3 || perm[0] != 0 || perm[1] != rank - 1) return false;
  for (int d = 2; d < rank; ++d) {
    if (perm[d] != d - 1) return false;
  }
  return true;
}

int collapse_transpose(int rank, const int32_t* in_shape, const int32_t* perm, int32_t* shape_out,
                       int32_t* perm_out) {
  int32_t kept[ref::kMaxDims];  // input dimension -> its index among those kept, -1: size 1
  int n_kept = 0;
  for (int d = 0; d < rank; ++d) kept[d] = in_shape[d] == 1 ? -1 : n_kept++;
  // Output order, kept dimensions only; a group is a run of them consecutive in the input.
  int32_t first[ref::kMaxDims];  // each group's first input dimension (kept index)
  int64_t size[ref::kMaxDims];
  int groups = 0, previous = -2;
  for (int d = 0; d < rank; ++d) {
    const int k = kept[perm[d]];
    if (k < 0) continue;
    if (k == previous + 1) {
      size[groups - 1] *= in_shape[perm[d]];
    } else {
      first[groups] = k;
      size[groups++] = in_shape[perm[d]];
    }
    previous = k;
  }
  for (int g = 0; g < groups; ++g) {  // a group's input position: groups starting before it
    int position = 0;
    for (int h = 0; h < groups; ++h) position += first[h] < first[g];
    perm_out[g] = position;
    shape_out[position] = static_cast<int32_t>(size[g]);
  }
  return groups;
}

bool is_batched_matrix_transpose(int rank, const int32_t* perm) {
  return (rank == 2 && perm[0] == 1 && perm[1] == 0) || (rank == 3 && perm[0] == 0 && perm[1] == 2 && perm[2] == 1);
}

bool transpose_kernel_covers(int rank, const int32_t* in_shape, const int32_t* perm, size_t elem_size) {
  if ((elem_size == 1 || elem_size == 4) && (is_channels_last_perm(rank, perm) || is_channels_first_perm(rank, perm)))
    return true;
  int32_t shape[ref::kMaxDims], p[ref::kMaxDims];
  const int r = collapse_transpose(rank, in_shape, perm, shape, p);
  return r <= 1 || p[r - 1] == r - 1 || elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8;
}

}  // namespace kern
}  // namespace edgeq
