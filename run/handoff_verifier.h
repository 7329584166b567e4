#pragma once
// At the handoff, compares what the guest's own decompressor produced with
// the payload decompressed on the host (loader/kernel_image.h), and then
// arms the kernel watches (core/kernel_watch.h) with the kernel's own symbol
// table. The host decompression and the symbol recovery run on a worker
// thread from the start of the run, so the guest waits only for the
// comparison.

#include <future>
#include <memory>
#include <optional>

#include "core/boot_event.h"
#include "run/kernel_watch.h"
#include "core/machine.h"
#include "loader/kernel_image.h"
#include "loader/kernel_symbols.h"

namespace bootsim {

struct HostKernel {
    Result<KernelImage> image = Error{ErrorKind::Unsupported, "not decompressed"};
    std::optional<KernelSymbols> symbols;
    std::string symbols_problem;  // why there are none
};

class HandoffVerifier final : public EventSink {
public:
    // Where the kernel's symbols come from: its own kallsyms, a System.map
    // file, or nowhere (--no-kernel-symbols: the fallback, on purpose).
    struct SymbolSource {
        std::string system_map;
        bool none = false;
    };
    HandoffVerifier(Machine& machine, const BzImage& kernel, std::optional<uint64_t> corrupt_offset,
                    SymbolSource symbols, bool strict_code_tracking);
    void on_event(const BootEvent& event) override;

    const std::optional<HandoffCheck>& result() const { return m_result; }
    // Set when the host could not decompress or lay out the payload.
    const std::optional<std::string>& unavailable() const { return m_unavailable; }
    const KernelWatch* kernel_watch() const { return m_watch.get(); }
    // Why the boot was not recognised (handoff unseen or unverifiable, no
    // symbols), once the handoff happened; nullopt when it was, or before.
    std::optional<std::string> not_recognised_reason() const
    {
        if (m_unavailable)
            return m_unavailable;
        if (m_no_symbols)
            return "no kernel symbols: " + *m_no_symbols;
        return std::nullopt;
    }
    const KernelSymbols* symbols() const;
    // What the run knew of the kernel's symbols, for the report.
    struct SymbolsUsed {
        size_t count = 0;      // recovered (0: none)
        std::string source;    // "kallsyms", "System.map" or "none"
        bool armed = false;    // the kernel watches were armed with them
        std::string problem;   // why there are none
    };
    SymbolsUsed symbols_used() const;
    // The payload as the host decompressed and laid it out; null until ready.
    const KernelImage* host_image() const;

private:
    void arm_kernel_watch(int64_t virtual_offset);
    // Says, in one line, that the boot was not recognised and what follows.
    void not_recognised(std::string reason);
    // The host's work, once done (never waits); null before.
    const HostKernel* host_if_ready() const;

    Machine& m_machine;
    std::shared_future<std::shared_ptr<HostKernel>> m_host;
    std::optional<uint64_t> m_corrupt_offset;
    bool m_strict_code_tracking;
    std::optional<HandoffCheck> m_result;
    std::optional<std::string> m_unavailable;
    std::optional<std::string> m_no_symbols;
    std::unique_ptr<KernelWatch> m_watch;
    const char* m_codec;
};

}  // namespace bootsim
