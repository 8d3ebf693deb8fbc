#include "util/file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/fd.hpp"

namespace privwatch::util {

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode,
                         std::string_view hint) {
  const std::string tmp = path + ".tmp";
  auto io_error = [&](const char* what, const std::string& file) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Error{ErrorKind::kIo, fmt::format("{} '{}': {}", what, file, std::strerror(err)),
                 std::string(hint)};
  };
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd.ok()) return io_error("cannot create", tmp);
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd.get(), p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return io_error("cannot write", tmp);
      p += n;
      left -= static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return io_error("cannot sync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename into place", path);
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.ok()) (void)::fsync(dfd.get());
  return {};
}

}  // namespace privwatch::util
