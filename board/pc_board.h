#pragma once
#include "core/machine.h"
namespace bootsim {
class PcBoard final {
public:
    PcBoard(Machine&, uint64_t) {}
};
}
