// Every kind of bad input gets one clear line naming the file, and exit 2;
// never a crash or a hang. The binary is run as a user would run it.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "run/exit_codes.h"
#include "cli/cli_fixture.h"
#include "support/run_command.h"
#include "unit/fake_bzimage.h"

using bootsim::exit_bad_input;
using bootsim::exit_usage;
using bootsim::exit_timeout;

using namespace bootsim;
using bootsim::test::error_lines;
using bootsim::test::run_bootsim;
using bootsim::test::run_command;

namespace {

class BadInput : public test::CliTest {
protected:
    // Expects the exit code (bad input unless said) and exactly one error
    // line containing each of `needles`.
    void expect_rejected(const std::string& args, std::initializer_list<std::string> needles,
                         int code = exit_bad_input)
    {
        auto r = run_bootsim(args + " --headless");
        EXPECT_EQ(r.exit_code, code) << r.output;
        std::string errors = error_lines(r.output);
        EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 1) << r.output;
        for (const std::string& needle : needles)
            EXPECT_NE(errors.find(needle), std::string::npos) << "missing \"" << needle << "\" in: " << r.output;
    }
};

}  // namespace

TEST_F(BadInput, MissingKernel)
{
    expect_rejected("--kernel /nonexistent/vmlinuz", {"/nonexistent/vmlinuz", "No such file"});
}

TEST_F(BadInput, EmptyKernel)
{
    std::string k = write("empty", {});
    expect_rejected("--kernel " + k, {k, "empty"});
}

TEST_F(BadInput, TruncatedBzImage)
{
    auto image = fake::build_fake_bzimage({});
    image.erase(image.end() - 64, image.end());  // cut into the payload
    std::string k = write("truncated", image);
    expect_rejected("--kernel " + k, {k, "truncated"});
}

TEST_F(BadInput, ElfInsteadOfBzImage)
{
    std::vector<uint8_t> elf(4096, 0);
    elf[0] = 0x7f, elf[1] = 'E', elf[2] = 'L', elf[3] = 'F';
    std::string k = write("vmlinux", elf);
    expect_rejected("--kernel " + k, {k, "ELF"});
}

TEST_F(BadInput, RandomBytes)
{
    std::vector<uint8_t> junk(64 * 1024);
    std::mt19937 rng(42);
    for (auto& b : junk)
        b = uint8_t(rng());
    std::string k = write("junk", junk);
    expect_rejected("--kernel " + k, {k, "not a bzImage", "HdrS"});
}

TEST_F(BadInput, ProtocolTooOld)
{
    fake::FakeKernel fk;
    fk.version = 0x020a;
    std::string k = write("old", fake::build_fake_bzimage(fk));
    expect_rejected("--kernel " + k, {k, "2.10", "too old"});
}

// The boot protocol never reads the payload (QEMU's -kernel boots such a
// file): bootsim runs it too, says the host cannot read the payload, and
// leaves the verdict to the guest (this fake one has no real code).
TEST_F(BadInput, UnknownPayloadFormatIsRunNotRefused)
{
    fake::FakeKernel fk;
    fk.payload_magic = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x00};
    std::string k = write("odd", fake::build_fake_bzimage(fk));
    auto r = run_bootsim("--kernel " + k + " --entry 64 --headless --timeout 20");  // x86-64 code only
    EXPECT_NE(r.exit_code, exit_bad_input) << r.output;
    EXPECT_EQ(error_lines(r.output), "") << r.output;
    EXPECT_NE(r.output.find("payload not readable on the host (payload at 0xd00: unknown payload compression "
                            "(found de ad be ef 00 00"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("phase decompress"), std::string::npos) << r.output;
}

TEST_F(BadInput, MissingInitrd)
{
    std::string k = write("k", fake::build_fake_bzimage({}));
    expect_rejected("--kernel " + k + " --initrd " + (m_dir / "nope.img").string(), {"nope.img", "No such file"});
}

TEST_F(BadInput, KernelDoesNotFitInMem)
{
    fake::FakeKernel fk;
    fk.init_size = 0x3000000;  // 48 MiB from 16 MiB: needs 64 MiB
    std::string k = write("big", fake::build_fake_bzimage(fk));
    expect_rejected("--kernel " + k + " --mem 32M", {k, "--mem 32M", "not enough RAM"});
}

