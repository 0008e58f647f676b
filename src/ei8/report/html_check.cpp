#include "ei8/report/html_check.h"

#include <cstdio>
#include <filesystem>

#include "ei8/core/npy.h"

namespace ei8::report {
namespace fs = std::filesystem;

std::string find_chromium() {
  for (const char* p :
       {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (fs::exists(p)) return p;
  }
  return {};
}

Result<HtmlCheck> check_html_in_browser(const std::string& html_path) {
  const std::string browser = find_chromium();
  if (browser.empty()) {
    return not_found("cannot check {} in a browser: chromium is not installed", html_path);
  }
  EI8_ASSIGN_OR_RETURN(std::string html, read_file(html_path));
  // The probe runs after every image has loaded or failed, then writes its verdict into the DOM.
  constexpr std::string_view kProbe = R"(<script>
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
  var d = document.createElement('div');
  d.id = 'ei8-probe';
  d.textContent = imgs.length + ' ' + ok + ' ' + document.title;
  document.body.appendChild(d);
});
</script>)";
  const size_t end = html.rfind("</body>");
  if (end == std::string::npos) {
    return data_loss("cannot check {} in a browser: no </body> element", html_path);
  }
  html.insert(end, kProbe);
  const fs::path probe_path =
      fs::temp_directory_path() / fmt::format("ei8_probe_{}.html", fs::hash_value(html_path));
  EI8_RETURN_IF_ERROR(write_file(probe_path.string(), html));
  const fs::path profile = fs::temp_directory_path() / "ei8_chromium_profile";
  // Flags: no sandbox as root, no GPU, no network chatter (this machine has no network), and a
  // virtual-time budget so the load event has fired before the DOM is dumped.
  const std::string cmd = fmt::format(
      "'{}' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir='{}' --virtual-time-budget=10000 --dump-dom 'file://{}' 2>/dev/null",
      browser, profile.string(), fs::absolute(probe_path).string());
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return io_error("cannot start {}", browser);
  std::string dom;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) dom.append(buf, n);
  const int rc = pclose(pipe);
  std::error_code ec;
  fs::remove(probe_path, ec);
  // The script's own source also appears in the dump; the verdict is the div it created.
  constexpr std::string_view kOpen = "<div id=\"ei8-probe\">";
  const size_t p = dom.find(kOpen);
  const size_t q = dom.find("</div>", p == std::string::npos ? 0 : p);
  if (p == std::string::npos || q == std::string::npos) {
    return internal_error("cannot check {} in a browser: the page did not finish loading (exit {})",
                          html_path, rc);
  }
  HtmlCheck c;
  std::string body = dom.substr(p + kOpen.size(), q - p - kOpen.size());
  int consumed = 0;
  if (std::sscanf(body.c_str(), "%d %d %n", &c.images, &c.images_loaded, &consumed) < 2) {
    return internal_error("cannot check {} in a browser: unreadable probe '{}'", html_path, body);
  }
  c.title = body.substr(static_cast<size_t>(consumed));
  return c;
}

}  // namespace ei8::report
