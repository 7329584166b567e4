#include "run/expect_matcher.h"

#include "run/console_lines.h"
#include "run/output_limits.h"

namespace bootsim {

Result<ExpectMatcher*> ExpectMatcher::create(Machine& machine, const std::vector<std::string>& patterns)
{
    auto* matcher = new ExpectMatcher(machine);
    for (const std::string& p : patterns) {
        RE2::Options options;
        options.set_log_errors(false);
        auto regex = std::make_unique<re2::RE2>(p, options);
        if (!regex->ok()) {
            delete matcher;
            return make_error(ErrorKind::BadUsage, "--expect: \"{}\" is not a valid regular expression: {}", p,
                              regex->error());
        }
        matcher->m_patterns.push_back({p, std::move(regex), false});
    }
    matcher->m_remaining = matcher->m_patterns.size();
    return matcher;
}

void ExpectMatcher::on_event(const BootEvent& event)
{
    if (event.kind != EventKind::SerialOutput || m_remaining == 0)
        return;
    // Lines are cut at max_console_line: a guest that never ends its line
    // must not make each new byte cost a match over all it wrote before.
    split_console_lines(m_line, event.text, [this](const std::string& line) { check_line(line); }, max_console_line);
    // A prompt or a marker without a newline yet still counts.
    if (!m_line.empty())
        check_line(m_line);
}

void ExpectMatcher::check_line(const std::string& line)
{
    for (Pattern& p : m_patterns) {
        if (!p.matched && RE2::PartialMatch(line, *p.regex)) {
            p.matched = true;
            if (--m_remaining == 0)
                m_machine.request_stop(RunEnd::ExpectMatched, "the console showed every --expect pattern");
        }
    }
}

std::vector<std::string> ExpectMatcher::unmatched() const
{
    std::vector<std::string> out;
    for (const Pattern& p : m_patterns) {
        if (!p.matched)
            out.push_back(p.text);
    }
    return out;
}

}  // namespace bootsim
