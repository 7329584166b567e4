#include "ui/handoff_verifier.h"

namespace bootsim {

HandoffVerifier::HandoffVerifier(Machine& machine, const BzImage& kernel, std::optional<uint64_t> corrupt_offset)
    : m_machine(machine), m_corrupt_offset(corrupt_offset), m_codec(compression_name(kernel.compression))
{
    m_host_kernel = std::async(std::launch::async, [&kernel] { return decompress_kernel(kernel); }).share();
}

void HandoffVerifier::on_event(const BootEvent& event)
{
    if (event.kind != EventKind::PhaseEntered || event.phase != Phase::Handoff)
        return;
    const Result<KernelImage>& host = m_host_kernel.get();
    if (!host) {
        m_unavailable = host.error().message;
        m_machine.emit({.kind = EventKind::Note,
                        .text = fmt::format("handoff not verified: the host cannot decode the payload: {}",
                                            host.error().message)});
        return;
    }
    uint64_t output = event.address - host->entry_offset;
    if (m_corrupt_offset) {
        uint64_t at = output + *m_corrupt_offset;
        if (m_machine.memory().contains(at, 1)) {
            m_machine.memory().host_base()[at] ^= 0xff;
            m_machine.emit({.kind = EventKind::Note,
                            .text = fmt::format("testing: flipped the guest's byte at {:#x} before the check", at)});
        }
    }
    m_result = check_handoff(*host, m_machine.memory().bytes(), output);
    m_machine.emit({.kind = EventKind::Note, .text = fmt::format("{} ({} payload)", m_result->summary, m_codec)});
    if (!m_result->matched)
        m_machine.request_stop(RunEnd::CheckFailed, m_result->summary);
}

}  // namespace bootsim
