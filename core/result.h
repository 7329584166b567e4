#pragma once
// Result<T>: a value or an Error. Errors travel up to main(), which prints
// them once; nothing below main() exits or prints.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace bootsim {

// What went wrong, coarse enough for tests to assert on and for main() to
// map onto an exit code.
enum class ErrorKind {
    FileMissing,     // cannot open / does not exist
    FileEmpty,       // zero bytes
    Truncated,       // shorter than its own header says
    BadFormat,       // not the format expected (magic, structure)
    Unsupported,     // a valid file this tool cannot use (protocol too old...)
    DoesNotFit,      // not enough guest RAM
    BadUsage,        // command line
    Emulator,        // the CPU emulator failed or is unusable
    Verification,    // guest state disagrees with what the host computed
    Output,          // an output file cannot be written
};

struct Error {
    ErrorKind kind;
    std::string message;  // one line, names the file and what was found/expected
};

template <typename... Args>
Error make_error(ErrorKind kind, fmt::format_string<Args...> format, Args&&... args)
{
    return Error{kind, fmt::format(format, std::forward<Args>(args)...)};
}

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_value(std::move(value)) {}
    Result(Error error) : m_value(std::move(error)) {}

    bool ok() const { return std::holds_alternative<T>(m_value); }
    explicit operator bool() const { return ok(); }

    T& value() { assert(ok()); return std::get<T>(m_value); }
    const T& value() const { assert(ok()); return std::get<T>(m_value); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { assert(!ok()); return std::get<Error>(m_value); }

private:
    std::variant<T, Error> m_value;
};

// Result<void>
struct Ok {};
using Status = Result<Ok>;

}  // namespace bootsim

// Propagates an error: `auto x = TRY(f());` inside a function returning Result.
#define TRY(expr)                                  \
    ({                                             \
        auto _try_result = (expr);                 \
        if (!_try_result.ok())                     \
            return _try_result.error();            \
        std::move(_try_result.value());            \
    })
