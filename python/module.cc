// edgeq._edgeq: the compiled half of the Python package (python/edgeq/), with pybind11.
//
// It binds the C++ core directly (Model, Session, the importer, the Calibrator, the
// per-layer ErrorReport and the measurement behind `edgeq bench`), one thin class or
// function each; the pure-Python package on top gives them their public names,
// dataclasses, batching of DataLoader output and progress bars.
//
// Rules every entry point keeps:
//  * A Status error becomes the Python exception of its code (edgeq.InvalidArgument,
//    InvalidModel, Unsupported, IoError, OutOfMemory, InternalError, all subclasses of
//    edgeq.Error) with edgeq's message. Arrays are checked (dtype, shape, C-contiguous)
//    before any pointer is taken, so bad input raises, never crashes.
//  * Arrays are read in place: a C-contiguous array's buffer goes straight to the
//    session (which quantizes or copies it into its arena); nothing is converted or
//    copied on the way. Outputs are written straight into new NumPy arrays.
//  * The GIL is released while a session runs (and while calibrating, reporting,
//    loading and converting), so Python threads run sessions in parallel. One session
//    serves one thread at a time: a second concurrent call raises instead of racing.
//  * A session holds its own reference to the model, as in the C API: closing or
//    dropping the Python Model leaves its sessions working.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "graph/format.h"
#include "graph/onnx/importer.h"
#include "quant/calibrator.h"
#include "quant/quantize_graph.h"
#include "quant/report.h"
#include "runtime/session.h"
#include "tools/bench_measure.h"

namespace py = pybind11;

namespace edgeq {
namespace python {
namespace {

// ------------------------------------------------------------------ errors

// A failed Status on its way to Python (translated in the module's exception translator).
struct StatusError {
  StatusCode code;
  std::string message;
};

void check(const Status& s) {
  if (!s.ok()) throw StatusError{s.code(), s.message()};
}

[[noreturn]] void invalid(const std::string& message) { throw StatusError{StatusCode::kInvalidArgument, message}; }

// Runs f (returning a Status) with the GIL released, then raises its error if any.
template <typename F>
void without_gil(F&& f) {
  Status st;
  {
    py::gil_scoped_release nogil;
    st = f();
  }
  check(st);
}

// The exception classes, created once in the module (owned by it).
PyObject* g_errors[7] = {};

PyObject* error_class(StatusCode code) {
  const int i = static_cast<int>(code);
  return (i >= 1 && i <= 6 && g_errors[i]) ? g_errors[i] : g_errors[0];
}

void add_exceptions(py::module_& m) {
  auto make = [&](const char* name, py::handle bases, const char* doc) {
    const std::string qualified = std::string("edgeq.") + name;
    PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (!cls) throw py::error_already_set();
    m.add_object(name, py::handle(cls));  // the module takes a reference; this one stays ours
    return cls;
  };
  g_errors[0] = make("Error", PyExc_Exception, "Base class of every error edgeq raises.");
  const py::handle base(g_errors[0]);
  g_errors[static_cast<int>(StatusCode::kInvalidArgument)] =
      make("InvalidArgument", py::make_tuple(base, py::handle(PyExc_ValueError)),
           "A bad argument: wrong dtype, shape or layout of an array, unknown name, closed model.");
  g_errors[static_cast<int>(StatusCode::kInvalidModel)] =
      make("InvalidModel", base, "A malformed, corrupt or inconsistent model file.");
  g_errors[static_cast<int>(StatusCode::kUnsupported)] =
      make("Unsupported", base, "Valid, but not supported by this build or CPU (an op, attribute or ISA level).");
  g_errors[static_cast<int>(StatusCode::kIoError)] =
      make("IoError", py::make_tuple(base, py::handle(PyExc_OSError)), "A file is missing, unreadable or unwritable.");
  g_errors[static_cast<int>(StatusCode::kOutOfMemory)] =
      make("OutOfMemory", py::make_tuple(base, py::handle(PyExc_MemoryError)), "Memory or threads ran out.");
  g_errors[static_cast<int>(StatusCode::kInternal)] = make("InternalError", base, "A bug in edgeq.");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      PyErr_SetString(error_class(e.code), e.message.c_str());
    }
  });
}

