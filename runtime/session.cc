// Model loading and session execution (see session.h).
#include "runtime/session.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "graph/format.h"
#include "kernels/dw_pack_layout.h"
#include "kernels/fdwconv.h"
#include "kernels/ffc.h"
#include "kernels/gemm_pick.h"
#include "kernels/memory.h"
#include "kernels/pack_layout.h"
#include "kernels/qconv.h"
#include "kernels/qdwconv.h"
#include "kernels/qmatmul.h"
#include "kernels/ref/ref.h"
#include "runtime/view_fold.h"

namespace edgeq {
namespace {

std::string errno_text() { return std::strerror(errno); }

// Whether none of the n floats at `data` (any alignment) is NaN or infinite (all
// exponent bits set), in a form the compiler vectorizes: it runs on every float input
// a caller sets.
bool all_finite(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint32_t nonfinite = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, p + i * sizeof(bits), sizeof(bits));
    nonfinite |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return nonfinite == 0;
}

// Reads a whole file into aligned memory (used when mmap is not possible).
Status read_file(int fd, const std::string& path, uint8_t** out, size_t* size) {
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, chunk, sizeof(chunk));
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read '" + path + "': " + errno_text());
    }
    if (r == 0) break;
    bytes.insert(bytes.end(), chunk, chunk + r);
  }
  uint8_t* buffer = kern::aligned_malloc(bytes.size());
  if (!buffer) return OutOfMemory("out of memory reading '" + path + "'");
  if (!bytes.empty()) std::memcpy(buffer, bytes.data(), bytes.size());
  *out = buffer;
  *size = bytes.size();
  return Status::Ok();
}

}  // namespace

Model::~Model() {
  if (map_) ::munmap(map_, size_);
  std::free(buffer_);
}

Status Model::load_file(const std::string& path, std::shared_ptr<const Model>* out) {
  const auto t0 = std::chrono::steady_clock::now();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open '" + path + "': " + errno_text());
  std::shared_ptr<Model> m(new (std::nothrow) Model());
  if (!m) {
    ::close(fd);
    return OutOfMemory("out of memory");
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return IoError("cannot stat '" + path + "': " + errno_text());
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return IoError("'" + path + "' is a directory");
  }
  const uint8_t* data = nullptr;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      m->map_ = p;
      m->size_ = static_cast<size_t>(st.st_size);
      data = static_cast<const uint8_t*>(p);
    }
  }
  if (!data) {
    Status st_read = read_file(fd, path, &m->buffer_, &m->size_);
    if (!st_read.ok()) {
      ::close(fd);
      return st_read;
    }
    data = m->buffer_;
  }
  ::close(fd);
  Status s = parse_graph(data, m->size_, &m->graph_);
  if (!s.ok()) return Status(s.code(), "'" + path + "': " + s.message());
  if (m->map_) m->cache_.set_mapping(static_cast<const uint8_t*>(m->map_), m->size_);
  m->finish_load("'" + path + "'");
  m->load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  *out = std::move(m);
  return Status::Ok();
}

Status Model::load_memory(const void* data, size_t size, std::shared_ptr<const Model>* out) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!data && size) return InvalidArgument("null model data");
  std::shared_ptr<Model> m(new (std::nothrow) Model());
  if (!m) return OutOfMemory("out of memory");
  m->buffer_ = kern::aligned_malloc(size);
  if (!m->buffer_) return OutOfMemory("out of memory copying the model");
  if (size) std::memcpy(m->buffer_, data, size);
  m->size_ = size;
  EDGEQ_RETURN_IF_ERROR(parse_graph(m->buffer_, size, &m->graph_));
  m->finish_load("model");
  m->load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  *out = std::move(m);
  return Status::Ok();
}

namespace {

// Whether `kernel` names a GEMM layout valid only for weights in [-127, 127].
bool w127_only_layout(const std::string& kernel) {
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l)
    for (const kern::QGemmKernel& k : kern::gemm_pack_layouts(static_cast<kern::Isa>(l)))
      if (k.w127_only && (kernel == k.name || kernel == k.name_s8)) return true;
  return false;
}

