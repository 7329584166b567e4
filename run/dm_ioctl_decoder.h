#pragma once
// Reads device-mapper ioctls (user-space ABI, <linux/dm-ioctl.h>) as steps
// on the way to the root: the table each device gets (LVM's linear volumes,
// multipath, ...) and, for a "crypt" target, an unlock: cryptsetup loads
// that table only once a passphrase or key opened a key slot. The key in a
// crypt table is never shown.
//
// libdevmapper names a device when it creates it (DM_DEV_CREATE) and may
// address the table load by its uuid alone (LVM) or its name alone
// (cryptsetup), so the names and uuids of created devices are remembered:
// the uuid's prefix says what made the device.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/boot_event.h"

namespace bootsim {

class DmIoctlDecoder final {
public:
    struct Step {
        BootStepKind kind;
        std::string text;
    };
    // Whether `command` is a device-mapper ioctl at all (cheap: its type byte).
    static bool is_dm(uint64_t command);
    // `data`: the ioctl's argument as user space passed it, struct dm_ioctl
    // and what follows it (data_size bytes, or as many as could be read).
    std::optional<Step> decode(uint32_t command, const uint8_t* data, size_t size);

private:
    std::map<std::string, std::string> m_name_by_uuid;
    std::map<std::string, std::string> m_uuid_by_name;
    std::string m_last_created;
};

}  // namespace bootsim
