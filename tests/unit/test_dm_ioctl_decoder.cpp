// DmIoctlDecoder: device-mapper ioctls as libdevmapper issues them (LVM's
// lvchange -ay, cryptsetup open) read back as steps on the way to the root.
#include <gtest/gtest.h>

#include <cstring>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <string>
#include <vector>

#include "run/dm_ioctl_decoder.h"

using bootsim::BootStepKind;
using bootsim::DmIoctlDecoder;

namespace {

struct Target {
    uint64_t start, length;
    std::string type, params;
};

// The argument of one ioctl: struct dm_ioctl, then each target spec with
// its parameter string (8-byte aligned, `next` relative to the spec, as
// libdevmapper lays out DM_TABLE_LOAD).
std::vector<uint8_t> dm_argument(const std::string& name, const std::string& uuid,
                                 const std::vector<Target>& targets = {})
{
    std::vector<uint8_t> buffer(sizeof(dm_ioctl));
    for (const Target& t : targets) {
        size_t at = buffer.size();
        size_t spec_size = (sizeof(dm_target_spec) + t.params.size() + 1 + 7) & ~size_t(7);
        buffer.resize(at + spec_size);
        dm_target_spec spec{};
        spec.sector_start = t.start;
        spec.length = t.length;
        spec.next = static_cast<uint32_t>(spec_size);
        strncpy(spec.target_type, t.type.c_str(), sizeof spec.target_type - 1);
        memcpy(buffer.data() + at, &spec, sizeof spec);
        memcpy(buffer.data() + at + sizeof spec, t.params.c_str(), t.params.size() + 1);
    }
    dm_ioctl header{};
    header.version[0] = DM_VERSION_MAJOR;
    header.data_size = static_cast<uint32_t>(buffer.size());
    header.data_start = sizeof(dm_ioctl);
    header.target_count = static_cast<uint32_t>(targets.size());
    strncpy(header.name, name.c_str(), sizeof header.name - 1);
    strncpy(header.uuid, uuid.c_str(), sizeof header.uuid - 1);
    memcpy(buffer.data(), &header, sizeof header);
    return buffer;
}

}  // namespace

TEST(DmIoctlDecoder, TellsDeviceMapperIoctlsFromOthers)
{
    EXPECT_TRUE(DmIoctlDecoder::is_dm(DM_TABLE_LOAD));
    EXPECT_TRUE(DmIoctlDecoder::is_dm(DM_DEV_CREATE));
    EXPECT_FALSE(DmIoctlDecoder::is_dm(0x5401));        // TCGETS
    EXPECT_FALSE(DmIoctlDecoder::is_dm(0x80081272));    // BLKGETSIZE64
}

TEST(DmIoctlDecoder, AnLvmLinearVolumeIsADeviceMapperTable)
{
    DmIoctlDecoder decoder;
    auto arg = dm_argument("vg0-root", "LVM-abcdef", {{0, 819200, "linear", "252:0 2048"}});
    auto step = decoder.decode(DM_TABLE_LOAD, arg.data(), arg.size());
    ASSERT_TRUE(step);
    EXPECT_EQ(step->kind, BootStepKind::DeviceMapper);
    EXPECT_EQ(step->text, "device-mapper table for vg0-root (LVM): 0 819200 linear 252:0 2048");
}

TEST(DmIoctlDecoder, ACryptTableIsAnUnlockAndItsKeyIsNeverShown)
{
    DmIoctlDecoder decoder;
    std::string key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    auto arg = dm_argument("root_crypt", "CRYPT-LUKS2-6a1d5e2c-root_crypt",
                           {{0, 786432, "crypt", "aes-xts-plain64 " + key + " 0 254:0 32768"}});
    auto step = decoder.decode(DM_TABLE_LOAD, arg.data(), arg.size());
    ASSERT_TRUE(step);
    EXPECT_EQ(step->kind, BootStepKind::Unlock);
    EXPECT_EQ(step->text, "unlocked root_crypt (CRYPT): 0 786432 crypt aes-xts-plain64 <key> 0 254:0 32768");
    EXPECT_EQ(step->text.find(key), std::string::npos);
}

