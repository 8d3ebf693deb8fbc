// The VT screen model used for recording text and search (libvterm underneath).
#include "session/vt.hpp"

#include <gtest/gtest.h>

namespace privwatch::session {
namespace {

std::vector<std::string> texts(TerminalText& vt) {
  std::vector<std::string> out;
  for (const auto& l : vt.finish()) out.push_back(l.text);
  return out;
}

TEST(TerminalText, BackspacesColoursAndCarriageReturns) {
  TerminalText vt(24, 80);
  vt.feed("pas\x1b[31mX\x1b[0m\b \bswd\r\n", 1);
  vt.feed("\x1b[1;32mOK\x1b[0m done\r\n", 2);
  vt.feed("50%\r100%\r\n", 3);
  EXPECT_EQ(texts(vt), (std::vector<std::string>{"passwd", "OK done", "100%"}));
}

TEST(TerminalText, ScrolledLinesKeepTheTimeTheyWereWritten) {
  TerminalText vt(3, 20);
  vt.feed("first\r\n", 100);
  vt.feed("second\r\n", 200);
  vt.feed("third\r\nfourth\r\nfifth", 300);
  const auto lines = vt.finish();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].text, "first");
  EXPECT_EQ(lines[0].wall_ns, 100u);
  EXPECT_EQ(lines[1].text, "second");
  EXPECT_EQ(lines[1].wall_ns, 200u);
  EXPECT_EQ(lines[4].text, "fifth");
  EXPECT_EQ(lines[4].wall_ns, 300u);
}

TEST(TerminalText, CursorMovementEraseAndWideCharacters) {
  TerminalText vt(5, 40);
  vt.feed("hello world\x1b[5D\x1b[Kthere\r\n", 1);  // cursor back 5, erase to end
  vt.feed("\xe6\x97\xa5\xe6\x9c\xac ok\r\n", 2);    // two wide characters
  vt.feed("\x1b[2J\x1b[Hclean\r\n", 3);             // clear screen, home
  EXPECT_EQ(texts(vt), (std::vector<std::string>{"clean"}));
  TerminalText vt2(5, 40);
  vt2.feed("hello world\x1b[5D\x1b[Kthere\r\n\xe6\x97\xa5\xe6\x9c\xac ok\r\n", 1);
  EXPECT_EQ(texts(vt2), (std::vector<std::string>{"hello there", "\xe6\x97\xa5\xe6\x9c\xac ok"}));
}

TEST(TerminalText, ResizeKeepsTextAndWrapsAtTheNewWidth) {
  TerminalText vt(5, 10);
  vt.feed("abc\r\n", 1);
  vt.resize(5, 20);
  vt.feed("0123456789012345\r\n", 2);
  EXPECT_EQ(texts(vt), (std::vector<std::string>{"abc", "0123456789012345"}));
}

TEST(TerminalText, AlternateScreenDoesNotPolluteTheText) {
  TerminalText vt(5, 20);
  vt.feed("$ less file\r\n", 1);
  vt.feed("\x1b[?1049h\x1b[Hpage of less\x1b[?1049l", 2);
  vt.feed("$ ", 3);
  EXPECT_EQ(texts(vt), (std::vector<std::string>{"$ less file", "$"}));
}

TEST(TerminalText, TakeChangedGivesScrolledAndWrittenLinesOncePieceByPiece) {
  TerminalText vt(3, 20);
  vt.feed("one\r\ntwo\r\n$ ec", 1);
  auto a = vt.take_changed();
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].text, "one");
  EXPECT_EQ(a[2].text, "$ ec");
  EXPECT_EQ(a[2].wall_ns, 1u);
  EXPECT_TRUE(vt.take_changed().empty()) << "nothing written since";
  // The prompt line completes, then the screen scrolls: "one" and "two" leave it unchanged
  // since they were taken (not given twice); the completed prompt and the new line are.
  vt.feed("\bX\bcho hi\r\nhi\r\n", 5);
  auto b = vt.take_changed();
  std::vector<std::string> texts;
  for (const auto& l : b) texts.push_back(l.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"$ echo hi", "hi"}));
  // Scrolling alone does not repeat lines already taken.
  TerminalText whole(3, 20);
  whole.feed("one\r\ntwo\r\n", 1);
  (void)whole.take_changed();
  whole.feed("three\r\nfour\r\n", 2);
  texts.clear();
  for (const auto& l : whole.take_changed()) texts.push_back(l.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"three", "four"}));
  for (const auto& l : b) {
    if (l.text == "$ echo hi" || l.text == "hi") EXPECT_EQ(l.wall_ns, 5u);
  }
}

}  // namespace
}  // namespace privwatch::session
