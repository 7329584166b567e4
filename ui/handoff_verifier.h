#pragma once
// At the handoff, compares what the guest's own decompressor produced with
// the payload decompressed on the host (loader/kernel_image.h). The host
// decompression runs on a worker thread from the start of the run, so the
// check costs the guest only the comparison.

#include <future>
#include <optional>

#include "core/boot_event.h"
#include "core/machine.h"
#include "loader/kernel_image.h"

namespace bootsim {

class HandoffVerifier final : public EventSink {
public:
    HandoffVerifier(Machine& machine, const BzImage& kernel, std::optional<uint64_t> corrupt_offset);
    void on_event(const BootEvent& event) override;

    const std::optional<HandoffCheck>& result() const { return m_result; }
    // Set when the host could not decompress or lay out the payload.
    const std::optional<std::string>& unavailable() const { return m_unavailable; }

private:
    Machine& m_machine;
    std::shared_future<Result<KernelImage>> m_host_kernel;
    std::optional<uint64_t> m_corrupt_offset;
    std::optional<HandoffCheck> m_result;
    std::optional<std::string> m_unavailable;
    const char* m_codec;
};

}  // namespace bootsim
