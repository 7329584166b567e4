#include "run/boot_matrix.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "loader/bzimage.h"

extern char** environ;

namespace bootsim {

namespace {

namespace fs = std::filesystem;

// A key that may hold one string or a list of them.
std::vector<std::string> strings(const toml::node* node, std::string& problem, const char* key)
{
    std::vector<std::string> out;
    if (!node)
        return out;
    if (auto s = node->value<std::string>()) {
        out.push_back(*s);
    } else if (auto* list = node->as_array()) {
        for (const auto& item : *list) {
            if (auto s = item.value<std::string>())
                out.push_back(*s);
            else
                problem = fmt::format("\"{}\": expected strings", key);
        }
    } else {
        problem = fmt::format("\"{}\": expected a string or a list of strings", key);
    }
    return out;
}

std::string resolved(const fs::path& base, const std::string& path)
{
    if (path.empty() || fs::path(path).is_absolute())
        return path;
    return (base / path).lexically_normal().string();
}

// A disk spec keeps its ",ro" / ",snapshot" flag.
std::string resolved_disk(const fs::path& base, const std::string& spec)
{
    auto comma = spec.rfind(',');
    if (comma == std::string::npos)
        return resolved(base, spec);
    return resolved(base, spec.substr(0, comma)) + spec.substr(comma);
}

std::string safe_name(std::string name)
{
    for (char& c : name)
        if (!isalnum(uint8_t(c)) && c != '-' && c != '_' && c != '.')
            c = '_';
    return name;
}

const char* known_keys[] = {"name", "kernel", "initrd", "append", "disks", "mem", "expect", "exit_code",
                            "timeout", "max_instructions", "deterministic", "stop_at", "args"};

// One [[boot]] table (over [defaults]) into its entries.
std::vector<MatrixEntry> expand(const toml::table& boot, const toml::table& defaults, const fs::path& base,
                                size_t index)
{
    std::string problem;
    auto get = [&](const char* key) -> const toml::node* {
        if (const toml::node* n = boot.get(key))
            return n;
        return defaults.get(key);
    };
    for (const auto& [key, value] : boot) {
        bool known = false;
        for (const char* k : known_keys)
            known = known || key.str() == k;
        if (!known)
            problem = fmt::format("unknown key \"{}\"", key.str());
        (void)value;
    }
    std::string name = boot.get("name") && boot.get("name")->value<std::string>()
                           ? *boot.get("name")->value<std::string>()
                           : fmt::format("boot{}", index + 1);
    auto kernels = strings(get("kernel"), problem, "kernel");
    auto initrds = strings(get("initrd"), problem, "initrd");
    auto appends = strings(get("append"), problem, "append");
    auto disks = strings(get("disks"), problem, "disks");
    auto expects = strings(get("expect"), problem, "expect");
    auto extra = strings(get("args"), problem, "args");
    if (kernels.empty() && problem.empty())
        problem = "no \"kernel\"";
    std::vector<std::string> common;
    if (auto* n = get("mem")) {
        if (auto v = n->value<std::string>())
            common.insert(common.end(), {"--mem", *v});
        else
            problem = "\"mem\": expected a string such as \"512M\"";
    }
    for (const auto& d : disks)
        common.insert(common.end(), {"--disk", resolved_disk(base, d)});
    for (const auto& e : expects)
        common.insert(common.end(), {"--expect", e});
    if (auto* n = get("timeout")) {
        if (auto v = n->value<double>())
            common.insert(common.end(), {"--timeout", fmt::format("{:g}", *v)});
        else
            problem = "\"timeout\": expected seconds";
    }
    if (auto* n = get("max_instructions")) {
        if (auto v = n->value<int64_t>(); v && *v > 0)
            common.insert(common.end(), {"--max-instructions", std::to_string(*v)});
        else
            problem = "\"max_instructions\": expected a positive count";
    }
    if (auto* n = get("deterministic")) {
        if (auto v = n->value<bool>()) {
            if (*v)
                common.push_back("--deterministic");
        } else {
            problem = "\"deterministic\": expected true or false";
        }
    }
    if (auto* n = get("stop_at")) {
        if (auto v = n->value<std::string>())
            common.insert(common.end(), {"--stop-at", *v});
        else
            problem = "\"stop_at\": expected a phase name";
    }
    int expected_exit = 0;
    if (auto* n = get("exit_code")) {
        if (auto v = n->value<int64_t>(); v && *v >= 0 && *v < 256)
            expected_exit = int(*v);
        else
            problem = "\"exit_code\": expected an exit code (0-255)";
    }
    common.insert(common.end(), extra.begin(), extra.end());

    std::vector<MatrixEntry> out;
    if (!problem.empty()) {
        out.push_back({name, {}, expected_exit, problem});
        return out;
    }
    if (initrds.empty())
        initrds.push_back("");
    if (appends.empty())
        appends.push_back("\x01");  // the default command line
    bool several = kernels.size() * initrds.size() * appends.size() > 1;
    size_t n = 0;
    for (const auto& k : kernels)
        for (const auto& i : initrds)
            for (const auto& a : appends) {
                MatrixEntry e{several ? fmt::format("{}-{}", name, ++n) : name, {"--kernel", resolved(base, k)},
                              expected_exit, ""};
                if (!i.empty())
                    e.args.insert(e.args.end(), {"--initrd", resolved(base, i)});
                if (a != "\x01")
                    e.args.insert(e.args.end(), {"--append", a});
                e.args.insert(e.args.end(), common.begin(), common.end());
                out.push_back(std::move(e));
            }
    return out;
}

std::string xml_escape(const std::string& text)
{
    std::string out;
    for (unsigned char c : text) {
        switch (c) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '"': out += "&quot;"; break;
        default:
            // XML 1.0 allows no control characters but tab, LF and CR.
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                out += '?';
            else
                out += char(c);
        }
    }
    return out;
}

std::string tail_of_file(const std::string& path, size_t max)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    return text.size() > max ? "...\n" + text.substr(text.size() - max) : text;
}

