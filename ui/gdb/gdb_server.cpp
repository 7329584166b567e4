#include "ui/gdb/gdb_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace bootsim::gdb {

namespace {

constexpr int poll_ms = 50;  // how often a blocked wait looks for a signal or the end of a run

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Result<std::unique_ptr<GdbServer>> GdbServer::listen(const std::string& spec)
{
    std::string host = "127.0.0.1", port = spec;
    if (size_t colon = spec.rfind(':'); colon != std::string::npos) {
        host = spec.substr(0, colon);
        port = spec.substr(colon + 1);
        if (host.empty())
            host = "127.0.0.1";
    }
    char* end = nullptr;
    long number = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end || number < 0 || number > 65535)
        return make_error(ErrorKind::BadUsage, "--gdb {}: the port must be a number from 0 (any free port) to 65535",
                          spec);
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
        return make_error(ErrorKind::BadUsage, "--gdb {}: cannot resolve {}: {}", spec, host, gai_strerror(rc));
    std::unique_ptr<GdbServer> server(new GdbServer);
    server->m_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(server->m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool bound = server->m_listen_fd >= 0 && bind(server->m_listen_fd, found->ai_addr, found->ai_addrlen) == 0 &&
                 ::listen(server->m_listen_fd, 1) == 0;
    int error = errno;
    char text[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr, text, sizeof text);
    freeaddrinfo(found);
    if (!bound)
        return make_error(ErrorKind::BadUsage, "--gdb {}: cannot listen on {}:{}: {}", spec, text, port,
                          std::strerror(error));
    // Port 0: the one the system chose.
    sockaddr_in bound_to{};
    socklen_t length = sizeof bound_to;
    getsockname(server->m_listen_fd, reinterpret_cast<sockaddr*>(&bound_to), &length);
    server->m_address = fmt::format("{}:{}", text, ntohs(bound_to.sin_port));
    return server;
}

GdbServer::~GdbServer()
{
    stop_watcher();
    close_connection();
    if (m_listen_fd >= 0)
        close(m_listen_fd);
}

bool GdbServer::accept_connection(bool block)
{
    while (m_fd < 0) {
        pollfd p{m_listen_fd, POLLIN, 0};
        int ready = poll(&p, 1, block ? poll_ms : 0);
        if (ready > 0) {
            m_fd = accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (m_fd >= 0) {
                int one = 1;
                setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                m_reader = PacketReader{};
                return true;
            }
        }
        if (!block || s_signalled.load())
            return false;
    }
    return true;
}

void GdbServer::close_connection()
{
    if (m_fd >= 0)
        close(m_fd);
    m_fd = -1;
}

bool GdbServer::send_packet(std::string_view payload)
{
    std::string framed = frame(payload);
    for (size_t done = 0; done < framed.size();) {
        ssize_t n = send(m_fd, framed.data() + done, framed.size() - done, MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return false;
        }
        done += size_t(n);
    }
    return true;
}

GdbServer::Arrival GdbServer::read_some()
{
    pollfd p{m_fd, POLLIN, 0};
    if (poll(&p, 1, poll_ms) <= 0)
        return Arrival::Nothing;
    char buffer[4096];
    ssize_t n = recv(m_fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
        if (n < 0 && errno == EINTR)
            return Arrival::Nothing;
        close_connection();
        return Arrival::Closed;
    }
    m_reader.feed(buffer, size_t(n));
    return std::memchr(buffer, '\x03', size_t(n)) ? Arrival::Interrupt : Arrival::Bytes;
}

std::optional<Incoming> GdbServer::receive()
{
    for (;;) {
        if (auto item = m_reader.next())
            return item;
        if (m_fd < 0 || s_signalled.load() || read_some() == Arrival::Closed)
            return std::nullopt;
    }
}

GdbServer::Served GdbServer::serve(GdbStub& stub)
{
    for (;;) {
        auto item = receive();
        if (!item)
            return s_signalled.load() ? Served::Interrupted : Served::Closed;
        if (item->kind == Incoming::Kind::Interrupt)
            continue;  // already stopped
        if (item->kind == Incoming::Kind::BadChecksum) {
            send(m_fd, "-", 1, MSG_NOSIGNAL);
            continue;
        }
        send(m_fd, "+", 1, MSG_NOSIGNAL);
        Action action = stub.handle(item->payload);
        switch (action.kind) {
        case Action::Kind::Reply:
            if (!send_packet(action.reply)) {
                close_connection();
                return Served::Closed;
            }
            break;
        case Action::Kind::Continue: return Served::Resume;
        case Action::Kind::Step: return Served::Step;
        case Action::Kind::Detach:
            send_packet(action.reply);
            close_connection();
            return Served::Detached;
        case Action::Kind::Kill: close_connection(); return Served::Killed;
        }
    }
}

void GdbServer::start_watcher(Machine& machine)
{
    m_pause_asked = false;
    m_watching = true;
    m_watcher = std::thread([this, &machine] {
        while (m_watching.load()) {
            if (m_fd < 0) {
                // A debugger connecting to a running guest stops it, as with QEMU's stub.
                if (accept_connection(false)) {
                    m_pause_asked = true;
                    machine.request_pause("gdb attached");
                    return;
                }
                pollfd p{m_listen_fd, POLLIN, 0};
                poll(&p, 1, poll_ms);
                continue;
            }
            // Closed: gdb went away, and the guest runs on.
            if (read_some() == Arrival::Interrupt) {
                m_pause_asked = true;
                machine.request_pause("gdb: interrupted");
                return;
            }
        }
    });
}

void GdbServer::stop_watcher()
{
    m_watching = false;
    if (m_watcher.joinable())
        m_watcher.join();
}

RunOutcome GdbServer::run(PreparedBoot& boot, RunLimits limits, bool wait)
{
    Machine& machine = boot.machine();
    // A pause must take effect at once, and a step anywhere: the
    // decompressor runs hooked like everything else.
    machine.set_fast_decompression(false);
    GdbStub stub(machine, boot.plan(), &boot.verifier());
    const double budget = limits.timeout_seconds;
    double ran = 0;
    Served next = Served::Resume;
    bool stopped_for_gdb = false;
    RunOutcome outcome{RunEnd::StopRequested, ""};
    if (wait) {
        fmt::print(stderr, "bootsim: waiting for gdb on {} (--gdb-wait: the guest starts when gdb continues it)\n",
                   m_address);
        if (!accept_connection(true))
            return {RunEnd::Interrupted, "interrupted while waiting for gdb to connect"};
        stopped_for_gdb = true;
    }
    machine.freeze_clock();
    for (;;) {
        if (stopped_for_gdb && m_fd >= 0) {
            next = serve(stub);
            if (next == Served::Killed)
                return {RunEnd::Interrupted, "gdb killed the guest"};
            if (next == Served::Interrupted)
                return {RunEnd::Interrupted, "interrupted while gdb held the guest"};
            if (next == Served::Detached || next == Served::Closed) {
                stub.clear_all();  // the guest runs on without the debugger's stops
                next = Served::Resume;
            }
        }
        RunLimits run_limits = limits;
        if (auto phase = stub.stop_at_phase(); phase && (!limits.stop_at || *phase < *limits.stop_at))
            run_limits.stop_at = phase;
        if (budget > 0) {
            if (ran >= budget)
                return {RunEnd::Timeout, fmt::format("timed out after {:g} s", budget)};
            run_limits.timeout_seconds = budget - ran;
        }
        machine.thaw_clock();
        start_watcher(machine);
        auto started = std::chrono::steady_clock::now();
        outcome = next == Served::Step ? machine.step() : machine.run(run_limits);
        ran += seconds_since(started);
        stop_watcher();
        machine.freeze_clock();
        bool gdb_phase = outcome.end == RunEnd::StopPhase && stub.stop_at_phase() &&
                         machine.phase() == *stub.stop_at_phase();
        if (gdb_phase)
            stub.phase_reached();
        stopped_for_gdb = gdb_phase || outcome.end == RunEnd::Breakpoint || outcome.end == RunEnd::Stepped ||
                          (outcome.end == RunEnd::StopRequested && m_pause_asked.load());
        if (!stopped_for_gdb)
            break;
        if (m_fd >= 0 && !send_packet(stub.stop_reply(outcome)))
            close_connection();
    }
    machine.thaw_clock();
    return outcome;
}

void GdbServer::report_exit(int exit_code)
{
    if (m_fd < 0)
        return;
    send_packet(exit_reply(exit_code));
    close_connection();
}

}  // namespace bootsim::gdb
