#include "run/prepared_boot.h"

#include "run/net_option.h"

#include <fmt/format.h>

#include "run/input_description.h"
#include "run/output_file.h"

namespace bootsim {

Result<std::vector<std::unique_ptr<DiskImage>>> open_disks(const std::vector<std::string>& specs)
{
    std::vector<std::unique_ptr<DiskImage>> disks;
    for (const std::string& spec : specs) {
        std::string path = spec;
        DiskMode mode = DiskMode::ReadWrite;
        if (auto comma = spec.rfind(','); comma != std::string::npos) {
            std::string flag = spec.substr(comma + 1);
            path = spec.substr(0, comma);
            if (flag == "ro")
                mode = DiskMode::ReadOnly;
            else if (flag == "snapshot")
                mode = DiskMode::Snapshot;
            else
                return make_error(ErrorKind::BadUsage,
                                  "--disk {}: unknown option \"{}\" (expected FILE, FILE,ro or FILE,snapshot)", spec,
                                  flag);
        }
        auto disk = DiskImage::open(path, mode);
        if (!disk)
            return disk.error();
        disks.push_back(std::make_unique<DiskImage>(std::move(*disk)));
    }
    return disks;
}

PreparedBoot::~PreparedBoot() = default;

Result<std::unique_ptr<PreparedBoot>> PreparedBoot::create(const Options& options, EventSink* extra)
{
    // Outputs first: a path that cannot be written fails before anything runs.
    for (auto [path, option] : {std::pair{&options.report, "--report"}, std::pair{&options.trace, "--trace"},
                                std::pair{&options.serial_log, "--serial-log"}}) {
        if (!path->empty())
            TRY(check_output_path(*path, option));
    }
    nlohmann::json baseline;
    if (!options.compare.empty()) {
        auto text = read_file(options.compare, "baseline report");
        if (!text)
            return text.error();
        baseline = nlohmann::json::parse(text->begin(), text->end(), nullptr, false);
        if (baseline.is_discarded() || !baseline.is_object() || baseline.value("schema", "") != "bootsim-report")
            return make_error(ErrorKind::BadFormat, "--compare {}: not a bootsim report (JSON with \"schema\": "
                              "\"bootsim-report\")", options.compare);
    }
    auto kernel = load_bzimage(options.kernel);
    if (!kernel)
        return kernel.error();
    // Read on a host thread while the guest runs: checked now.
    if (!options.system_map.empty())
        TRY(check_input_file(options.system_map, "System.map"));
    std::unique_ptr<PreparedBoot> boot(new PreparedBoot(options, std::move(*kernel)));
    boot->m_baseline = std::move(baseline);

    std::optional<std::vector<uint8_t>> initrd;
    if (!options.initrd.empty()) {
        auto bytes = read_file(options.initrd, "initrd");
        if (!bytes)
            return bytes.error();
        initrd = std::move(*bytes);
    }
    auto mem = parse_mem_size(options.mem);
    if (!mem)
        return mem.error();
    // Disks are opened (and checked) before anything runs.
    auto disks = open_disks(options.disks);
    if (!disks)
        return disks.error();
    boot->m_disks = std::move(*disks);

    BootConfig config;
    config.kernel_path = options.kernel;
    config.initrd_path = options.initrd;
    if (options.append)
        config.cmdline = *options.append;
    config.mem_size = *mem;
    config.entry = options.entry;
    auto plan = make_boot_plan(boot->m_kernel, initrd ? &*initrd : nullptr, config);
    if (!plan)
        return plan.error();
    boot->m_plan = std::move(*plan);

    boot->m_inputs = describe_inputs(boot->m_kernel, options, initrd ? &*initrd : nullptr, boot->m_disks,
                                     boot->m_plan);

    boot->m_events.add(boot->m_console);
    // The report is kept for every run: --compare and the summary read it.
    boot->m_events.add(boot->m_report);
    if (!options.trace.empty())
        boot->m_events.add(boot->m_trace);
    if (!options.serial_log.empty())
        boot->m_events.add(boot->m_serial_log);
    auto machine = Machine::create(boot->m_plan.mem_size, boot->m_events);
    if (!machine)
        return machine.error();
    boot->m_machine = std::move(*machine);
    Machine& m = *boot->m_machine;
    if (options.deterministic)
        m.make_deterministic(options.guest_ips);
    m.set_idle_skipping(!options.no_idle_skip);
    // Instruction counts cost time: kept when an output or a limit uses them.
    if (!options.report.empty() || !options.trace.empty() || !options.compare.empty() || options.max_instructions)
        m.count_instructions();

    auto matcher = ExpectMatcher::create(m, options.expect);
    if (!matcher)
        return matcher.error();
    boot->m_matcher.reset(*matcher);
    boot->m_events.add(*boot->m_matcher);

    boot->m_verifier = std::make_unique<HandoffVerifier>(
        m, boot->m_kernel, options.corrupt_output_offset,
        HandoffVerifier::SymbolSource{options.system_map, options.no_kernel_symbols}, options.strict_code_tracking);
    boot->m_events.add(*boot->m_verifier);
    HandoffVerifier* verifier = boot->m_verifier.get();
    boot->m_kernel_log = std::make_unique<KernelLogWatch>(m, [verifier] {
        return verifier->kernel_watch() && verifier->kernel_watch()->watches_panic();
    });
    boot->m_events.add(*boot->m_kernel_log);
    if (extra)
        boot->m_events.add(*extra);

    // A deterministic run's RTC starts at a fixed time unless --rtc says one.
    std::optional<int64_t> rtc = options.rtc_epoch;
    if (!rtc && options.deterministic)
        rtc = deterministic_rtc_epoch;
    BoardConfig board_config{boot->m_plan.mem_size, rtc, {}, {}, boot->m_plan.e820,
                             boot->m_plan.entry.mode == EntryMode::Real16};
    for (auto& disk : boot->m_disks)
        board_config.disks.push_back(disk.get());
    std::optional<NetOption> net;
    if (!options.net.empty()) {
        auto parsed = parse_net_option(options.net);
        if (!parsed)
            return parsed.error();
        net = *parsed;
        board_config.net_mac = net->mac;
    }
    boot->m_board = std::make_unique<PcBoard>(m, board_config);
    if (net) {
        // Frames for the guest arrive on the network's thread and go in on
        // the guest's, at the next block boundary (waking an idle guest).
        VirtioNet* card = boot->m_board->net();
        auto network = SlirpNetwork::create(net->slirp, [&m, card](std::vector<uint8_t> frame) {
            m.post([card, frame = std::move(frame)] { card->receive(frame); });
        });
        if (!network)
            return network.error();
        boot->m_network = std::move(*network);
        card->set_backend(boot->m_network.get());
    }

    const BzImage& k = boot->m_kernel;
    std::string payload = k.payload_problem.empty()
                              ? fmt::format("{} payload ({:.1f} MiB -> {:.1f} MiB)", compression_name(k.compression),
                                            double(k.payload().size()) / (1 << 20),
                                            double(k.decompressed_size) / (1 << 20))
                              : "payload not readable on the host (" + k.payload_problem + ")";
    boot->m_console.line(fmt::format("kernel {}: boot protocol {}.{:02}, {}, {}", options.kernel, k.header.version >> 8,
                                     k.header.version & 0xff, payload, Cpu::version_string()));
    const EntryState& entry = boot->m_plan.entry;
    std::string entry_text = entry.mode == EntryMode::Real16
                                 ? fmt::format("real-mode entry at {:04x}:{:04x}", entry.cs, entry.rip)
                                 : fmt::format("{}-bit entry at {:#x}", entry_mode_name(entry.mode), entry.rip);
    boot->m_console.line(fmt::format("command line: \"{}\", RAM {} MiB, {}", boot->m_plan.cmdline,
                                     boot->m_plan.mem_size >> 20, entry_text));
    if (auto status = m.load(boot->m_plan); !status)
        return status.error();
    return boot;
}

}  // namespace bootsim
