#pragma once
// How a run ends, whichever front end ran it: the exit code from the way the
// guest's run ended and the run's goals (--expect, --stop-at, the handoff
// check), the report's closing sections, the outputs (--report, --trace,
// --serial-log) written whole, the --compare verdict, and the summary the
// headless run ends with. Precedence between codes: run/exit_codes.h.

#include <string>

#include "core/machine.h"
#include "run/prepared_boot.h"

namespace bootsim {

// The exit code for a run that ended this way; `goal_met`: every --expect
// pattern was seen.
int exit_code_for(RunEnd end, bool goal_met);

// "power_off", "timeout", ...: the report's outcome.end.
const char* run_end_name(RunEnd end);

struct FinishedRun {
    int exit_code;
    std::string reason;  // one line
};

// Call once, after the last run. Prints the end line, the summary (when
// `summary`) and any output or comparison findings through the boot's log.
FinishedRun finish_run(PreparedBoot& boot, RunOutcome outcome, bool summary);

// The report's sections that only a run's end fills in (how it ended, the
// checks, the totals), for `outcome` ending with exit `code`. finish_run()
// sets them; the forced-exit report is composed with them ahead of time.
void set_closing_sections(PreparedBoot& boot, const RunOutcome& outcome, int code);

}  // namespace bootsim
