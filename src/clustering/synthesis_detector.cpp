#include "rdic/clustering/synthesis_detector.h"

#include <regex>

namespace rdic {

namespace {

// ECMAScript regexes over lower-cased ASCII; built once (std::regex construction is slow).
struct Patterns {
    std::regex combine{
        R"(\b(combine|combined|combining|integrate|integrated|integrating|merge|merged|merging|)"
        R"(consolidate|consolidated|consolidating|synthesi[sz]e|synthesi[sz]ing)\b)"
        R"(|\b(pull|pulls|pulling|bring|brings|bringing|put|putting|tie|tying|draw|drawing)\b)"
        R"((\s+\w+){0,3}\s+together\b|\btogether into\b)",
        std::regex::ECMAScript | std::regex::optimize};
    std::regex plural{R"(\b(all|both|everything|the (two|three|four|five|six)|these)\b)",
                      std::regex::ECMAScript | std::regex::optimize};
    std::regex document{
        R"(\b(one|single)\b([^.?!]{0,40})\b(report|memo|update|briefing|paper|plan|summary|)"
        R"(document|note|email|letter|brief|overview|presentation)\b)",
        std::regex::ECMAScript | std::regex::optimize};
    std::regex follow_up{
        R"(^\W*(please\s+)?(also|and\s+)?(add|also|finish|close|end|conclude|include|write that)\b)",
        std::regex::ECMAScript | std::regex::optimize};
    std::regex each{R"(\beach\b)", std::regex::ECMAScript | std::regex::optimize};
};

const Patterns& patterns() {
    static const Patterns p;
    return p;
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

}  // namespace

SynthesisCue detect_synthesis_turn(std::string_view text, bool previous_is_synthesis) {
    const Patterns& p = patterns();
    const std::string s = lower_ascii(text);
    const bool plural = std::regex_search(s, p.plural);
    if (plural && std::regex_search(s, p.combine)) return {true, "combine"};
    if (plural && std::regex_search(s, p.document)) return {true, "document"};
    if (previous_is_synthesis &&
        (plural || std::regex_search(s, p.follow_up) || std::regex_search(s, p.each))) {
        return {true, "follow-up"};
    }
    return {};
}

std::vector<SynthesisCue> detect_synthesis_turns(const std::vector<std::string>& texts) {
    std::vector<SynthesisCue> out;
    out.reserve(texts.size());
    bool previous = false;
    for (const std::string& t : texts) {
        out.push_back(detect_synthesis_turn(t, previous));
        previous = out.back().is_synthesis;
    }
    return out;
}

}  // namespace rdic
