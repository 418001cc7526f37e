// Turning generated token pieces into text: stop strings and UTF-8 boundaries.
//
//   rdic::TextStream ts({"\n\nUser:"});
//   for (piece : pieces) { if (ts.push(piece)) break; std::cout << ts.take_ready(); }
//   std::string final_text = ts.finish();
//
// A stop string never appears in the text, not even partly: bytes that could be the start of a
// stop string, or of a UTF-8 character split across tokens, are held back until resolved.
// Single-threaded; no allocation beyond the text itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rdic {

class TextStream {
public:
    explicit TextStream(std::vector<std::string> stop_strings = {});

    // Appends one token's bytes. Returns true once a stop string has been seen; the text is then
    // cut just before it and later pushes are ignored.
    bool push(std::string_view piece);

    // Text that is final and safe to show (whole UTF-8 characters, no possible stop prefix);
    // each byte is returned once.
    std::string take_ready();

    // Ends the stream: returns the complete text (including what take_ready() returned). The
    // held-back tail is released: the next take_ready() returns it.
    const std::string& finish();

    bool stopped() const { return stopped_; }
    const std::string& text() const { return text_; }

private:
    size_t safe_end() const;

    std::vector<std::string> stops_;
    std::string text_;
    size_t n_taken_ = 0;
    bool stopped_ = false;
    bool finished_ = false;
};

// Length of the longest prefix of `s` that does not end inside a UTF-8 multi-byte sequence.
size_t utf8_complete_prefix(std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace rdic
