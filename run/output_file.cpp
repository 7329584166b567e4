#include "run/output_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace bootsim {

Status check_output_path(const std::string& path, const std::string& option)
{
    if (path == "-")
        return Ok{};
    namespace fs = std::filesystem;
    std::error_code ec;
    if (path.empty())
        return make_error(ErrorKind::Output, "{}: expected a file name", option);
    if (fs::is_directory(path, ec))
        return make_error(ErrorKind::Output, "{} {}: is a directory, not a file", option, path);
    fs::path parent = fs::path(path).parent_path();
    if (parent.empty())
        parent = ".";
    if (!fs::is_directory(parent, ec))
        return make_error(ErrorKind::Output, "{} {}: the directory {} does not exist", option, path,
                          parent.string());
    if (access(parent.c_str(), W_OK) != 0)
        return make_error(ErrorKind::Output, "{} {}: cannot write in {}: {}", option, path, parent.string(),
                          strerror(errno));
    if (fs::exists(path, ec) && access(path.c_str(), W_OK) != 0)
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
    std::string temporary = path + ".tmp." + std::to_string(getpid());
    FILE* f = fopen(temporary.c_str(), "wb");
    if (!f)
        return make_error(ErrorKind::Output, "{}: cannot write the {}: {}", path, what, strerror(errno));
    bool ok = fwrite(content.data(), 1, content.size(), f) == content.size();
    ok = (fflush(f) == 0) && ok;
    int saved = errno;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(temporary.c_str(), path.c_str()) == 0)
        return Ok{};
    saved = saved ? saved : errno;
    remove(temporary.c_str());
    return make_error(ErrorKind::Output, "{}: cannot write the {}: {}", path, what, strerror(saved));
}

}  // namespace bootsim
