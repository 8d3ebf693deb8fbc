#include "util/json_sink.hpp"

namespace privwatch::util {

void append_json_string(std::string& out, std::string_view s) {
  JsonSink sink(out, s.size() + 2 + JsonSink::kSlack);
  sink.put('"');
  sink.put_escaped(s);
  sink.put('"');
}

}  // namespace privwatch::util