// The layout version this build packs for the kernel named `kernel`: a float fully
// connected panel layout's, the float depthwise layout's, a dynamically quantized fully
// connected layer's (kern::qmatmul_layout_name), a depthwise layout's or the GEMM
// layouts'.
uint32_t layout_version(const std::string& kernel) {
  if (kern::is_ffc_layout(kernel)) return kern::kFFcPackLayout;
  if (kernel == kern::kFDwLayoutName) return kern::kFDwPackLayout;
  if (kern::is_qmatmul_layout(kernel)) return kern::kQMatMulPackLayout;
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l)
    for (const kern::DwKernel& k : kern::dw_pack_layouts(static_cast<kern::Isa>(l)).kernel)
      if (k.name != nullptr && kernel == k.name) return kern::kQDwPackLayout;
  return kern::kQConvPackLayout;
}

}  // namespace

void Model::finish_load(const std::string& label) {
  folded_ = fold_matmul_views(graph_);
  for (const PackedWeights& pw : graph_.packed) {
    const Node& n = graph_.nodes[pw.node];
    const uint32_t version = layout_version(pw.kernel);
    if (pw.layout != version) {
      notes_.push_back(label + ": pre-packed weights of node '" + n.name + "' for " + pw.kernel +
                       " have layout version " + std::to_string(pw.layout) + ", this build packs version " +
                       std::to_string(version) + ": packed at session creation instead");
      continue;
    }
    // Never looked up (the node's weights pick the exact kernel: kernels/gemm_pick.h).
    const Tensor& w = graph_.tensors[n.inputs[1]];
    if (w127_only_layout(pw.kernel) && w.dtype == DType::kS8 &&
        kern::weights_hold_int8_min(w.as<int8_t>(), w.nbytes))
      notes_.push_back(label + ": pre-packed weights of node '" + n.name + "' for " + pw.kernel +
                       ", a kernel for weights in [-127, 127], but the node's weights hold -128: ignored (the "
                       "node runs the level's exact kernel)");
  }
}

size_t Model::prepacked_bytes() const {
  size_t total = 0;
  for (const PackedWeights& pw : graph_.packed)
    if (pw.layout == layout_version(pw.kernel)) total += pw.nbytes;
  return total;
}

Session::~Session() {
  ops_.clear();  // ops may reference the pool
  ieee_ops_.clear();
  if (pool_) pthreadpool_destroy(pool_);
  kern::zeroed_free(arena_, plan_.plan.arena_size);
}

namespace {

// The level a session runs: the option, else EDGEQ_ISA, else the best supported.
Status choose_isa(const std::string& option, kern::Isa* out) {
  std::string name = option;
  const char* origin = "session option";
  if (name.empty() || name == "auto") {
    const char* env = std::getenv("EDGEQ_ISA");
    name = env ? env : "";
    origin = "EDGEQ_ISA";
  }
  if (name.empty() || name == "auto") {
    *out = kern::best_isa();
    return Status::Ok();
  }
  if (!kern::parse_isa(name, out))
    return InvalidArgument(std::string(origin) + ": unknown ISA '" + name + "' (supported here: " +
                           kern::supported_isa_names() + ")");
  if (!kern::isa_supported(*out))
    return Unsupported(std::string(origin) + ": ISA '" + name + "' is not supported by this CPU or build (supported here: " +
                       kern::supported_isa_names() + ")");
  return Status::Ok();
}

}  // namespace

namespace {

// A node the view fold folded into a MatMul: it runs nothing.
class FoldedNode : public PreparedOp {
 public:
  void run(uint8_t* const*) override {}
  const char* kernel_name() const override { return "folded"; }
};

}  // namespace

