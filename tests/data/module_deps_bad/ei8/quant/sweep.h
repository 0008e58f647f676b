// Fixture: quant may not depend on report (modules return data; tables are the pipeline's).
#pragma once
#include "ei8/report/table.h"
