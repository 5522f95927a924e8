// Shared pieces of the `edgeq` command-line tool (see cli.h).
#include "tools/cli.h"

#include "kernels/dw_pack_layout.h"
#include "kernels/fdwconv.h"
#include "kernels/ffc.h"
#include "kernels/pack_layout.h"
#include "kernels/qmatmul.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace edgeq {
namespace cli {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int report(const Status& s) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "edgeq: error: %s\n", s.message().c_str());
  return 1;
}

void SessionArgs::add_to(CLI::App* app) {
  app->add_option("--threads", threads, "threads (0: one per core)")->check(CLI::Range(0, 256));
  app->add_option("--isa", isa,
                  "force a kernel level: ref, avx2, avxvnni, avx512vnni, amx, neon, neondot, neoni8mm "
                  "(default: EDGEQ_ISA, else the best the CPU runs)");
}

std::string human_bytes(size_t b) {
  char buf[32];
  if (b >= (1u << 20))
    std::snprintf(buf, sizeof(buf), "%.2f MiB", b / 1048576.0);
  else if (b >= 1024)
    std::snprintf(buf, sizeof(buf), "%.1f KiB", b / 1024.0);
  else
    std::snprintf(buf, sizeof(buf), "%zu B", b);
  return buf;
}

SessionOptions SessionArgs::options() const {
  SessionOptions o;
  o.num_threads = threads;
  o.isa = isa;
  return o;
}

Status add_packed_levels(const std::string& levels, Graph* g, size_t* bytes) {
  *bytes = 0;
  // Drops the segments `stale` matches and appends what `prepack` packs in their place,
  // counting its bytes.
  auto repack = [&](auto stale, auto prepack) -> Status {
    g->packed.erase(std::remove_if(g->packed.begin(), g->packed.end(), stale), g->packed.end());
    const size_t first = g->packed.size();
    EDGEQ_RETURN_IF_ERROR(prepack());
    for (size_t i = first; i < g->packed.size(); ++i) *bytes += g->packed[i].nbytes;
    return Status::Ok();
  };
  std::vector<kern::Isa> ffc_levels;
  size_t begin = 0;
  while (begin <= levels.size()) {
    const size_t comma = std::min(levels.find(',', begin), levels.size());
    const std::string name = levels.substr(begin, comma - begin);
    begin = comma + 1;
    kern::Isa isa;
    if (!kern::parse_isa(name, &isa) || isa == kern::Isa::kRef)
      return InvalidArgument("--pack: unknown kernel level '" + name +
                             "' (avx2, avxvnni, avx512vnni, amx, neon, neondot, neoni8mm)");
    for (const kern::QGemmKernel& layout : kern::gemm_pack_layouts(isa)) {
      const std::string dynamic = kern::qmatmul_layout_prefix(layout.name);
      EDGEQ_RETURN_IF_ERROR(repack(
          [&](const PackedWeights& pw) {
            return pw.kernel == layout.name || pw.kernel == layout.name_s8 || pw.kernel.rfind(dynamic, 0) == 0;
          },
          [&] {
            EDGEQ_RETURN_IF_ERROR(prepack_gemm(*g, layout, &g->packed));
            return prepack_qmatmul(*g, layout, &g->packed);
          }));
    }
    const kern::DwKernels dw = kern::dw_pack_layouts(isa);
    EDGEQ_RETURN_IF_ERROR(repack(
        [&](const PackedWeights& pw) {
          for (const kern::DwKernel& k : dw.kernel)
            if (k.name != nullptr && pw.kernel == k.name) return true;
          return false;
        },
        [&] { return prepack_depthwise(*g, isa, &g->packed); }));
    // Float fully connected and convolution panels: one layout per NR, shared by levels
    // (avx2 and avxvnni; the neon levels), packed once below.
    if (std::none_of(ffc_levels.begin(), ffc_levels.end(),
                     [&](kern::Isa other) { return kern::ffc_pack_nr(other) == kern::ffc_pack_nr(isa); }))
      ffc_levels.push_back(isa);
  }
  for (kern::Isa isa : ffc_levels) {
    const std::string ffc = kern::ffc_layout_name(kern::ffc_pack_nr(isa));
    EDGEQ_RETURN_IF_ERROR(repack([&](const PackedWeights& pw) { return pw.kernel == ffc; },
                                 [&] { return prepack_float_fc(*g, isa, &g->packed); }));
  }
  // Float depthwise weights: one layout for every level.
  if (!ffc_levels.empty())
    EDGEQ_RETURN_IF_ERROR(repack([&](const PackedWeights& pw) { return pw.kernel == kern::kFDwLayoutName; },
                                 [&] { return prepack_float_dw(*g, &g->packed); }));
  return Status::Ok();
}

Status open_session(const std::string& path, const SessionArgs& args, std::unique_ptr<Session>* out) {
  std::shared_ptr<const Model> model;
  EDGEQ_RETURN_IF_ERROR(Model::load_file(path, &model));
  return Session::create(model, args.options(), out);
}

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), tty_(::isatty(2) != 0), start_(now_seconds()) {}

void Progress::update(int64_t done) {
  if (total_ <= 0) return;
  const int64_t tenth = done * 10 / total_;
  if (!tty_ && tenth == last_tenth_) return;
  last_tenth_ = tenth;
  const double elapsed = now_seconds() - start_;
  const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done) : 0.0;
  std::fprintf(stderr, "%s%s %lld/%lld (%3d%%)  %.1fs elapsed, ETA %.1fs%s", tty_ ? "\r" : "", label_.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), static_cast<int>(100 * done / total_),
               elapsed, eta, tty_ ? "   " : "\n");
  std::fflush(stderr);
}

void Progress::done() {
  if (tty_ && total_ > 0) std::fprintf(stderr, "\n");
}

}  // namespace cli
}  // namespace edgeq
