// The web UI's built files (web/, bundled by Vite), embedded into the binary
// at build time by tools/serve/embed_assets.cmake. A build without node and
// the web/ packages embeds none: HaveAssets() is false and the server
// answers the UI's pages with 503 while still serving the API.
#ifndef RUNLOG_TOOLS_SERVE_ASSETS_H_
#define RUNLOG_TOOLS_SERVE_ASSETS_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace runlog::serve {

struct Asset {
  absl::string_view path;  // "/index.html", "/assets/index-abc123.js"
  absl::string_view content_type;
  absl::string_view data;
};

bool HaveAssets();
// Null when no embedded file has this path. Static storage; thread-safe.
const Asset* FindAsset(absl::string_view path);

}  // namespace runlog::serve

#endif  // RUNLOG_TOOLS_SERVE_ASSETS_H_
