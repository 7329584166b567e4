#include "ui/gdb/gdb_stub.h"

#include <cstring>

#include <fmt/format.h>

#include "ui/gdb/gdb_packet.h"
#include "ui/gdb/gdb_registers.h"
#include "ui/gdb/symbol_file.h"

namespace bootsim::gdb {

namespace {

constexpr const char* error_reply = "E01";      // malformed or not possible
constexpr const char* memory_error = "E14";     // EFAULT: nothing mapped there

// "addr,length" with the rest after `separator` (':' for M and X).
struct Range { uint64_t address = 0, length = 0; std::string_view rest; };

std::optional<Range> parse_range(std::string_view args, char separator = 0)
{
    size_t comma = args.find(',');
    if (comma == std::string_view::npos)
        return std::nullopt;
    size_t end = separator ? args.find(separator, comma) : args.size();
    if (end == std::string_view::npos)
        return std::nullopt;
    auto address = parse_hex(args.substr(0, comma));
    auto length = parse_hex(args.substr(comma + 1, end - comma - 1));
    if (!address || !length)
        return std::nullopt;
    return Range{*address, *length, separator ? args.substr(end + 1) : std::string_view{}};
}

std::string_view e820_name(E820Type type)
{
    switch (type) {
    case E820Type::Ram: return "usable";
    case E820Type::Reserved: return "reserved";
    case E820Type::Acpi: return "ACPI data";
    case E820Type::Nvs: return "ACPI NVS";
    case E820Type::Unusable: return "unusable";
    }
    return "?";
}

// What gdb's `set architecture` should say for code running in this mode.
const char* gdb_architecture(CodeSize size)
{
    switch (size) {
    case CodeSize::Bits16: return "i8086";
    case CodeSize::Bits32: return "i386";
    case CodeSize::Bits64: return "i386:x86-64";
    }
    return "i386:x86-64";
}

constexpr size_t max_memory_packet = 0x1000;  // bytes per m packet (PacketSize 0x4000 holds them as hex)

}  // namespace

Action GdbStub::handle(std::string_view p)
{
    if (p.empty())
        return {Action::Kind::Reply, ""};
    std::string_view args = p.substr(1);
    switch (p[0]) {
    case '?': return {Action::Kind::Reply, "T05thread:01;"};
    case 'g': return {Action::Kind::Reply, read_registers()};
    case 'G': return {Action::Kind::Reply, write_registers(args)};
    case 'p': return {Action::Kind::Reply, read_register(args)};
    case 'P': return {Action::Kind::Reply, write_register(args)};
    case 'm': return {Action::Kind::Reply, read_memory(args)};
    case 'M': return {Action::Kind::Reply, write_memory(args, false)};
    case 'X': return {Action::Kind::Reply, write_memory(args, true)};
    case 'Z': return {Action::Kind::Reply, breakpoint(args, true)};
    case 'z': return {Action::Kind::Reply, breakpoint(args, false)};
    case 'c':
    case 's': {
        // An address to resume at, if given ("c addr"; "C sig;addr" below).
        if (!args.empty()) {
            auto at = parse_hex(args);
            if (!at)
                return {Action::Kind::Reply, error_reply};
            m_machine.cpu().write_register(CpuRegister::Rip, reinterpret_cast<const uint8_t*>(&*at));
        }
        return {p[0] == 'c' ? Action::Kind::Continue : Action::Kind::Step, ""};
    }
    case 'C':
    case 'S':
        // The signal gdb passes on means nothing to a bare-metal guest.
        return {p[0] == 'C' ? Action::Kind::Continue : Action::Kind::Step, ""};
    case 'D': return {Action::Kind::Detach, "OK"};
    case 'k': return {Action::Kind::Kill, ""};
    case 'H':
    case 'T': return {Action::Kind::Reply, "OK"};  // one thread: the CPU
    case 'q': return {Action::Kind::Reply, query(p)};
    default: return {Action::Kind::Reply, ""};  // not supported: an empty reply says so
    }
}

std::string exit_reply(int exit_code)
{
    return fmt::format("W{:02x}", exit_code & 0xff);
}

std::string GdbStub::stop_reply(const RunOutcome& outcome) const
{
    if (outcome.end == RunEnd::Breakpoint) {
        if (auto hit = m_machine.watchpoint_hit())
            return fmt::format("T05{}:{:x};thread:01;", hit->write ? "watch" : "rwatch", hit->address);
    }
    // SIGINT for a stop the debugger asked for (Ctrl-C), SIGTRAP for the rest.
    return outcome.end == RunEnd::StopRequested ? "T02thread:01;" : "T05thread:01;";
}

void GdbStub::clear_all()
{
    for (uint64_t address : m_breakpoints)
        m_machine.clear_breakpoint(address);
    m_breakpoints.clear();
    for (const auto& [address, length, kind] : m_watchpoints)
        m_machine.clear_watchpoint(address, length, kind);
    m_watchpoints.clear();
    m_stop_at_phase.reset();
}

std::string GdbStub::read_registers() const
{
    std::string out;
    for (const RegisterInfo& r : registers()) {
        uint8_t value[16] = {};
        m_machine.cpu().read_register(r.reg, value);
        out += to_hex(value, r.bits / 8);
    }
    return out;
}

std::string GdbStub::read_register(std::string_view number) const
{
    auto n = parse_hex(number);
    if (!n || *n >= registers().size())
        return error_reply;
    const RegisterInfo& r = registers()[*n];
    uint8_t value[16] = {};
    m_machine.cpu().read_register(r.reg, value);
    return to_hex(value, r.bits / 8);
}

std::string GdbStub::write_register(std::string_view assignment)
{
    size_t equals = assignment.find('=');
    if (equals == std::string_view::npos)
        return error_reply;
    auto n = parse_hex(assignment.substr(0, equals));
    auto bytes = from_hex(assignment.substr(equals + 1));
    if (!n || *n >= registers().size() || !bytes)
        return error_reply;
    const RegisterInfo& r = registers()[*n];
    if (bytes->size() != r.bits / 8)
        return error_reply;
    // Narrower than the CPU's register (eflags, the selectors): the upper
    // bytes keep what the CPU has.
    uint8_t value[16] = {};
    m_machine.cpu().read_register(r.reg, value);
    std::memcpy(value, bytes->data(), bytes->size());
    return m_machine.cpu().write_register(r.reg, value) ? "OK" : error_reply;
}

std::string GdbStub::write_registers(std::string_view hex)
{
    auto bytes = from_hex(hex);
    if (!bytes)
        return error_reply;
    size_t at = 0;
    for (const RegisterInfo& r : registers()) {
        size_t size = r.bits / 8;
        if (at + size > bytes->size())
            break;  // gdb may send fewer registers than there are
        uint8_t value[16] = {};
        m_machine.cpu().read_register(r.reg, value);
        std::memcpy(value, bytes->data() + at, size);
        if (!m_machine.cpu().write_register(r.reg, value))
            return error_reply;
        at += size;
    }
    return "OK";
}

bool GdbStub::read_guest(uint64_t address, uint8_t* out, size_t size) const
{
    if (m_physical)
        return m_machine.memory().read(address, out, size);
    return m_machine.cpu().read_virtual(address, out, size);
}

bool GdbStub::write_guest(uint64_t address, const uint8_t* data, size_t size)
{
    if (m_physical) {
        if (!m_machine.memory().write(address, data, size))
            return false;
        m_machine.cpu().invalidate_all_code();  // which virtual pages map it is not known
        return true;
    }
    if (!m_machine.cpu().write_virtual(address, data, size))
        return false;
    m_machine.cpu().invalidate_code(address, size);
    return true;
}

std::string GdbStub::read_memory(std::string_view args) const
{
    auto range = parse_range(args);
    if (!range)
        return error_reply;
    size_t length = std::min<uint64_t>(range->length, max_memory_packet);
    // Page by page: what is mapped before the first hole is answered.
    std::vector<uint8_t> bytes;
    uint64_t at = range->address;
    while (bytes.size() < length) {
        size_t chunk = std::min<uint64_t>(length - bytes.size(), 0x1000 - (at & 0xfff));
        size_t old = bytes.size();
        bytes.resize(old + chunk);
        if (!read_guest(at, bytes.data() + old, chunk)) {
            bytes.resize(old);
            break;
        }
        at += chunk;
    }
    if (bytes.empty() && length)
        return memory_error;
    return to_hex(bytes.data(), bytes.size());
}

std::string GdbStub::write_memory(std::string_view args, bool binary)
{
    auto range = parse_range(args, ':');
    if (!range)
        return error_reply;
    std::vector<uint8_t> data;
    if (binary) {
        data.assign(range->rest.begin(), range->rest.end());  // the reader undid the escapes
    } else {
        auto bytes = from_hex(range->rest);
        if (!bytes)
            return error_reply;
        data = std::move(*bytes);
    }
    if (data.size() != range->length)
        return error_reply;
    if (data.empty())
        return "OK";  // gdb's probe for X support
    return write_guest(range->address, data.data(), data.size()) ? "OK" : memory_error;
}

std::string GdbStub::breakpoint(std::string_view args, bool insert)
{
    // type,addr,kind
    if (args.size() < 3 || args[1] != ',')
        return error_reply;
    char type = args[0];
    auto range = parse_range(args.substr(2));
    if (!range)
        return error_reply;
    uint64_t address = range->address;
    if (type == '0' || type == '1') {
        // Software and hardware breakpoints alike: bootsim stops before the
        // instruction without writing an INT3 into guest memory.
        if (insert) {
            m_machine.set_breakpoint(address);
            m_breakpoints.insert(address);
        } else {
            m_machine.clear_breakpoint(address);
            m_breakpoints.erase(address);
        }
        return "OK";
    }
    if (type < '2' || type > '4')
        return "";
    DataWatchKind kind = type == '2' ? DataWatchKind::Write : type == '3' ? DataWatchKind::Read : DataWatchKind::Access;
    auto key = std::make_tuple(address, range->length, kind);
    if (insert) {
        if (m_watchpoints.count(key))
            return "OK";
        if (!m_machine.set_watchpoint(address, range->length, kind))
            return error_reply;
        m_watchpoints.insert(key);
    } else {
        m_machine.clear_watchpoint(address, range->length, kind);
        m_watchpoints.erase(key);
    }
    return "OK";
}

std::string GdbStub::query(std::string_view p)
{
    auto starts = [&](std::string_view prefix) { return p.substr(0, prefix.size()) == prefix; };
    if (starts("qSupported"))
        return "PacketSize=4000;qXfer:features:read+";
    if (p == "qAttached")
        return "1";
    if (p == "qC")
        return "QC01";
    if (p == "qfThreadInfo")
        return "m01";
    if (p == "qsThreadInfo")
        return "l";
    if (starts("qSymbol"))
        return "OK";
    if (starts("qXfer:features:read:"))
        return read_features(p.substr(std::strlen("qXfer:features:read:")));
    if (starts("qRcmd,"))
        return monitor(p.substr(6));
    return "";
}

std::string GdbStub::read_features(std::string_view args) const
{
    size_t colon = args.find(':');
    if (colon == std::string_view::npos || args.substr(0, colon) != "target.xml")
        return "E00";
    auto range = parse_range(args.substr(colon + 1));
    if (!range)
        return error_reply;
    const std::string& xml = target_description();
    if (range->address >= xml.size())
        return "l";
    std::string part = xml.substr(range->address, range->length);
    return (range->address + part.size() >= xml.size() ? "l" : "m") + part;
}

std::string GdbStub::monitor(std::string_view hex_command)
{
    auto bytes = from_hex(hex_command);
    if (!bytes)
        return error_reply;
    std::string text = monitor_text(std::string(bytes->begin(), bytes->end()));
    return text.empty() ? "OK" : to_hex(text);
}

std::string GdbStub::monitor_text(std::string_view command)
{
    while (!command.empty() && command.back() == ' ')
        command.remove_suffix(1);
    std::string_view word = command.substr(0, command.find(' '));
    std::string_view rest = word.size() < command.size() ? command.substr(word.size() + 1) : std::string_view{};
    if (word == "phase") {
        Phase now = m_machine.phase();
        if (rest.empty())
            return fmt::format("phase {}{}\n", phase_name(now),
                               m_stop_at_phase ? fmt::format(" (the next continue stops at {})", phase_name(*m_stop_at_phase))
                                               : "");
        auto phase = parse_phase(rest);
        if (!phase)
            return fmt::format("no phase \"{}\": the phases are loaded, setup, decompress, handoff, kernel, initramfs, "
                               "init, modules, root, halt\n", rest);
        if (*phase <= now)
            return fmt::format("phase {} is behind: the boot is in phase {}\n", rest, phase_name(now));
        m_stop_at_phase = *phase;
        return fmt::format("the next continue stops where phase {} is entered\n", rest);
    }
    if (word == "plan") {
        std::string out = fmt::format("RAM {} MiB, command line \"{}\", {} entry at {:#x}\n", m_plan.mem_size >> 20,
                                      m_plan.cmdline, entry_mode_name(m_plan.entry.mode), m_plan.entry.rip);
        for (const Region& r : m_plan.regions)
            out += fmt::format("{:<18} {:#010x}-{:#010x} {:>10}  {}\n", region_role_name(r.role), r.guest_address,
                               r.guest_address + r.size, r.size, r.name);
        return out;
    }
    if (word == "e820") {
        std::string out;
        for (const E820Entry& e : m_plan.e820)
            out += fmt::format("{:#018x}-{:#018x} {}\n", e.address, e.address + e.size - 1, e820_name(e.type));
        return out;
    }
    if (word == "mode") {
        CpuState s = m_machine.cpu().state();
        return fmt::format("{}; gdb: set architecture {}\n", s.mode_name(),
                           gdb_architecture(m_machine.cpu().code_size()));
    }
    if (word == "symbols") {
        if (rest.empty())
            return "symbols FILE: writes the kernel's symbols for gdb's `symbol-file FILE`\n";
        const KernelSymbols* symbols = m_verifier ? m_verifier->symbols() : nullptr;
        const auto& check = m_verifier ? m_verifier->result() : std::nullopt;
        if (!symbols || !check || !check->matched)
            return "no kernel symbols yet: they are read once the handoff is verified (monitor phase kernel, "
                   "continue)\n";
        size_t bytes = 0;
        std::string path(rest);
        if (auto written = write_symbol_file(path, *symbols, check->virtual_offset, &bytes); !written)
            return written.error().message + "\n";
        return fmt::format("{} symbols from {} (virtual offset {:+#x}) in {} ({} bytes): in gdb, symbol-file {}\n",
                           symbols->size(), symbols->source(), check->virtual_offset, path, bytes, path);
    }
    if (word == "phys") {
        if (rest == "on" || rest == "off")
            m_physical = rest == "on";
        else if (!rest.empty())
            return "phys on|off\n";
        return fmt::format("memory accesses are {}\n", m_physical ? "guest-physical" : "guest-virtual (page tables)");
    }
    return "bootsim monitor commands:\n"
           "  phase [NAME]   the current phase; with NAME, the next continue stops where it is entered\n"
           "  plan           the BootPlan: RAM, command line, entry, regions\n"
           "  e820           the memory map given to the kernel\n"
           "  mode           the CPU mode, and gdb's architecture for the code at the PC\n"
           "  phys on|off    memory reads and writes by guest-physical address (off: through the page tables)\n"
           "  symbols FILE   after the handoff: the kernel's symbols (kallsyms) as an ELF file for symbol-file\n";
}

}  // namespace bootsim::gdb
