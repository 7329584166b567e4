#include "run/report_compare.h"

#include <algorithm>
#include <map>
#include <regex>

#include <fmt/format.h>

#include "run/exit_codes.h"

namespace bootsim {

namespace {

using json = nlohmann::json;

std::vector<std::string> phase_names(const json& report)
{
    std::vector<std::string> names;
    if (report.contains("phases") && report["phases"].is_array())
        for (const auto& p : report["phases"])
            names.push_back(p.value("phase", "?"));
    return names;
}

bool deterministic(const json& report)
{
    return report.contains("run") && report["run"].value("deterministic", false);
}

uint64_t guest_speed(const json& report)
{
    if (!report.contains("run") || !report["run"].contains("instructions_per_second") ||
        !report["run"]["instructions_per_second"].is_number())
        return 0;
    return report["run"]["instructions_per_second"].get<uint64_t>();
}

// A phase's cost: from its start to the next phase's (the last one's to the
// end of the run), in guest seconds or instructions.
struct Cost {
    double seconds = 0;
    uint64_t instructions = 0;
};

std::map<std::string, Cost> phase_costs(const json& report)
{
    std::map<std::string, Cost> out;
    if (!report.contains("phases") || !report["phases"].is_array())
        return out;
    const json& phases = report["phases"];
    double end_s = report.contains("totals") ? report["totals"].value("guest_seconds", 0.0) : 0.0;
    uint64_t end_i = report.contains("totals") ? report["totals"].value("instructions", uint64_t(0)) : 0;
    for (size_t i = 0; i < phases.size(); ++i) {
        double s0 = phases[i].value("guest_seconds", 0.0);
        uint64_t i0 = phases[i].value("instructions", uint64_t(0));
        double s1 = i + 1 < phases.size() ? phases[i + 1].value("guest_seconds", 0.0) : std::max(end_s, s0);
        uint64_t i1 = i + 1 < phases.size() ? phases[i + 1].value("instructions", uint64_t(0)) : std::max(end_i, i0);
        out[phases[i].value("phase", "?")] = {s1 - s0, i1 >= i0 ? i1 - i0 : 0};
    }
    return out;
}

// Initcalls by name; a name that repeats is told apart by its occurrence
// ("name", "name#2", ...).
std::vector<std::pair<std::string, Cost>> initcall_costs(const json& report)
{
    std::vector<std::pair<std::string, Cost>> out;
    std::map<std::string, int> seen;
    if (!report.contains("initcalls") || !report["initcalls"].is_array())
        return out;
    for (const auto& c : report["initcalls"]) {
        std::string name = c.value("name", "?");
        int n = ++seen[name];
        out.emplace_back(n == 1 ? name : fmt::format("{}#{}", name, n),
                         Cost{c.value("guest_seconds", 0.0), c.value("instructions", uint64_t(0))});
    }
    return out;
}

std::vector<std::string> console_lines(const json& report)
{
    std::vector<std::string> lines;
    if (report.contains("console") && report["console"].contains("text") && report["console"]["text"].is_array())
        for (const auto& l : report["console"]["text"])
            if (l.is_string())
                lines.push_back(without_timestamp(l.get<std::string>()));
    return lines;
}

}  // namespace

std::string without_timestamp(const std::string& line)
{
    static const std::regex stamp(R"(^\[\s*\d+\.\d+\]\s?)");
    return std::regex_replace(line, stamp, "", std::regex_constants::format_first_only);
}

std::vector<std::string> unified_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
                                      size_t context, size_t max_lines)
{
    // Longest common subsequence on what is left after the common head and
    // tail (boots differ in a few places, so that part stays small).
    size_t head = 0;
    while (head < a.size() && head < b.size() && a[head] == b[head])
        ++head;
    size_t tail = 0;
    while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail])
        ++tail;
    size_t n = a.size() - head - tail, m = b.size() - head - tail;
    if (n == 0 && m == 0)
        return {};
    // Ops over the middle: ' ' common, '-' only in a, '+' only in b.
    std::vector<std::pair<char, std::string>> ops;
    constexpr size_t max_cells = 25'000'000;
    if (n * m <= max_cells) {
        std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
        for (size_t i = n; i-- > 0;)
            for (size_t j = m; j-- > 0;)
                lcs[i][j] = a[head + i] == b[head + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
        size_t i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a[head + i] == b[head + j]) {
                ops.push_back({' ', a[head + i]});
                ++i, ++j;
            } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
                ops.push_back({'-', a[head + i++]});  // removals first, as diff -u shows them
            } else {
                ops.push_back({'+', b[head + j++]});
            }
        }
    } else {  // too big to align: all of one, then all of the other
        for (size_t i = 0; i < n; ++i)
            ops.push_back({'-', a[head + i]});
        for (size_t j = 0; j < m; ++j)
            ops.push_back({'+', b[head + j]});
    }
    // Hunks: changes with `context` common lines around them, the common
    // head and tail included as context.
    std::vector<std::pair<char, std::string>> all;
    for (size_t i = 0; i < head; ++i)
        all.push_back({' ', a[i]});
    all.insert(all.end(), ops.begin(), ops.end());
    for (size_t i = a.size() - tail; i < a.size(); ++i)
        all.push_back({' ', a[i]});
    std::vector<bool> keep(all.size(), false);
    for (size_t k = 0; k < all.size(); ++k)
        if (all[k].first != ' ')
            for (size_t c = (k >= context ? k - context : 0); c <= std::min(all.size() - 1, k + context); ++c)
                keep[c] = true;
    std::vector<std::string> out;
    size_t line_a = 1, line_b = 1;
    for (size_t k = 0; k < all.size();) {
        if (!keep[k]) {
            line_a += all[k].first != '+';
            line_b += all[k].first != '-';
            ++k;
            continue;
        }
        size_t end = k;
        size_t count_a = 0, count_b = 0;
        while (end < all.size() && keep[end]) {
            count_a += all[end].first != '+';
            count_b += all[end].first != '-';
            ++end;
        }
        out.push_back(fmt::format("@@ -{},{} +{},{} @@", line_a, count_a, line_b, count_b));
        for (; k < end; ++k) {
            if (out.size() >= max_lines) {
                out.push_back("... (diff cut short)");
                return out;
            }
            out.push_back(std::string(1, all[k].first) + all[k].second);
        }
        line_a += count_a;
        line_b += count_b;
    }
    return out;
}

