#include "devices/cmos_rtc.h"

#include <algorithm>
#include <chrono>

namespace bootsim {

namespace {

constexpr int64_t ns_per_s = 1'000'000'000;

// Register indices and bits (MC146818A datasheet, figure 3 and the status
// register descriptions; names as in Linux's mc146818rtc.h).
constexpr uint8_t reg_seconds = 0x00;
constexpr uint8_t reg_minutes = 0x02;
constexpr uint8_t reg_hours = 0x04;
constexpr uint8_t reg_day_of_week = 0x06;
constexpr uint8_t reg_day_of_month = 0x07;
constexpr uint8_t reg_month = 0x08;
constexpr uint8_t reg_year = 0x09;
constexpr uint8_t reg_a = 0x0a;
constexpr uint8_t reg_b = 0x0b;
constexpr uint8_t reg_c = 0x0c;
constexpr uint8_t reg_d = 0x0d;
constexpr uint8_t reg_century = 0x32;  // the IBM PC/AT's choice; ACPI's FADT may name another

constexpr uint8_t a_uip = 0x80;
constexpr uint8_t b_set = 0x80;
constexpr uint8_t b_uie = 0x10;
constexpr uint8_t b_reset_cleared = 0x78;  // PIE, AIE, UIE, SQWE
constexpr uint8_t b_binary = 0x04;         // DM: binary instead of BCD
constexpr uint8_t b_24h = 0x02;
constexpr uint8_t d_vrt = 0x80;            // valid RAM and time: the battery is fine

// The update cycle starts at each second boundary; UIP rises 244 us before
// it (datasheet, "Update Cycle"). Registers read while UIP is clear stay
// valid for at least that long, which is what Linux's mc146818_avoid_UIP
// relies on. The window is short, so its wait loop never waits long.
constexpr int64_t uip_window_ns = 244'000;

struct Fields {
    int year;
    unsigned month, day, hour, minute, second, weekday;  // weekday 0 = Sunday
};

Fields to_fields(int64_t seconds)
{
    using namespace std::chrono;
    sys_seconds time {std::chrono::seconds {seconds}};
    sys_days date = floor<days>(time);
    year_month_day ymd {date};
    hh_mm_ss hms {time - date};
    return Fields {int(ymd.year()),
                   unsigned(ymd.month()),
                   unsigned(ymd.day()),
                   unsigned(hms.hours().count()),
                   unsigned(hms.minutes().count()),
                   unsigned(hms.seconds().count()),
                   weekday {date}.c_encoding()};
}

int64_t from_fields(const Fields& f)
{
    using namespace std::chrono;
    // Day arithmetic, so a day past the month's end rolls into the next.
    sys_days date = sys_days {year {f.year} / month {f.month} / 1} + days {f.day - 1};
    return (date.time_since_epoch() + hours {f.hour} + minutes {f.minute} +
            seconds {f.second})
        .count();
}

uint8_t to_bcd(unsigned value)
{
    return uint8_t((value / 10 % 10) << 4 | value % 10);
}

int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

CmosRtc::CmosRtc(const Clock& clock, std::optional<int64_t> start_epoch)
    : m_clock(clock)
    , m_base_clock_ns(clock.now_ns())
{
    if (start_epoch) {
        m_base_epoch_ns = *start_epoch * ns_per_s;
    } else {
        m_base_epoch_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    }
    // Status A: 32.768 kHz time base (DV = 010), 1024 Hz rate (RS = 0110),
    // as a BIOS leaves it. Status B: BCD and 24-hour mode, which Linux
    // assumes on x86 (RTC_ALWAYS_BCD in mc146818_get_time).
    m_ram[reg_a] = 0x26;
    m_ram[reg_b] = b_24h;
    m_ram[reg_d] = d_vrt;
}

void CmosRtc::reset()
{
    m_ram[reg_b] &= ~b_reset_cleared;
    m_ram[reg_c] = 0;
}

uint32_t CmosRtc::read(uint64_t offset, unsigned)
{
    switch (offset) {
    case 0:
        return 0xff;  // the index register is write-only
    case 1:
        return read_register(m_index);
    }
    return 0xff;
}

void CmosRtc::write(uint64_t offset, uint32_t value32, unsigned)
{
    uint8_t value = value32 & 0xff;
    switch (offset) {
    case 0:
        m_index = value & 0x7f;
        m_nmi_masked = value & 0x80;
        break;
    case 1:
        write_register(m_index, value);
        break;
    }
}

uint8_t CmosRtc::read_register(uint8_t index)
{
    bool is_time = index <= reg_year || index == reg_century;
    Fields now = is_time ? to_fields(time()) : Fields {};
    bool h24 = m_ram[reg_b] & b_24h;
    switch (index) {
    case reg_seconds:
        return encode(now.second);
    case reg_minutes:
        return encode(now.minute);
    case reg_hours:
        if (h24)
            return encode(now.hour);
        // 12-hour mode: 12, 1, ..., 11, with bit 7 set after noon.
        return encode(now.hour % 12 ? now.hour % 12 : 12) | (now.hour >= 12 ? 0x80 : 0);
    case reg_day_of_week:
        return encode(now.weekday + 1);  // 1 = Sunday
    case reg_day_of_month:
        return encode(now.day);
    case reg_month:
        return encode(now.month);
    case reg_year:
        return encode(unsigned(now.year % 100));
    case reg_century:
        return encode(unsigned(now.year / 100));
    case reg_a:
        return (m_ram[reg_a] & ~a_uip) | (update_in_progress() ? a_uip : 0);
    case reg_c: {
        // Interrupt flags clear when read.
        uint8_t value = m_ram[reg_c];
        m_ram[reg_c] = 0;
        return value;
    }
    case reg_d:
        return d_vrt;
    default:
        return m_ram[index];
    }
}

void CmosRtc::write_register(uint8_t index, uint8_t value)
{
    switch (index) {
    case reg_seconds:
    case reg_minutes:
    case reg_hours:
    case reg_day_of_month:
    case reg_month:
    case reg_year:
    case reg_century: {
        // Values out of range for the field are ignored (the chip would
        // store them and count from nonsense).
        Fields f = to_fields(time());
        std::optional<unsigned> v;
        if (index == reg_hours && !(m_ram[reg_b] & b_24h)) {
            std::optional<unsigned> h12 = decode(value & 0x7f);
            if (h12 && *h12 >= 1 && *h12 <= 12)
                v = *h12 % 12 + ((value & 0x80) ? 12 : 0);
        } else {
            v = decode(value);
        }
        if (!v)
            return;
        switch (index) {
        case reg_seconds:
            if (*v > 59) return;
            f.second = *v;
            break;
        case reg_minutes:
            if (*v > 59) return;
            f.minute = *v;
            break;
        case reg_hours:
            if (*v > 23) return;
            f.hour = *v;
            break;
        case reg_day_of_month:
            if (*v < 1 || *v > 31) return;
            f.day = *v;
            break;
        case reg_month:
            if (*v < 1 || *v > 12) return;
            f.month = *v;
            break;
        case reg_year:
            if (*v > 99) return;
            f.year = f.year / 100 * 100 + int(*v);
            break;
        case reg_century:
            if (*v > 99) return;
            f.year = int(*v) * 100 + f.year % 100;
            break;
        }
        set_time(from_fields(f));
        break;
    }
    case reg_day_of_week:
        break;  // derived from the date here
    case reg_a:
        m_ram[reg_a] = value & ~a_uip;
        break;
    case reg_b: {
        bool was_set = m_ram[reg_b] & b_set;
        bool set = value & b_set;
        if (set && !was_set)
            m_frozen_seconds = time();  // updates stop; writes go to the registers
        if (!set && was_set) {
            // Counting resumes from the registers, at the start of a second.
            m_base_epoch_ns = m_frozen_seconds * ns_per_s;
            m_base_clock_ns = m_clock.now_ns();
        }
        // Setting SET clears UIE (datasheet, register B bit 7).
        m_ram[reg_b] = set ? (value & ~b_uie) : value;
        break;
    }
    case reg_c:
    case reg_d:
        break;  // read-only
    default:
        m_ram[index] = value;
        break;
    }
}

void CmosRtc::set_time(int64_t seconds)
{
    if (m_ram[reg_b] & b_set) {
        m_frozen_seconds = seconds;
        return;
    }
    // Keep the position within the second, so setting one field does not
    // shift the next update.
    int64_t fraction = epoch_ns() - floor_div(epoch_ns(), ns_per_s) * ns_per_s;
    m_base_epoch_ns = seconds * ns_per_s + fraction;
    m_base_clock_ns = m_clock.now_ns();
}

int64_t CmosRtc::epoch_ns() const
{
    return m_base_epoch_ns + int64_t(m_clock.now_ns() - m_base_clock_ns);
}

int64_t CmosRtc::time() const
{
    if (m_ram[reg_b] & b_set)
        return m_frozen_seconds;
    return floor_div(epoch_ns(), ns_per_s);
}

bool CmosRtc::update_in_progress() const
{
    if (m_ram[reg_b] & b_set)
        return false;  // SET inhibits updates, and UIP reads 0
    int64_t fraction = epoch_ns() - floor_div(epoch_ns(), ns_per_s) * ns_per_s;
    return fraction >= ns_per_s - uip_window_ns;
}

uint8_t CmosRtc::encode(unsigned value) const
{
    return (m_ram[reg_b] & b_binary) ? uint8_t(value) : to_bcd(value);
}

std::optional<unsigned> CmosRtc::decode(uint8_t value) const
{
    if (m_ram[reg_b] & b_binary)
        return value;
    if ((value & 0x0f) > 9 || (value >> 4) > 9)
        return std::nullopt;
    return (value >> 4) * 10u + (value & 0x0f);
}

void CmosRtc::set_memory_size(uint64_t bytes)
{
    constexpr uint64_t kib = 1024;
    constexpr uint64_t mib = 1024 * kib;
    uint64_t base_kib = std::min<uint64_t>(bytes / kib, 640);
    uint64_t above_1m_kib = bytes > mib ? std::min<uint64_t>((bytes - mib) / kib, 0xffff) : 0;
    uint64_t above_16m_64k =
        bytes > 16 * mib ? std::min<uint64_t>((bytes - 16 * mib) / (64 * kib), 0xffff) : 0;
    auto put16 = [this](uint8_t index, uint64_t value) {
        m_ram[index] = value & 0xff;
        m_ram[index + 1] = (value >> 8) & 0xff;
    };
    put16(0x15, base_kib);
    put16(0x17, above_1m_kib);
    put16(0x30, above_1m_kib);
    put16(0x34, above_16m_64k);
}

}  // namespace bootsim
