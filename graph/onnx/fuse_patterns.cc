// Subgraphs that exporters write for one operation, found on the ONNX graph before
// lowering and lowered as that operation:
//  * GELU, erf form: x * 0.5 * (1 + erf(x / sqrt(2))) -> Gelu (alpha 0). PyTorch writes
//    Div(x, 1.4142135) -> Erf -> Add(1) -> Mul(x, _) -> Mul(_, 0.5), but the three factors
//    x, 0.5 and (1 + erf) may be multiplied in any order and the division may be a
//    multiplication by 1/sqrt(2): the product is flattened and matched as a set.
//  * GELU, tanh approximation: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
//    -> Gelu (alpha 1), with x^3 as Pow(x, 3) or as products of x.
//  * LayerNorm decomposed (PyTorch below opset 17):
//      m = ReduceMean(x, last axis); d = Sub(x, m)
//      v = ReduceMean(Pow(d, 2) or Mul(d, d), last axis)
//      y = Div(d, Sqrt(Add(v, eps)))  [-> Mul(gamma)] [-> Add(beta)]
//    -> LayerNorm.
// Matching is structural: every inner value must be used only inside the pattern, and
// constants must have the expected values (to float precision). FindFusions records the
// patterns by the output of their last node (the root); ProcessNode skips the inner nodes
// while the pattern's input is a runtime tensor and lowers the root with LowerFusion.
#include <cmath>
#include <functional>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {

namespace {

bool near(double v, double want) { return std::fabs(v - want) <= 1e-4 * std::fabs(want) + 1e-7; }

}  // namespace

