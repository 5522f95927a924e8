// Helpers of the model-level suites: a graph serialized and loaded (from memory, or
// through a file so that it is mapped), sessions at a named level, the levels this CPU
// runs, MatMul shapes, bit-exact float comparison, a pre-packed segment given a wrong
// size, and what the C API reports as sessions of one model are created.
// Failures are reported with EXPECT (the caller's test fails and goes on).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "edgeq/edgeq.h"
#include "graph/format.h"
#include "graph/ir.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "runtime/session.h"

namespace edgeq {
namespace test_models {

// Every kernel level, the reference first (levels the CPU lacks included: callers skip
// them with kern::isa_supported).
inline std::vector<kern::Isa> every_level() {
  std::vector<kern::Isa> levels;
  for (int l = 0; l < static_cast<int>(kern::Isa::kCount); ++l) levels.push_back(static_cast<kern::Isa>(l));
  return levels;
}

// The names of the optimized levels this CPU runs.
inline std::vector<std::string> optimized_levels() {
  std::vector<std::string> levels;
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l)
    if (kern::isa_supported(static_cast<kern::Isa>(l))) levels.push_back(kern::isa_name(static_cast<kern::Isa>(l)));
  return levels;
}

inline std::vector<uint8_t> serialized(const Graph& g) {
  std::vector<uint8_t> bytes;
  const Status st = serialize_graph(g, &bytes);
  EXPECT_TRUE(st.ok()) << st.message();
  return bytes;
}

// `g` serialized and loaded from memory; null (and a failure) when either step fails.
inline std::shared_ptr<const Model> load_in_memory(const Graph& g) {
  const std::vector<uint8_t> bytes = serialized(g);
  std::shared_ptr<const Model> m;
  const Status st = Model::load_memory(bytes.data(), bytes.size(), &m);
  EXPECT_TRUE(st.ok()) << st.message();
  return m;
}

// `g` written to `path` and loaded from the file (mapped: packing may drop its pages).
inline std::shared_ptr<const Model> load_via_file(const Graph& g, const std::string& path) {
  const std::vector<uint8_t> bytes = serialized(g);
  FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr) << path;
  if (f == nullptr) return nullptr;
  EXPECT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
  std::shared_ptr<const Model> m;
  const Status st = Model::load_file(path, &m);
  EXPECT_TRUE(st.ok()) << st.message();
  return m;
}

// A session on `level` ("" or a level name) with `threads` threads; null on failure.
inline std::unique_ptr<Session> session_at(const std::shared_ptr<const Model>& m, const std::string& level,
                                           int threads = 1) {
  SessionOptions o;
  o.isa = level;
  o.num_threads = threads;
  std::unique_ptr<Session> s;
  const Status st = Session::create(m, o, &s);
  EXPECT_TRUE(st.ok()) << level << ": " << st.message();
  return s;
}

// The MatMul shape of operands shaped `a` and `b` (a failure when they do not multiply).
inline ref::MatMulShape shape_of(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  ref::MatMulShape s;
  EXPECT_TRUE(ref::make_matmul_shape(a.data(), static_cast<int>(a.size()), b.data(), static_cast<int>(b.size()), &s));
  return s;
}

// Bit for bit (NaN equal to NaN of the same bits).
inline void expect_same_floats(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << what;
}

// Points `pw` at a 64-byte aligned copy of its bytes and changes its size by `delta`
// bytes, so that only the size is wrong.
inline void resize_segment(PackedWeights* pw, int64_t delta) {
  auto bytes = std::make_shared<std::vector<uint8_t>>(pw->nbytes + 192, 0);
  uint8_t* aligned = bytes->data() + (64 - reinterpret_cast<uintptr_t>(bytes->data()) % 64) % 64;
  std::memcpy(aligned, pw->data, pw->nbytes);
  pw->nbytes = static_cast<size_t>(static_cast<int64_t>(pw->nbytes) + delta);
  pw->data = aligned;
  pw->owner = bytes;
}

// What the C API reports after each of `count` sessions is created on `model`: the
// model's packed bytes and packed layers, the new session's own bytes. The sessions
// are appended to *sessions (the caller destroys them); a failed call is a test
// failure and ends the list.
struct CapiStats {
  size_t packed_bytes = 0, packed_layers = 0, own_bytes = 0;
};
inline std::vector<CapiStats> capi_session_stats(edgeq_model* model, int count, std::vector<edgeq_session*>* sessions) {
  std::vector<CapiStats> out;
  for (int i = 0; i < count; ++i) {
    edgeq_session* s = nullptr;
    if (edgeq_session_create(model, nullptr, &s) != EDGEQ_OK) {
      ADD_FAILURE() << "session " << i << ": " << edgeq_last_error();
      break;
    }
    sessions->push_back(s);
    edgeq_model_stats ms;
    ms.struct_size = sizeof(ms);
    edgeq_session_stats ss;
    ss.struct_size = sizeof(ss);
    EXPECT_EQ(edgeq_model_get_stats(model, &ms), EDGEQ_OK);
    EXPECT_EQ(edgeq_session_get_stats(s, &ss), EDGEQ_OK);
    out.push_back(CapiStats{ms.packed_bytes, ms.packed_layers, ss.own_bytes});
  }
  return out;
}

// Later sessions added nothing to the model's packed weights and hold what the first
// one holds.
inline void expect_later_sessions_share(const std::vector<CapiStats>& stats) {
  for (size_t i = 1; i < stats.size(); ++i) {
    EXPECT_EQ(stats[i].packed_bytes, stats[0].packed_bytes) << "session " << i;
    EXPECT_EQ(stats[i].packed_layers, stats[0].packed_layers) << "session " << i;
    EXPECT_EQ(stats[i].own_bytes, stats[0].own_bytes) << "session " << i;
  }
}

}  // namespace test_models
}  // namespace edgeq