// ------------------------------------------------------------------ tensors and arrays

py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::kF32: return py::dtype::of<float>();
    case DType::kS8: return py::dtype::of<int8_t>();
    case DType::kU8: return py::dtype::of<uint8_t>();
    case DType::kS32: return py::dtype::of<int32_t>();
    case DType::kS64: return py::dtype::of<int64_t>();
    case DType::kBool: return py::dtype::of<bool>();
  }
  return py::dtype::of<float>();
}

py::dict tensor_info(const Tensor& t) {
  py::dict d;
  d["name"] = t.name;
  d["dtype"] = numpy_dtype(t.dtype);
  d["shape"] = py::tuple(py::cast(t.shape));
  d["scales"] = py::tuple(py::cast(t.quant.scale));
  d["zero_points"] = py::tuple(py::cast(t.quant.zero_point));
  d["axis"] = t.quant.axis;
  return d;
}

std::vector<py::dict> tensor_infos(const Graph& g, const std::vector<int32_t>& list) {
  std::vector<py::dict> out;
  for (int32_t i : list) out.push_back(tensor_info(g.tensors[i]));
  return out;
}

std::string shape_of(const py::array& a) {
  std::vector<int32_t> s;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s.push_back(static_cast<int32_t>(a.shape(d)));
  return shape_string(s);
}

bool same_shape(const py::array& a, const std::vector<int32_t>& shape) {
  if (a.ndim() != static_cast<py::ssize_t>(shape.size())) return false;
  for (size_t d = 0; d < shape.size(); ++d)
    if (a.shape(static_cast<py::ssize_t>(d)) != shape[d]) return false;
  return true;
}

// Checks that `value` is an array edgeq can read in place for tensor `t`: a NumPy
// array of t's shape, C-contiguous, float32 (quantized for a quantized tensor) or, when
// `raw_ok`, t's own dtype. Returns it and whether it is float32.
std::string str_of(const py::handle& h) { return py::str(h).cast<std::string>(); }

py::array input_array(const py::handle& value, const Tensor& t, bool raw_ok, bool* is_f32) {
  const std::string what = "input '" + t.name + "'";
  if (!py::isinstance<py::array>(value))
    invalid(what + " must be a numpy.ndarray or torch.Tensor, not " +
            str_of(value.get_type().attr("__name__")));
  py::array a = py::reinterpret_borrow<py::array>(value);
  const py::dtype f32 = py::dtype::of<float>(), own = numpy_dtype(t.dtype);
  *is_f32 = a.dtype().is(f32) || a.dtype().equal(f32);
  if (!*is_f32 && !(raw_ok && a.dtype().equal(own)))
    invalid(what + " has dtype " + str_of(a.dtype()) + "; it takes float32" +
            (t.dtype != DType::kF32 && raw_ok ? " or " + str_of(own) + " (raw)" : std::string()));
  if (!same_shape(a, t.shape))
    invalid(what + " has shape " + shape_of(a) + "; the model's is " + shape_string(t.shape));
  if (!(a.flags() & py::array::c_style))
    invalid(what + " is not C-contiguous (numpy.ascontiguousarray makes a contiguous copy)");
  return a;
}