bool Importer::MatchGelu(const onnx::NodeProto& root, Fusion* f) const {
  auto prod = [&](const std::string& v) -> const onnx::NodeProto* {
    auto it = producer_.find(v);
    return it == producer_.end() ? nullptr : it->second;
  };
  auto single = [&](const std::string& v) {
    auto it = consumers_.find(v);
    return it != consumers_.end() && it->second == 1;
  };
  auto scalar = [&](const std::string& v, double* out) {
    auto it = values_.find(v);
    if (it == values_.end() || it->second.kind != ValueKind::kConst || it->second.c.numel() != 1)
      return false;
    *out = it->second.c.at(0);
    return true;
  };
  std::vector<std::string> inner;
  // Leaves of the product tree under `v` (through single-use Mul nodes).
  std::function<void(const std::string&, bool, std::vector<std::string>*)> factors =
      [&](const std::string& v, bool top, std::vector<std::string>* out) {
        const onnx::NodeProto* p = prod(v);
        if (p && p->op_type() == "Mul" && p->input_size() == 2 && (top || single(v))) {
          if (!top) inner.push_back(v);
          factors(p->input(0), false, out);
          factors(p->input(1), false, out);
        } else {
          out->push_back(v);
        }
      };
  // Splits `fs` into constants (multiplied) and the rest.
  auto split = [&](const std::vector<std::string>& fs, double* c, std::vector<std::string>* rest) {
    *c = 1;
    for (const auto& v : fs) {
      double k;
      if (scalar(v, &k))
        *c *= k;
      else
        rest->push_back(v);
    }
  };
  // `v` = Add(1, fn(...)) with fn the given op: returns fn's input.
  auto one_plus = [&](const std::string& v, const std::string& op, std::string* arg) {
    const onnx::NodeProto* add = prod(v);
    if (!add || add->op_type() != "Add" || add->input_size() != 2 || !single(v)) return false;
    double one;
    for (int k = 0; k < 2; ++k) {
      const onnx::NodeProto* fn = prod(add->input(k));
      if (fn && fn->op_type() == op && scalar(add->input(1 - k), &one) && near(one, 1) &&
          single(add->input(k)) && fn->input_size() == 1) {
        inner.push_back(v);
        inner.push_back(add->input(k));
        *arg = fn->input(0);
        return true;
      }
    }
    return false;
  };
  if (root.op_type() != "Mul" || root.output_size() != 1) return false;
  std::vector<std::string> fs, rest;
  double c;
  factors(root.output(0), true, &fs);
  split(fs, &c, &rest);
  if (rest.size() != 2 || !near(c, 0.5)) return false;
  for (int k = 0; k < 2; ++k) {
    const std::string& x = rest[k];
    std::string arg;
    const size_t mark = inner.size();
    if (one_plus(rest[1 - k], "Erf", &arg)) {
      // arg = x / sqrt(2) (Div) or x * (1/sqrt(2)) (Mul).
      const onnx::NodeProto* p = prod(arg);
      double s;
      const bool ok =
          p && single(arg) && p->input_size() == 2 &&
          ((p->op_type() == "Div" && p->input(0) == x && scalar(p->input(1), &s) &&
            near(s, std::sqrt(2.0))) ||
           (p->op_type() == "Mul" && p->input(0) == x && scalar(p->input(1), &s) &&
            near(s, 1 / std::sqrt(2.0))) ||
           (p->op_type() == "Mul" && p->input(1) == x && scalar(p->input(0), &s) &&
            near(s, 1 / std::sqrt(2.0))));
      if (!ok) {
        inner.resize(mark);
        continue;
      }
      inner.push_back(arg);
      f->kind = Fusion::kGelu;
      f->alpha = 0.f;
      f->x = x;
      f->inner = inner;
      return true;
    }
    inner.resize(mark);
    if (one_plus(rest[1 - k], "Tanh", &arg) && single(arg)) {
      // arg = sqrt(2/pi) * (x + 0.044715 * x^3)
      std::vector<std::string> afs, arest;
      double ac;
      factors(arg, false, &afs);
      inner.push_back(arg);
      split(afs, &ac, &arest);
      if (arest.size() != 1 || !near(ac, std::sqrt(2.0 / M_PI))) {
        inner.resize(mark);
        continue;
      }
      const onnx::NodeProto* add = prod(arest[0]);
      if (!add || add->op_type() != "Add" || add->input_size() != 2 || !single(arest[0])) {
        inner.resize(mark);
        continue;
      }
      inner.push_back(arest[0]);
      bool ok = false;
      for (int j = 0; j < 2 && !ok; ++j) {
        if (add->input(j) != x) continue;
        // The other term: 0.044715 * x^3, x^3 as x*x*x or Pow(x, 3) (or x * Pow(x, 2)).
        std::vector<std::string> cfs, crest;
        double cc;
        const size_t mark2 = inner.size();
        factors(add->input(1 - j), false, &cfs);
        if (!single(add->input(1 - j))) continue;
        inner.push_back(add->input(1 - j));
        split(cfs, &cc, &crest);
        int power = 0;
        bool bad = false;
        for (const auto& v : crest) {
          const onnx::NodeProto* p = prod(v);
          double e;
          if (v == x) {
            ++power;
          } else if (p && p->op_type() == "Pow" && p->input_size() == 2 && p->input(0) == x &&
                     scalar(p->input(1), &e) && (e == 2 || e == 3) && single(v)) {
            power += static_cast<int>(e);
            inner.push_back(v);
          } else {
            bad = true;
          }
        }
        ok = !bad && power == 3 && near(cc, 0.044715);
        if (!ok) inner.resize(mark2);
      }
      if (!ok) {
        inner.resize(mark);
        continue;
      }
      f->kind = Fusion::kGelu;
      f->alpha = 1.f;
      f->x = x;
      f->inner = inner;
      return true;
    }
    inner.resize(mark);
  }
  return false;
}

