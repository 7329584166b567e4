// Hand-made guests that misbehave, run through the whole program with the
// real board: they flood the console, never end a line, spin forever, and
// drive the virtio disk with requests that reach outside RAM and past the
// image's end. Each run ends the way it should, with its outputs written,
// and nothing outside guest RAM or the image changes.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "cli/cli_fixture.h"
#include "run/exit_codes.h"
#include "support/run_command.h"
#include "unit/fake_bzimage.h"

using namespace bootsim;
using bootsim::test::run_bootsim;
using bootsim::test::run_command;

namespace {

class HostileGuest : public test::CliTest {};



// The hand-made guests are x86-64 code at the 64-bit entry (their setup
// sectors hold no real-mode code), so they run with --entry 64.

// x86-64 code for a hand-made guest at the 64-bit entry: it writes "A\n"
// to COM1 without end.
//   mov dx, 0x3f8; loop: mov al, 'A'; out dx, al; mov al, 10; out dx, al; jmp loop
const std::vector<uint8_t> console_flood = {0x66, 0xba, 0xf8, 0x03, 0xb0, 0x41, 0xee, 0xb0, 0x0a, 0xee, 0xeb, 0xf8};

}  // namespace

// A guest that writes its console without end is bounded by --timeout; the
// outputs are still written whole and valid, and what they keep is bounded
// (run/output_limits.h) while stdout gets every byte.
TEST_F(HostileGuest, ConsoleFloodEndsAtTheTimeoutWithBoundedOutputs)
{
    fake::FakeKernel fk;
    fk.entry64_code = console_flood;
    std::string k = write("flood", fake::build_fake_bzimage(fk));
    std::string report = (m_dir / "r.json").string(), serial = (m_dir / "s.log").string(),
                trace = (m_dir / "t.json").string(), out = (m_dir / "stdout").string();
    auto r = run_command("timeout 60 " + std::string(BOOTSIM_BINARY) + " --kernel " + k +
                         " --entry 64 --headless --timeout 3 --report " + report + " --serial-log " + serial + " --trace " +
                         trace + " >" + out + " 2>&1");
    EXPECT_EQ(r.exit_code, exit_timeout) << r.output;
    uint64_t printed = std::filesystem::file_size(out);
    EXPECT_GT(printed, 100'000u);
    // Every byte reached stdout; the report counted them all but keeps at
    // most its line limit.
    auto json = nlohmann::json::parse(std::ifstream(report));
    EXPECT_EQ(json["outcome"]["end"], "timeout");
    EXPECT_GE(json["console"]["bytes"].get<uint64_t>(), printed / 2);
    EXPECT_LE(json["console"]["lines"].get<uint64_t>(), 50'000u);
    EXPECT_LE(std::filesystem::file_size(serial), (32u << 20) + 4096);
    EXPECT_TRUE(nlohmann::json::accept(std::ifstream(trace)));
}

// A pattern that makes a backtracking engine take exponential time, on a
// guest line that never ends: --expect's matching stays linear, so the run
// still ends at its timeout.
TEST_F(HostileGuest, ExpectPatternsCannotHangTheRun)
{
    fake::FakeKernel fk;
    // mov dx, 0x3f8; loop: mov al, 'A'; out dx, al; jmp loop (no newline, ever)
    fk.entry64_code = {0x66, 0xba, 0xf8, 0x03, 0xb0, 0x41, 0xee, 0xeb, 0xfb};
    std::string k = write("line", fake::build_fake_bzimage(fk));
    auto r = run_command("timeout 60 " + std::string(BOOTSIM_BINARY) + " --kernel " + k +
                         " --entry 64 --headless --timeout 2 --expect '(A*)*B' --expect '(A|AA)+C' >/dev/null 2>" +
                         (m_dir / "log").string());
    EXPECT_EQ(r.exit_code, exit_timeout);
}

// A headless run has a timeout even when none is given (the report says
// which), so that a guest that never halts cannot hang a CI job.
TEST_F(HostileGuest, HeadlessRunsHaveADefaultTimeout)
{
    fake::FakeKernel fk;
    fk.entry64_code = {0xeb, 0xfe};  // jmp $
    std::string k = write("spin", fake::build_fake_bzimage(fk));
    std::string report = (m_dir / "r.json").string();
    auto r = run_bootsim("--kernel " + k + " --headless --stop-at loaded --report " + report);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    auto json = nlohmann::json::parse(std::ifstream(report));
    EXPECT_EQ(json["run"]["timeout_seconds"], 600.0);
    r = run_bootsim("--kernel " + k + " --headless --timeout 0 --stop-at loaded --report " + report);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    json = nlohmann::json::parse(std::ifstream(report));
    EXPECT_TRUE(json["run"]["timeout_seconds"].is_null());
    // The default ends a spinning guest; --timeout shortens it here.
    r = run_command("timeout 60 " + std::string(BOOTSIM_BINARY) + " --kernel " + k + " --entry 64 --headless --timeout 1 2>&1");
    EXPECT_EQ(r.exit_code, exit_timeout) << r.output;
}

namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, size_t at, uint16_t v) { std::memcpy(&b[at], &v, 2); }
void put32(Bytes& b, size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); }
void put64(Bytes& b, size_t at, uint64_t v) { std::memcpy(&b[at], &v, 8); }