// An integer input (s32 / s64: token ids, masks) takes an int64 or int32 array of its
// shape, converted on the way in; a float array is an error, not a silent truncation.
// *wide: the array is int64.
py::array int_input_array(const py::handle& value, const Tensor& t, bool* wide) {
  const std::string what = "input '" + t.name + "'";
  if (!py::isinstance<py::array>(value))
    invalid(what + " must be a numpy.ndarray or torch.Tensor, not " + str_of(value.get_type().attr("__name__")));
  py::array a = py::reinterpret_borrow<py::array>(value);
  if (t.dtype == DType::kBool && a.dtype().equal(py::dtype::of<bool>()))  // a mask: as 0/1 int64
    a = a.attr("astype")(py::dtype::of<int64_t>()).cast<py::array>();
  *wide = a.dtype().equal(py::dtype::of<int64_t>());
  if (!*wide && !a.dtype().equal(py::dtype::of<int32_t>()))
    invalid(what + " has dtype " + str_of(a.dtype()) + "; it is " + dtype_name(t.dtype) +
            " and takes int64 or int32 values" +
            (t.dtype == DType::kBool ? " or bools" : ""));
  if (!same_shape(a, t.shape))
    invalid(what + " has shape " + shape_of(a) + "; the model's is " + shape_string(t.shape));
  if (!(a.flags() & py::array::c_style))
    invalid(what + " is not C-contiguous (numpy.ascontiguousarray makes a contiguous copy)");
  return a;
}

// ------------------------------------------------------------------ model

struct PyModel {
  std::shared_ptr<const Model> model;  // null once closed
  std::string source;                  // the path, or "<bytes>"

  const std::shared_ptr<const Model>& get() const {
    if (!model) invalid("the model " + source + " is closed");
    return model;
  }
};

std::unique_ptr<PyModel> load_file(const std::string& path) {
  auto m = std::make_unique<PyModel>();
  m->source = "'" + path + "'";
  without_gil([&] { return Model::load_file(path, &m->model); });
  return m;
}

std::unique_ptr<PyModel> load_bytes(const py::buffer& data) {
  const py::buffer_info b = data.request();
  if (b.ndim != 1 && !(b.ndim == 0 && b.size == 1)) invalid("model bytes must be a one-dimensional buffer");
  auto m = std::make_unique<PyModel>();
  m->source = "(from bytes)";
  without_gil([&] { return Model::load_memory(b.ptr, static_cast<size_t>(b.size * b.itemsize), &m->model); });
  return m;
}

std::vector<py::dict> node_infos(const Graph& g) {
  std::vector<py::dict> out;
  for (const Node& n : g.nodes) {
    py::dict d;
    d["name"] = n.name;
    d["op"] = op_name(n.op);
    d["inputs"] = [&] {
      std::vector<std::string> v;
      for (int32_t t : n.inputs)
        if (t >= 0) v.push_back(g.tensors[t].name);
      return v;
    }();
    d["outputs"] = [&] {
      std::vector<std::string> v;
      for (int32_t t : n.outputs) v.push_back(g.tensors[t].name);
      return v;
    }();
    out.push_back(d);
  }
  return out;
}

SessionOptions session_options(int threads, const std::string& isa) {
  if (threads < 0) invalid("threads must be 0 (one per core) or more, not " + std::to_string(threads));
  SessionOptions o;
  o.num_threads = threads;
  o.isa = isa;
  return o;
}

// ------------------------------------------------------------------ session

struct PySession {
  std::unique_ptr<Session> session;
  std::mutex busy;  // one call at a time; a second thread gets an error, not a race

  Session& get() {
    if (!session) invalid("the session is closed");
    return *session;
  }
};

std::unique_ptr<PySession> create_session(const PyModel& m, int threads, const std::string& isa) {
  auto s = std::make_unique<PySession>();
  const SessionOptions o = session_options(threads, isa);
  std::shared_ptr<const Model> model = m.get();
  without_gil([&] { return Session::create(model, o, &s->session); });
  return s;
}

