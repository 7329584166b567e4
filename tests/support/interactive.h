#pragma once
// Runs bootsim with a pipe on stdin and on stdout+stderr, so a test can wait
// for text and type, like a person at the console.

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <regex>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace bootsim::test {

class Interactive {
public:
    explicit Interactive(const std::string& args)
    {
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0)
            return;
        m_pid = fork();
        if (m_pid == 0) {
            dup2(in[0], STDIN_FILENO);
            dup2(out[1], STDOUT_FILENO);
            dup2(out[1], STDERR_FILENO);
            close(in[1]);
            close(out[0]);
            // exec: signals sent to the child reach bootsim, not a shell.
            std::string command = "exec " + std::string(BOOTSIM_BINARY) + " " + args;
            execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        m_in = in[1];
        m_out = out[0];
    }

    ~Interactive()
    {
        if (m_in >= 0)
            close(m_in);
        if (m_pid > 0 && m_exit < 0) {
            kill(m_pid, SIGKILL);
            waitpid(m_pid, nullptr, 0);
        }
        if (m_out >= 0)
            close(m_out);
    }

    // Reads until `pattern` appears in the output or `seconds` pass.
    bool wait_for(const std::string& pattern, double seconds)
    {
        std::regex re(pattern);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (!std::regex_search(m_output.substr(m_searched), re)) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !read_some(int(left.count())))
                return false;
        }
        std::smatch m;
        std::string rest = m_output.substr(m_searched);
        std::regex_search(rest, m, re);
        m_searched += size_t(m.position(0) + m.length(0));
        return true;
    }

    void type(const std::string& text) { (void)!write(m_in, text.data(), text.size()); }
    void close_input()
    {
        close(m_in);
        m_in = -1;
    }

    // Waits for the process to end; returns its exit code (or -1 on timeout).
    int wait_exit(double seconds)
    {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
                while (read_some(50)) {
                }
                m_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return m_exit;
            }
            read_some(50);
        }
        return -1;
    }

    void signal(int signo) { kill(m_pid, signo); }
    const std::string& output() const { return m_output; }

private:
    bool read_some(int timeout_ms)
    {
        pollfd p{m_out, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0)
            return false;
        char buffer[4096];
        ssize_t n = read(m_out, buffer, sizeof buffer);
        if (n <= 0)
            return false;
        m_output.append(buffer, size_t(n));
        return true;
    }

    pid_t m_pid = -1;
    int m_in = -1, m_out = -1;
    int m_exit = -1;
    std::string m_output;
    size_t m_searched = 0;
};

}  // namespace bootsim::test
