#pragma once
// Headless console input: bytes arriving on bootsim's stdin (a terminal or a
// pipe) go to the guest's serial port. A closed or absent stdin, or one at
// end of file, costs nothing: the reader stops and the machine is told no
// more input will come.

#include <atomic>
#include <functional>
#include <thread>

#include "core/machine.h"

namespace bootsim {

class ConsoleInput final {
public:
    // `deliver` runs on the CPU thread with each chunk read.
    ConsoleInput(Machine& machine, std::function<void(std::string)> deliver);
    ~ConsoleInput();

private:
    void reader_main();

    Machine& m_machine;
    std::function<void(std::string)> m_deliver;
    std::atomic<bool> m_quit{false};
    std::thread m_reader;
};

}  // namespace bootsim