// Sets every input, runs, returns every output (dequantized to float32, or in the
// tensor's own dtype with raw) — the GIL released from the first input to the last output.
std::vector<py::array> run_session(PySession& ps, const py::sequence& inputs, bool raw) {
  Session& s = ps.get();
  const Graph& g = s.graph();
  if (static_cast<size_t>(py::len(inputs)) != g.inputs.size())
    invalid("the model has " + std::to_string(g.inputs.size()) + " input(s), " + std::to_string(py::len(inputs)) +
            " given");
  enum Kind : uint8_t { kFloat, kRaw, kInt32, kInt64 };
  std::vector<py::array> arrays;
  std::vector<uint8_t> kind;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    bool flag = false;
    if (is_integer_valued(s.input(i).dtype)) {
      arrays.push_back(int_input_array(inputs[i], s.input(i), &flag));
      kind.push_back(flag ? kInt64 : kInt32);
    } else {
      arrays.push_back(input_array(inputs[i], s.input(i), true, &flag));
      kind.push_back(flag ? kFloat : kRaw);
    }
  }
  // Integer outputs (a Cast's) come as int64 whatever `raw` says.
  std::vector<py::array> outputs;
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const Tensor& t = s.output(i);
    std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
    const py::dtype dt = is_integer_valued(t.dtype) ? py::dtype::of<int64_t>()
                         : raw                  ? numpy_dtype(t.dtype)
                                                : py::dtype::of<float>();
    outputs.emplace_back(dt, shape);
  }
  std::vector<const void*> in_ptrs;
  for (const py::array& a : arrays) in_ptrs.push_back(a.data());
  std::vector<void*> out_ptrs;
  for (py::array& a : outputs) out_ptrs.push_back(a.mutable_data());

  std::unique_lock<std::mutex> lock(ps.busy, std::try_to_lock);
  if (!lock.owns_lock()) invalid("the session is running on another thread (create one session per thread)");
  without_gil([&] {
    Status st;
    for (size_t i = 0; i < in_ptrs.size() && st.ok(); ++i) {
      const Tensor& t = s.input(i);
      const size_t n = static_cast<size_t>(t.num_elements());
      switch (kind[i]) {
        case kFloat: st = s.set_input_f32(i, static_cast<const float*>(in_ptrs[i]), n); break;
        case kRaw: st = s.set_input_raw(i, in_ptrs[i], t.byte_size()); break;
        case kInt32: st = s.set_input_s32(i, static_cast<const int32_t*>(in_ptrs[i]), n); break;
        case kInt64: st = s.set_input_s64(i, static_cast<const int64_t*>(in_ptrs[i]), n); break;
      }
    }
    if (st.ok()) st = s.run();
    for (size_t i = 0; i < out_ptrs.size() && st.ok(); ++i) {
      const Tensor& t = s.output(i);
      const size_t n = static_cast<size_t>(t.num_elements());
      if (is_integer_valued(t.dtype)) st = s.get_output_s64(i, static_cast<int64_t*>(out_ptrs[i]), n);
      else if (raw) st = s.get_output_raw(i, out_ptrs[i], t.byte_size());
      else st = s.get_output_f32(i, static_cast<float*>(out_ptrs[i]), n);
    }
    return st;
  });
  return outputs;
}

// The inputs of one batch for the calibrator and the report, checked against the
// float model's inputs: float32 for a float input, int64 or int32 for an integer one
// (token ids, masks); the pointers stay valid while `arrays` lives.
std::vector<quant::InputBuffer> typed_batch(const Graph& g, const py::sequence& inputs,
                                            std::vector<py::array>* arrays) {
  if (static_cast<size_t>(py::len(inputs)) != g.inputs.size())
    invalid("the model has " + std::to_string(g.inputs.size()) + " input(s), a batch of " +
            std::to_string(py::len(inputs)) + " given");
  std::vector<quant::InputBuffer> buffers;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Tensor& t = g.tensors[g.inputs[i]];
    const size_t n = static_cast<size_t>(t.num_elements());
    bool flag = false;
    if (is_integer_valued(t.dtype)) {
      arrays->push_back(int_input_array(inputs[i], t, &flag));
      const void* p = arrays->back().data();
      buffers.push_back(flag ? quant::InputBuffer::s64(static_cast<const int64_t*>(p), n)
                             : quant::InputBuffer::s32(static_cast<const int32_t*>(p), n));
    } else {
      arrays->push_back(input_array(inputs[i], t, false, &flag));
      buffers.push_back(quant::InputBuffer::f32(static_cast<const float*>(arrays->back().data()), n));
    }
  }
  return buffers;
}

