// Statistics records as text (observer.h): validation, writing and parsing.
//
// A record is whitespace-separated tokens:
//   stats 1 axis A channels C batches B nonfinite N averaging_constant F
//   histogram H bins K upsample U int_edges E
//   then per channel: channel I count N zeros Z min F max F ma_min F ma_max F
//   and, when H is 1 and the channel saw values: hist MIN MAX NNZ bin:count ...
//   end
// Floats use 9 significant digits, which read back to the same float32 ("inf" too).
// A stats file is "edgeq-stats 1 tensors T" then, per tensor, "tensor L:NAME" (L the
// byte length of NAME, so any name survives) followed by its record.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "graph/write_file.h"
#include "quant/observer.h"

namespace edgeq {
namespace quant {

namespace {

std::string fmt(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

// Reads whitespace-separated tokens from text[*pos...].
class Tokens {
 public:
  Tokens(const std::string& text, size_t* pos) : text_(text), pos_(pos) {}
  bool next(std::string* tok) {
    size_t p = *pos_;
    while (p < text_.size() && std::isspace(static_cast<unsigned char>(text_[p]))) ++p;
    size_t e = p;
    while (e < text_.size() && !std::isspace(static_cast<unsigned char>(text_[e]))) ++e;
    *pos_ = e;
    if (e == p) return false;
    tok->assign(text_, p, e - p);
    return true;
  }
  Status expect(const char* word) {
    std::string t;
    if (!next(&t) || t != word) return error(std::string("expected '") + word + "'");
    return Status::Ok();
  }
  Status read_u64(const char* key, uint64_t* v) {
    std::string t;
    if (key) EDGEQ_RETURN_IF_ERROR(expect(key));
    if (!next(&t)) return error("missing number");
    char* end = nullptr;
    const unsigned long long x = std::strtoull(t.c_str(), &end, 10);
    if (*end != '\0' || t[0] == '-') return error("bad count '" + t + "'");
    *v = x;
    return Status::Ok();
  }
  Status read_i32(const char* key, int32_t* v) {
    std::string t;
    if (key) EDGEQ_RETURN_IF_ERROR(expect(key));
    if (!next(&t)) return error("missing number");
    char* end = nullptr;
    const long x = std::strtol(t.c_str(), &end, 10);
    if (*end != '\0' || x < -2147483647L || x > 2147483647L) return error("bad integer '" + t + "'");
    *v = static_cast<int32_t>(x);
    return Status::Ok();
  }
  Status read_f32(const char* key, float* v) {
    std::string t;
    if (key) EDGEQ_RETURN_IF_ERROR(expect(key));
    if (!next(&t)) return error("missing number");
    return parse_f32(t, v);
  }
  Status parse_f32(const std::string& t, float* v) {
    char* end = nullptr;
    *v = std::strtof(t.c_str(), &end);
    if (t.empty() || *end != '\0') return error("bad number '" + t + "'");
    return Status::Ok();
  }
  Status error(const std::string& what) const {
    return InvalidArgument("stats text at byte " + std::to_string(*pos_) + ": " + what);
  }

 private:
  const std::string& text_;
  size_t* pos_;
};

}  // namespace

Status validate_stats(const TensorStats& s) {
  if (s.axis < -1) return InvalidArgument("stats: axis " + std::to_string(s.axis) + " < -1");
  if (s.axis < 0 && s.channels.size() > 1) return InvalidArgument("stats: per-tensor record with several channels");
  if (!std::isfinite(s.averaging_constant)) return InvalidArgument("stats: averaging constant is not finite");
  if (s.has_histogram && (s.histogram.bins < 1 || s.histogram.upsample_rate < 1))
    return InvalidArgument("stats: histogram bins and upsample rate must be positive");
  for (size_t c = 0; c < s.channels.size(); ++c) {
    const ChannelStats& ch = s.channels[c];
    const std::string where = "stats: channel " + std::to_string(c) + ": ";
    if (ch.count == 0) {
      if (!ch.hist.counts.empty()) return InvalidArgument(where + "histogram without values");
      continue;
    }
    if (!std::isfinite(ch.min) || !std::isfinite(ch.max) || !(ch.min <= ch.max))
      return InvalidArgument(where + "bad range [" + fmt(ch.min) + ", " + fmt(ch.max) + "]");
    if (!std::isfinite(ch.ma_min) || !std::isfinite(ch.ma_max) || !(ch.ma_min <= ch.ma_max))
      return InvalidArgument(where + "bad moving-average range [" + fmt(ch.ma_min) + ", " + fmt(ch.ma_max) + "]");
    if (s.has_histogram) {
      if (ch.hist.counts.size() != static_cast<size_t>(s.histogram.bins))
        return InvalidArgument(where + "histogram has " + std::to_string(ch.hist.counts.size()) + " bins, expected " +
                               std::to_string(s.histogram.bins));
      if (!std::isfinite(ch.hist.min) || !std::isfinite(ch.hist.max) || !(ch.hist.min <= ch.hist.max))
        return InvalidArgument(where + "bad histogram range");
      // Counts may be a hair below 0: PyTorch's combine subtracts a float32-rounded
      // running sum from the double one, and edgeq keeps that bit for bit.
      for (float v : ch.hist.counts)
        if (!std::isfinite(v)) return InvalidArgument(where + "non-finite histogram count");
    } else if (!ch.hist.counts.empty()) {
      return InvalidArgument(where + "histogram present but not declared");
    }
  }
  return Status::Ok();
}

std::string stats_to_text(const TensorStats& s) {
  std::string out;
  out += "stats 1 axis " + std::to_string(s.axis) + " channels " + std::to_string(s.channels.size()) + " batches " +
         std::to_string(s.batches) + " nonfinite " + std::to_string(s.nonfinite) + " averaging_constant " +
         fmt(s.averaging_constant) + "\n";
  out += "histogram " + std::to_string(s.has_histogram ? 1 : 0) + " bins " + std::to_string(s.histogram.bins) +
         " upsample " + std::to_string(s.histogram.upsample_rate) + " int_edges " +
         std::to_string(s.histogram.torch_1_13_int_edges ? 1 : 0) + "\n";
  for (size_t c = 0; c < s.channels.size(); ++c) {
    const ChannelStats& ch = s.channels[c];
    out += "channel " + std::to_string(c) + " count " + std::to_string(ch.count) + " zeros " +
           std::to_string(ch.zeros) + " min " + fmt(ch.min) + " max " + fmt(ch.max) + " ma_min " + fmt(ch.ma_min) +
           " ma_max " + fmt(ch.ma_max) + "\n";
    if (!ch.hist.counts.empty()) {
      size_t nnz = 0;
      for (float v : ch.hist.counts) nnz += v != 0.f;
      out += "hist " + fmt(ch.hist.min) + " " + fmt(ch.hist.max) + " " + std::to_string(nnz);
      for (size_t k = 0; k < ch.hist.counts.size(); ++k)
        if (ch.hist.counts[k] != 0.f) out += " " + std::to_string(k) + ":" + fmt(ch.hist.counts[k]);
      out += "\n";
    }
  }
  out += "end\n";
  return out;
}

Status stats_from_text(const std::string& text, size_t* pos, TensorStats* out) {
  Tokens tk(text, pos);
  TensorStats s;
  int32_t version = 0, has_hist = 0, int_edges = 0;
  uint64_t channels = 0;
  EDGEQ_RETURN_IF_ERROR(tk.read_i32("stats", &version));
  if (version != 1) return tk.error("unsupported stats version " + std::to_string(version));
  EDGEQ_RETURN_IF_ERROR(tk.read_i32("axis", &s.axis));
  EDGEQ_RETURN_IF_ERROR(tk.read_u64("channels", &channels));
  if (channels > (uint64_t{1} << 24)) return tk.error("too many channels");
  EDGEQ_RETURN_IF_ERROR(tk.read_u64("batches", &s.batches));
  EDGEQ_RETURN_IF_ERROR(tk.read_u64("nonfinite", &s.nonfinite));
  EDGEQ_RETURN_IF_ERROR(tk.read_f32("averaging_constant", &s.averaging_constant));
  EDGEQ_RETURN_IF_ERROR(tk.read_i32("histogram", &has_hist));
  EDGEQ_RETURN_IF_ERROR(tk.read_i32("bins", &s.histogram.bins));
  EDGEQ_RETURN_IF_ERROR(tk.read_i32("upsample", &s.histogram.upsample_rate));
  EDGEQ_RETURN_IF_ERROR(tk.read_i32("int_edges", &int_edges));
  s.has_histogram = has_hist != 0;
  s.histogram.torch_1_13_int_edges = int_edges != 0;
  if (s.has_histogram && (s.histogram.bins < 1 || s.histogram.bins > (1 << 24)))
    return tk.error("bad histogram bin count");
  s.channels.resize(channels);
  for (uint64_t c = 0; c < channels; ++c) {
    ChannelStats& ch = s.channels[c];
    uint64_t index = 0;
    EDGEQ_RETURN_IF_ERROR(tk.read_u64("channel", &index));
    if (index != c) return tk.error("channel " + std::to_string(index) + " out of order");
    EDGEQ_RETURN_IF_ERROR(tk.read_u64("count", &ch.count));
    EDGEQ_RETURN_IF_ERROR(tk.read_u64("zeros", &ch.zeros));
    if (ch.zeros > ch.count) return tk.error("more zeros than values");
    EDGEQ_RETURN_IF_ERROR(tk.read_f32("min", &ch.min));
    EDGEQ_RETURN_IF_ERROR(tk.read_f32("max", &ch.max));
    EDGEQ_RETURN_IF_ERROR(tk.read_f32("ma_min", &ch.ma_min));
    EDGEQ_RETURN_IF_ERROR(tk.read_f32("ma_max", &ch.ma_max));
    if (!s.has_histogram || ch.count == 0) continue;
    uint64_t nnz = 0;
    EDGEQ_RETURN_IF_ERROR(tk.read_f32("hist", &ch.hist.min));
    EDGEQ_RETURN_IF_ERROR(tk.read_f32(nullptr, &ch.hist.max));
    EDGEQ_RETURN_IF_ERROR(tk.read_u64(nullptr, &nnz));
    if (nnz > static_cast<uint64_t>(s.histogram.bins)) return tk.error("more non-zero bins than bins");
    ch.hist.counts.assign(static_cast<size_t>(s.histogram.bins), 0.f);
    for (uint64_t i = 0; i < nnz; ++i) {
      std::string t;
      if (!tk.next(&t)) return tk.error("missing histogram entry");
      const size_t colon = t.find(':');
      if (colon == std::string::npos) return tk.error("bad histogram entry '" + t + "'");
      char* end = nullptr;
      const std::string idx = t.substr(0, colon);
      const unsigned long k = std::strtoul(idx.c_str(), &end, 10);
      if (idx.empty() || *end != '\0' || k >= ch.hist.counts.size()) return tk.error("bad histogram bin '" + t + "'");
      EDGEQ_RETURN_IF_ERROR(tk.parse_f32(t.substr(colon + 1), &ch.hist.counts[k]));
    }
  }
  EDGEQ_RETURN_IF_ERROR(tk.expect("end"));
  EDGEQ_RETURN_IF_ERROR(validate_stats(s));
  *out = std::move(s);
  return Status::Ok();
}

Status stats_from_text(const std::string& text, TensorStats* stats) {
  size_t pos = 0;
  EDGEQ_RETURN_IF_ERROR(stats_from_text(text, &pos, stats));
  std::string rest;
  if (Tokens(text, &pos).next(&rest)) return InvalidArgument("stats text: unexpected '" + rest + "' after the record");
  return Status::Ok();
}

std::string stats_file_text(const NamedStats& tensors) {
  std::string out = "edgeq-stats 1 tensors " + std::to_string(tensors.size()) + "\n";
  for (const auto& t : tensors) {
    out += "tensor " + std::to_string(t.first.size()) + ":" + t.first + "\n";
    out += stats_to_text(t.second);
  }
  return out;
}

Status parse_stats_file(const std::string& text, NamedStats* tensors) {
  size_t pos = 0;
  Tokens tk(text, &pos);
  int32_t version = 0;
  uint64_t count = 0;
  EDGEQ_RETURN_IF_ERROR(tk.read_i32("edgeq-stats", &version));
  if (version != 1) return tk.error("unsupported stats file version " + std::to_string(version));
  EDGEQ_RETURN_IF_ERROR(tk.read_u64("tensors", &count));
  NamedStats out;
  for (uint64_t i = 0; i < count; ++i) {
    EDGEQ_RETURN_IF_ERROR(tk.expect("tensor"));
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    const size_t colon = text.find(':', pos);
    if (colon == std::string::npos) return tk.error("missing tensor name");
    const std::string len_text = text.substr(pos, colon - pos);
    char* end = nullptr;
    const unsigned long long len = std::strtoull(len_text.c_str(), &end, 10);
    if (len_text.empty() || *end != '\0' || len > text.size() - colon - 1) return tk.error("bad tensor name length");
    std::string name = text.substr(colon + 1, len);
    pos = colon + 1 + len;
    TensorStats s;
    Status st = stats_from_text(text, &pos, &s);
    if (!st.ok()) return Status(st.code(), "tensor '" + name + "': " + st.message());
    out.emplace_back(std::move(name), std::move(s));
  }
  std::string rest;
  if (tk.next(&rest)) return tk.error("unexpected '" + rest + "' after the last tensor");
  *tensors = std::move(out);
  return Status::Ok();
}

Status write_stats_file(const std::string& path, const NamedStats& tensors) {
  const std::string text = stats_file_text(tensors);
  return write_file(path, text.data(), text.size());
}

Status read_stats_file(const std::string& path, NamedStats* tensors) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return IoError("cannot open '" + path + "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return IoError("cannot read '" + path + "'");
  Status st = parse_stats_file(ss.str(), tensors);
  if (!st.ok()) return Status(st.code(), path + ": " + st.message());
  return Status::Ok();
}

}  // namespace quant
}  // namespace edgeq
