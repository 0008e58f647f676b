// A fixture for the module dependency check (cmake/check_module_deps.cmake): fixedpoint may
// depend on core only, so the check must reject this include.
#pragma once
#include "ei8/core/status.h"
#include "ei8/quant/quant_math.h"