// Checks one batch of inputs and gives it to add(buffers) with the GIL released; one
// thread at a time (`what` names the object in the error).
template <typename F>
void add_typed_batch(std::mutex& busy, const Graph& g, const py::sequence& inputs, const char* what, F&& add) {
  std::vector<py::array> arrays;
  const std::vector<quant::InputBuffer> buffers = typed_batch(g, inputs, &arrays);
  std::unique_lock<std::mutex> lock(busy, std::try_to_lock);
  if (!lock.owns_lock()) invalid(std::string("the ") + what + " is in use on another thread");
  without_gil([&] { return add(buffers); });
}

// ------------------------------------------------------------------ calibrator

struct PyCalibrator {
  std::shared_ptr<const Model> model;
  std::unique_ptr<quant::Calibrator> calibrator;
  quant::ObserverOptions collect;
  std::mutex busy;
};

std::unique_ptr<PyCalibrator> create_calibrator(const PyModel& m, int threads, const std::string& isa,
                                                double ema_constant, int bins) {
  if (!(ema_constant > 0.0 && ema_constant <= 1.0)) invalid("ema_constant must be in (0, 1]");
  if (bins < 16 || bins > (1 << 20)) invalid("bins must be in [16, 1048576]");
  auto c = std::make_unique<PyCalibrator>();
  c->model = m.get();
  for (int32_t t : c->model->graph().inputs)
    if (c->model->graph().tensors[t].dtype != DType::kF32 && !is_integer_valued(c->model->graph().tensors[t].dtype))
      invalid("model " + m.source + " is not a float model (input '" + c->model->graph().tensors[t].name + "' is " +
              dtype_name(c->model->graph().tensors[t].dtype) + ")");
  c->collect.averaging_constant = static_cast<float>(ema_constant);
  c->collect.histogram.bins = bins;
  c->collect.entropy_bins = bins;
  const SessionOptions o = session_options(threads, isa);
  without_gil([&] { return quant::Calibrator::create(c->model, o, c->collect, &c->calibrator); });
  return c;
}

void calibrator_add_batch(PyCalibrator& c, const py::sequence& inputs) {
  add_typed_batch(c.busy, c.model->graph(), inputs, "calibrator",
                  [&c](const std::vector<quant::InputBuffer>& b) { return c.calibrator->add_batch(b); });
}

// Node indices of the float graph for these names (each must exist).
std::vector<bool> node_set(const Graph& g, const std::vector<std::string>& names, const char* what) {
  std::vector<bool> set(g.nodes.size(), false);
  for (const std::string& name : names) {
    bool found = false;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (g.nodes[i].name == name) set[i] = found = true;
    if (!found) invalid(std::string(what) + ": the model has no node named '" + name + "'");
  }
  return set;
}

RequantScheme requant_scheme(const std::string& name) {
  if (name == "fp32") return RequantScheme::kFp32;
  if (name == "fixed") return RequantScheme::kFixedPoint;
  invalid("requant must be 'fp32' or 'fixed', not '" + name + "'");
}

DType act_dtype(const std::string& name) {
  if (name == "uint8") return DType::kU8;
  if (name == "int8") return DType::kS8;
  invalid("act_dtype must be 'uint8' or 'int8', not '" + name + "'");
}

