// ei8/report/html_check.h — opens an HTML file in headless Chromium (Debian's `chromium`) and
// reports whether it rendered and how many of its images loaded. Used by the tests of the report
// and by `edgeint8 report --check`.
//
//   EI8_ASSIGN_OR_RETURN(HtmlCheck c, check_html_in_browser("results/report.html"));
//   if (c.images_loaded != c.images) ...
#pragma once

#include <string>

#include "ei8/core/status.h"

namespace ei8::report {

struct HtmlCheck {
  int images = 0;         // <img> elements in the page
  int images_loaded = 0;  // of those, decoded with a non-zero natural width
  std::string title;      // document.title as the browser saw it
};

// The browser binary, or an empty string when none is installed.
std::string find_chromium();

// Loads a copy of `html_path` with a probe script appended, waits for the load event and reads
// the probe's result from the DOM Chromium dumps. Errors: no browser, the page did not load.
Result<HtmlCheck> check_html_in_browser(const std::string& html_path);

}  // namespace ei8::report
