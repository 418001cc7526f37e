#include "strict_json.h"

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "rdic/json_pointer.h"

namespace rdic {

namespace {

using json = nlohmann::json;

class StrictSax : public nlohmann::json_sax<json> {
public:
    std::optional<StrictJsonProblem> found;

    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool string(string_t& s) override {
        if (s.find('\0') != std::string::npos) {
            return fail(pointer(), "contains a NUL character (\\u0000)");
        }
        return value();
    }
    bool start_object(std::size_t) override {
        stack_.push_back({true, {}, {}, 0});
        return true;
    }
    bool key(string_t& k) override {
        Frame& f = stack_.back();
        f.key = k;
        if (k.find('\0') != std::string::npos) {
            return fail(pointer(), "key contains a NUL character (\\u0000)");
        }
        if (!f.keys.insert(k).second) {
            return fail(pointer(), "key \"" + k + "\" appears twice in one object");
        }
        return true;
    }
    bool end_object() override {
        stack_.pop_back();
        return value();
    }
    bool start_array(std::size_t) override {
        stack_.push_back({false, {}, {}, 0});
        return true;
    }
    bool end_array() override {
        stack_.pop_back();
        return value();
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

private:
    struct Frame {
        bool object;
        std::set<std::string> keys;
        std::string key;
        size_t index;
    };

    bool value() {
        if (!stack_.empty() && !stack_.back().object) ++stack_.back().index;
        return true;
    }
    bool fail(std::string pointer, std::string message) {
        found = StrictJsonProblem{std::move(pointer), std::move(message)};
        return false;
    }
    std::string pointer() const {
        std::string p;
        for (const Frame& f : stack_) {
            p += '/';
            if (!f.object) {
                p += std::to_string(f.index);
                continue;
            }
            p += json_pointer_token(f.key);
        }
        return p;
    }
    std::vector<Frame> stack_;
};

}  // namespace

std::optional<StrictJsonProblem> strict_json_problem(const std::string& text) {
    StrictSax sax;
    json::sax_parse(text, &sax, nlohmann::detail::input_format_t::json, /*strict=*/true);
    return sax.found;
}

}  // namespace rdic
