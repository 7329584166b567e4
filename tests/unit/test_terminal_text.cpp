// The console pane's terminal rendering of serial output.
#include <gtest/gtest.h>

#include "ui/gui/terminal_text.h"

using namespace bootsim::gui;

TEST(TerminalText, SplitsLinesAndDropsEscapes)
{
    TerminalText t;
    t.update("Linux version 6.1\r\n/ # \033[6n\033[1;32mgreen\033[0m\n", 0);
    ASSERT_EQ(t.lines().size(), 3u);
    EXPECT_EQ(t.lines()[0], "Linux version 6.1");
    EXPECT_EQ(t.lines()[1], "/ # green");
    EXPECT_EQ(t.lines()[2], "");
}

TEST(TerminalText, CarriageReturnOverwritesAndBackspaceMoves)
{
    TerminalText t;
    t.update("progress 10%\rprogress 99%\nabc\bX\ttab", 0);
    ASSERT_EQ(t.lines().size(), 2u);
    EXPECT_EQ(t.lines()[0], "progress 99%");
    EXPECT_EQ(t.lines()[1], "abX     tab");
}

TEST(TerminalText, ReadsOnlyWhatIsNewAndSurvivesCuts)
{
    TerminalText t;
    std::string text = "one\ntw";
    t.update(text, 0);
    text += "o\nthree";  // appended: only the new bytes are read
    t.update(text, 0);
    ASSERT_EQ(t.lines().size(), 3u);
    EXPECT_EQ(t.lines()[1], "two");
    EXPECT_EQ(t.received(), text.size());
    // The record cut its front but we had read past the cut: carry on.
    std::string kept = text.substr(4) + "!\n";
    t.update(kept, 4);
    EXPECT_EQ(t.lines()[2], "three!");
    // A cut beyond what we read: start again from what is there.
    t.update("new\n", 1000);
    ASSERT_EQ(t.lines().size(), 2u);
    EXPECT_EQ(t.lines()[0], "new");
    // An escape split across two updates is still dropped.
    TerminalText u;
    u.update("a\033[", 0);
    u.update("a\033[31mb", 0);
    EXPECT_EQ(u.lines()[0], "ab");
}
