// Strict reading of one JSON record (internal to src/records): every field required unless
// asked for as optional, typed, and every problem one Error naming "FILE:LINE: /pointer: reason".
// Nothing is defaulted: a missing or wrong-typed field ends the read.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "rdic/error.h"
#include "rdic/json_pointer.h"
#include "rdic/printable.h"

namespace rdic::records_detail {

using json = nlohmann::json;

// RFC 6901: '~' -> "~0", '/' -> "~1".
inline std::string pointer_token(const std::string& key) {
    return json_pointer_token(key);
}

inline std::string type_name(const json& j) {
    return j.is_number()                            ? "a number"
           : std::string(j.type_name()) == "array"  ? "an array"
           : std::string(j.type_name()) == "object" ? "an object"
                                                    : j.type_name();
}

// `where` is "FILE:LINE" (or "FILE" for a whole-file record).
[[noreturn]] inline void fail(const std::string& where, const std::string& pointer,
                              const std::string& reason) {
    throw Error(ErrorCode::corrupt_file,
                where + ": " + (pointer.empty() ? std::string("/") : pointer) + ": " + reason);
}

// A JSON object being read, and where it is.
class Fields {
public:
    Fields(const json& j, std::string where, std::string pointer)
        : j_(j), where_(std::move(where)), pointer_(std::move(pointer)) {
        if (!j_.is_object()) fail(where_, pointer_, "must be an object, is " + type_name(j_));
    }

    const std::string& where() const { return where_; }
    std::string pointer(const std::string& key) const {
        return pointer_ + "/" + pointer_token(key);
    }
    bool has(const std::string& key) const { return j_.contains(key); }

    const json& at(const std::string& key) const {
        const auto it = j_.find(key);
        if (it == j_.end()) fail(where_, pointer(key), "missing (required)");
        return *it;
    }
    [[noreturn]] void wrong(const std::string& key, const std::string& want) const {
        fail(where_, pointer(key), "must be " + want + ", is " + type_name(at(key)));
    }
    [[noreturn]] void bad(const std::string& key, const std::string& reason) const {
        fail(where_, pointer(key), reason);
    }

    std::string str(const std::string& key) const {
        const json& v = at(key);
        if (!v.is_string()) wrong(key, "a string");
        return v.get<std::string>();
    }
    bool boolean(const std::string& key) const {
        const json& v = at(key);
        if (!v.is_boolean()) wrong(key, "true or false");
        return v.get<bool>();
    }
    // A finite number in [lo, hi].
    double num(const std::string& key, double lo = -1e300, double hi = 1e300) const {
        const json& v = at(key);
        if (!v.is_number()) wrong(key, "a number");
        const double d = v.get<double>();
        if (!std::isfinite(d) || d < lo || d > hi) {
            bad(key, "must be in [" + short_num(lo) + ", " + short_num(hi) + "], is " + v.dump());
        }
        return d;
    }
    int64_t integer(const std::string& key, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) const {
        const json& v = at(key);
        if (!v.is_number_integer()) wrong(key, "an integer");
        if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
            bad(key, "is out of range: " + v.dump());
        }
        const int64_t i = v.get<int64_t>();
        if (i < lo || i > hi) {
            bad(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], is " +
                         v.dump());
        }
        return i;
    }
    uint64_t count(const std::string& key) const { return static_cast<uint64_t>(integer(key, 0)); }
    Fields object(const std::string& key) const {
        const json& v = at(key);
        if (!v.is_object()) wrong(key, "an object");
        return Fields(v, where_, pointer(key));
    }
    const json& array(const std::string& key) const {
        const json& v = at(key);
        if (!v.is_array()) wrong(key, "an array");
        return v;
    }
    // The i-th element of array `key`, as an object.
    Fields element(const std::string& key, size_t i) const {
        return Fields(array(key).at(i), where_, pointer(key) + "/" + std::to_string(i));
    }
    std::vector<std::string> strings(const std::string& key) const {
        std::vector<std::string> out;
        const json& a = array(key);
        for (size_t i = 0; i < a.size(); ++i) {
            if (!a[i].is_string()) {
                fail(where_, pointer(key) + "/" + std::to_string(i),
                     "must be a string, is " + type_name(a[i]));
            }
            out.push_back(a[i].get<std::string>());
        }
        return out;
    }
    std::map<std::string, std::string> string_map(const std::string& key) const {
        std::map<std::string, std::string> out;
        const Fields o = object(key);
        for (const auto& [k, v] : o.j_.items()) out[k] = o.str(k);
        return out;
    }
    std::map<std::string, double> number_map(const std::string& key, double lo, double hi) const {
        std::map<std::string, double> out;
        const Fields o = object(key);
        for (const auto& [k, v] : o.j_.items()) out[k] = o.num(k, lo, hi);
        return out;
    }
    // One of `allowed`.
    std::string one_of(const std::string& key, std::initializer_list<const char*> allowed) const {
        const std::string v = str(key);
        std::string list;
        for (const char* a : allowed) {
            if (v == a) return v;
            list += (list.empty() ? "" : ", ") + std::string(a);
        }
        bad(key, "must be one of " + list + ", is \"" + v + "\"");
    }

private:
    static std::string short_num(double d) {
        if (d <= -1e299) return "-inf";
        if (d >= 1e299) return "inf";
        std::string s = std::to_string(d);
        while (s.size() > 1 && s.back() == '0') s.pop_back();
        if (!s.empty() && s.back() == '.') s.pop_back();
        return s;
    }
    const json& j_;
    std::string where_, pointer_;
};

// Parses one line; a line that is not JSON is an error naming where.
inline json parse_line(const std::string& text, const std::string& where) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) fail(where, "", "not valid JSON");
    return j;
}

// A whole-file JSON record: its text parsed, or file_not_found "FILE: cannot read (`what`)"
// for a file that is missing, unreadable or a directory, and corrupt_file for one not JSON.
inline json read_json_file(const std::filesystem::path& file, const std::string& what) {
    std::error_code ec;
    std::ifstream in(file, std::ios::binary);
    if (!in || std::filesystem::is_directory(file, ec)) {
        throw Error(ErrorCode::file_not_found,
                    printable_path(file) + ": cannot read (" + what + ")");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_line(ss.str(), printable_path(file));
}

}  // namespace rdic::records_detail