Status Session::create(std::shared_ptr<const Model> model, const SessionOptions& options,
                       std::unique_ptr<Session>* out) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!model) return InvalidArgument("null model");
  if (options.num_threads < 0) return InvalidArgument("num_threads must be >= 0");
  kern::Isa isa = kern::Isa::kRef;
  EDGEQ_RETURN_IF_ERROR(choose_isa(options.isa, &isa));
  std::unique_ptr<Session> s(new (std::nothrow) Session());
  if (!s) return OutOfMemory("out of memory");
  s->model_ = std::move(model);
  s->isa_ = kern::isa_name(isa);
  // One thread runs on the caller with no pool at all; more share a pthreadpool.
  s->num_threads_ = thread_count(options.num_threads);
  if (s->num_threads_ > 1) EDGEQ_RETURN_IF_ERROR(create_thread_pool(s->num_threads_, &s->pool_));
  const Graph& g = options.fold_views && s->model_->folded_graph() ? *s->model_->folded_graph() : s->model_->graph();
  s->exec_ = &g;

  s->ops_.reserve(g.nodes.size());
  s->ieee_ops_.reserve(g.nodes.size());
  s->input_nonfinite_.assign(g.inputs.size(), 0);
  OpContext ctx;
  ctx.kernels = &kern::kernel_set(isa);
  s->kernels_ = ctx.kernels;
  s->scheduler_ = Scheduler(s->pool_);
  ctx.scheduler = &s->scheduler_;
  ctx.cache = &s->model_->pack_cache();
  OpContext ref_ctx = ctx;
  ref_ctx.kernels = &kern::kernel_set(kern::Isa::kRef);
  // Ops first: the arena holds their workspaces too. A node's op and its reference
  // twin (for non-finite inputs) never run together, so they share one workspace.
  std::vector<size_t> workspace(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    std::unique_ptr<PreparedOp> op, ieee;
    if (n.op == OpType::kCount && n.inputs.empty() && n.outputs.empty()) {
      op = std::make_unique<FoldedNode>();  // folded into a neighbour by the view fold
    } else {
      EDGEQ_RETURN_IF_ERROR(prepare_op(g, n, ctx, &op));
      if (!op->propagates_nonfinite()) EDGEQ_RETURN_IF_ERROR(prepare_op(g, n, ref_ctx, &ieee));
    }
    workspace[i] = std::max(op->workspace_bytes(), ieee ? ieee->workspace_bytes() : size_t{0});
    s->checked_.push_back(op->checks_inputs() ? 1 : 0);
    s->ops_.push_back(std::move(op));
    s->ieee_ops_.push_back(std::move(ieee));
  }

  s->plan_ = plan_graph(g, workspace);
  // Zeroed without a pass over it: its pages come as the first run touches them.
  s->arena_ = kern::zeroed_alloc(s->plan_.plan.arena_size);
  if (!s->arena_) return OutOfMemory("cannot allocate a " + std::to_string(s->plan_.plan.arena_size) + "-byte arena");

  s->ptrs_.assign(g.tensors.size(), nullptr);
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor& root = g.tensors[s->plan_.tensor_alias[i]];
    if (root.is_constant())
      s->ptrs_[i] = const_cast<uint8_t*>(root.data);  // kernels never write inputs
    else if (s->plan_.tensor_buffer[i] >= 0)
      s->ptrs_[i] = s->arena_ + s->plan_.plan.offsets[s->plan_.tensor_buffer[i]];
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const int32_t b = s->plan_.node_workspace[i];
    if (b < 0) continue;
    uint8_t* w = s->arena_ + s->plan_.plan.offsets[b];
    s->ops_[i]->set_workspace(w);
    if (s->ieee_ops_[i]) s->ieee_ops_[i]->set_workspace(w);
  }
  s->create_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  *out = std::move(s);
  return Status::Ok();
}

Status Session::check_io(size_t index, bool input, const void* data) const {
  const size_t count = input ? graph().inputs.size() : graph().outputs.size();
  const char* kind = input ? "input" : "output";
  if (index >= count) return InvalidArgument(std::string(kind) + " index " + std::to_string(index) + " out of range");
  if (!data) return InvalidArgument(input ? "null input data" : "null output buffer");
  return Status::Ok();
}

