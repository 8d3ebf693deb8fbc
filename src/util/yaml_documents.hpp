// Multi-document YAML without YAML::LoadAll. yaml-cpp 0.7's LoadAll can loop forever
// (allocating) on some malformed input (found by fuzz_rules). Documents are split at "---" lines
// here and each is parsed with YAML::Load, which reads one document; leading newlines keep the
// line numbers of every mark right. Header-only: the modules that parse YAML link yaml-cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

namespace privwatch {

// Throws YAML::Exception on a syntax error, like YAML::LoadAll.
inline std::vector<YAML::Node> load_yaml_documents(const std::string& text) {
  std::vector<YAML::Node> docs;
  size_t piece_start = 0, piece_line = 0, line = 0;
  auto flush = [&](size_t end) {
    std::string piece(piece_line, '\n');
    piece.append(text, piece_start, end - piece_start);
    docs.push_back(YAML::Load(piece));
  };
  for (size_t pos = 0; pos <= text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string_view l(text.data() + pos, eol - pos);
    const bool marker = l == "---" || l.rfind("--- ", 0) == 0 || l == "---\r";
    if (marker && pos != 0) {
      flush(pos);
      piece_start = pos;
      piece_line = line;
    }
    pos = eol + 1;
    ++line;
  }
  flush(text.size());
  return docs;
}

}  // namespace privwatch