bool Importer::MatchLayerNorm(const onnx::NodeProto& div, Fusion* f, std::string* root) const {
  auto prod = [&](const std::string& v) -> const onnx::NodeProto* {
    auto it = producer_.find(v);
    return it == producer_.end() ? nullptr : it->second;
  };
  auto uses = [&](const std::string& v) {
    auto it = consumers_.find(v);
    return it == consumers_.end() ? 0 : it->second;
  };
  auto users = [&](const std::string& v) -> const std::vector<const onnx::NodeProto*>* {
    auto it = users_.find(v);
    return it == users_.end() ? nullptr : &it->second;
  };
  auto scalar = [&](const std::string& v, double* out) {
    auto it = values_.find(v);
    if (it == values_.end() || it->second.kind != ValueKind::kConst || it->second.c.numel() != 1)
      return false;
    *out = it->second.c.at(0);
    return true;
  };
  auto is_const = [&](const std::string& v) {
    auto it = values_.find(v);
    return it != values_.end() && it->second.kind != ValueKind::kTensor;
  };
  // ReduceMean over the last axis only, keepdims=1 (axes as attribute or, opset 18, input).
  auto mean_last = [&](const onnx::NodeProto* p) {
    if (!p || p->op_type() != "ReduceMean") return false;
    std::vector<int64_t> axes;
    bool have = false;
    if (opset_ >= 18) {
      auto it = p->input_size() > 1 ? values_.find(p->input(1)) : values_.end();
      have = it != values_.end() && it->second.kind == ValueKind::kConst &&
             it->second.c.to_ints(&axes);
    } else {
      have = attr_ints(*p, "axes", &axes, &have).ok() && have;
    }
    int64_t keep = 1;
    if (!attr_int(*p, "keepdims", 1, &keep).ok() || keep != 1 || !have || axes.size() != 1)
      return false;
    return axes[0] == -1;
  };
  if (div.op_type() != "Div" || div.input_size() != 2) return false;
  const std::string& d = div.input(0);
  const onnx::NodeProto* sub = prod(d);
  // d feeds the Div and the square: Pow(d, 2) (2 uses) or Mul(d, d) (3), checked below.
  if (!sub || sub->op_type() != "Sub" || sub->input_size() != 2 || (uses(d) != 2 && uses(d) != 3)) return false;
  const std::string& x = sub->input(0);
  const onnx::NodeProto* m = prod(sub->input(1));
  if (!mean_last(m) || m->input(0) != x || uses(sub->input(1)) != 1) return false;
  const onnx::NodeProto* sq = prod(div.input(1));
  if (!sq || sq->op_type() != "Sqrt" || uses(div.input(1)) != 1) return false;
  const onnx::NodeProto* add = prod(sq->input(0));
  if (!add || add->op_type() != "Add" || add->input_size() != 2 || uses(sq->input(0)) != 1)
    return false;
  double eps = 0;
  int vk = -1;
  for (int k = 0; k < 2; ++k)
    if (scalar(add->input(1 - k), &eps)) vk = k;
  if (vk < 0) return false;
  const std::string& var = add->input(vk);
  const onnx::NodeProto* vm = prod(var);
  if (!mean_last(vm) || uses(var) != 1) return false;
  const std::string& sqd = vm->input(0);
  const onnx::NodeProto* pw = prod(sqd);
  double e;
  if (!pw || uses(sqd) != 1) return false;
  if (!((pw->op_type() == "Pow" && pw->input_size() == 2 && pw->input(0) == d &&
         scalar(pw->input(1), &e) && e == 2 && uses(d) == 2) ||
        (pw->op_type() == "Mul" && pw->input_size() == 2 && pw->input(0) == d &&
         pw->input(1) == d && uses(d) == 3)))
    return false;
  f->kind = Fusion::kLayerNorm;
  f->x = x;
  f->epsilon = static_cast<float>(eps);
  f->inner = {sub->input(1), d, sqd, var, sq->input(0), div.input(1)};
  f->gamma.clear();
  f->beta.clear();
  *root = div.output(0);
  // Optional affine part: Mul(constant gamma) then Add(constant beta).
  auto next = [&](const std::string& v, const std::string& op, std::string* c) -> const onnx::NodeProto* {
    const auto* us = users(v);
    if (!us || us->size() != 1 || uses(v) != 1) return nullptr;
    const onnx::NodeProto* u = (*us)[0];
    if (u->op_type() != op || u->input_size() != 2) return nullptr;
    const int k = u->input(0) == v ? 1 : 0;
    if (u->input(1 - k) != v || !is_const(u->input(k))) return nullptr;
    *c = u->input(k);
    return u;
  };
  std::string c;
  if (const onnx::NodeProto* mul = next(*root, "Mul", &c)) {
    f->inner.push_back(*root);
    f->gamma = c;
    *root = mul->output(0);
  }
  if (const onnx::NodeProto* badd = next(*root, "Add", &c)) {
    f->inner.push_back(*root);
    f->beta = c;
    *root = badd->output(0);
  }
  return true;
}

