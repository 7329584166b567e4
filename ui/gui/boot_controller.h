#pragma once
// Runs the boot on its own thread for the visualizer. The GUI sends
// commands (run, pause, step, run to a phase or an address, restart) and
// reads snapshots; it never touches the CPU. Guest RAM it may read directly
// (the boot() it holds keeps the machine alive), as DESIGN.md says.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "loader/initrd_catalog.h"
#include "ui/gui/boot_model.h"
#include "ui/gui/machine_snapshot.h"
#include "ui/options.h"
#include "run/prepared_boot.h"

namespace bootsim::gui {

enum class CommandKind { Run, Step, StepOver, RunToNextPhase, RunToPhase, RunToAddress, Restart, SetFastDecompression };

struct Command {
    CommandKind kind = CommandKind::Run;
    Phase phase = Phase::Handoff;  // RunToPhase
    uint64_t address = 0;          // RunToAddress
    double timeout_seconds = 0;    // for run commands; 0: none
    bool flag = true;              // SetFastDecompression
};

// One boot: the record of its events outlives the machine that feeds it.
struct Session {
    BootModel model;
    std::unique_ptr<PreparedBoot> boot;
    // The initrd's file list, read on the host beside the boot (a large
    // compressed initrd takes a while): nullopt when there is none.
    std::shared_future<std::optional<InitrdCatalog>> initrd;
};

class BootController final {
public:
    explicit BootController(Options options);
    ~BootController();

    // Queued for the machine's thread, in order.
    void send(Command command);
    // Stops a run at the next block boundary; nothing if none runs. While
    // the decompressor runs unhooked (fast decompression) that boundary is
    // its jump to the kernel: pause_waits() says so.
    void pause();
    bool pause_waits() const;
    // Ends the current run at once, for good (a restart or quitting follows).
    void abandon();
    // Keys typed into the console pane, for the guest's serial port.
    void type(std::string bytes);
    // While a run goes on, asks the machine's thread for a fresh snapshot
    // (at most one outstanding).
    void refresh();

    MachineSnapshot snapshot() const;
    // The current boot (null before it is built or when building failed).
    std::shared_ptr<Session> session() const;
    bool busy() const;  // a command is queued or running

private:
    void worker_main();
    void build();
    void execute(const Command& command);
    RunOutcome step_over();
    void finish(const RunOutcome& outcome);
    void publish(RunState state, std::string status);
    void capture();  // on the machine's thread

    Options m_options;
    mutable std::mutex m_mutex;  // guards everything below but the atomics
    std::condition_variable m_cv;
    std::deque<Command> m_queue;
    bool m_quit = false;
    bool m_executing = false;
    std::shared_ptr<Session> m_session;
    MachineSnapshot m_snapshot;
    std::atomic<bool> m_refresh_pending{false};
    bool m_fast_decompression = true;  // the worker's
    std::thread m_worker;
};

// Whether a run that ended this way can go on. Not after a timeout: like
// any end the user did not ask for, it may have stopped the CPU mid-block
// (in the fast decompression window), and --timeout ends a run headless too.
bool run_can_continue(RunEnd end);

}  // namespace bootsim::gui
