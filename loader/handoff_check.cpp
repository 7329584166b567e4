// check_handoff(): when the guest's decompressor jumps to the kernel, compare
// what it wrote (extract_kernel() in arch/x86/boot/compressed/misc.c:
// __decompress(), parse_elf(), handle_relocations()) with the host's own
// result, so a fault in the emulated CPU shows up as a byte address instead
// of a mysterious crash later.

#include <algorithm>
#include <cstring>

#include "loader/kernel_image.h"

namespace bootsim {

namespace {

uint32_t le32(const uint8_t* p)
{
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

std::string signed_hex(int64_t v)
{
    return v < 0 ? fmt::format("-0x{:x}", uint64_t(0) - uint64_t(v)) : fmt::format("+0x{:x}", uint64_t(v));
}

// The virtual offset the guest chose, read back from relocated sites: the
// guest's value at a site minus the unrelocated one. A 64-bit site gives it
// whole, a 32-bit one modulo 2^32 (enough: the offset is below
// KERNEL_IMAGE_SIZE). One site would do, but if the guest got that very site
// wrong, every other site would look wrong instead of it; so the first,
// middle and last site of each list vote, and the first 64-bit site breaks
// ties. No sites at all means the image does not depend on the offset.
int64_t derive_virtual_offset(const KernelImage& kernel, const uint8_t* guest)
{
    const uint8_t* host = kernel.image.data();
    std::vector<int64_t> votes;
    auto vote = [&](const std::vector<uint32_t>& sites, bool wide) {
        if (sites.empty())
            return;
        std::vector<size_t> picks{0, sites.size() / 2, sites.size() - 1};
        picks.erase(std::unique(picks.begin(), picks.end()), picks.end());
        for (size_t i : picks) {
            uint32_t site = sites[i];
            votes.push_back(wide ? int64_t(le64(guest + site) - le64(host + site))
                                 : int64_t(int32_t(le32(guest + site) - le32(host + site))));
        }
    };
    vote(kernel.relocs64, true);
    vote(kernel.relocs32, false);
    int64_t best = 0;
    ptrdiff_t best_count = 0;
    for (int64_t v : votes) {
        ptrdiff_t count = std::count(votes.begin(), votes.end(), v);
        if (count > best_count)
            best = v, best_count = count;
    }
    return best;
}

// "2 MiB", "8 KiB".
std::string size_text(uint64_t bytes)
{
    return bytes % (1 << 20) == 0 ? fmt::format("{} MiB", bytes >> 20) : fmt::format("{} KiB", bytes >> 10);
}

// Counts the bytes where the guest differs from the host; `address` is the
// guest-physical address of guest[0].
void compare_bytes(const uint8_t* guest, const uint8_t* host, uint64_t size, uint64_t address,
                   HandoffCheck& check)
{
    if (std::memcmp(guest, host, size) == 0)
        return;
    for (uint64_t i = 0; i < size; i++) {
        if (guest[i] == host[i])
            continue;
        if (check.mismatched_bytes == 0 || address + i < check.first_mismatch) {
            check.first_mismatch = address + i;
            check.expected = host[i];
            check.found = guest[i];
        }
        check.mismatched_bytes++;
    }
}

// Relocating a private copy of a 50 MiB image costs more (allocation, page
// faults, copy) than comparing it. Instead the segments are compared in
// cache-sized windows, each relocated on the fly from the sites falling in
// it, sorted by offset. That gives relocate()'s bytes only if no two sites
// overlap, since handle_relocations() applies them in table order; the
// relocs tool (arch/x86/tools/relocs.c) never emits overlapping ones, and
// when a table does, the whole image is relocated instead.
struct Site {
    uint32_t offset;
    uint8_t width;   // 4 or 8
    bool inverse;    // 32-bit site the kernel subtracts the offset from
};

bool by_offset(const Site& a, const Site& b) { return a.offset < b.offset; }

// All sites in ascending order; the tool writes each list sorted, and
// lay_out_kernel() read them back to front, so this is usually a reversal
// and two merges.
std::vector<Site> sorted_sites(const KernelImage& kernel)
{
    std::vector<Site> sites;
    sites.reserve(kernel.relocs32.size() + kernel.relocs32_inverse.size() + kernel.relocs64.size());
    auto append = [&](const std::vector<uint32_t>& list, uint8_t width, bool inverse) {
        size_t start = sites.size();
        for (uint32_t offset : list)
            sites.push_back(Site{offset, width, inverse});
        auto first = sites.begin() + ptrdiff_t(start);
        if (std::is_sorted(first, sites.end(), [](auto& a, auto& b) { return a.offset > b.offset; }))
            std::reverse(first, sites.end());
        else
            std::sort(first, sites.end(), by_offset);
        std::inplace_merge(sites.begin(), first, sites.end(), by_offset);
    };
    append(kernel.relocs32, 4, false);
    append(kernel.relocs32_inverse, 4, true);
    append(kernel.relocs64, 8, false);
    return sites;
}

bool any_overlap(const std::vector<Site>& sites)
{
    for (size_t i = 1; i < sites.size(); i++)
        if (uint64_t(sites[i - 1].offset) + sites[i - 1].width > sites[i].offset)
            return true;
    return false;
}

void apply(uint8_t* p, const Site& site, int64_t delta)
{
    if (site.width == 8) {
        uint64_t v = le64(p) + uint64_t(delta);
        for (int i = 0; i < 8; i++)
            p[i] = uint8_t(v >> (8 * i));
        return;
    }
    uint32_t d = uint32_t(uint64_t(delta));
    uint32_t v = site.inverse ? le32(p) - d : le32(p) + d;
    for (int i = 0; i < 4; i++)
        p[i] = uint8_t(v >> (8 * i));
}

// Compares one segment, [begin, end) in the image, window by window.
void compare_segment(const KernelImage& kernel, const std::vector<Site>& sites, int64_t delta,
                     const uint8_t* guest, uint64_t output_address, uint64_t begin, uint64_t end,
                     HandoffCheck& check)
{
    constexpr uint64_t window = 64 * 1024;
    constexpr uint64_t reach = 8;  // a site starting up to 7 bytes before a window still changes it
    std::vector<uint8_t> buffer(window + 2 * reach);
    const uint8_t* host = kernel.image.data();
    for (uint64_t a = begin; a < end; a += window) {
        uint64_t b = std::min(a + window, end);
        uint64_t lo = a >= reach ? a - reach : 0;
        uint64_t hi = std::min<uint64_t>(b + reach, kernel.image.size());
        std::memcpy(buffer.data(), host + lo, hi - lo);
        auto it = std::lower_bound(sites.begin(), sites.end(), Site{uint32_t(lo), 0, false}, by_offset);
        for (; it != sites.end() && it->offset < b; ++it)
            apply(buffer.data() + (it->offset - lo), *it, delta);  // in bounds: validated by lay_out_kernel()
        compare_bytes(guest + a, buffer.data() + (a - lo), b - a, output_address + a, check);
    }
}

}  // namespace

HandoffCheck check_handoff(const KernelImage& kernel, std::span<const uint8_t> guest_ram, uint64_t output_address)
{
    HandoffCheck check;
    check.output_address = output_address;
    uint64_t end = 0;
    if (__builtin_add_overflow(output_address, kernel.image.size(), &end) || end > guest_ram.size()) {
        check.summary = fmt::format("handoff not checked: the kernel's {} bytes at 0x{:x} reach past the end of "
                                    "guest RAM at 0x{:x}",
                                    kernel.image.size(), output_address, guest_ram.size());
        return check;
    }
    const uint8_t* guest = guest_ram.data() + output_address;

    check.virtual_offset = derive_virtual_offset(kernel, guest);
    // extract_kernel(): "if (virt_addr & (MIN_KERNEL_ALIGN - 1)) error(...)";
    // LOAD_PHYSICAL_ADDR is aligned at least as much, so the offset is too.
    bool aligned = uint64_t(check.virtual_offset) % kernel.min_kernel_align == 0;

    std::vector<Site> sites = sorted_sites(kernel);
    bool overlapping = any_overlap(sites);
    std::vector<uint8_t> relocated;
    if (overlapping)
        relocated = relocate(kernel, check.virtual_offset);
    for (const LoadSegment& s : kernel.segments) {
        if (!overlapping)
            compare_segment(kernel, sites, check.virtual_offset, guest, output_address, s.offset,
                            s.offset + s.file_size, check);
        else
            compare_bytes(guest + s.offset, relocated.data() + s.offset, s.file_size, output_address + s.offset,
                          check);
        check.bytes_compared += s.file_size;
    }
    check.matched = aligned && check.mismatched_bytes == 0;

    size_t relocations = kernel.relocs32.size() + kernel.relocs32_inverse.size() + kernel.relocs64.size();
    if (check.matched) {
        check.summary = fmt::format("handoff verified: {:.1f} MiB in {} segments at 0x{:x} match the host's "
                                    "decompression (virtual offset {}, {} relocations)",
                                    double(check.bytes_compared) / (1 << 20), kernel.segments.size(),
                                    output_address, signed_hex(check.virtual_offset), relocations);
        return check;
    }
    std::string bytes = check.mismatched_bytes == 0
        ? fmt::format("all {} bytes match with it", check.bytes_compared)
        : fmt::format("{} of {} bytes differ; first at 0x{:x} (expected 0x{:02x}, found 0x{:02x})",
                      check.mismatched_bytes, check.bytes_compared, check.first_mismatch, check.expected,
                      check.found);
    if (!aligned)
        check.summary = fmt::format("handoff MISMATCH: the virtual offset read back from the first relocation "
                                    "site is {}, not a multiple of {} as the decompressor chooses it; {}",
                                    signed_hex(check.virtual_offset), size_text(kernel.min_kernel_align), bytes);
    else
        check.summary = fmt::format("handoff MISMATCH: {} (virtual offset {})", bytes,
                                    signed_hex(check.virtual_offset));
    return check;
}

}  // namespace bootsim