nlohmann::json read_json(const std::string& path)
{
    auto bytes = read_file(path, "report");
    if (!bytes)
        return nullptr;
    auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
    return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

}  // namespace

std::optional<MatrixFile> read_matrix(const std::string& path, std::string& error)
{
    // Read as every input is (a FIFO or a device is refused, not read).
    auto bytes = read_file(path, "matrix");
    if (!bytes) {
        error = bytes.error().message;
        return std::nullopt;
    }
    toml::table root;
    try {
        root = toml::parse(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), path);
    } catch (const toml::parse_error& e) {
        error = fmt::format("{}: not a valid TOML file: {} (line {})", path, std::string(e.description()),
                            e.source().begin.line);
        return std::nullopt;
    }
    fs::path base = fs::path(path).parent_path();
    toml::table defaults;
    if (auto* d = root.get("defaults")) {
        if (auto* t = d->as_table())
            defaults = *t;
        else {
            error = fmt::format("{}: [defaults] must be a table", path);
            return std::nullopt;
        }
    }
    auto* boots = root.get("boot") ? root.get("boot")->as_array() : nullptr;
    if (!boots || boots->empty()) {
        error = fmt::format("{}: no [[boot]] entries", path);
        return std::nullopt;
    }
    MatrixFile file;
    std::map<std::string, int> names;
    for (size_t i = 0; i < boots->size(); ++i) {
        const toml::table* boot = (*boots)[i].as_table();
        if (!boot) {
            file.entries.push_back({fmt::format("boot{}", i + 1), {}, 0, "a [[boot]] entry must be a table"});
            continue;
        }
        for (auto& e : expand(*boot, defaults, base, i))
            file.entries.push_back(std::move(e));
    }
    for (auto& e : file.entries) {
        if (++names[e.name] > 1) {
            e.name = fmt::format("{}-{}", e.name, names[e.name]);
        }
    }
    return file;
}

std::vector<MatrixResult> run_matrix(const std::string& binary, const std::vector<MatrixEntry>& entries,
                                     const std::string& out_dir, unsigned jobs)
{
    std::vector<MatrixResult> results(entries.size());
    std::map<pid_t, size_t> running;
    std::map<pid_t, std::chrono::steady_clock::time_point> started;
    size_t next = 0;
    auto start_one = [&](size_t i) {
        const MatrixEntry& e = entries[i];
        MatrixResult& r = results[i];
        r.name = e.name;
        r.expected_exit = e.expected_exit;
        if (!e.problem.empty()) {
            r.problem = "bad entry: " + e.problem;
            return;
        }
        std::string stem = (fs::path(out_dir) / safe_name(e.name)).string();
        r.report_path = stem + ".json";
        r.log_path = stem + ".log";
        std::vector<std::string> args = {binary, "--headless", "--report", r.report_path, "--expected-exit",
                                         std::to_string(e.expected_exit)};
        args.insert(args.end(), e.args.begin(), e.args.end());
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, r.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        pid_t pid = 0;
        int err = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (err != 0) {
            r.problem = fmt::format("cannot start {}: {}", binary, strerror(err));
            return;
        }
        running[pid] = i;
        started[pid] = std::chrono::steady_clock::now();
    };
    while (next < entries.size() || !running.empty()) {
        while (next < entries.size() && running.size() < std::max(1u, jobs))
            start_one(next++);
        if (running.empty())
            continue;
        int status = 0;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0)
            break;
        auto it = running.find(pid);
        if (it == running.end())
            continue;
        MatrixResult& r = results[it->second];
        r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started[pid]).count();
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r.report = read_json(r.report_path);
        running.erase(it);
    }
    return results;
}