TEST_F(BadInput, InitrdDoesNotFitInMem)
{
    std::string k = write("k", fake::build_fake_bzimage({}));  // buffer ends at 48 MiB
    std::string i = write("initrd", std::vector<uint8_t>(20 << 20, 0x5a));
    expect_rejected("--kernel " + k + " --initrd " + i + " --mem 64M", {i, "--mem"});
}

TEST_F(BadInput, MalformedMem)
{
    std::string k = write("k", fake::build_fake_bzimage({}));
    expect_rejected("--kernel " + k + " --mem lots", {"--mem", "lots"}, exit_usage);
    expect_rejected("--kernel " + k + " --mem 12Q", {"--mem", "12Q"}, exit_usage);
}

TEST_F(BadInput, OutOfRangeNumbers)
{
    std::string k = write("k", fake::build_fake_bzimage({}));
    // NaN, infinity and values whose arithmetic would overflow are refused,
    // not turned into a deadline, a clock or a speed that breaks the run.
    expect_rejected("--kernel " + k + " --timeout nan", {"--timeout", "nan"}, exit_usage);
    expect_rejected("--kernel " + k + " --timeout inf", {"--timeout", "inf"}, exit_usage);
    expect_rejected("--kernel " + k + " --timeout 1e300", {"--timeout"}, exit_usage);
    expect_rejected("--kernel " + k + " --timeout -1", {"--timeout"}, exit_usage);
    expect_rejected("--kernel " + k + " --rtc 99999999999999999999", {"--rtc"}, exit_usage);
    expect_rejected("--kernel " + k + " --rtc 9999-01-01T00:00:00", {"--rtc", "2199"}, exit_usage);
    expect_rejected("--kernel " + k + " --rtc -5", {"--rtc"}, exit_usage);
    expect_rejected("--kernel " + k + " --deterministic --guest-mips 99999999999", {"--guest-mips"}, exit_usage);
    expect_rejected("--kernel " + k + " --tolerance nan", {"--tolerance"}, exit_usage);
    expect_rejected("--kernel " + k + " --tolerance-seconds -1", {"--tolerance-seconds"}, exit_usage);
    expect_rejected("--kernel " + k + " --expect '('", {"--expect", "("}, exit_usage);
}

TEST_F(BadInput, UnknownPhaseAndOption)
{
    std::string k = write("k", fake::build_fake_bzimage({}));
    expect_rejected("--kernel " + k + " --stop-at breakfast", {"--stop-at", "breakfast"}, exit_usage);
    expect_rejected("--kernel " + k + " --gdb-wait", {"--gdb-wait", "--gdb"}, exit_usage);
    expect_rejected("--kernel " + k + " --gdb 99999", {"--gdb 99999", "port"}, exit_usage);
    expect_rejected("--kernel " + k + " --gdb nohost.invalid:1234", {"--gdb", "nohost.invalid"}, exit_usage);
    // A port somebody else listens on.
    int taken = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof any;
    ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    ASSERT_EQ(listen(taken, 1), 0);
    getsockname(taken, reinterpret_cast<sockaddr*>(&any), &length);
    std::string port = std::to_string(ntohs(any.sin_port));
    expect_rejected("--kernel " + k + " --gdb " + port, {"--gdb " + port, "cannot listen on 127.0.0.1:" + port, "in use"},
                    exit_usage);
    close(taken);
    expect_rejected("--kernel " + k + " --frobnicate", {"frobnicate"}, exit_usage);
    expect_rejected("", {"--kernel"}, exit_usage);
}

TEST_F(BadInput, KernelIsADirectory)
{
    expect_rejected("--kernel " + m_dir.string(), {m_dir.string(), "directory"});
}

