// Run-time dispatch: detects the CPU once with cpuinfo and builds one KernelSet per
// supported level on first use.
//
// Debian's cpuinfo predates AVX-VNNI and i8mm, so those two are read directly: CPUID
// leaf 7 sub-leaf 1 (EAX bit 4) on x86, getauxval(AT_HWCAP2) on AArch64 Linux.
#include <cpuinfo.h>

#include <mutex>

#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace edgeq {
namespace kern {
namespace {

constexpr const char* kNames[] = {"ref", "avx2", "avxvnni", "avx512vnni", "neon", "neondot", "neoni8mm"};
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
  return r <= 1 || p[r - 1] == r - 1 || ((elem_size == 1 || elem_size == 4) && is_batched_matrix_transpose(r, p));
}

}  // namespace kern
}  // namespace edgeq
