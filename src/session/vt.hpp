// A VT100/xterm screen model (libvterm) that turns terminal output into the plain text lines a
// person saw, so search is not defeated by colours, cursor movement, backspaces or carriage
// returns (docs/recording.md). Each line carries the time it was last written.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct VTerm;
struct VTermScreen;

namespace privwatch::session {

struct TextLine {
  uint64_t wall_ns = 0;  // last change of the line
  std::string text;      // UTF-8, trailing blanks removed
};

class TerminalText {
 public:
  TerminalText(int rows, int cols);
  ~TerminalText();
  TerminalText(const TerminalText&) = delete;
  TerminalText& operator=(const TerminalText&) = delete;

  void feed(std::string_view bytes, uint64_t wall_ns);
  void resize(int rows, int cols);
  // Lines scrolled off so far, then the screen's (trailing empty lines dropped). Call once.
  [[nodiscard]] std::vector<TextLine> finish();
  // For indexing a live terminal piece by piece: the lines written since the last call, with
  // their text now — first those that scrolled off, then those on the screen (blank rows left
  // out). A line is given again only when written again (a prompt still being typed shows up
  // again, complete, in a later call). Do not mix with finish().
  [[nodiscard]] std::vector<TextLine> take_changed();

  // Callbacks (libvterm, C linkage friendly).
  void on_damage(int start_row, int end_row);
  void on_moverect(int dest_start, int src_start, int src_end);
  void on_pushline(int cols, const void* cells);

 private:
  std::string row_text(int row) const;

  VTerm* vt_ = nullptr;
  VTermScreen* screen_ = nullptr;
  int rows_, cols_;
  uint64_t now_ = 0;
  std::vector<uint64_t> row_time_;
  std::vector<uint8_t> row_dirty_;   // written since the last take_changed()
  std::vector<uint8_t> line_dirty_;  // per line of lines_: its row was dirty when scrolled off
  std::vector<TextLine> lines_;
};

// Plain text of a run of cells (UTF-8), trailing blanks removed. Exposed for tests.
[[nodiscard]] std::string cells_text(const void* cells, int cols);

}  // namespace privwatch::session