TEST(DmIoctlDecoder, ATableLoadedByUuidAloneIsNamedFromItsCreate)
{
    DmIoctlDecoder decoder;
    auto create = dm_argument("vg0-root", "LVM-xyz");
    EXPECT_FALSE(decoder.decode(DM_DEV_CREATE, create.data(), create.size()));
    auto load = dm_argument("", "LVM-xyz", {{0, 8, "linear", "8:0 0"}});
    auto step = decoder.decode(DM_TABLE_LOAD, load.data(), load.size());
    ASSERT_TRUE(step);
    EXPECT_EQ(step->text, "device-mapper table for vg0-root (LVM): 0 8 linear 8:0 0");
}

TEST(DmIoctlDecoder, ATableLoadedByNameAloneKeepsTheOwnerFromItsCreate)
{
    // cryptsetup open: DM_DEV_CREATE with name and uuid, then the table by name.
    DmIoctlDecoder decoder;
    auto create = dm_argument("root_crypt", "CRYPT-LUKS2-6a1d5e2c3b7f4c8e9d0a1b2c3d4e5f60-root_crypt");
    EXPECT_FALSE(decoder.decode(DM_DEV_CREATE, create.data(), create.size()));
    auto load =
        dm_argument("root_crypt", "", {{0, 868352, "crypt", "aes-xts-plain64 :64:logon:cryptsetup:x 0 254:0 32768"}});
    auto step = decoder.decode(DM_TABLE_LOAD, load.data(), load.size());
    ASSERT_TRUE(step);
    EXPECT_EQ(step->text, "unlocked root_crypt (CRYPT): 0 868352 crypt aes-xts-plain64 <key> 0 254:0 32768");
}

TEST(DmIoctlDecoder, SeveralTargetsAreListedInOrder)
{
    DmIoctlDecoder decoder;
    auto arg = dm_argument("vg0-big", "LVM-1", {{0, 100, "linear", "8:0 2048"}, {100, 50, "linear", "8:16 2048"}});
    auto step = decoder.decode(DM_TABLE_LOAD, arg.data(), arg.size());
    ASSERT_TRUE(step);
    EXPECT_EQ(step->text, "device-mapper table for vg0-big (LVM): 0 100 linear 8:0 2048; 100 50 linear 8:16 2048");
}

TEST(DmIoctlDecoder, TruncatedOrHostileArgumentsAreBounded)
{
    DmIoctlDecoder decoder;
    auto arg = dm_argument("x", "LVM-1", {{0, 100, "linear", "8:0 2048"}});
    // Shorter than struct dm_ioctl: nothing.
    EXPECT_FALSE(decoder.decode(DM_TABLE_LOAD, arg.data(), sizeof(dm_ioctl) - 1));
    // The target spec cut off: the device's name, no targets.
    auto step = decoder.decode(DM_TABLE_LOAD, arg.data(), sizeof(dm_ioctl) + 4);
    ASSERT_TRUE(step);
    EXPECT_EQ(step->text, "device-mapper table for x (LVM): ");
    // A data_start pointing back into the header and a target count in the
    // millions: no read outside the buffer (ASan checks), no endless loop.
    dm_ioctl header;
    memcpy(&header, arg.data(), sizeof header);
    header.data_start = 4;
    header.target_count = 5000000;
    memcpy(arg.data(), &header, sizeof header);
    EXPECT_TRUE(decoder.decode(DM_TABLE_LOAD, arg.data(), arg.size()));
    // Names without their terminating NUL stay inside their fields.
    std::vector<uint8_t> unterminated(sizeof(dm_ioctl) + 64, 'A');
    memcpy(&header, unterminated.data(), sizeof header);
    header.target_count = 0;
    memcpy(unterminated.data(), &header, sizeof header);
    step = decoder.decode(DM_TABLE_LOAD, unterminated.data(), unterminated.size());
    ASSERT_TRUE(step);
    EXPECT_LT(step->text.size(), size_t(DM_NAME_LEN + DM_UUID_LEN + 64));
}

TEST(DmIoctlDecoder, OtherDeviceMapperCommandsAreNoSteps)
{
    DmIoctlDecoder decoder;
    auto arg = dm_argument("vg0-root", "LVM-1");
    EXPECT_FALSE(decoder.decode(DM_DEV_SUSPEND, arg.data(), arg.size()));
    EXPECT_FALSE(decoder.decode(DM_VERSION, arg.data(), arg.size()));
}
