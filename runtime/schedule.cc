// The scheduler's kernel-driver runs (see schedule.h).
#include "runtime/schedule.h"

#include "kernels/qconv.h"
#include "kernels/qdwconv.h"

namespace edgeq {

void Scheduler::run(kern::QConvOp& op, const void* x, void* y) const {
  op.bind(x, y);
  const kern::QConvOp::Grid g = op.grid();
  const kern::QConvOp& tiles = op;
  if (g.n_outer) {
    tiles_2d(g.n, g.m, g.nr, g.mr, [&](size_t n0, size_t m0, size_t nc, size_t mc) { tiles.run_tile(m0, n0, mc, nc); });
  } else {
    tiles_2d(g.m, g.n, g.mr, g.nr, [&](size_t m0, size_t n0, size_t mc, size_t nc) { tiles.run_tile(m0, n0, mc, nc); });
  }
}

void Scheduler::run(kern::QDwConvOp& op, const void* x, void* y) const {
  op.bind(x, y);
  const kern::QDwConvOp& rows = op;
  each(op.rows(), [&](size_t r) { rows.run_rows(r, r + 1); });
}

}  // namespace edgeq
