#pragma once
// Everything one boot needs, built from the command line and checked before
// anything runs: the kernel, the initrd, the disks, the BootPlan, the
// machine with its board, and the consumers of its events. The headless run
// and the visualizer build their boots here, so both run the same machine.

#include <memory>
#include <optional>
#include <vector>

#include "board/pc_board.h"
#include "devices/slirp_network.h"
#include "core/boot_event.h"
#include "core/machine.h"
#include "core/result.h"
#include "devices/disk_image.h"
#include "loader/boot_plan.h"
#include "loader/bzimage.h"
#include "run/console_log.h"
#include "run/expect_matcher.h"
#include "run/handoff_verifier.h"
#include "run/kernel_log_watch.h"
#include "run/run_options.h"
#include "run/run_report.h"
#include "run/serial_log.h"
#include "run/trace_writer.h"

namespace bootsim {

class PreparedBoot final {
public:
    // Reads and checks every input, builds the plan and the machine, and
    // loads the plan into guest RAM. `extra` (the GUI's model) receives the
    // machine's events after the console, the report and the checks.
    static Result<std::unique_ptr<PreparedBoot>> create(const Options& options, EventSink* extra = nullptr);
    ~PreparedBoot();

    const Options& options() const { return m_options; }
    const BzImage& kernel() const { return m_kernel; }
    const BootPlan& plan() const { return m_plan; }
    Machine& machine() { return *m_machine; }
    PcBoard& board() { return *m_board; }
    ConsoleLog& console() { return m_console; }
    RunReport& report() { return m_report; }
    ExpectMatcher& matcher() { return *m_matcher; }
    HandoffVerifier& verifier() { return *m_verifier; }
    KernelLogWatch& kernel_log() { return *m_kernel_log; }
    TraceWriter& trace() { return m_trace; }
    SerialLog& serial_log() { return m_serial_log; }
    // --compare's baseline, read and parsed before the run (null without).
    const nlohmann::json& baseline() const { return m_baseline; }
    // What was read of the inputs, for the report.
    const nlohmann::json& inputs() const { return m_inputs; }

private:
    explicit PreparedBoot(Options options, BzImage kernel) : m_options(std::move(options)), m_kernel(std::move(kernel)) {}

    Options m_options;
    BzImage m_kernel;
    std::vector<std::unique_ptr<DiskImage>> m_disks;
    BootPlan m_plan;
    ConsoleLog m_console;
    RunReport m_report;
    TraceWriter m_trace;
    SerialLog m_serial_log;
    nlohmann::json m_baseline;
    nlohmann::json m_inputs;
    EventFanout m_events;
    // Declared in the order they are built; destroyed the other way round
    // (the board and the checks hold references to the machine).
    std::unique_ptr<Machine> m_machine;
    std::unique_ptr<ExpectMatcher> m_matcher;
    std::unique_ptr<HandoffVerifier> m_verifier;
    std::unique_ptr<KernelLogWatch> m_kernel_log;
    std::unique_ptr<PcBoard> m_board;
    // After the machine and the board: its thread posts to them, so it
    // stops first.
    std::unique_ptr<SlirpNetwork> m_network;
};

// Opens each --disk FILE[,ro|,snapshot].
Result<std::vector<std::unique_ptr<DiskImage>>> open_disks(const std::vector<std::string>& specs);

}  // namespace bootsim