Status Session::set_input_f32(size_t index, const float* data, size_t count) {
  EDGEQ_RETURN_IF_ERROR(check_io(index, true, data));
  const Tensor& t = input(index);
  if (count != static_cast<size_t>(t.num_elements()))
    return InvalidArgument("input '" + t.name + "' has " + std::to_string(t.num_elements()) + " elements, got " +
                           std::to_string(count));
  uint8_t* dst = ptrs_[graph().inputs[index]];
  switch (t.dtype) {
    case DType::kF32:
      std::memcpy(dst, data, count * 4);
      input_nonfinite_[index] = !all_finite(data, count);
      break;
    case DType::kS8: {  // the level's quantize kernel (equal to the reference)
      const kern::QuantizeFn<int8_t> fn = kernels_->misc.quantize_s8 ? kernels_->misc.quantize_s8 : &ref::quantize<int8_t>;
      fn(count, data, t.quant.scale[0], t.quant.zero_point[0], reinterpret_cast<int8_t*>(dst));
      break;
    }
    case DType::kU8: {
      const kern::QuantizeFn<uint8_t> fn = kernels_->misc.quantize_u8 ? kernels_->misc.quantize_u8 : &ref::quantize<uint8_t>;
      fn(count, data, t.quant.scale[0], t.quant.zero_point[0], dst);
      break;
    }
    default:
      return InvalidArgument("input '" + t.name + "' has dtype " + dtype_name(t.dtype) +
                             ", not settable from float (give integer values)");
  }
  return Status::Ok();
}

Status Session::set_input_raw(size_t index, const void* data, size_t bytes) {
  EDGEQ_RETURN_IF_ERROR(check_io(index, true, data));
  const Tensor& t = input(index);
  if (bytes != t.byte_size())
    return InvalidArgument("input '" + t.name + "' takes " + std::to_string(t.byte_size()) + " bytes of " +
                           dtype_name(t.dtype) + ", got " + std::to_string(bytes));
  std::memcpy(ptrs_[graph().inputs[index]], data, bytes);
  if (t.dtype == DType::kF32) input_nonfinite_[index] = !all_finite(data, bytes / sizeof(float));
  return Status::Ok();
}

Status Session::check_index_io(size_t index, bool input, const void* data, size_t count) const {
  EDGEQ_RETURN_IF_ERROR(check_io(index, input, data));
  const Tensor& t = input ? this->input(index) : output(index);
  const char* kind = input ? "input" : "output";
  if (!is_integer_valued(t.dtype))
    return InvalidArgument(std::string(kind) + " '" + t.name + "' has dtype " + dtype_name(t.dtype) +
                           ", not an integer (s32 / s64) or bool tensor");
  if (count != static_cast<size_t>(t.num_elements()))
    return InvalidArgument(std::string(kind) + " '" + t.name + "' has " + std::to_string(t.num_elements()) +
                           " elements, got " + std::to_string(count));
  return Status::Ok();
}

template <typename T>
Status Session::set_input_int(size_t index, const T* data, size_t count) {
  EDGEQ_RETURN_IF_ERROR(check_index_io(index, true, data, count));
  const Tensor& t = input(index);
  uint8_t* dst = ptrs_[graph().inputs[index]];
  if (t.dtype == DType::kBool) {  // non-zero is true
    for (size_t i = 0; i < count; ++i) dst[i] = data[i] != 0;
    return Status::Ok();
  }
  if (t.dtype == DType::kS64) {
    int64_t* out = reinterpret_cast<int64_t*>(dst);
    for (size_t i = 0; i < count; ++i) out[i] = data[i];
    return Status::Ok();
  }
  if constexpr (sizeof(T) > sizeof(int32_t)) {
    for (size_t i = 0; i < count; ++i)  // checked before anything is written
      if (data[i] < std::numeric_limits<int32_t>::min() || data[i] > std::numeric_limits<int32_t>::max())
        return InvalidArgument("input '" + t.name + "' is s32: value " + std::to_string(data[i]) + " at position " +
                               std::to_string(i) + " does not fit");
  }
  int32_t* out = reinterpret_cast<int32_t*>(dst);
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<int32_t>(data[i]);
  return Status::Ok();
}

Status Session::set_input_s64(size_t index, const int64_t* data, size_t count) {
  return set_input_int(index, data, count);
}
Status Session::set_input_s32(size_t index, const int32_t* data, size_t count) {
  return set_input_int(index, data, count);
}

bool Session::nonfinite_inputs() const {
  for (uint8_t v : input_nonfinite_)
    if (v) return true;
  return false;
}

