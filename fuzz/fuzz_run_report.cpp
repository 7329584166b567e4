// Fuzz entry point: the run's outputs built from any event stream the
// machine could emit (the guest controls the console bytes, the initcall
// names read from its memory, the panic text): the JSON report, the
// Perfetto trace and the serial log must always be written, and the JSON
// must parse back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_input.h"
#include "run/run_report.h"
#include "run/serial_log.h"
#include "run/trace_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace bootsim;
    fuzz::FuzzInput in(data, size);
    RunReport report;
    TraceWriter trace;
    SerialLog serial;
    uint64_t now = 0;
    for (int step = 0; step < 512 && !in.empty(); ++step) {
        BootEvent e;
        e.kind = EventKind(in.byte() % (int(EventKind::Note) + 1));
        now += in.value(2) * 1000;
        e.virtual_ns = now;
        e.wall_ns = now;
        e.instructions = now / 4;
        e.phase = all_phases[in.byte() % all_phases.size()];
        e.address = in.value(8);
        e.size = in.value(4);
        e.value = in.value(2);
        e.text = in.text(200);
        report.on_event(e);
        trace.on_event(e);
        serial.on_event(e);
    }
    report.set("outcome", {{"end", "fuzz"}, {"reason", in.text(50)}});
    std::string report_text = report.text();
    std::string trace_text = trace.text(now, now / 4);
    (void)serial.text();
    if (!nlohmann::json::accept(report_text) || !nlohmann::json::accept(trace_text))
        abort();
    return 0;
}
