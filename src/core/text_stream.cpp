#include "rdic/text_stream.h"

#include <algorithm>
#include <cstdint>

namespace rdic {

TextStream::TextStream(std::vector<std::string> stop_strings) : stops_(std::move(stop_strings)) {
    std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

bool TextStream::push(std::string_view piece) {
    if (stopped_ || finished_) return stopped_;
    const size_t old_size = text_.size();
    text_.append(piece);
    for (const std::string& stop : stops_) {
        // Only a match that ends in the new bytes is new; start the search early enough to see it.
        const size_t from = old_size >= stop.size() ? old_size - stop.size() + 1 : 0;
        const size_t at = text_.find(stop, from);
        if (at != std::string::npos) {
            text_.resize(at);
            stopped_ = true;
        }
    }
    return stopped_;
}

size_t TextStream::safe_end() const {
    if (finished_ || stopped_) return text_.size();
    size_t end = text_.size();
    // Hold back the longest suffix that is a proper prefix of some stop string.
    for (const std::string& stop : stops_) {
        for (size_t k = std::min(stop.size() - 1, text_.size()); k > 0; --k) {
            if (std::string_view(text_).substr(text_.size() - k) ==
                std::string_view(stop).substr(0, k)) {
                end = std::min(end, text_.size() - k);
                break;
            }
        }
    }
    return utf8_complete_prefix(std::string_view(text_).substr(0, end));
}

std::string TextStream::take_ready() {
    const size_t end = std::max(safe_end(), n_taken_);
    std::string out = text_.substr(n_taken_, end - n_taken_);
    n_taken_ = end;
    return out;
}

const std::string& TextStream::finish() {
    finished_ = true;
    return text_;
}

size_t utf8_complete_prefix(std::string_view s) {
    // Walk back over at most 3 continuation bytes to the last lead byte.
    size_t i = s.size();
    size_t n_cont = 0;
    while (i > 0 && n_cont < 4) {
        const auto c = static_cast<unsigned char>(s[i - 1]);
        if ((c & 0xC0) != 0x80) break;
        --i;
        ++n_cont;
    }
    if (i == 0) return s.size();  // only continuation bytes: invalid, nothing to wait for
    const auto lead = static_cast<unsigned char>(s[i - 1]);
    size_t need = 1;
    if ((lead & 0xE0) == 0xC0)
        need = 2;
    else if ((lead & 0xF0) == 0xE0)
        need = 3;
    else if ((lead & 0xF8) == 0xF0)
        need = 4;
    const size_t have = n_cont + 1;
    return have < need ? i - 1 : s.size();
}

bool is_valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t n = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= s.size()) return false;  // sequence runs past the end
        for (size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}

}  // namespace rdic