// Serializes g (and writes it to `path` unless empty, whole or not at all); returns the bytes.
py::bytes finish(Graph* g, const std::string& producer, const std::string& path) {
  g->producer = producer;
  std::vector<uint8_t> bytes;
  without_gil([&] {
    Status st = serialize_graph(*g, &bytes);
    if (st.ok() && !path.empty()) st = write_graph_file(*g, path);
    return st;
  });
  return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

py::bytes calibrator_quantize(PyCalibrator& c, const std::string& method, bool per_channel, const std::string& act,
                              const std::string& requant, double percentile, const std::vector<std::string>& exclude,
                              const std::vector<std::string>& float_nodes, bool full_int8, const std::string& path) {
  quant::CalibrationOptions o;
  o.full_int8 = full_int8;
  if (!quant::parse_method(method, &o.method))
    invalid("unknown method '" + method + "' (minmax, ema, histogram, percentile, entropy, mse)");
  if (!(percentile >= 50.0 && percentile <= 100.0)) invalid("percentile must be in [50, 100]");
  o.observer = c.collect;
  o.observer.percentile = percentile;
  o.act_dtype = act_dtype(act);
  o.per_channel_weights = per_channel;
  o.requant = requant_scheme(requant);
  o.exclude = exclude;
  if (!float_nodes.empty()) o.float_nodes = node_set(c.model->graph(), float_nodes, "fallback");
  if (c.calibrator->batches() == 0) invalid("no statistics yet: calibrate on data first, or load statistics");
  Graph g;
  without_gil([&] { return c.calibrator->quantize(o, &g); });
  return finish(&g, "edgeq.Calibrator " + method + " from " + c.model->graph().producer, path);
}

py::bytes quantize_dynamic(const PyModel& m, bool per_channel, const std::string& requant, const std::string& mode,
                           const std::string& path) {
  const std::shared_ptr<const Model>& model = m.get();
  quant::GraphQuantOptions o;
  o.dynamic = true;
  if (!quant::parse_dynamic_mode(mode, &o.dynamic_mode)) invalid("unknown dynamic mode '" + mode + "' (row, tensor)");
  o.per_channel_weights = per_channel;
  o.requant = requant_scheme(requant);
  Graph g;
  without_gil([&] { return quant::quantize_graph(model->graph(), {}, o, &g); });
  return finish(&g, "edgeq.quantize_dynamic from " + model->graph().producer, path);
}

// ------------------------------------------------------------------ report

struct PyReport {
  std::shared_ptr<const Model> float_model;
  std::unique_ptr<quant::ErrorReport> report;
  std::mutex busy;
};

std::unique_ptr<PyReport> create_report(const PyModel& f, const PyModel& q, int threads, const std::string& isa) {
  auto r = std::make_unique<PyReport>();
  r->float_model = f.get();
  std::shared_ptr<const Model> int8 = q.get();
  const SessionOptions o = session_options(threads, isa);
  without_gil([&] { return quant::ErrorReport::create(r->float_model, int8, o, &r->report); });
  return r;
}

void report_add_batch(PyReport& r, const py::sequence& inputs) {
  add_typed_batch(r.busy, r.float_model->graph(), inputs, "report",
                  [&r](const std::vector<quant::InputBuffer>& b) { return r.report->add_batch(b); });
}

py::dict error_sums(const quant::ErrorSums& e) {
  py::dict d;
  d["sqnr_db"] = e.sqnr_db();
  d["cosine"] = e.cosine();
  d["mse"] = e.mse();
  d["count"] = e.count;
  return d;
}

std::vector<py::dict> report_layers(const PyReport& r) {
  std::vector<py::dict> out;
  for (const quant::LayerError& l : r.report->layers()) {
    py::dict d;
    d["node"] = l.node;
    d["op"] = l.op;
    d["tensor"] = l.tensor;
    d["quantized"] = l.quantized;
    d["isolated"] = error_sums(l.isolated);
    d["propagated"] = error_sums(l.propagated);
    out.push_back(d);
  }
  return out;
}

// Per float model output: its name and the int8 output at the same position against it.
std::vector<py::dict> report_outputs(const PyReport& r) {
  std::vector<py::dict> out;
  for (size_t i = 0; i < r.report->outputs().size(); ++i) {
    py::dict d = error_sums(r.report->outputs()[i]);
    d["name"] = r.report->output_names()[i];
    out.push_back(d);
  }
  return out;
}

// Float-graph node names to keep in float: the `count` most sensitive layers of the
// report and those under `sqnr_db` (None: no threshold).
std::vector<std::string> choose_fallback(const PyReport& r, int count, py::object sqnr_db) {
  if (count < 0) invalid("count must be 0 or more");
  const double sqnr = sqnr_db.is_none() ? std::numeric_limits<double>::quiet_NaN() : sqnr_db.cast<double>();
  const Graph& g = r.float_model->graph();
  const std::vector<bool> keep = quant::choose_fallback(g, *r.report, count, sqnr);
  std::vector<std::string> names;
  for (size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) names.push_back(g.nodes[i].name);
  return names;
}

// ------------------------------------------------------------------ convert and bench

py::dict convert(const std::string& onnx_path, const std::string& edgeq_path, bool float_io, int batch,
                 const std::string& requant) {
  if (batch < 1 || batch > 4096) invalid("batch must be in [1, 4096]");
  ImportOptions o;
  o.quantized_io = !float_io;
  o.batch = batch;
  o.requant = requant_scheme(requant);
  Graph g;
  without_gil([&] {
    Status st = import_onnx_file(onnx_path, o, &g);
    if (st.ok()) st = write_graph_file(g, edgeq_path);
    return st;
  });
  size_t constants = 0;
  for (const Tensor& t : g.tensors) constants += t.nbytes;
  py::dict d;
  d["nodes"] = g.nodes.size();
  d["tensors"] = g.tensors.size();
  d["constant_bytes"] = constants;
  return d;
}

// The figures of `edgeq bench --json` (tools/bench_measure.h), as that JSON text.
std::string run_bench(const PyModel& m, int threads, const std::string& isa, int warmup, int runs, double min_time,
                      bool profile) {
  if (warmup < 0 || runs < 1 || !(min_time >= 0.0)) invalid("warmup >= 0, runs >= 1 and min_time >= 0 are required");
  const std::shared_ptr<const Model>& model = m.get();
  const SessionOptions so = session_options(threads, isa);
  bench::MeasureOptions mo;
  mo.warmup = warmup;
  mo.runs = runs;
  mo.min_time = min_time;
  mo.profile = profile;
  std::string json;
  without_gil([&] {
    bench::Measurement meas;
    std::unique_ptr<Session> s;
    const auto t0 = std::chrono::steady_clock::now();
    Status st = Session::create(model, so, &s);
    meas.session_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (st.ok()) st = bench::fill_inputs(*s);
    if (st.ok()) {
      st = bench::measure(*s, mo, &meas);
      if (st.ok()) json = bench::report_json(m.source, *s, bench::gather_facts(*model, *s), meas, warmup, profile);
    }
    return st;
  });
  return json;
}

}  // namespace
}  // namespace python
}  // namespace edgeq

