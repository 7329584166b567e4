#pragma once
// --expect: ends the run with success once the guest's console has shown
// every pattern. Matching is per line, on the console text as it arrives.
// The patterns are RE2's (github.com/google/re2/wiki/Syntax): its matching
// takes time linear in the line, whatever the pattern, where a backtracking
// engine (std::regex) can spend hours on `(a*)*b` or overflow its stack on a
// long line, out of --timeout's reach, since matching runs on the CPU thread.

#include <memory>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "core/boot_event.h"
#include "core/machine.h"

namespace bootsim {

class ExpectMatcher final : public EventSink {
public:
    // Returns an error naming the first pattern that is not a valid regex.
    static Result<ExpectMatcher*> create(Machine& machine, const std::vector<std::string>& patterns);
    void on_event(const BootEvent& event) override;

    bool all_matched() const { return m_remaining == 0; }
    std::vector<std::string> unmatched() const;

private:
    ExpectMatcher(Machine& machine) : m_machine(machine) {}
    void check_line(const std::string& line);

    Machine& m_machine;
    struct Pattern { std::string text; std::unique_ptr<re2::RE2> regex; bool matched = false; };
    std::vector<Pattern> m_patterns;
    size_t m_remaining = 0;
    std::string m_line;
};

}  // namespace bootsim
