#include "ui/console_input.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace bootsim {

ConsoleInput::ConsoleInput(Machine& machine, std::function<void(std::string)> deliver)
    : m_machine(machine), m_deliver(std::move(deliver))
{
    if (fcntl(STDIN_FILENO, F_GETFD) == -1)
        return;  // no stdin at all
    m_machine.set_input_open(true);
    m_reader = std::thread([this] { reader_main(); });
}

ConsoleInput::~ConsoleInput()
{
    m_quit = true;
    if (m_reader.joinable())
        m_reader.join();
}

void ConsoleInput::reader_main()
{
    char buffer[4096];
    while (!m_quit) {
        // Poll with a timeout so the destructor can stop the thread without
        // closing the caller's stdin.
        pollfd p{STDIN_FILENO, POLLIN, 0};
        int ready = poll(&p, 1, 100);
        if (ready == 0)
            continue;
        if (ready < 0 && errno == EINTR)
            continue;
        ssize_t n = ready > 0 ? read(STDIN_FILENO, buffer, sizeof buffer) : -1;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        std::string chunk(buffer, size_t(n));
        m_machine.post([this, chunk = std::move(chunk)] { m_deliver(chunk); });
    }
    m_machine.set_input_open(false);
}

}  // namespace bootsim