// The initrd of the virtio guest: a split virtqueue in the legacy layout
// (descriptors, available ring, used ring, a page each) and the requests'
// headers, status bytes and data, all at `base` in guest RAM, where the
// loader puts the initrd.
struct VirtioGuestLayout {
    static constexpr size_t desc = 0x0000, avail = 0x1000, used = 0x2000, headers = 0x3000, status = 0x3100,
                            data = 0x4000, size = 0x5000;
};

Bytes virtio_guest_initrd(uint64_t base, uint64_t disk_sectors)
{
    using L = VirtioGuestLayout;
    Bytes b(L::size, 0);
    constexpr uint16_t next = 1, write = 2;
    auto descriptor = [&](int i, uint64_t address, uint32_t length, uint16_t flags, uint16_t to) {
        put64(b, L::desc + 16 * i, address);
        put32(b, L::desc + 16 * i + 8, length);
        put16(b, L::desc + 16 * i + 12, flags);
        put16(b, L::desc + 16 * i + 14, to);
    };
    auto header = [&](int i, uint32_t type, uint64_t sector) {
        put32(b, L::headers + 16 * i, type);
        put64(b, L::headers + 16 * i + 8, sector);
        return base + L::headers + 16 * i;
    };
    for (int i = 0; i < 3; ++i)
        b[L::status + i] = 0xee;  // untouched until the device answers
    // 0: read sector 0 into the data page: fine.
    descriptor(0, header(0, 0, 0), 16, next, 1);
    descriptor(1, base + L::data, 512, next | write, 2);
    descriptor(2, base + L::status + 0, 1, write, 0);
    // 1: read sector 0 into a buffer outside RAM (256 MiB; RAM is 64 MiB).
    descriptor(3, header(1, 0, 0), 16, next, 4);
    descriptor(4, 0x10000000, 512, next | write, 5);
    descriptor(5, base + L::status + 1, 1, write, 0);
    // 2: write the data page past the image's end.
    descriptor(6, header(2, 1, disk_sectors), 16, next, 7);
    descriptor(7, base + L::data, 512, next, 8);
    descriptor(8, base + L::status + 2, 1, write, 0);
    // 3: a descriptor loop, no status byte to be found.
    descriptor(9, header(3, 0, 0), 16, next, 10);
    descriptor(10, base + L::data, 512, next | write, 9);
    put16(b, L::avail + 2, 4);  // idx: four requests
    for (int i = 0; i < 4; ++i)
        put16(b, L::avail + 4 + 2 * i, uint16_t(3 * i));
    return b;
}