MatrixResult result_from_report(const std::string& path, std::string& error)
{
    MatrixResult r;
    r.name = fs::path(path).stem().string();
    r.report_path = path;
    r.report = read_json(path);
    if (r.report.is_null() || !r.report.is_object() || r.report.value("schema", "") != "bootsim-report") {
        error = fmt::format("{}: not a bootsim report", path);
        r.problem = "not a bootsim report";
        return r;
    }
    r.exit_code = r.report.contains("outcome") ? r.report["outcome"].value("exit_code", -1) : -1;
    if (r.report.contains("run") && r.report["run"].contains("expected_exit_code") &&
        r.report["run"]["expected_exit_code"].is_number_integer())
        r.expected_exit = r.report["run"]["expected_exit_code"].get<int>();
    if (r.report.contains("totals"))
        r.wall_seconds = r.report["totals"].value("wall_seconds", 0.0);
    return r;
}

std::string matrix_table(const std::vector<MatrixResult>& results)
{
    std::string out = fmt::format("{:<28} {:<30} {:<17} {:>5} {:>9} {:>9} {:>15}  {}\n", "boot", "kernel", "end",
                                  "exit", "guest s", "wall s", "instructions", "result");
    size_t passed = 0;
    for (const auto& r : results) {
        std::string version = "-", end = "-";
        double guest = 0;
        uint64_t instructions = 0;
        if (r.report.is_object()) {
            if (r.report.contains("inputs"))
                version = r.report["inputs"]["kernel"].value("version", "-");
            version = version.substr(0, version.find(' '));
            if (r.report.contains("outcome"))
                end = r.report["outcome"].value("end", "-");
            if (r.report.contains("totals")) {
                guest = r.report["totals"].value("guest_seconds", 0.0);
                instructions = r.report["totals"].value("instructions", uint64_t(0));
            }
        }
        std::string result = r.passed() ? "pass"
                             : !r.problem.empty()
                                 ? "ERROR: " + r.problem
                                 : fmt::format("FAIL (exit {}, expected {})", r.exit_code, r.expected_exit);
        passed += r.passed();
        out += fmt::format("{:<28} {:<30} {:<17} {:>5} {:>9.3f} {:>9.3f} {:>15}  {}\n", r.name.substr(0, 28),
                           version.substr(0, 30), end, r.exit_code < 0 ? std::string("-") : std::to_string(r.exit_code),
                           guest, r.wall_seconds, instructions ? std::to_string(instructions) : "-", result);
    }
    out += fmt::format("{} of {} passed\n", passed, results.size());
    return out;
}

std::string junit_xml(const std::vector<MatrixResult>& results, const std::string& suite)
{
    size_t failures = 0, errors = 0;
    double total = 0;
    for (const auto& r : results) {
        errors += !r.problem.empty();
        failures += r.problem.empty() && !r.passed();
        total += r.wall_seconds;
    }
    std::string body;
    for (const auto& r : results) {
        body += fmt::format("    <testcase classname=\"bootsim.{}\" name=\"{}\" time=\"{:.3f}\">\n", xml_escape(suite),
                            xml_escape(r.name), r.wall_seconds);
        std::string reason = r.report.is_object() && r.report.contains("outcome")
                                 ? r.report["outcome"].value("reason", "")
                                 : "";
        if (!r.problem.empty())
            body += fmt::format("      <error message=\"{}\"/>\n", xml_escape(r.problem));
        else if (!r.passed())
            body += fmt::format("      <failure message=\"exit {} (expected {}): {}\">{}</failure>\n", r.exit_code,
                                r.expected_exit, xml_escape(reason),
                                xml_escape(r.log_path.empty() ? reason : tail_of_file(r.log_path, 4000)));
        if (!r.report_path.empty())
            body += fmt::format("      <system-out>report: {}{}</system-out>\n", xml_escape(r.report_path),
                                reason.empty() ? "" : "\n" + xml_escape(reason));
        body += "    </testcase>\n";
    }
    return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<testsuites name=\"bootsim\" tests=\"{0}\" failures=\"{1}\" errors=\"{2}\" time=\"{3:.3f}\">\n"
                       "  <testsuite name=\"{4}\" tests=\"{0}\" failures=\"{1}\" errors=\"{2}\" time=\"{3:.3f}\">\n"
                       "{5}"
                       "  </testsuite>\n"
                       "</testsuites>\n",
                       results.size(), failures, errors, total, xml_escape(suite), body);
}

}  // namespace bootsim
