// Runs a fuzz entry point without libFuzzer (g++ builds, CI under ASan):
// each file argument once, a folder's files each once (a corpus, the
// regression inputs under fuzz/regressions/, a crash to reproduce); with
// no argument, or with --random, also a fixed number of deterministic
// random inputs, each a seed prefix (a valid magic for the format)
// followed by random bytes, so that the parser gets past its first checks.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
std::vector<uint8_t> seed_prefix(std::mt19937_64& rng)
{
    static const std::vector<std::vector<uint8_t>> prefixes = {
        {0x7f, 'E', 'L', 'F', 2, 1, 1, 0},                              // ELF64 little-endian
        {},                                                             // nothing
        {'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', '8', '1', '0', '0', '0', '0', '0', '0', ' ', 'T', ' ', '_', 't'},
    };
    return prefixes[rng() % prefixes.size()];
}

void replay(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}
}  // namespace

int main(int argc, char** argv)
{
    bool random = argc == 1;
    int replayed = 0;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--random")) {
            random = true;
            continue;
        }
        std::filesystem::path path(argv[i]);
        if (!std::filesystem::exists(path))
            continue;  // a target with no regression inputs yet
        if (std::filesystem::is_directory(path)) {
            for (const auto& entry : std::filesystem::directory_iterator(path))
                if (entry.is_regular_file())
                    replay(entry.path()), ++replayed;
        } else {
            replay(path), ++replayed;
        }
    }
    if (replayed)
        std::printf("%d inputs replayed, no crash\n", replayed);
    if (!random)
        return 0;
    std::mt19937_64 rng(20261124);
    const int runs = 3000;
    for (int run = 0; run < runs; ++run) {
        std::vector<uint8_t> input = seed_prefix(rng);
        size_t size = size_t(rng() % (run % 10 == 0 ? 0x10000 : 0x1000));
        // bzImage-shaped inputs: put "HdrS" and a boot flag where they belong.
        std::vector<uint8_t> body(size);
        for (auto& b : body)
            b = uint8_t(rng());
        if (body.size() > 0x210 && rng() % 2) {
            body[0x1fe] = 0x55, body[0x1ff] = 0xaa, body[0x200] = 0xeb, body[0x201] = 0x6a;
            body[0x202] = 'H', body[0x203] = 'd', body[0x204] = 'r', body[0x205] = 'S';
            body[0x206] = 0x0f, body[0x207] = 0x02;
        }
        input.insert(input.end(), body.begin(), body.end());
        LLVMFuzzerTestOneInput(input.data(), input.size());
    }
    std::printf("%d inputs, no crash\n", runs);
    return 0;
}
