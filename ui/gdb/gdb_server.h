#pragma once
// `--gdb [HOST:]PORT`: a GDB remote protocol server over TCP (loopback
// unless a host is given) that runs the boot under a debugger. While the
// guest runs, a watcher thread waits for gdb's Ctrl-C (or a debugger
// connecting) and pauses the machine at the next block boundary; while it
// is stopped, packets are answered by GdbStub on the machine's thread.
// Guest time is frozen while gdb holds the guest, and --timeout counts
// only the time it ran.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "core/machine.h"
#include "core/result.h"
#include "run/prepared_boot.h"
#include "ui/gdb/gdb_packet.h"
#include "ui/gdb/gdb_stub.h"

namespace bootsim::gdb {

class GdbServer final {
public:
    // Binds and listens; errors name the address and why (in use, bad host).
    static Result<std::unique_ptr<GdbServer>> listen(const std::string& spec);
    ~GdbServer();

    // "127.0.0.1:1234": where gdb connects (`target remote ...`).
    const std::string& address() const { return m_address; }

    // Runs the boot until its run is over (any end gdb did not ask for),
    // stopping for gdb whenever it asks. With `wait`, the guest does not
    // start before a debugger has connected and continued it.
    RunOutcome run(PreparedBoot& boot, RunLimits limits, bool wait);

    // Tells a debugger still attached that the guest's run is over, with
    // bootsim's exit code ("W" packet), and closes the connection.
    void report_exit(int exit_code);

    // Async-signal-safe: a SIGINT or SIGTERM while bootsim waits for gdb.
    static void signal_received() { s_signalled.store(true); }

private:
    GdbServer() = default;
    enum class Served { Resume, Step, Detached, Killed, Closed, Interrupted };
    // Answers packets until gdb resumes the guest, detaches or goes away.
    Served serve(GdbStub& stub);
    bool accept_connection(bool block);
    void close_connection();
    bool send_packet(std::string_view payload);
    // Blocks for the next item from gdb; nullopt when the connection closed.
    std::optional<Incoming> receive();
    // Waits a moment for bytes from gdb and gives them to the reader.
    enum class Arrival { Nothing, Bytes, Interrupt, Closed };
    Arrival read_some();
    void start_watcher(Machine& machine);
    void stop_watcher();

    std::string m_address;
    int m_listen_fd = -1;
    int m_fd = -1;  // the debugger's connection, -1 when none
    PacketReader m_reader;
    std::thread m_watcher;
    std::atomic<bool> m_watching{false};
    std::atomic<bool> m_pause_asked{false};  // the watcher paused the machine
    static inline std::atomic<bool> s_signalled{false};
};

}  // namespace bootsim::gdb
