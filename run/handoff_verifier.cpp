#include "run/handoff_verifier.h"

namespace bootsim {

namespace {
// What a run without the kernel's symbols falls back to.
constexpr const char* without_symbols =
    "phases from weaker evidence, panics from the console, self-modifying code tracked in all of RAM";
}  // namespace

HandoffVerifier::HandoffVerifier(Machine& machine, const BzImage& kernel, std::optional<uint64_t> corrupt_offset,
                                 SymbolSource source, bool strict_code_tracking)
    : m_machine(machine), m_corrupt_offset(corrupt_offset), m_strict_code_tracking(strict_code_tracking),
      m_codec(compression_name(kernel.compression))
{
    m_host = std::async(std::launch::async, [&kernel, source] {
                 auto host = std::make_shared<HostKernel>();
                 host->image = decompress_kernel(kernel);
                 if (source.none) {
                     host->symbols_problem = "--no-kernel-symbols";
                 } else if (!source.system_map.empty()) {
                     auto map = KernelSymbols::from_system_map(source.system_map);
                     if (map)
                         host->symbols = std::move(*map);
                     else
                         host->symbols_problem = map.error().message;
                 } else if (host->image) {
                     auto kallsyms = KernelSymbols::from_kallsyms(*host->image);
                     if (kallsyms)
                         host->symbols = std::move(*kallsyms);
                     else
                         host->symbols_problem = kallsyms.error().message;
                 } else {
                     host->symbols_problem = host->image.error().message;
                 }
                 return host;
             }).share();
}

const HostKernel* HandoffVerifier::host_if_ready() const
{
    if (!m_host.valid() || m_host.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
        return nullptr;
    return m_host.get().get();
}

const KernelSymbols* HandoffVerifier::symbols() const
{
    const HostKernel* host = host_if_ready();
    return host && host->symbols ? &*host->symbols : nullptr;
}

HandoffVerifier::SymbolsUsed HandoffVerifier::symbols_used() const
{
    SymbolsUsed used{.count = 0, .source = "none", .armed = m_watch != nullptr, .problem = ""};
    const HostKernel* host = host_if_ready();
    if (!host)
        used.problem = "not recovered yet when the run ended";
    else if (!host->symbols)
        used.problem = host->symbols_problem;
    else {
        used.count = host->symbols->size();
        used.source = host->symbols->source();
    }
    return used;
}

const KernelImage* HandoffVerifier::host_image() const
{
    const HostKernel* host = host_if_ready();
    return host && host->image ? &*host->image : nullptr;
}

void HandoffVerifier::on_event(const BootEvent& event)
{
    if (event.kind != EventKind::PhaseEntered || event.phase != Phase::Handoff)
        return;
    const HostKernel& host = *m_host.get();
    if (!host.image)
        return not_recognised(fmt::format("the host cannot decode the payload: {}", host.image.error().message));
    if (!m_machine.tracker().handoff_seen())
        return not_recognised(fmt::format("the decompressor's jump into the kernel was not seen (the kernel first "
                                          "ran at {:#x})",
                                          event.address));
    // The jump's target is the output plus the ELF's entry offset, as a
    // physical address or (a kernel mapping the decompressor set up) a
    // virtual one: the page tables say where it lands.
    // A 32-bit kernel's split is its PAGE_OFFSET, read from its ELF.
    if (!host.image->wide)
        m_machine.tracker().set_address_split(host.image->kernel_map);
    uint64_t target = event.address;
    if (target >= m_machine.tracker().kernel_virtual_base()) {
        auto physical = m_machine.cpu().physical_address(target);
        if (!physical)
            return not_recognised(
                fmt::format("the decompressor jumped to {:#x}, which its page tables do not map", target));
        target = *physical;
    }
    if (target < host.image->entry_offset)
        return not_recognised(fmt::format("the decompressor jumped to {:#x}, below the kernel's entry offset {:#x} "
                                          "(e_entry - LOAD_PHYSICAL_ADDR)",
                                          target, host.image->entry_offset));
    uint64_t output = target - host.image->entry_offset;
    if (m_corrupt_offset) {
        uint64_t at = output + *m_corrupt_offset;
        if (m_machine.memory().contains(at, 1)) {
            m_machine.memory().host_base()[at] ^= 0xff;
            m_machine.emit({.kind = EventKind::Note,
                            .text = fmt::format("testing: flipped the guest's byte at {:#x} before the check", at)});
        }
    }
    m_result = check_handoff(*host.image, m_machine.memory().bytes(), output);
    m_machine.emit({.kind = EventKind::Note, .text = fmt::format("{} ({} payload)", m_result->summary, m_codec)});
    if (!m_result->matched) {
        m_machine.request_stop(RunEnd::CheckFailed, m_result->summary);
        return;
    }
    arm_kernel_watch(m_result->virtual_offset);
}

void HandoffVerifier::not_recognised(std::string reason)
{
    m_unavailable = reason;
    m_machine.emit({.kind = EventKind::Note,
                    .text = fmt::format("boot not recognised: {}; handoff not verified, no kernel symbols: {}",
                                        reason, without_symbols)});
}

void HandoffVerifier::arm_kernel_watch(int64_t virtual_offset)
{
    const HostKernel& host = *m_host.get();
    if (!host.symbols) {
        m_no_symbols = host.symbols_problem;
        m_machine.emit({.kind = EventKind::Note,
                        .text = fmt::format("no kernel symbols ({}): {}", host.symbols_problem, without_symbols)});
        return;
    }
    m_watch = std::make_unique<KernelWatch>(m_machine, *host.symbols, virtual_offset, KernelAbi(host.image->wide));
    m_machine.set_code_patching_watched(!m_strict_code_tracking && m_watch->watches_code_patching());
    m_machine.emit({.kind = EventKind::Note,
                    .text = fmt::format("{} kernel symbols from {}; virtual offset {:+#x}", host.symbols->size(),
                                        host.symbols->source(), virtual_offset)});
    m_machine.post([this] { m_watch->arm(); });
}

}  // namespace bootsim
