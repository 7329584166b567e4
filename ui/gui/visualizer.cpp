#include "ui/gui/visualizer.h"

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <thread>

#include <SDL.h>
#include <imgui.h>
#include <backends/imgui_impl_opengl3.h>
#include <backends/imgui_impl_sdl.h>
#include <fmt/format.h>
#include <GL/gl.h>

#include "ui/boot_session.h"
#include "ui/gui/gui_state.h"
#include "ui/gui/palette.h"
#include "ui/gui/png_file.h"

namespace bootsim::gui {

namespace {

constexpr int default_width = 1600, default_height = 1000;
constexpr double refresh_interval = 0.05;   // snapshots while running: 20 a second
// All of RAM hashed every two seconds while the guest runs: a faster sweep
// reads enough memory to slow the guest by a tenth through the shared cache
// (bench/gui_vs_headless.py: 0.89 at one second, 0.98 at two).
constexpr double sweep_seconds = 2.0;
constexpr double heat_half_life = 1.0;
constexpr double frame_period = 1.0 / 60;
// While the guest runs, drawing may take at most this share of a core: on a
// GPU a frame costs next to nothing and the window keeps 60 frames a second;
// with software rendering (Mesa's llvmpipe) on a small machine, frames come
// less often rather than take the guest's CPU.
constexpr double drawing_share = 0.2;
constexpr double screenshot_settle = 1.5;   // let the heat of the last writes fade a little

Image read_framebuffer(int width, int height)
{
    Image image;
    image.width = width;
    image.height = height;
    image.rgba.resize(size_t(width) * size_t(height) * 4);
    std::vector<uint8_t> rows(image.rgba.size());
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, rows.data());
    // OpenGL's rows go bottom to top.
    size_t stride = size_t(width) * 4;
    for (int y = 0; y < height; ++y)
        std::memcpy(&image.rgba[size_t(y) * stride], &rows[size_t(height - 1 - y) * stride], stride);
    for (size_t i = 3; i < image.rgba.size(); i += 4)
        image.rgba[i] = 255;
    return image;
}

// Per-frame bookkeeping that does not draw: new boot, activity sampling,
// snapshot refreshes, rates.
void update(GuiState& s, double frame_seconds, double fps)
{
    s.snap = s.controller.snapshot();
    s.session = s.controller.session();
    if (s.snap.generation != s.generation && s.session && s.session->boot) {
        s.generation = s.snap.generation;
        const BootPlan& plan = s.session->boot->plan();
        s.activity = std::make_unique<PageActivity>(plan.mem_size, heat_half_life);
        int columns = int(s.layout.map_image.w / ScreenLayout::cell_pixels);
        int rows = int(s.layout.map_image.h / ScreenLayout::cell_pixels);
        s.grid.emplace(0, plan.mem_size, columns, rows);
        s.decompress_epoch_marked = false;
        s.steps_seen = 0;
        s.have_previous_cpu = false;
        s.cpu_sequence = 0;
        s.block_rate.reset();
        s.decompress_rate.reset();
        s.console_seen = 0;
        s.terminal = TerminalText();
        s.zero_page.clear();
        for (const Region& r : plan.regions) {
            if (r.role == RegionRole::BootParams)
                s.zero_page = r.bytes;
            // The real-mode entry has no zero page of the loader's: the setup
            // code builds it from the header the loader filled in, which sits
            // at the same offset in its first sectors (the e820 map comes
            // later, from the BIOS).
            if (r.role == RegionRole::Setup) {
                s.zero_page.assign(r.bytes.begin(), r.bytes.begin() + long(std::min<size_t>(r.bytes.size(), 4096)));
                s.zero_page.resize(4096, 0);
                std::fill(s.zero_page.begin(), s.zero_page.begin() + 0x1f1, 0);  // code, not boot_params fields
            }
        }
    }
    // The console only from where the terminal pane has read up to.
    if (s.session)
        s.record = s.session->model.copy(s.terminal.received());
    if (s.snap.state == RunState::Running && s.now - s.last_refresh >= refresh_interval) {
        s.controller.refresh();
        s.last_refresh = s.now;
    }
    if (s.activity && s.session && s.session->boot) {
        // Learn the loaded image before the guest runs, then sample steadily.
        // While the guest is stopped there is no one to take the CPU from:
        // catch up within a few frames, so the map shows the stop at once.
        double sweep = s.snap.state == RunState::Running ? sweep_seconds : 0.15;
        uint64_t budget = s.activity->primed()
                              ? uint64_t(double(s.activity->pages()) / (sweep * std::max(fps, 10.0))) + 1
                              : s.activity->pages() + 1;
        s.activity->sample_writes(s.session->boot->machine().memory().bytes(), budget);
        // Heat fades smoothly enough at 20 steps a second.
        s.heat_pending += frame_seconds;
        if (s.heat_pending >= 0.05) {
            s.activity->decay(s.heat_pending);
            s.heat_pending = 0;
        }
        if (s.snap.rip_physical)
            s.activity->mark_executed(*s.snap.rip_physical);
        if (!s.decompress_epoch_marked && s.snap.phase >= Phase::Decompress) {
            s.activity->mark_epoch();
            s.decompress_epoch_marked = true;
        }
    }
    if (s.snap.have_cpu && s.snap.sequence != s.cpu_sequence) {
        if (s.cpu_sequence != 0 && s.snap.cpu.rip != s.shown_cpu.rip) {
            s.previous_cpu = s.shown_cpu;
            s.have_previous_cpu = true;
        }
        s.shown_cpu = s.snap.cpu;
        s.cpu_sequence = s.snap.sequence;
    }
    s.block_rate.sample(double(s.snap.wall_ns) / 1e9, double(s.snap.blocks_executed));
}

void style()
{
    ImGui::StyleColorsDark();
    ImGuiStyle& st = ImGui::GetStyle();
    st.WindowRounding = 0;
    st.WindowBorderSize = 1;
    st.Colors[ImGuiCol_WindowBg] = ImVec4(20 / 255.f, 22 / 255.f, 27 / 255.f, 1);
}

}  // namespace

