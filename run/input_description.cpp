#include "run/input_description.h"

#include <openssl/evp.h>

#include <fmt/format.h>

namespace bootsim {

std::string kernel_version_string(const BzImage& kernel)
{
    // A pointer (minus 0x200) to a NUL-terminated string in the setup code.
    const auto& file = kernel.file;
    if (file.size() < 0x210)
        return "";
    size_t at = size_t(file[0x20e] | file[0x20f] << 8) + 0x200;
    std::string text;
    while (at < file.size() && at < kernel.setup_size() && file[at] && text.size() < 256)
        text += char(file[at++]);
    return text;
}

std::string sha256_hex(const uint8_t* data, size_t size)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr))
        return "";
    std::string hex;
    for (unsigned i = 0; i < length; ++i)
        hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

nlohmann::json describe_inputs(const BzImage& k, const Options& options, const std::vector<uint8_t>* initrd,
                               const std::vector<std::unique_ptr<DiskImage>>& disks, const BootPlan& plan)
{
    nlohmann::json kernel = {{"path", options.kernel},
                             {"bytes", k.file.size()},
                             {"sha256", sha256_hex(k.file.data(), k.file.size())},
                             {"version", kernel_version_string(k)},
                             {"boot_protocol", fmt::format("{}.{:02}", k.header.version >> 8, k.header.version & 0xff)},
                             {"payload_codec", compression_name(k.compression)},
                             {"payload_bytes", k.payload().size()},
                             {"decompressed_bytes", k.decompressed_size}};
    nlohmann::json initrd_json = nullptr;
    if (initrd)
        initrd_json = {{"path", options.initrd},
                       {"bytes", initrd->size()},
                       {"sha256", sha256_hex(initrd->data(), initrd->size())}};
    // Disks are not hashed: an image can be many GiB, and the guest may
    // write it.
    nlohmann::json disk_list = nlohmann::json::array();
    for (const auto& d : disks) {
        const char* mode = d->mode() == DiskMode::ReadOnly ? "ro" : d->mode() == DiskMode::Snapshot ? "snapshot" : "rw";
        disk_list.push_back({{"path", d->path()}, {"bytes", d->sectors() * DiskImage::sector_size}, {"mode", mode}});
    }
    return {{"kernel", kernel},
            {"initrd", initrd_json},
            {"disks", disk_list},
            {"command_line", plan.cmdline},
            {"mem_bytes", plan.mem_size},
            {"system_map", options.system_map.empty() ? nlohmann::json(nullptr) : nlohmann::json(options.system_map)},
            {"net", options.net.empty() ? nlohmann::json(nullptr) : nlohmann::json(options.net)},
            {"entry", entry_mode_name(plan.entry.mode)}};
}

}  // namespace bootsim
