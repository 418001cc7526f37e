// JSON Pointer (RFC 6901) reference tokens, shared by every error that names a field.
#pragma once

#include <string>
#include <string_view>

namespace rdic {

// A key as one pointer token: '~' -> "~0", '/' -> "~1".
inline std::string json_pointer_token(std::string_view key) {
    std::string out;
    for (const char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

}  // namespace rdic
