// Writing a file so that it is either complete or absent.
//
// write_file() writes the bytes to a new temporary file in the destination's
// directory (`<path>.tmp.<pid>.<n>`, created exclusively, so concurrent writers and
// stale files never collide), flushes it to the disk, and renames it over `path`
// only once everything is written and closed: readers see the old file or the whole
// new one. On every failure (creating the file, a failed or short write, flushing,
// closing, renaming) the temporary file is removed and an IoError naming `path` and
// the reason is returned. Every writer of edgeq files goes through it: models,
// exported ONNX, calibration statistics, NPY outputs.
//
// A write past the process's file size limit (ulimit -f) raises SIGXFSZ, whose
// default action kills the process before the write can fail with EFBIG and the
// temporary file be removed. A program that wants the error instead ignores SIGXFSZ
// (signal(SIGXFSZ, SIG_IGN)); the edgeq tool does. The library never changes signal
// dispositions of the process that links it.
#pragma once

#include <cstddef>
#include <string>

#include "graph/status.h"

namespace edgeq {

Status write_file(const std::string& path, const void* data, size_t size);

}  // namespace edgeq
