// Indirect-GEMM driver for quantized convolution (see qconv.h).
#include "kernels/qconv.h"

namespace edgeq {
namespace kern {

struct QConvOp::Impl {};

QConvOp::QConvOp() = default;
QConvOp::~QConvOp() = default;
bool QConvOp::init(const QConvParams&, const QGemmKernel&) { return false; }
void QConvOp::run(const void*, void*, pthreadpool_t) {}
size_t QConvOp::packed_bytes() const { return 0; }

}  // namespace kern
}  // namespace edgeq
