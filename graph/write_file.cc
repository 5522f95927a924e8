// Complete-or-absent file writes (see write_file.h), on POSIX calls: the temporary
// file is created with O_EXCL, written with a loop that resumes short and interrupted
// writes, fsync()ed and closed with both results checked, then renamed.
#include "graph/write_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace edgeq {
namespace {

std::atomic<unsigned> g_serial{0};  // distinguishes the temporary files of one process

std::string reason(int error) { return std::strerror(error); }

// Writes all `size` bytes to fd; 0 or the errno of the failure.
int write_all(int fd, const uint8_t* p, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

Status write_file(const std::string& path, const void* data, size_t size) {
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(g_serial++);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return IoError("cannot write '" + path + "': cannot create '" + tmp + "': " + reason(errno));
  int error = write_all(fd, static_cast<const uint8_t*>(data), size);
  if (error == 0 && ::fsync(fd) != 0 && errno != EINVAL) error = errno;  // EINVAL: cannot be synced (a pipe...)
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(tmp.c_str());
    return IoError("cannot write '" + path + "': " + reason(error));
  }
  return Status::Ok();
}

}  // namespace edgeq
