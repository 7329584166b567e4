#pragma once
// What the panels of one visualizer window share from frame to frame: this
// frame's copies of the machine's snapshot and event record, and the view
// models that live longer than a frame (activity heat, map zoom, meters).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ui/gui/boot_controller.h"
#include "ui/gui/memory_grid.h"
#include "ui/gui/page_activity.h"
#include "ui/gui/screen_layout.h"
#include "ui/gui/terminal_text.h"

namespace bootsim::gui {

// Rates from successive samples of a growing count, smoothed.
class RateMeter {
public:
    void sample(double seconds, double count);
    double rate() const { return m_rate; }
    void reset() { *this = {}; }

private:
    double m_last_seconds = -1, m_last_count = 0, m_rate = 0;
};

struct GuiState {
    explicit GuiState(BootController& c) : controller(c) {}

    BootController& controller;
    std::shared_ptr<Session> session;  // this frame's boot (keeps its RAM alive)
    MachineSnapshot snap;
    BootRecord record;
    double now = 0;                    // host seconds since the window opened
    double fps = 0;                    // frames drawn a second, smoothed
    ScreenLayout layout;
    bool fixed_layout = false;         // screenshots: panels where screen_layout() says

    // Per boot (reset on restart).
    unsigned generation = ~0u;
    std::unique_ptr<PageActivity> activity;
    std::optional<MemoryGrid> grid;
    bool decompress_epoch_marked = false;
    size_t steps_seen = 0;              // the "Way to the root" tab comes forward when a disk step is new
    bool firmware_shown = false;        // the firmware tab came forward at the first BIOS call
    double heat_pending = 0;            // seconds of decay not applied yet
    double map_drawn_at = -1;           // the map texture is redrawn 20 times a second
    RateMeter block_rate, decompress_rate;
    double instructions_per_block = 0;  // sampled from the blocks RIP was seen at
    // The registers of the snapshot before the current one, for the
    // highlight of what changed (a step, or a refresh while running).
    CpuState previous_cpu, shown_cpu;
    bool have_previous_cpu = false;
    uint64_t cpu_sequence = 0;
    std::vector<uint8_t> zero_page;     // boot_params as the loader wrote it

    // Controls.
    char address_text[32] = "";
    bool address_error = false;
    bool fast_decompression = true;
    int phase_choice = 3;               // "handoff"
    char typed[256] = "";               // the console's input line
    TerminalText terminal;              // the console as lines
    uint64_t console_seen = 0;          // bytes already scrolled to
    double last_refresh = 0;
};

// Panels: each draws one ImGui window.
void draw_controls(GuiState& s);
void draw_memory_map(GuiState& s, unsigned texture);
void draw_timeline(GuiState& s);
void draw_console(GuiState& s);
void draw_cpu(GuiState& s);
void draw_decompression(GuiState& s);
void draw_inspector(GuiState& s);

// Places the next window: at the layout's rectangle on first use (always
// when the layout is fixed).
void place_window(const GuiState& s, const Rect& r);

}  // namespace bootsim::gui
