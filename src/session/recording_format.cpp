#include "session/recording_format.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

namespace privwatch::session {

std::string_view to_string(FrameType t) {
  switch (t) {
    case FrameType::kMeta:
      return "meta";
    case FrameType::kOutput:
      return "output";
    case FrameType::kInput:
      return "input";
    case FrameType::kResize:
      return "resize";
    case FrameType::kGap:
      return "gap";
    case FrameType::kCommand:
      return "command";
    case FrameType::kCommandEnd:
      return "command_end";
    case FrameType::kEnd:
      return "end";
  }
  return "unknown";
}

namespace {

template <typename T>
void put(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

template <typename T>
bool get(std::string_view& in, T& v) {
  if (in.size() < sizeof(T)) return false;
  v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<T>(static_cast<T>(static_cast<unsigned char>(in[i])) << (8 * i));
  }
  in.remove_prefix(sizeof(T));
  return true;
}

void put_str(std::string& out, std::string_view s) {
  put<uint16_t>(out, static_cast<uint16_t>(std::min<size_t>(s.size(), 0xffff)));
  out.append(s.substr(0, 0xffff));
}

bool get_str(std::string_view& in, std::string& s) {
  uint16_t n = 0;
  if (!get(in, n) || in.size() < n) return false;
  s.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

constexpr uint16_t kChunkVersion = 1;

}  // namespace

void append_frame(std::string& out, FrameType type, uint64_t wall_ns, std::string_view data) {
  out.push_back(static_cast<char>(type));
  put<uint64_t>(out, wall_ns);
  put<uint32_t>(out, static_cast<uint32_t>(data.size()));
  out.append(data);
}

Result<std::vector<Frame>> decode_frames(std::string_view raw) {
  std::vector<Frame> frames;
  while (!raw.empty()) {
    const size_t at = raw.size();
    uint8_t type = 0;
    uint64_t wall = 0;
    uint32_t len = 0;
    if (!get(raw, type) || !get(raw, wall) || !get(raw, len) || raw.size() < len) {
      return make_error(ErrorKind::kCorrupt, "recording frame cut short ({} bytes left)", at);
    }
    if (type < static_cast<uint8_t>(FrameType::kMeta) ||
        type > static_cast<uint8_t>(FrameType::kEnd)) {
      return make_error(ErrorKind::kCorrupt, "unknown recording frame type {}", type);
    }
    frames.push_back({static_cast<FrameType>(type), wall, std::string(raw.substr(0, len))});
    raw.remove_prefix(len);
  }
  return frames;
}

Result<std::string> compress(std::string_view raw, int level) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) {
    return make_error(ErrorKind::kInternal, "zstd compression failed: {}", ZSTD_getErrorName(n));
  }
  out.resize(n);
  return out;
}

