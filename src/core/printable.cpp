#include "rdic/printable.h"

#include <cstdio>

namespace rdic {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t utf8_length(const std::string& s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
    if (len == 0 || i + len > s.size()) return 0;
    for (size_t k = 1; k < len; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return 0;
    }
    if (len == 2 && c < 0xC2) return 0;  // overlong
    return len;
}

}  // namespace

std::string printable_path(const std::filesystem::path& file) {
    const std::string s = file.string();
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t len = utf8_length(s, i);
        if (len == 0 || (len == 1 && (c < 0x20 || c == 0x7F))) {
            char b[5];
            std::snprintf(b, sizeof b, "\\x%02X", c);
            out += b;
            ++i;
            continue;
        }
        out.append(s, i, len);
        i += len;
    }
    return out;
}

bool is_utf8_path(const std::filesystem::path& file) {
    const std::string s = file.string();
    for (size_t i = 0; i < s.size();) {
        const size_t len = utf8_length(s, i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

}  // namespace rdic
