#pragma once
// Files a run writes (--report, --trace, --serial-log): checked before the
// boot starts, so a path that cannot be written fails at once, and written
// whole at the end through a temporary file beside them and a rename, so a
// failed run never leaves half a file. "-" is standard output; a pipe or a
// terminal (a named pipe, /dev/stdout) is written as it comes; nothing else
// that is not a regular file (a block device, a socket) is ever written or
// replaced.

#include <cstddef>
#include <optional>
#include <string>

#include "core/result.h"

namespace bootsim {

// Whether `path` can be written: "-", a writable pipe or terminal, or a
// new or regular file in an existing, writable directory. `option` names it
// in the error.
Status check_output_path(const std::string& path, const std::string& option);

// Where the bytes for `path` go: a pipe or terminal is written as it comes
// (`stream`); a new or regular file through a temporary file renamed over
// `path`, which is the target of a symbolic link. Nothing for what is no
// output (a directory, a block device, a socket).
struct OutputTarget {
    std::string path;
    bool stream = false;
};
std::optional<OutputTarget> output_target(const std::string& path);

// write(2) until all of it is written; async-signal-safe.
bool write_all(int fd, const char* data, size_t size);

// Writes `content` to `path` whole; the error names the path and why.
Status write_output_file(const std::string& path, const std::string& content, const std::string& what);

}  // namespace bootsim
