#pragma once
// The visualizer: an SDL2 window drawn with Dear ImGui on OpenGL 3, showing
// the boot live while BootController runs it on its own thread. With
// --screenshot it runs to --screenshot-at, draws the same window off-screen
// and writes a PNG.

#include "ui/options.h"

namespace bootsim::gui {

// Whether a window can be opened here (an X11 or Wayland display).
bool display_available();

// Runs the window until the user closes it (or, with --screenshot, until
// the picture is written). Returns the process exit code.
int run_visualizer(const Options& options);

}  // namespace bootsim::gui
