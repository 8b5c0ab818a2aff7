// The timeline page's fixed parts (tools/timeline_html.hpp): everything before the
// embedded model (HTML, CSS, the opening of its <script type="application/json">) and
// everything after (the renderer's JavaScript). No network: no external URL anywhere.
#pragma once

#include <string_view>

namespace vsr::tools {

std::string_view timeline_page_head();
std::string_view timeline_page_tail();

}  // namespace vsr::tools
