// ConsoleLog, the headless console: the guest's bytes reach stdout whole
// lines at a time, and a line the guest leaves open (a prompt) as soon as
// the guest waits, so a script answering on stdin sees the question.
#include <gtest/gtest.h>

#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "run/console_log.h"

using bootsim::BootEvent;
using bootsim::ConsoleLog;
using bootsim::EventKind;

namespace {

// A pipe whose write end is a fully buffered FILE*, as stdout is when a
// script reads bootsim through a pipe.
class BufferedPipe {
public:
    BufferedPipe()
    {
        int fds[2];
        EXPECT_EQ(pipe(fds), 0);
        m_read = fds[0];
        fcntl(m_read, F_SETFL, O_NONBLOCK);
        m_write = fdopen(fds[1], "w");
        setvbuf(m_write, nullptr, _IOFBF, 4096);
    }
    ~BufferedPipe()
    {
        fclose(m_write);
        close(m_read);
    }
    FILE* file() const { return m_write; }
    // What has reached the pipe so far.
    std::string drain()
    {
        std::string out;
        char buffer[256];
        ssize_t n;
        while ((n = read(m_read, buffer, sizeof buffer)) > 0)
            out.append(buffer, size_t(n));
        return out;
    }

private:
    int m_read = -1;
    FILE* m_write = nullptr;
};

void serial(ConsoleLog& log, const std::string& bytes)
{
    for (char c : bytes)
        log.on_event({.kind = EventKind::SerialOutput, .text = std::string(1, c)});
}

}  // namespace

TEST(ConsoleLog, WholeLinesGoOutAsTheyEnd)
{
    BufferedPipe console;
    FILE* log_sink = tmpfile();
    ConsoleLog log(console.file(), log_sink);
    serial(log, "[    0.000000] Linux version 6.1\n[    0.1");
    EXPECT_EQ(console.drain(), "[    0.000000] Linux version 6.1\n");
    fclose(log_sink);
}

TEST(ConsoleLog, APromptGoesOutWhenTheGuestWaits)
{
    BufferedPipe console;
    FILE* log_sink = tmpfile();
    ConsoleLog log(console.file(), log_sink);
    serial(log, "Please unlock disk root_crypt: ");
    EXPECT_EQ(console.drain(), "");  // not yet: more may follow on the line
    log.on_event({.kind = EventKind::IdleSkip, .size = 0});
    EXPECT_EQ(console.drain(), "Please unlock disk root_crypt: ");
    fclose(log_sink);
}
