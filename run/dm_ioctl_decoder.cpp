#include "run/dm_ioctl_decoder.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <linux/dm-ioctl.h>

namespace bootsim {

namespace {
constexpr size_t max_targets = 64;

std::string bounded(const char* text, size_t max) { return std::string(text, strnlen(text, max)); }

// "aes-xts-plain64 :64:logon:cryptsetup:... 0 254:0 32768": the key (the
// second word, hex or a keyring reference) is replaced.
std::string without_key(const std::string& params)
{
    size_t first = params.find(' ');
    if (first == std::string::npos)
        return params;
    size_t second = params.find(' ', first + 1);
    return params.substr(0, first) + " <key>" + (second == std::string::npos ? "" : params.substr(second));
}
}  // namespace

bool DmIoctlDecoder::is_dm(uint64_t command) { return ((command >> 8) & 0xff) == DM_IOCTL; }

std::optional<DmIoctlDecoder::Step> DmIoctlDecoder::decode(uint32_t command, const uint8_t* data, size_t size)
{
    if (!is_dm(command) || size < sizeof(dm_ioctl))
        return std::nullopt;
    dm_ioctl header;
    memcpy(&header, data, sizeof header);
    std::string name = bounded(header.name, sizeof header.name);
    std::string uuid = bounded(header.uuid, sizeof header.uuid);
    unsigned nr = command & 0xff;
    if (nr == DM_DEV_CREATE_CMD) {
        if (!uuid.empty()) {
            m_name_by_uuid[uuid] = name;
            m_uuid_by_name[name] = uuid;
        }
        m_last_created = name;
        return std::nullopt;
    }
    if (nr != DM_TABLE_LOAD_CMD)
        return std::nullopt;
    if (name.empty() && m_name_by_uuid.count(uuid))
        name = m_name_by_uuid[uuid];
    if (name.empty())
        name = m_last_created.empty() ? "?" : m_last_created;
    // cryptsetup loads its table by name alone: the uuid is the create's.
    if (uuid.empty() && m_uuid_by_name.count(name))
        uuid = m_uuid_by_name[name];
    // The uuid's prefix names what made the device: "LVM", "CRYPT", "mpath".
    std::string owner = uuid.substr(0, uuid.find('-'));
    std::string targets;
    bool crypt = false;
    uint64_t offset = header.data_start;
    for (size_t i = 0; i < std::min<size_t>(header.target_count, max_targets); ++i) {
        if (offset < sizeof header || offset + sizeof(dm_target_spec) > size)
            break;
        dm_target_spec spec;
        memcpy(&spec, data + offset, sizeof spec);
        size_t params_at = offset + sizeof spec;
        std::string type = bounded(spec.target_type, sizeof spec.target_type);
        std::string params = bounded(reinterpret_cast<const char*>(data + params_at), size - params_at);
        if (type == "crypt") {
            crypt = true;
            params = without_key(params);
        }
        targets += fmt::format("{}{} {} {} {}", targets.empty() ? "" : "; ", uint64_t(spec.sector_start),
                               uint64_t(spec.length), type, params);
        if (spec.next == 0)
            break;
        offset += spec.next;
    }
    std::string by = owner.empty() ? "" : " (" + owner + ")";
    if (crypt)
        return Step{BootStepKind::Unlock, fmt::format("unlocked {}{}: {}", name, by, targets)};
    return Step{BootStepKind::DeviceMapper, fmt::format("device-mapper table for {}{}: {}", name, by, targets)};
}

}  // namespace bootsim
