#pragma once
// `--net user[,hostfwd=RULE]...[,mac=MAC]`: a virtio-net card on user-mode
// networking, written the way QEMU's `-nic user,...` is. A RULE is
// [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, e.g.
// hostfwd=tcp::2222-:22 (host port 2222 on every address to the guest's 22).

#include <optional>
#include <string>

#include "core/result.h"
#include "devices/slirp_network.h"
#include "devices/virtio_net.h"

namespace bootsim {

struct NetOption {
    SlirpConfig slirp;
    VirtioNet::Mac mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};  // QEMU's first NIC's
};

Result<NetOption> parse_net_option(const std::string& text);

}  // namespace bootsim
