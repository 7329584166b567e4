#pragma once
// The commands besides running one boot: `bootsim compare`, `bootsim matrix`
// and `bootsim merge-reports`. Each returns the process exit code.

namespace bootsim {

// argv[0] is the command's name ("compare", ...).
int compare_command(int argc, const char* const* argv);
int matrix_command(int argc, const char* const* argv, const char* self);
int merge_reports_command(int argc, const char* const* argv);

}  // namespace bootsim
