#include "util/path.hpp"

namespace privwatch {

std::string normalize_path(std::string_view base, std::string_view path) {
  std::string joined;
  if (!path.empty() && path.front() == '/') {
    joined.assign(path);
  } else {
    joined.reserve(base.size() + 1 + path.size());
    joined.assign(base.empty() ? std::string_view("/") : base);
    joined.push_back('/');
    joined.append(path);
  }
  std::string out;
  out.reserve(joined.size());
  size_t i = 0;
  while (i < joined.size()) {
    while (i < joined.size() && joined[i] == '/') ++i;
    size_t j = joined.find('/', i);
    if (j == std::string::npos) j = joined.size();
    const std::string_view comp(joined.data() + i, j - i);
    i = j;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      const size_t cut = out.rfind('/');
      out.resize(cut == std::string::npos ? 0 : cut);
      continue;
    }
    out.push_back('/');
    out.append(comp);
  }
  if (out.empty()) out = "/";
  return out;
}

}  // namespace privwatch