Comparison compare_reports(const json& base, const json& now, const CompareTolerance& tol)
{
    Comparison result;
    bool different = false, slower = false;
    auto say = [&](std::string line) { result.lines.push_back(std::move(line)); };

    // Structure: the phases in order, and how the run ended.
    std::vector<std::string> pa = phase_names(base), pb = phase_names(now);
    if (pa != pb) {
        different = true;
        for (const auto& p : pa)
            if (std::find(pb.begin(), pb.end(), p) == pb.end())
                say(fmt::format("phase missing: {}", p));
        for (const auto& p : pb)
            if (std::find(pa.begin(), pa.end(), p) == pa.end())
                say(fmt::format("phase added: {}", p));
        std::vector<std::string> common_a, common_b;
        for (const auto& p : pa)
            if (std::find(pb.begin(), pb.end(), p) != pb.end())
                common_a.push_back(p);
        for (const auto& p : pb)
            if (std::find(pa.begin(), pa.end(), p) != pa.end())
                common_b.push_back(p);
        if (common_a != common_b)
            say(fmt::format("phases reordered: {} -> {}", fmt::join(pa, " "), fmt::join(pb, " ")));
    }
    auto end_of = [](const json& r) {
        return r.contains("outcome") ? r["outcome"].value("end", std::string("?")) : std::string("?");
    };
    if (end_of(base) != end_of(now)) {
        different = true;
        say(fmt::format("end changed: {} -> {} ({})", end_of(base), end_of(now),
                        now.contains("outcome") ? now["outcome"].value("reason", "") : ""));
    }

    // Costs.
    bool by_instructions = deterministic(base) && deterministic(now) && guest_speed(base) == guest_speed(now);
    say(fmt::format("costs compared in {} (tolerance {:.0f}%, at least {})",
                    by_instructions ? "instructions (both runs deterministic)" : "guest time", tol.fraction * 100,
                    by_instructions ? fmt::format("{} instructions", tol.min_instructions)
                                    : fmt::format("{:g} s", tol.min_seconds)));
    auto beyond = [&](const Cost& a, const Cost& b) {
        if (by_instructions)
            return b.instructions > a.instructions &&
                   b.instructions - a.instructions > std::max<double>(tol.min_instructions, tol.fraction * a.instructions);
        return b.seconds - a.seconds > std::max(tol.min_seconds, tol.fraction * a.seconds);
    };
    auto describe = [&](const Cost& a, const Cost& b) {
        if (by_instructions)
            return fmt::format("{} -> {} instructions ({:+.1f}%)", a.instructions, b.instructions,
                               a.instructions ? 100.0 * (double(b.instructions) - double(a.instructions)) / double(a.instructions) : 100.0);
        return fmt::format("{:.3f} s -> {:.3f} s ({:+.1f}%)", a.seconds, b.seconds,
                           a.seconds > 0 ? 100.0 * (b.seconds - a.seconds) / a.seconds : 100.0);
    };
    auto ca = phase_costs(base), cb = phase_costs(now);
    for (const auto& name : pb) {
        if (!ca.count(name))
            continue;
        if (beyond(ca[name], cb[name])) {
            slower = true;
            say(fmt::format("phase {} slower: {}", name, describe(ca[name], cb[name])));
        } else if (beyond(cb[name], ca[name])) {
            say(fmt::format("phase {} faster: {}", name, describe(ca[name], cb[name])));
        }
    }
    auto ia = initcall_costs(base), ib = initcall_costs(now);
    std::map<std::string, Cost> ia_by_name(ia.begin(), ia.end());
    std::map<std::string, Cost> ib_by_name(ib.begin(), ib.end());
    size_t slower_initcalls = 0, missing = 0, added = 0;
    for (const auto& [name, cost] : ib) {
        auto it = ia_by_name.find(name);
        if (it == ia_by_name.end()) {
            ++added;
            continue;
        }
        if (beyond(it->second, cost)) {
            slower = true;
            if (++slower_initcalls <= 20)
                say(fmt::format("initcall {} slower: {}", name, describe(it->second, cost)));
        }
    }
    for (const auto& [name, cost] : ia)
        missing += ib_by_name.count(name) ? 0 : 1;
    if (slower_initcalls > 20)
        say(fmt::format("... and {} more slower initcalls", slower_initcalls - 20));
    if (missing || added)
        say(fmt::format("initcalls: {} only in the baseline, {} only in this run", missing, added));

    // Regions moved (shown, not gated: a new kernel or initrd moves them).
    std::map<std::string, std::pair<std::string, uint64_t>> regions;
    if (base.contains("regions"))
        for (const auto& r : base["regions"])
            regions[r.value("role", "?")] = {r.value("address", "?"), r.value("size", uint64_t(0))};
    if (now.contains("regions"))
        for (const auto& r : now["regions"]) {
            auto it = regions.find(r.value("role", "?"));
            if (it == regions.end())
                continue;
            std::pair<std::string, uint64_t> here{r.value("address", "?"), r.value("size", uint64_t(0))};
            if (it->second != here)
                say(fmt::format("region {} moved: {} ({} bytes) -> {} ({} bytes)", it->first, it->second.first,
                                it->second.second, here.first, here.second));
        }

    // The console, timestamps ignored (shown, not gated).
    auto diff = unified_diff(console_lines(base), console_lines(now));
    if (!diff.empty()) {
        say("console (unified diff, kernel timestamps ignored):");
        for (auto& l : diff)
            say("  " + l);
    }

    result.exit_code = different ? exit_compare_different : slower ? exit_compare_slower : exit_success;
    say(different ? "verdict: structurally different"
                  : slower ? "verdict: slower beyond the tolerance" : "verdict: the same within the tolerance");
    return result;
}

}  // namespace bootsim
