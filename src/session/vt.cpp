#include "session/vt.hpp"

#include <vterm.h>

#include <algorithm>

namespace privwatch::session {

namespace {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x110000) {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void append_cell(std::string& out, const VTermScreenCell& c) {
  if (c.chars[0] == 0) {
    out.push_back(' ');
    return;
  }
  for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && c.chars[i] != 0; ++i) {
    append_utf8(out, c.chars[i]);
  }
}

void rtrim(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

int cb_damage(VTermRect r, void* user) {
  static_cast<TerminalText*>(user)->on_damage(r.start_row, r.end_row);
  return 1;
}
int cb_moverect(VTermRect dest, VTermRect src, void* user) {
  static_cast<TerminalText*>(user)->on_moverect(dest.start_row, src.start_row, src.end_row);
  return 1;
}
int cb_pushline(int cols, const VTermScreenCell* cells, void* user) {
  static_cast<TerminalText*>(user)->on_pushline(cols, cells);
  return 1;
}

const VTermScreenCallbacks kCallbacks = {
    cb_damage, cb_moverect, nullptr, nullptr, nullptr, nullptr, cb_pushline, nullptr,
};

}  // namespace

std::string cells_text(const void* cells, int cols) {
  const auto* c = static_cast<const VTermScreenCell*>(cells);
  std::string out;
  for (int i = 0; i < cols; ++i) {
    append_cell(out, c[i]);
    if (c[i].width == 2) ++i;  // the right half of a wide character
  }
  rtrim(out);
  return out;
}

TerminalText::TerminalText(int rows, int cols)
    : rows_(std::clamp(rows, 1, 1000)), cols_(std::clamp(cols, 1, 1000)) {
  row_time_.assign(static_cast<size_t>(rows_), 0);
  row_dirty_.assign(static_cast<size_t>(rows_), 0);
  vt_ = vterm_new(rows_, cols_);
  vterm_set_utf8(vt_, 1);
  screen_ = vterm_obtain_screen(vt_);
  vterm_screen_set_callbacks(screen_, &kCallbacks, this);
  // Full-screen programs (vim, less, top) draw on the alternate screen: their redraws do not
  // push lines into the scrollback (the text of the normal screen stays searchable).
  vterm_screen_enable_altscreen(screen_, 1);
  vterm_screen_reset(screen_, 1);
}

TerminalText::~TerminalText() {
  if (vt_ != nullptr) vterm_free(vt_);
}

void TerminalText::on_damage(int start_row, int end_row) {
  const int n = static_cast<int>(row_time_.size());
  for (int r = std::max(0, start_row); r < std::min(end_row, n); ++r) {
    row_time_[r] = now_;
    row_dirty_[r] = 1;
  }
}

void TerminalText::on_moverect(int dest_start, int src_start, int src_end) {
  const std::vector<uint64_t> before = row_time_;
  const std::vector<uint8_t> dirty_before = row_dirty_;
  for (int i = 0; src_start + i < src_end; ++i) {
    const int d = dest_start + i, s = src_start + i;
    const int n = static_cast<int>(before.size());
    if (d >= 0 && d < n && s >= 0 && s < n) {
      row_time_[d] = before[s];
      row_dirty_[d] = dirty_before[s];
    }
  }
}

void TerminalText::on_pushline(int cols, const void* cells) {
  // libvterm pushes the top row before scrolling the rest up.
  lines_.push_back({row_time_.empty() ? now_ : row_time_[0], cells_text(cells, cols)});
  line_dirty_.push_back(row_dirty_.empty() ? 1 : row_dirty_[0]);
}

void TerminalText::feed(std::string_view bytes, uint64_t wall_ns) {
  now_ = wall_ns;
  vterm_input_write(vt_, bytes.data(), bytes.size());
  vterm_screen_flush_damage(screen_);
}

void TerminalText::resize(int rows, int cols) {
  rows = std::clamp(rows, 1, 1000);
  cols = std::clamp(cols, 1, 1000);
  if (rows == rows_ && cols == cols_) return;
  if (rows > rows_) {
    row_time_.resize(static_cast<size_t>(rows), now_);
    row_dirty_.resize(static_cast<size_t>(rows), 0);
  }
  vterm_set_size(vt_, rows, cols);
  vterm_screen_flush_damage(screen_);
  rows_ = rows;
  cols_ = cols;
  row_time_.resize(static_cast<size_t>(rows_), now_);
  row_dirty_.resize(static_cast<size_t>(rows_), 0);
}

std::string TerminalText::row_text(int row) const {
  std::string out;
  for (int c = 0; c < cols_; ++c) {
    VTermScreenCell cell;
    if (vterm_screen_get_cell(screen_, VTermPos{row, c}, &cell) == 0) break;
    append_cell(out, cell);
    if (cell.width == 2) ++c;
  }
  rtrim(out);
  return out;
}

std::vector<TextLine> TerminalText::finish() {
  std::vector<TextLine> screen;
  for (int r = 0; r < rows_; ++r) screen.push_back({row_time_[r], row_text(r)});
  while (!screen.empty() && screen.back().text.empty()) screen.pop_back();
  std::vector<TextLine> out = std::move(lines_);
  for (auto& l : screen) out.push_back(std::move(l));
  lines_.clear();
  line_dirty_.clear();
  return out;
}

std::vector<TextLine> TerminalText::take_changed() {
  std::vector<TextLine> out;
  for (size_t i = 0; i < lines_.size(); ++i) {
    // A line taken while on screen and not written since is not given twice.
    if (line_dirty_[i] != 0) out.push_back(std::move(lines_[i]));
  }
  lines_.clear();
  line_dirty_.clear();
  for (int r = 0; r < rows_; ++r) {
    if (row_dirty_[static_cast<size_t>(r)] == 0) continue;
    row_dirty_[static_cast<size_t>(r)] = 0;
    std::string text = row_text(r);
    if (!text.empty()) out.push_back({row_time_[static_cast<size_t>(r)], std::move(text)});
  }
  return out;
}

}  // namespace privwatch::session