PYBIND11_MODULE(_edgeq, m) {
  using namespace edgeq::python;  // NOLINT: the bindings of this file
  m.doc() = "edgeq's compiled core (the runtime, importer, calibrator); use it through the edgeq package.";
  add_exceptions(m);
  m.attr("__version__") = "0.1.0";

  py::class_<PyModel>(m, "Model", "A loaded .edgeq model (immutable; shared by its sessions).")
      .def_static("load_file", &load_file, py::arg("path"), "Maps and verifies a .edgeq file.")
      .def_static("load_bytes", &load_bytes, py::arg("data"), "Copies and verifies a .edgeq file's bytes.")
      .def_property_readonly("closed", [](const PyModel& p) { return !p.model; })
      .def("close", [](PyModel& p) { p.model.reset(); }, "Releases the model (its sessions keep their own reference).")
      .def_property_readonly("inputs", [](const PyModel& p) {
        const edgeq::Graph& g = p.get()->graph();
        return tensor_infos(g, g.inputs);
      })
      .def_property_readonly("outputs", [](const PyModel& p) {
        const edgeq::Graph& g = p.get()->graph();
        return tensor_infos(g, g.outputs);
      })
      .def_property_readonly("nodes", [](const PyModel& p) { return node_infos(p.get()->graph()); })
      .def_property_readonly("producer", [](const PyModel& p) { return p.get()->graph().producer; })
      .def_property_readonly("file_bytes", [](const PyModel& p) { return p.get()->file_bytes(); });

  py::class_<PySession>(m, "Session", "Everything one inference needs: arena, prepared ops, kernels.")
      .def(py::init(&create_session), py::arg("model"), py::arg("threads") = 1, py::arg("isa") = "")
      .def("run", &run_session, py::arg("inputs"), py::arg("raw") = false,
           "Runs on a sequence of arrays (one per input); returns one array per output.")
      .def("close", [](PySession& s) {
        std::unique_lock<std::mutex> lock(s.busy, std::try_to_lock);
        if (!lock.owns_lock()) invalid("the session is running on another thread");
        s.session.reset();
      })
      .def_property_readonly("closed", [](const PySession& s) { return !s.session; })
      .def_property_readonly("inputs", [](PySession& s) {
        const edgeq::Graph& g = s.get().graph();
        return tensor_infos(g, g.inputs);
      })
      .def_property_readonly("outputs", [](PySession& s) {
        const edgeq::Graph& g = s.get().graph();
        return tensor_infos(g, g.outputs);
      })
      .def_property_readonly("isa", [](PySession& s) { return s.get().isa(); })
      .def_property_readonly("threads", [](PySession& s) { return s.get().num_threads(); })
      .def_property_readonly("arena_bytes", [](PySession& s) { return s.get().arena_bytes(); })
      .def_property_readonly("packed_bytes", [](PySession& s) { return s.get().packed_bytes(); });

  py::class_<PyCalibrator>(m, "Calibrator", "Observers on every activation of a float model.")
      .def(py::init(&create_calibrator), py::arg("model"), py::arg("threads") = 1, py::arg("isa") = "",
           py::arg("ema_constant") = 0.01, py::arg("bins") = 2048)
      .def("add_batch", &calibrator_add_batch, py::arg("inputs"))
      .def_property_readonly("batches", [](const PyCalibrator& c) { return c.calibrator->batches(); })
      .def("save_stats", [](const PyCalibrator& c, const std::string& path) {
        without_gil([&] { return c.calibrator->save_stats(path); });
      })
      .def("load_stats", [](PyCalibrator& c, const std::string& path) {
        without_gil([&] { return c.calibrator->load_stats(path); });
      })
      .def("quantize", &calibrator_quantize, py::arg("method"), py::arg("per_channel"), py::arg("act_dtype"),
           py::arg("requant"), py::arg("percentile"), py::arg("exclude"), py::arg("float_nodes"), py::arg("full_int8"),
           py::arg("path"));

  py::class_<PyReport>(m, "Report", "Per-layer error of an int8 model against its float model.")
      .def(py::init(&create_report), py::arg("float_model"), py::arg("int8_model"), py::arg("threads") = 1,
           py::arg("isa") = "")
      .def("add_batch", &report_add_batch, py::arg("inputs"))
      .def("layers", &report_layers)
      .def("outputs", &report_outputs)
      .def("choose_fallback", &choose_fallback, py::arg("count"), py::arg("sqnr_db"))
      .def_property_readonly("classifier", [](const PyReport& r) { return r.report->classifier(); })
      .def_property_readonly("samples", [](const PyReport& r) { return r.report->samples(); })
      .def_property_readonly("top1_agreement", [](const PyReport& r) { return r.report->top1_agreement(); });

  m.def("convert", &convert, py::arg("onnx_path"), py::arg("edgeq_path"), py::arg("float_io"), py::arg("batch"),
        py::arg("requant"));
  m.def("quantize_dynamic", &quantize_dynamic, py::arg("model"), py::arg("per_channel"), py::arg("requant"),
        py::arg("mode"), py::arg("path"));
  m.def("bench", &run_bench, py::arg("model"), py::arg("threads"), py::arg("isa"), py::arg("warmup"), py::arg("runs"),
        py::arg("min_time"), py::arg("profile"));
}
