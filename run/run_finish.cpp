#include "run/run_finish.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/cpu.h"
#include "run/output_file.h"
#include "run/report_compare.h"

namespace bootsim {

int exit_code_for(RunEnd end, bool goal_met)
{
    switch (end) {
    case RunEnd::StopPhase:
    case RunEnd::ExpectMatched:
    case RunEnd::StopRequested:
    case RunEnd::Breakpoint:
    case RunEnd::Stepped:
        return exit_success;
    case RunEnd::Halted:
    case RunEnd::PowerOff:
        return goal_met ? exit_success : exit_goal_not_met;
    case RunEnd::Idle:
    case RunEnd::Reset:
        return exit_goal_not_met;
    case RunEnd::Panic:
        return exit_guest_panic;
    case RunEnd::TripleFault:
        return exit_triple_fault;
    case RunEnd::Timeout:
        return exit_timeout;
    case RunEnd::InstructionBudget:
        return exit_instruction_budget;
    case RunEnd::Interrupted:
        return exit_interrupted;
    case RunEnd::EmulatorError:
    case RunEnd::CheckFailed:
        return exit_bootsim_failed;
    }
    return exit_bootsim_failed;
}

const char* run_end_name(RunEnd end)
{
    switch (end) {
    case RunEnd::StopPhase: return "stop_phase";
    case RunEnd::StopRequested: return "stop_requested";
    case RunEnd::Halted: return "halted";
    case RunEnd::Idle: return "idle";
    case RunEnd::TripleFault: return "triple_fault";
    case RunEnd::Reset: return "reset";
    case RunEnd::PowerOff: return "power_off";
    case RunEnd::Timeout: return "timeout";
    case RunEnd::EmulatorError: return "emulator_error";
    case RunEnd::Panic: return "panic";
    case RunEnd::CheckFailed: return "check_failed";
    case RunEnd::ExpectMatched: return "expect_matched";
    case RunEnd::Interrupted: return "interrupted";
    case RunEnd::InstructionBudget: return "instruction_budget";
    case RunEnd::Breakpoint: return "breakpoint";
    case RunEnd::Stepped: return "stepped";
    }
    return "?";
}

namespace {

std::string count_text(uint64_t n)
{
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

void print_summary(PreparedBoot& boot, const FinishedRun& finished)
{
    ConsoleLog& log = boot.console();
    Machine& machine = boot.machine();
    const RunReport& report = boot.report();
    log.line(fmt::format("summary: {} (exit {}), guest time {:.3f} s, wall {:.3f} s, {}{}", finished.reason,
                         finished.exit_code, double(machine.now_ns()) / 1e9, double(machine.wall_ns()) / 1e9,
                         machine.counting_instructions() ? count_text(machine.instructions()) + " instructions"
                                                         : "instructions not counted (no --report, --trace, --compare "
                                                           "or --max-instructions)",
                         machine.deterministic() ? " (deterministic)" : ""));
    const auto& marks = report.phase_marks();
    bool counted = machine.counting_instructions();
    log.line(fmt::format("  {:<11} {:>10} {:>10} {:>16}", "phase", "guest s", "wall s",
                         counted ? "instructions" : ""));
    for (size_t i = 0; i < marks.size(); ++i) {
        uint64_t next_i = i + 1 < marks.size() ? marks[i + 1].instructions : machine.instructions();
        log.line(fmt::format("  {:<11} {:>10.3f} {:>10.3f} {:>16}{}", phase_name(marks[i].phase),
                             double(marks[i].guest_ns) / 1e9, double(marks[i].wall_ns) / 1e9,
                             counted ? count_text(marks[i].instructions) : "",
                             counted ? "  (+" + count_text(next_i - marks[i].instructions) + ")" : ""));
    }
    int top = boot.options().top_initcalls;
    std::vector<const RunReport::Initcall*> calls;
    for (const auto& c : report.initcalls())
        calls.push_back(&c);
    if (top > 0 && !calls.empty()) {
        std::stable_sort(calls.begin(), calls.end(),
                         [](auto* a, auto* b) { return a->guest_ns > b->guest_ns; });
        log.line(fmt::format("  slowest initcalls, guest time ({} of {}):",
                             std::min<size_t>(size_t(top), calls.size()), calls.size()));
        for (size_t i = 0; i < calls.size() && i < size_t(top); ++i)
            log.line(fmt::format("    {:>9.3f} ms {}  {}{}", double(calls[i]->guest_ns) / 1e6,
                                 counted ? fmt::format("{:>14} instructions", count_text(calls[i]->instructions)) : "",
                                 calls[i]->name,
                                 calls[i]->returned ? (calls[i]->result ? fmt::format(" (returned {})", calls[i]->result) : "")
                                                    : " (did not return)"));
    }
}

}  // namespace

void set_closing_sections(PreparedBoot& boot, const RunOutcome& outcome, int code)
{
    const Options& options = boot.options();
    Machine& machine = boot.machine();
    RunReport& report = boot.report();
    HandoffVerifier& verifier = boot.verifier();
    const KernelLogWatch& kernel_log = boot.kernel_log();
    report.set("bootsim", {{"version", "0.1"}, {"cpu", Cpu::version_string()}});
    // The decompressor runs outside the block hook unless deterministic.
    const char* counted = !machine.counting_instructions() ? "none"
                          : machine.deterministic()        ? "all"
                                                           : "outside the decompressor";
    report.set("run", {{"deterministic", machine.deterministic()},
                       {"idle_skipping", machine.idle_skipping()},
                       {"instructions_counted", counted},
                       {"instructions_per_second",
                        machine.deterministic() ? nlohmann::json(options.guest_ips) : nlohmann::json(nullptr)},
                       {"max_instructions",
                        options.max_instructions ? nlohmann::json(options.max_instructions) : nlohmann::json(nullptr)},
                       {"timeout_seconds",
                        options.timeout_seconds.value_or(0) > 0 ? nlohmann::json(*options.timeout_seconds)
                                                                 : nlohmann::json(nullptr)},
                       {"stop_at", options.stop_at ? nlohmann::json(phase_name(*options.stop_at)) : nlohmann::json(nullptr)},
                       {"expect", options.expect},
                       {"expected_exit_code",
                        options.expected_exit ? nlohmann::json(*options.expected_exit) : nlohmann::json(nullptr)}});
    report.set("inputs", boot.inputs());
    report.set("outcome", {{"end", run_end_name(outcome.end)}, {"reason", outcome.reason}, {"exit_code", code}});
    report.set("kernel_log", {{"oopses", kernel_log.oopses()},
                              {"warnings", kernel_log.warnings()},
                              {"bugs", kernel_log.bugs()},
                              {"panic", kernel_log.panic() ? nlohmann::json(*kernel_log.panic()) : nullptr}});
    nlohmann::json recognised = nullptr;
    if (machine.reached(Phase::Handoff)) {
        auto reason = verifier.not_recognised_reason();
        recognised = {{"ok", !reason}, {"reason", reason ? nlohmann::json(*reason) : nullptr}};
    }
    report.set("recognised", recognised);
    const HandoffVerifier::SymbolsUsed used = verifier.symbols_used();
    report.set("kernel_symbols",
               {{"count", used.count}, {"source", used.source}, {"armed", used.armed}, {"problem", used.problem}});
    nlohmann::json check = nullptr;
    if (verifier.result()) {
        const HandoffCheck& c = *verifier.result();
        check = {{"matched", c.matched},
                 {"output_address", fmt::format("{:#x}", c.output_address)},
                 {"virtual_offset", fmt::format("{:#x}", c.virtual_offset)},
                 {"bytes_compared", c.bytes_compared},
                 {"mismatched_bytes", c.mismatched_bytes},
                 {"summary", c.summary}};
    }
    report.set("handoff_check", check);
    report.set_totals({machine.now_ns(), machine.wall_ns(), machine.instructions(), machine.port_reads(),
                       machine.port_writes(), machine.mmio_reads(), machine.mmio_writes(), machine.blocks_executed(),
                       machine.cpu_stops()});
}

FinishedRun finish_run(PreparedBoot& boot, RunOutcome outcome, bool summary)
{
    const Options& options = boot.options();
    Machine& machine = boot.machine();
    ConsoleLog& console = boot.console();
    RunReport& report = boot.report();
    ExpectMatcher& matcher = boot.matcher();
    HandoffVerifier& verifier = boot.verifier();

    int code = exit_code_for(outcome.end, matcher.all_matched());
    if ((outcome.end == RunEnd::Halted || outcome.end == RunEnd::PowerOff) && !matcher.all_matched())
        outcome.reason += fmt::format(" before the console showed \"{}\"", matcher.unmatched().front());
    // --stop-at names a phase the run must reach; ending anywhere else
    // without an error of its own is a failure too.
    if (options.stop_at && !machine.reached(*options.stop_at) && code == exit_success &&
        outcome.end != RunEnd::ExpectMatched) {
        code = exit_goal_not_met;
        outcome.reason += fmt::format(" before phase {}", phase_name(*options.stop_at));
    }
    if (options.stop_at && *options.stop_at == Phase::Handoff && outcome.end == RunEnd::StopPhase &&
        !verifier.result() && !verifier.unavailable())
        code = exit_bootsim_failed;

    const KernelLogWatch& kernel_log = boot.kernel_log();
    if (kernel_log.oopses() || kernel_log.warnings() || kernel_log.bugs())
        console.line(fmt::format("the kernel reported {} oops(es), {} WARN(s) and {} BUG line(s) on its console",
                                 kernel_log.oopses(), kernel_log.warnings(), kernel_log.bugs()));
    console.line(fmt::format("[{:8.3f}s] end: {} (exit {})", double(machine.wall_ns()) / 1e9, outcome.reason, code));
    if (outcome.end == RunEnd::TripleFault || outcome.end == RunEnd::EmulatorError)
        fmt::print(stderr, "{}\n", machine.cpu().state().dump());

    set_closing_sections(boot, outcome, code);

    FinishedRun finished{code, outcome.reason};
    if (summary)
        print_summary(boot, finished);

    // The comparison comes before the outputs are written so that the
    // report says what it found.
    int compare_code = exit_success;
    nlohmann::json current = report.to_json();
    if (!boot.baseline().is_null()) {
        CompareTolerance tolerance{options.compare_tolerance, options.compare_min_seconds,
                                   options.compare_min_instructions};
        Comparison comparison = compare_reports(boot.baseline(), current, tolerance);
        console.line(fmt::format("compare with {}:", options.compare));
        for (const auto& line : comparison.lines)
            console.line("  " + line);
        compare_code = comparison.exit_code;
    }

    bool output_failed = false;
    auto write = [&](const std::string& path, const std::string& text, const char* what) {
        if (path.empty())
            return;
        if (auto written = write_output_file(path, text, what); !written) {
            fmt::print(stderr, "bootsim: error: {}\n", written.error().message);
            output_failed = true;
        }
    };
    write(options.trace, boot.trace().text(machine.now_ns(), machine.instructions()), "trace");
    write(options.serial_log, boot.serial_log().text(), "serial log");
    // The exit code as the process ends with it (outputs and comparison
    // included), so the report and $? agree.
    int final_code = code != exit_success ? code : output_failed ? int(exit_output_not_written) : compare_code;
    current["outcome"]["exit_code"] = final_code;
    current["compare"] = options.compare.empty()
                             ? nlohmann::json(nullptr)
                             : nlohmann::json({{"baseline", options.compare}, {"exit_code", compare_code}});
    write(options.report, RunReport::text_of(current), "report");

    // Precedence (run/exit_codes.h): the guest's end, then the outputs, then the comparison.
    if (finished.exit_code == exit_success) {
        if (output_failed)
            finished.exit_code = exit_output_not_written;
        else
            finished.exit_code = compare_code;
    }
    return finished;
}

}  // namespace bootsim
