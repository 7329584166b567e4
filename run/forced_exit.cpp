#include "run/forced_exit.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>

#include "run/output_file.h"

namespace bootsim::forced_exit {

namespace {

// Two buffers: update() fills the one the handler does not read, then makes
// it current, so the handler never sees a string being rewritten.
std::array<std::string, 2> g_texts;
std::atomic<int> g_current{-1};
std::string g_path, g_temporary;  // no temporary: a pipe or terminal, written as it comes
std::atomic<bool> g_armed{false};

}  // namespace

void arm(const std::string& report_path)
{
    // The same rules as every output (output_file.h), decided now: the
    // handler can only write.
    auto target = report_path.empty() || report_path == "-" ? std::nullopt : output_target(report_path);
    if (!target)
        return;
    g_path = target->path;
    g_temporary = target->stream ? "" : target->path + ".forced.tmp";
    g_armed = true;
}

void disarm()
{
    g_armed = false;
}

void update(std::string text)
{
    int next = g_current.load() == 0 ? 1 : 0;
    g_texts[size_t(next)] = std::move(text);
    g_current.store(next);
}

void exit_now(int code)
{
    static const char line[] = "bootsim: a second interrupt: exiting at once (the report holds the run up to its "
                               "last phase)\n";
    write_all(STDERR_FILENO, line, sizeof line - 1);
    int current = g_current.load();
    if (g_armed.load() && current >= 0) {
        bool stream = g_temporary.empty();
        int fd = stream ? ::open(g_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)
                        : ::open(g_temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            const std::string& text = g_texts[size_t(current)];
            write_all(fd, text.data(), text.size());
            ::close(fd);
            if (!stream)
                ::rename(g_temporary.c_str(), g_path.c_str());
        }
    }
    _exit(code);
}

}  // namespace bootsim::forced_exit