void RateMeter::sample(double seconds, double count)
{
    if (m_last_seconds >= 0 && seconds > m_last_seconds + 0.2) {
        double r = (count - m_last_count) / (seconds - m_last_seconds);
        m_rate = m_rate == 0 ? r : 0.6 * m_rate + 0.4 * r;
    }
    if (m_last_seconds < 0 || seconds > m_last_seconds + 0.2 || count < m_last_count) {
        m_last_seconds = seconds;
        m_last_count = count;
    }
}

bool display_available()
{
    const char* x = getenv("DISPLAY");
    const char* wayland = getenv("WAYLAND_DISPLAY");
    return (x && *x) || (wayland && *wayland);
}

int run_visualizer(const Options& options)
{
    bool screenshot = !options.screenshot.empty();
    // The boot is built (every input checked) before any window opens: bad
    // input is a one-line error and an exit code, as headless.
    BootController controller(options);
    while (controller.snapshot().sequence == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (MachineSnapshot first = controller.snapshot(); first.state == RunState::Failed) {
        fmt::print(stderr, "bootsim: error: {}\n", first.status);
        return first.failure_exit;
    }
    // A screenshot needs no display: SDL's offscreen driver gives an EGL
    // context on Mesa's llvmpipe.
    if (screenshot && !display_available())
        setenv("SDL_VIDEODRIVER", "offscreen", 1);
    // Without a GPU, Mesa's llvmpipe rasterises on as many threads as there
    // are cores, and they take the guest's core. Drawing on the GUI thread
    // alone leaves the guest its own (bench/gui_vs_headless.py). A GPU
    // ignores this; the user's own setting wins.
    setenv("LP_NUM_THREADS", "0", 0);
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0) {
        fmt::print(stderr, "bootsim: error: cannot open the visualizer: {}\n", SDL_GetError());
        return exit_bootsim_failed;
    }
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 2);
    SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
    Uint32 flags = SDL_WINDOW_OPENGL | SDL_WINDOW_ALLOW_HIGHDPI | (screenshot ? SDL_WINDOW_HIDDEN : SDL_WINDOW_RESIZABLE);
    std::string title = fmt::format("bootsim: {}", options.kernel);
    SDL_Window* window = SDL_CreateWindow(title.c_str(), SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                                          default_width, default_height, flags);
    SDL_GLContext gl = window ? SDL_GL_CreateContext(window) : nullptr;
    if (!gl) {
        fmt::print(stderr, "bootsim: error: cannot open the visualizer: {}\n", SDL_GetError());
        if (window)
            SDL_DestroyWindow(window);
        SDL_Quit();
        return exit_bootsim_failed;
    }
    SDL_GL_MakeCurrent(window, gl);
    SDL_GL_SetSwapInterval(screenshot ? 0 : 1);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;  // the layout is the program's, not a file's
    style();
    ImGui_ImplSDL2_InitForOpenGL(window, gl);
    ImGui_ImplOpenGL3_Init("#version 150");

    GLuint map_texture = 0;
    glGenTextures(1, &map_texture);
    glBindTexture(GL_TEXTURE_2D, map_texture);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);

    int exit_code = exit_success;
    {
        GuiState s(controller);
        s.fixed_layout = screenshot;
        Command first{CommandKind::Run};
        first.timeout_seconds = options.timeout_seconds.value_or(0);
        if (screenshot) {
            first = {CommandKind::RunToPhase, *options.screenshot_at};
            first.timeout_seconds = options.timeout_seconds.value_or(0);
        }
        else if (options.stop_at)
            first = {CommandKind::RunToPhase, *options.stop_at};
        int frames = 0;

        auto start = std::chrono::steady_clock::now();
        double last = 0, settled_since = -1, fps = 60, frame_cost = 0;
        bool quit = false;
        auto next_frame = std::chrono::steady_clock::now();
        uint64_t drawn_sequence = ~0ull;
        while (!quit) {
            // Pace the frames ourselves: vsync is a request a display may
            // ignore (Xvfb does), and every frame drawn is CPU the guest
            // does not get. While the guest runs: 60 a second. While it is
            // stopped and nothing happens: wake for input, or 4 a second.
            bool idle = s.snap.state != RunState::Running && s.snap.sequence == drawn_sequence && !controller.busy();
            SDL_Event event;
            auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_frame - std::chrono::steady_clock::now());
            if (idle && !screenshot)
                SDL_WaitEventTimeout(nullptr, 250);
            else if (wait.count() > 0)
                std::this_thread::sleep_for(wait);
            auto frame_start = std::chrono::steady_clock::now();
            double period = s.snap.state == RunState::Running ? std::max(frame_period, frame_cost / drawing_share)
                                                              : frame_period;
            next_frame = std::max(next_frame + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                   std::chrono::duration<double>(period)),
                                  frame_start);
            drawn_sequence = s.snap.sequence;
            while (SDL_PollEvent(&event)) {
                ImGui_ImplSDL2_ProcessEvent(&event);
                if (event.type == SDL_QUIT)
                    quit = true;
                if (event.type == SDL_WINDOWEVENT && event.window.event == SDL_WINDOWEVENT_CLOSE &&
                    event.window.windowID == SDL_GetWindowID(window))
                    quit = true;
            }
            s.now = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            double frame = s.now - last;
            last = s.now;
            if (frame > 0)
                fps = 0.9 * fps + 0.1 / frame;
            int w, h;
            SDL_GetWindowSize(window, &w, &h);
            s.layout = screen_layout(float(w), float(h));
            update(s, frame, fps);

            ImGui_ImplOpenGL3_NewFrame();
            ImGui_ImplSDL2_NewFrame();
            ImGui::NewFrame();
            draw_controls(s);
            draw_memory_map(s, map_texture);
            draw_timeline(s);
            draw_console(s);
            draw_cpu(s);
            draw_decompression(s);
            draw_inspector(s);
            ImGui::Render();
            int fw, fh;
            SDL_GL_GetDrawableSize(window, &fw, &fh);
            glViewport(0, 0, fw, fh);
            Rgb bg = colour::window_background;
            glClearColor(bg.r / 255.f, bg.g / 255.f, bg.b / 255.f, 1);
            glClear(GL_COLOR_BUFFER_BIT);
            ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

            if (screenshot) {
                bool done = s.snap.state != RunState::Running && !controller.busy() && s.snap.sequence > 1;
                if (s.snap.state == RunState::Failed) {
                    fmt::print(stderr, "bootsim: error: {}\n", s.snap.status);
                    exit_code = s.snap.failure_exit;
                    break;
                }
                if (done && settled_since < 0)
                    settled_since = s.now;
                if (done && s.now - settled_since >= screenshot_settle) {
                    Image image = read_framebuffer(fw, fh);
                    if (auto written = write_png(options.screenshot, image); !written) {
                        fmt::print(stderr, "bootsim: error: {}\n", written.error().message);
                        exit_code = exit_output_not_written;
                    }
                    else if (s.snap.phase != *options.screenshot_at) {
                        fmt::print(stderr, "bootsim: screenshot {} taken at phase {}: the boot ended before {} ({})\n",
                                   options.screenshot, phase_name(s.snap.phase), phase_name(*options.screenshot_at),
                                   s.snap.status);
                        exit_code = exit_goal_not_met;
                    }
                    else
                        fmt::print(stderr, "bootsim: screenshot {} ({}x{}) at phase {}\n", options.screenshot, fw, fh,
                                   phase_name(s.snap.phase));
                    quit = true;
                }
            }
            SDL_GL_SwapWindow(window);
            // The boot starts once the window is up: its first frames compile
            // the renderer's shaders (LLVM, with llvmpipe), which would
            // otherwise compete with the guest's first second.
            if (++frames == 2)
                controller.send(first);
            // glFinish: with a GPU the frame's cost is the CPU's part only;
            // with llvmpipe it is the drawing itself.
            glFinish();
            double cost = std::chrono::duration<double>(std::chrono::steady_clock::now() - frame_start).count();
            frame_cost = 0.8 * frame_cost + 0.2 * cost;
            s.fps = fps;
        }
        controller.abandon();
        // Closing the window after the boot ended for good reports how it
        // ended, as a headless run would (a panic is a failure); closing it
        // earlier is the user's choice, not a failure.
        if (!screenshot && s.snap.state == RunState::Ended && s.snap.end)
            exit_code = exit_code_for(*s.snap.end, s.snap.expectations_met);
    }
    glDeleteTextures(1, &map_texture);
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplSDL2_Shutdown();
    ImGui::DestroyContext();
    SDL_GL_DeleteContext(gl);
    SDL_DestroyWindow(window);
    SDL_Quit();
    return exit_code;
}

}  // namespace bootsim::gui
