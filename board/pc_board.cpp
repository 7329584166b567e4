#include "board/pc_board.h"
