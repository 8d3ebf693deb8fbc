// Per-chunk cost of keeping recordings in the store, on the pipeline thread: the recorder's
// zstd compression (already paid before the store kept recordings) versus what the store sink
// adds per chunk (decompress + decode frames + the screen model that yields the searchable
// text). Terminal output: coloured `ls -l`-style lines and a shell prompt. Run:
//   build/bench/bench_micro --benchmark_filter=Recording
#include <benchmark/benchmark.h>

#include <string>

#include "model/recording.hpp"
#include "session/recording_format.hpp"
#include "session/vt.hpp"

namespace {

using namespace privwatch;

// One chunk of raw frames: 64 KiB of output in 512-byte writes (what `ls -l --color` prints).
std::string chunk_frames(size_t bytes) {
  std::string out, frames;
  int i = 0;
  while (out.size() < bytes) {
    out += "-rw-r--r-- 1 alice dba  " + std::to_string(4096 + i * 7) +
           " Nov 22 04:05 \x1b[01;34mdata-" + std::to_string(i) + "\x1b[0m.csv\r\n";
    if (++i % 40 == 0) out += "\x1b[32malice@db-3\x1b[0m:~$ ls -l\r\n";
  }
  for (size_t off = 0; off < out.size(); off += 512) {
    session::append_frame(frames, session::FrameType::kOutput, 1'795'000'000'000'000'000ull + off,
                          std::string_view(out).substr(off, 512));
  }
  return frames;
}

void BM_RecordingCompressChunk(benchmark::State& state) {
  const std::string raw = chunk_frames(65536);
  for (auto _ : state) {
    auto z = session::compress(raw, 3);
    benchmark::DoNotOptimize(z);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
}
BENCHMARK(BM_RecordingCompressChunk);

void BM_RecordingStoreTextChunk(benchmark::State& state) {
  const std::string raw = chunk_frames(65536);
  model::RecordingChunk c;
  c.raw_bytes = static_cast<uint32_t>(raw.size());
  c.data = *session::compress(raw, 3);
  session::TerminalText vt(24, 80);
  size_t lines = 0;
  for (auto _ : state) {
    auto r = session::decompress(c);
    auto frames = session::decode_frames(*r);
    for (const auto& f : *frames) vt.feed(f.data, f.wall_ns);
    lines += vt.take_changed().size();
  }
  benchmark::DoNotOptimize(lines);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
}
BENCHMARK(BM_RecordingStoreTextChunk);

}  // namespace
