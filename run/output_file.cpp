#include "run/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace bootsim {

namespace {

// What is already at `path`, following symbolic links.
enum class Existing { Nothing, Regular, Stream, Directory, Other };

Existing existing(const std::string& path)
{
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
        return Existing::Nothing;
    if (S_ISREG(st.st_mode))
        return Existing::Regular;
    if (S_ISDIR(st.st_mode))
        return Existing::Directory;
    // A pipe or a terminal (/dev/stdout, /dev/stderr, a named pipe), written
    // as it comes. Block devices and sockets are not outputs.
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
        return Existing::Stream;
    return Existing::Other;
}

// Streams: opened without blocking (a FIFO nobody reads fails with ENXIO
// instead of hanging), then written in blocking mode.
Status write_stream(const std::string& path, const std::string& content, const std::string& what)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return make_error(ErrorKind::Output, "{}: cannot write the {}: {}", path, what,
                          errno == ENXIO ? "a named pipe nobody reads" : strerror(errno));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    bool ok = write_all(fd, content.data(), content.size());
    int saved = errno;
    ::close(fd);
    if (!ok)
        return make_error(ErrorKind::Output, "{}: cannot write the {}: {}", path, what, strerror(saved));
    return Ok{};
}

}  // namespace

bool write_all(int fd, const char* data, size_t size)
{
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        size -= size_t(n);
    }
    return true;
}

std::optional<OutputTarget> output_target(const std::string& path)
{
    switch (existing(path)) {
    case Existing::Stream:
        return OutputTarget{path, true};
    case Existing::Directory:
    case Existing::Other:
        return std::nullopt;
    case Existing::Regular:
    case Existing::Nothing:
        break;
    }
    // Through a symbolic link, the link stays and its target is replaced.
    std::error_code ec;
    std::string target = std::filesystem::weakly_canonical(path, ec).string();
    return OutputTarget{ec || target.empty() ? path : target, false};
}

Status check_output_path(const std::string& path, const std::string& option)
{
    if (path == "-")
        return Ok{};
    namespace fs = std::filesystem;
    std::error_code ec;
    if (path.empty())
        return make_error(ErrorKind::Output, "{}: expected a file name", option);
    switch (existing(path)) {
    case Existing::Directory:
        return make_error(ErrorKind::Output, "{} {}: is a directory, not a file", option, path);
    case Existing::Other:
        return make_error(ErrorKind::Output,
                          "{} {}: not a regular file, a pipe or a terminal (a block device or a socket)", option, path);
    case Existing::Stream:
        if (access(path.c_str(), W_OK) != 0)
            return make_error(ErrorKind::Output, "{} {}: cannot be written: {}", option, path, strerror(errno));
        return Ok{};
    case Existing::Regular:
    case Existing::Nothing:
        break;
    }
    // A new or regular file is written beside its final name (a symbolic
    // link's target), then renamed over it.
    fs::path target = fs::weakly_canonical(path, ec);
    if (ec)
        target = path;
    fs::path parent = target.parent_path();
    if (parent.empty())
        parent = ".";
    if (!fs::is_directory(parent, ec))
        return make_error(ErrorKind::Output, "{} {}: the directory {} does not exist", option, path,
                          parent.string());
    if (access(parent.c_str(), W_OK) != 0)
        return make_error(ErrorKind::Output, "{} {}: cannot write in {}: {}", option, path, parent.string(),
                          strerror(errno));
    if (fs::exists(target, ec) && access(target.c_str(), W_OK) != 0)
        return make_error(ErrorKind::Output, "{} {}: cannot be written: {}", option, path, strerror(errno));
    return Ok{};
}

Status write_output_file(const std::string& path, const std::string& content, const std::string& what)
{
    if (path == "-") {
        if (fwrite(content.data(), 1, content.size(), stdout) != content.size() || fflush(stdout) != 0)
            return make_error(ErrorKind::Output, "cannot write the {} to standard output: {}", what,
                              strerror(errno));
        return Ok{};
    }
    auto out = output_target(path);
    // Never renamed over: a device node or a directory stays what it is.
    if (!out)
        return make_error(ErrorKind::Output, "{}: cannot write the {}: not a regular file", path, what);
    if (out->stream)
        return write_stream(path, content, what);
    const std::string& target = out->path;
    std::string temporary = target + ".tmp." + std::to_string(getpid());
    FILE* f = fopen(temporary.c_str(), "wbx");
    if (!f)
        return make_error(ErrorKind::Output, "{}: cannot write the {}: {}", path, what, strerror(errno));
    bool ok = fwrite(content.data(), 1, content.size(), f) == content.size();
    ok = (fflush(f) == 0) && ok;
    int saved = errno;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(temporary.c_str(), target.c_str()) == 0)
        return Ok{};
    saved = saved ? saved : errno;
    remove(temporary.c_str());
    return make_error(ErrorKind::Output, "{}: cannot write the {}: {}", path, what, strerror(saved));
}

}  // namespace bootsim