Result<std::string> decompress(const model::RecordingChunk& c) {
  if (c.raw_bytes > kMaxChunkRawBytes) {
    return make_error(ErrorKind::kCorrupt, "recording chunk {} claims {} bytes (limit {})", c.seq,
                      c.raw_bytes, kMaxChunkRawBytes);
  }
  std::string out(c.raw_bytes, '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), c.data.data(), c.data.size());
  if (ZSTD_isError(n) || n != c.raw_bytes) {
    return make_error(ErrorKind::kCorrupt, "recording chunk {} does not decompress: {}", c.seq,
                      ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size differs from its header");
  }
  return out;
}

std::string encode_chunk(const model::RecordingChunk& c) {
  std::string out;
  out.reserve(64 + c.recording_id.size() + c.data.size());
  put<uint16_t>(out, kChunkVersion);
  put<uint16_t>(out, c.final ? 1 : 0);
  put<uint64_t>(out, c.seq);
  put<uint64_t>(out, c.first_wall_ns);
  put<uint64_t>(out, c.last_wall_ns);
  put<uint32_t>(out, c.frames);
  put<uint32_t>(out, c.raw_bytes);
  put_str(out, c.recording_id);
  put_str(out, c.session_id);
  put_str(out, c.host);
  put_str(out, c.tty);
  put<uint32_t>(out, static_cast<uint32_t>(c.data.size()));
  out.append(c.data);
  return out;
}

Result<model::RecordingChunk> decode_chunk(std::string_view in) {
  model::RecordingChunk c;
  uint16_t version = 0, flags = 0;
  uint32_t data_len = 0;
  if (!get(in, version)) return make_error(ErrorKind::kCorrupt, "recording chunk: empty");
  if (version != kChunkVersion) {
    return make_error(ErrorKind::kCorrupt,
                      "recording chunk version {} (this privwatch reads version {})", version,
                      kChunkVersion);
  }
  if (!get(in, flags) || !get(in, c.seq) || !get(in, c.first_wall_ns) || !get(in, c.last_wall_ns) ||
      !get(in, c.frames) || !get(in, c.raw_bytes) || !get_str(in, c.recording_id) ||
      !get_str(in, c.session_id) || !get_str(in, c.host) || !get_str(in, c.tty) ||
      !get(in, data_len) || in.size() != data_len) {
    return make_error(ErrorKind::kCorrupt, "recording chunk: header or data cut short");
  }
  c.final = (flags & 1) != 0;
  c.data.assign(in);
  return c;
}

std::string recording_path(const std::string& dir, std::string_view id) {
  std::string name;
  for (const char ch : id) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    name.push_back(ok ? ch : '_');
  }
  if (name.empty() || name[0] == '.') name.insert(name.begin(), '_');
  return dir + "/" + name + ".pwrec";
}

Result<std::unique_ptr<FileChunkReader>> FileChunkReader::open(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) {
    const int err = errno;
    Error e = make_error(err == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                         "cannot open the recording {}: {}", path, std::strerror(err));
    e.hint = err == ENOENT ? "check the session id (privwatch replay --list) and recording.dir"
                           : "run as root, or as a user who can read recording.dir";
    return e;
  }
  char magic[kFileMagic.size()];
  const ssize_t n = ::pread(fd.get(), magic, sizeof(magic), 0);
  if (n != static_cast<ssize_t>(sizeof(magic)) ||
      std::string_view(magic, sizeof(magic)) != kFileMagic) {
    return make_error(ErrorKind::kCorrupt, "{} is not a privwatch recording (bad magic)", path);
  }
  auto r = std::unique_ptr<FileChunkReader>(new FileChunkReader(path, std::move(fd)));
  r->offset_ = kFileMagic.size();
  return r;
}

Result<std::optional<model::RecordingChunk>> FileChunkReader::next() {
  unsigned char len_buf[4];
  ssize_t n = ::pread(fd_.get(), len_buf, sizeof(len_buf), static_cast<off_t>(offset_));
  if (n < 0) return make_error(ErrorKind::kIo, "reading {}: {}", path_, std::strerror(errno));
  if (n < 4) return std::optional<model::RecordingChunk>{};  // nothing more (yet)
  const uint32_t len = len_buf[0] | (len_buf[1] << 8) | (len_buf[2] << 16) |
                       (static_cast<uint32_t>(len_buf[3]) << 24);
  if (len > kMaxChunkRecordBytes) {
    return make_error(ErrorKind::kCorrupt, "{}: chunk record at offset {} claims {} bytes", path_,
                      offset_, len);
  }
  std::string buf(len, '\0');
  n = ::pread(fd_.get(), buf.data(), len, static_cast<off_t>(offset_ + 4));
  if (n < 0) return make_error(ErrorKind::kIo, "reading {}: {}", path_, std::strerror(errno));
  if (static_cast<uint32_t>(n) < len) return std::optional<model::RecordingChunk>{};  // partial
  auto c = decode_chunk(buf);
  if (!c) {
    Error e = c.error();
    e.message = fmt::format("{} at offset {}: {}", path_, offset_, e.message);
    return e;
  }
  offset_ += 4 + len;
  return std::optional<model::RecordingChunk>(std::move(*c));
}

Result<std::vector<Frame>> read_all_frames(ChunkReader& reader) {
  std::vector<Frame> frames;
  uint64_t expect = 0;
  bool first = true;
  for (;;) {
    auto c = reader.next();
    if (!c) return c.error();
    if (!c->has_value()) break;
    const auto& chunk = **c;
    if (first && reader.removed_head() != 0 && chunk.seq == reader.removed_head()) {
      expect = chunk.seq;
    }
    first = false;
    // A recording continued after an agent restart starts again at 0 (a new segment).
    if (chunk.seq != expect && chunk.seq != 0) {
      return make_error(ErrorKind::kCorrupt, "recording {}: chunk {} follows chunk {} (missing)",
                        chunk.recording_id, chunk.seq, expect == 0 ? 0 : expect - 1);
    }
    expect = chunk.seq + 1;
    auto raw = decompress(chunk);
    if (!raw) return raw.error();
    auto f = decode_frames(*raw);
    if (!f) return f.error();
    for (auto& fr : *f) frames.push_back(std::move(fr));
  }
  return frames;
}

}  // namespace privwatch::session