// A path that is not a regular file is refused at once, not read without
// end (a device) or waited on (a FIFO with no writer). `timeout` bounds the
// run so that a regression fails instead of hanging.
TEST_F(BadInput, NonRegularFilesAreRefusedAtOnce)
{
    std::string fifo = (m_dir / "fifo").string();
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    std::string k = write("k", fake::build_fake_bzimage({}));
    struct Case {
        std::string args, path, kind;
        long errors = 1;  // lines: compare names each of its two reports that is unusable
    };
    for (const Case& c : {Case{"--kernel /dev/zero", "/dev/zero", "character device"},
                          Case{"--kernel " + fifo, fifo, "FIFO"},
                          Case{"--kernel " + k + " --initrd /dev/urandom", "/dev/urandom", "character device"},
                          Case{"--kernel " + k + " --system-map /dev/zero", "/dev/zero", "character device"},
                          Case{"--kernel " + k + " --compare " + fifo, fifo, "FIFO"},
                          Case{"matrix " + fifo, fifo, "FIFO"},
                          Case{"compare " + fifo + " " + k, fifo, "FIFO", 2}}) {
        bool command = c.args.rfind("matrix", 0) == 0 || c.args.rfind("compare", 0) == 0;
        auto r = run_command("timeout 20 " + std::string(BOOTSIM_BINARY) + " " + c.args + (command ? "" : " --headless") +
                             " 2>&1");
        EXPECT_EQ(r.exit_code, exit_bad_input) << c.args << ": " << r.output;
        std::string errors = error_lines(r.output);
        EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), c.errors) << r.output;
        EXPECT_NE(errors.find(c.path + ": not a regular file (a " + c.kind + ")"), std::string::npos) << r.output;
    }
}

TEST_F(BadInput, InputFilesAreNeverChanged)
{
    auto image = fake::build_fake_bzimage({});
    std::string k = write("k", image);
    auto before = std::filesystem::last_write_time(k);
    run_bootsim("--kernel " + k + " --headless --stop-at loaded");
    std::ifstream in(k, std::ios::binary);
    std::vector<uint8_t> after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(after, image);
    EXPECT_EQ(std::filesystem::last_write_time(k), before);
}

TEST_F(BadInput, BadDiskImages)
{
    std::string k = write("k", fake::build_fake_bzimage({}));
    expect_rejected("--kernel " + k + " --disk /nonexistent/root.img", {"/nonexistent/root.img", "No such file"});
    std::string empty = write("empty.img", {});
    expect_rejected("--kernel " + k + " --disk " + empty, {empty, "empty"});
    expect_rejected("--kernel " + k + " --disk " + m_dir.string(), {m_dir.string(), "directory"});
    std::string odd = write("odd.img", std::vector<uint8_t>(1000, 0));
    expect_rejected("--kernel " + k + " --disk " + odd, {odd, "1000 bytes"});
    std::string good = write("good.img", std::vector<uint8_t>(4096, 0));
    expect_rejected("--kernel " + k + " --disk " + good + ",sideways", {"sideways", "--disk"}, exit_usage);
}

// The visualizer's front door checks the same inputs before any window
// opens: one error line, exit 2, with or without a display.
TEST_F(BadInput, VisualizerChecksInputsFirst)
{
    std::string k = write("k", fake::build_fake_bzimage({}));
    for (const char* env : {"env -u DISPLAY -u WAYLAND_DISPLAY ", "env DISPLAY=:987 "}) {
        auto r = run_command(std::string(env) + BOOTSIM_BINARY + " --kernel " + k + " --initrd /nonexistent/initrd" +
                             " --screenshot " + (m_dir / "x.png").string() + " 2>&1");
        EXPECT_EQ(r.exit_code, exit_bad_input) << r.output;
        std::string errors = error_lines(r.output);
        EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 1) << r.output;
        EXPECT_NE(errors.find("/nonexistent/initrd"), std::string::npos) << r.output;
        EXPECT_FALSE(std::filesystem::exists(m_dir / "x.png"));
    }
}

TEST_F(BadInput, ScreenshotOptions)
{
    std::string k = write("k", fake::build_fake_bzimage({}));
    auto usage = [&](const std::string& args, const std::string& needle) {
        auto r = run_bootsim("--kernel " + k + " " + args);
        EXPECT_EQ(r.exit_code, exit_usage) << r.output;
        EXPECT_NE(error_lines(r.output).find(needle), std::string::npos) << r.output;
    };
    usage("--screenshot-at init", "--screenshot-at needs --screenshot");
    usage("--screenshot x.png --screenshot-at lunch", "lunch");
    usage("--screenshot x.png --headless", "--headless");
}
