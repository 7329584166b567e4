#pragma once
// A scratch raw disk image for the device fuzzers: one file per process,
// made once, `bytes` long, removed at exit.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <sys/types.h>

namespace bootsim::fuzz {

inline const std::string& scratch_disk(off_t bytes)
{
    static const std::string path = [bytes] {
        char name[] = "/tmp/bootsim-fuzz-disk-XXXXXX";
        int fd = mkstemp(name);
        if (fd < 0 || ftruncate(fd, bytes) != 0)
            abort();
        close(fd);
        static std::string keep = name;
        atexit([] { unlink(keep.c_str()); });
        return keep;
    }();
    return path;
}

}  // namespace bootsim::fuzz