Status Session::run() {
  uint8_t* const* p = ptrs_.data();
  const bool nonfinite = nonfinite_inputs();
  for (size_t i = 0; i < ops_.size(); ++i) {
    EDGEQ_RETURN_IF_ERROR(check_node(i));
    op_to_run(i, nonfinite).run(p);
  }
  return Status::Ok();
}

Status Session::run_profiled(std::vector<double>* node_seconds) {
  using Clock = std::chrono::steady_clock;
  node_seconds->resize(ops_.size());
  uint8_t* const* p = ptrs_.data();
  const bool nonfinite = nonfinite_inputs();
  for (size_t i = 0; i < ops_.size(); ++i) {
    const auto t0 = Clock::now();
    EDGEQ_RETURN_IF_ERROR(check_node(i));
    op_to_run(i, nonfinite).run(p);
    (*node_seconds)[i] = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  return Status::Ok();
}

Status Session::run_observed(const std::function<void(size_t node)>& after_node) {
  if (exec_ != &model_->graph())
    return InvalidArgument("run_observed needs every tensor: create the session with fold_views off");
  uint8_t* const* p = ptrs_.data();
  const bool nonfinite = nonfinite_inputs();
  for (size_t i = 0; i < ops_.size(); ++i) {
    EDGEQ_RETURN_IF_ERROR(check_node(i));
    op_to_run(i, nonfinite).run(p);
    after_node(i);
  }
  return Status::Ok();
}

size_t Session::packed_bytes() const {
  size_t total = 0;
  for (const auto& op : ops_) total += op->packed_bytes();
  return total;
}

Status Session::get_output_f32(size_t index, float* data, size_t count) const {
  EDGEQ_RETURN_IF_ERROR(check_io(index, false, data));
  const Tensor& t = output(index);
  if (count != static_cast<size_t>(t.num_elements()))
    return InvalidArgument("output '" + t.name + "' has " + std::to_string(t.num_elements()) + " elements, got room for " +
                           std::to_string(count));
  const uint8_t* src = ptrs_[graph().outputs[index]];
  switch (t.dtype) {
    case DType::kF32: std::memcpy(data, src, count * 4); break;
    case DType::kS8: {
      const kern::DequantizeFn<int8_t> fn =
          kernels_->misc.dequantize_s8 ? kernels_->misc.dequantize_s8 : &ref::dequantize<int8_t>;
      fn(count, reinterpret_cast<const int8_t*>(src), t.quant.scale[0], t.quant.zero_point[0], data);
      break;
    }
    case DType::kU8: {
      const kern::DequantizeFn<uint8_t> fn =
          kernels_->misc.dequantize_u8 ? kernels_->misc.dequantize_u8 : &ref::dequantize<uint8_t>;
      fn(count, src, t.quant.scale[0], t.quant.zero_point[0], data);
      break;
    }
    default: return Unsupported("output '" + t.name + "' has dtype " + dtype_name(t.dtype) + ", not readable as float");
  }
  return Status::Ok();
}

Status Session::get_output_raw(size_t index, void* data, size_t bytes) const {
  EDGEQ_RETURN_IF_ERROR(check_io(index, false, data));
  const Tensor& t = output(index);
  if (bytes != t.byte_size())
    return InvalidArgument("output '" + t.name + "' has " + std::to_string(t.byte_size()) + " bytes, got room for " +
                           std::to_string(bytes));
  std::memcpy(data, ptrs_[graph().outputs[index]], bytes);
  return Status::Ok();
}

Status Session::get_output_s64(size_t index, int64_t* data, size_t count) const {
  EDGEQ_RETURN_IF_ERROR(check_index_io(index, false, data, count));
  const Tensor& t = output(index);
  const uint8_t* src = ptrs_[graph().outputs[index]];
  if (t.dtype == DType::kS64) {
    std::memcpy(data, src, count * sizeof(int64_t));
  } else if (t.dtype == DType::kBool) {
    for (size_t i = 0; i < count; ++i) data[i] = src[i] != 0;
  } else {
    const int32_t* in = reinterpret_cast<const int32_t*>(src);
    for (size_t i = 0; i < count; ++i) data[i] = in[i];
  }
  return Status::Ok();
}

}  // namespace edgeq