void Importer::FindFusions(const onnx::GraphProto& graph) {
  // The patterns' constants are often Constant nodes, or Identity nodes of shared
  // initializers (PyTorch deduplicates equal ones): evaluate those first (ProcessNode
  // evaluates them again in order).
  for (const auto& node : graph.node()) {
    if (node.output_size() != 1) continue;
    std::vector<const ConstTensor*> ins;
    if (node.op_type() == "Identity" && node.input_size() == 1) {
      auto it = values_.find(node.input(0));
      if (it == values_.end() || it->second.kind != ValueKind::kConst) continue;
      ins.push_back(&it->second.c);
    } else if (node.op_type() != "Constant") {
      continue;
    }
    std::vector<ConstTensor> outs;
    bool handled = false;
    if (!eval_const_node(node, opset_, ins, {}, &outs, &handled).ok() || !handled) continue;
    Value v;
    v.kind = ValueKind::kConst;
    v.type = outs[0].type;
    v.shape = outs[0].dims;
    v.c = std::move(outs[0]);
    values_[node.output(0)] = std::move(v);
  }
  for (const auto& node : graph.node()) {
    if (node.output_size() < 1 || !live_.count(node.output(0))) continue;
    Fusion f;
    std::string root;
    bool found = false;
    if (node.op_type() == "Div") {
      found = MatchLayerNorm(node, &f, &root);
    } else if (node.op_type() == "Mul" && !fusion_inner_.count(node.output(0))) {
      found = MatchGelu(node, &f);
      root = node.output(0);
    }
    if (!found) continue;
    // A larger match (the outer Mul of a product) replaces a smaller one inside it.
    for (const auto& v : f.inner) {
      fusions_.erase(v);
      fusion_inner_[v] = root;
    }
    fusions_[root] = f;
  }
}

Status Importer::LowerFusion(const onnx::NodeProto& n, const Fusion& f) {
  Value* x;
  auto it = values_.find(f.x);
  if (it == values_.end()) return Fail(n, StatusCode::kInternal, "fused input not defined");
  x = &it->second;
  x->name = f.x;
  if (f.kind == Fusion::kGelu) {
    int32_t x_ir, out;
    EDGEQ_RETURN_IF_ERROR(AsTensor(n, x, &x_ir));
    EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, x->shape, &out, Nhwc(*x)));
    Attrs a;
    a.alpha = f.alpha;
    Emit(n, "gelu", OpType::kGelu, {x_ir}, {out}, a);
    return Status::Ok();
  }
  Value* gamma = f.gamma.empty() ? nullptr : &values_[f.gamma];
  Value* beta = f.beta.empty() ? nullptr : &values_[f.beta];
  if (gamma) gamma->name = f.gamma;
  if (beta) beta->name = f.beta;
  return LayerNormCore(n, x, gamma, beta, f.epsilon, n.output(0));
}

}  // namespace onnx_import
}  // namespace edgeq
