// libFuzzer target for recording files (outside input for `privwatch replay`/`watch`: a file
// on disk, later rows from the store): chunk records, zstd data and frames.
#include <cstdint>
#include <string>
#include <string_view>

#include "session/recording_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace privwatch;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  // Mode 1: the bytes as a chunk record, then its payload.
  if (auto c = session::decode_chunk(in)) {
    if (auto raw = session::decompress(*c)) (void)session::decode_frames(*raw);
  }
  // Mode 2: the bytes as frames, inside a well-formed compressed chunk (reaches the frame
  // decoder through the same path replay uses).
  (void)session::decode_frames(in);
  if (auto z = session::compress(in, 1)) {
    model::RecordingChunk c;
    c.raw_bytes = static_cast<uint32_t>(size);
    c.data = std::move(*z);
    auto back = session::decode_chunk(session::encode_chunk(c));
    if (back) {
      if (auto raw = session::decompress(*back)) {
        if (*raw != in) __builtin_trap();  // round trip must be exact
        (void)session::decode_frames(*raw);
      }
    }
  }
  return 0;
}