// The guest's code: point queue 0 at the initrd's ring, kick it, print the
// three status bytes as digits and the first four bytes read, then halt.
Bytes virtio_guest_code(uint64_t base)
{
    using L = VirtioGuestLayout;
    Bytes c = {0x66, 0xba, 0x08, 0xc0, 0xb8};  // mov dx, 0xc008 (queue PFN); mov eax, imm32
    auto imm32 = [&](uint64_t v) {
        for (int i = 0; i < 4; ++i)
            c.push_back(uint8_t(v >> (8 * i)));
    };
    imm32(base >> 12);
    c.insert(c.end(), {0xef,                                // out dx, eax
                       0x66, 0xba, 0x10, 0xc0,              // mov dx, 0xc010 (queue notify)
                       0x31, 0xc0, 0x66, 0xef,              // xor eax, eax; out dx, ax
                       0x66, 0xba, 0xf8, 0x03});            // mov dx, 0x3f8 (COM1)
    for (int i = 0; i < 3; ++i) {
        c.insert(c.end(), {0x8a, 0x04, 0x25});  // mov al, [imm32]
        imm32(base + L::status + i);
        c.insert(c.end(), {0x04, 0x30, 0xee});  // add al, '0'; out dx, al
    }
    for (int i = 0; i < 4; ++i) {
        c.insert(c.end(), {0x8a, 0x04, 0x25});
        imm32(base + L::data + i);
        c.push_back(0xee);
    }
    c.insert(c.end(), {0xb0, 0x0a, 0xee, 0xfa, 0xf4});  // newline; cli; hlt
    return c;
}

}  // namespace

// The guest asks the disk to read into memory outside RAM, to write past
// the image's end and to follow a descriptor loop, beside one good read:
// the good read works, the others fail with VIRTIO_BLK_S_IOERR, and the
// image file is byte for byte what it was.
TEST_F(HostileGuest, VirtioRequestsOutsideRamOrThePastDiskEndFail)
{
    Bytes disk(128 * 512, 0x5a);
    std::memcpy(disk.data(), "DISK", 4);
    std::string disk_path = write("disk.img", disk);
    // Where the loader puts a 20 KiB initrd in 64 MiB: asked of bootsim.
    std::string probe_kernel = write("probe", fake::build_fake_bzimage({}));
    std::string initrd = write("initrd", Bytes(VirtioGuestLayout::size, 0));
    std::string report = (m_dir / "r.json").string();
    auto r = run_bootsim("--kernel " + probe_kernel + " --initrd " + initrd + " --mem 64M --headless --stop-at loaded "
                         "--report " + report);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    uint64_t base = 0;
    auto plan = nlohmann::json::parse(std::ifstream(report));
    for (const auto& region : plan["regions"])
        if (region["role"] == "initrd")
            base = std::stoull(region["address"].get<std::string>(), nullptr, 16);
    ASSERT_NE(base, 0u);

    write("initrd", virtio_guest_initrd(base, disk.size() / 512));
    fake::FakeKernel fk;
    fk.entry64_code = virtio_guest_code(base);
    std::string kernel = write("guest", fake::build_fake_bzimage(fk));
    std::string console = (m_dir / "console").string();
    r = run_command("timeout 60 " + std::string(BOOTSIM_BINARY) + " --kernel " + kernel + " --initrd " + initrd +
                    " --mem 64M --disk " + disk_path + " --entry 64 --headless --timeout 20 --report " + report + " >" + console +
                    " 2>" + (m_dir / "log").string());
    EXPECT_EQ(r.exit_code, 0);
    std::ifstream in(console, std::ios::binary);
    std::string out((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(out, "011DISK\n");  // ok, I/O error, I/O error, then the sector read
    auto json = nlohmann::json::parse(std::ifstream(report));
    // Four requests; all but the good read failed (the loop has no status
    // byte to say so, but the device counted it).
    EXPECT_EQ(json["counters"]["disk"]["requests"], 4) << json["counters"]["disk"].dump();
    EXPECT_EQ(json["counters"]["disk"]["errors"], 3) << json["counters"]["disk"].dump();
    std::ifstream after(disk_path, std::ios::binary);
    Bytes now((std::istreambuf_iterator<char>(after)), {});
    EXPECT_TRUE(now == disk) << "the image changed";
}
