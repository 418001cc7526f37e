#include "rdic/clustering/topic_shift.h"

#include <regex>
#include <string>

namespace rdic {

namespace {

const std::regex& cue_pattern() {
    // Kept identical to CUE in tools/route_sweep.py.
    static const std::regex re(
        R"(^\W*(another (issue|project|thing|topic|matter|problem|subject|area|item)|)"
        R"(different (problem|project|subject|topic|matter|issue|area|thing)|)"
        R"(separate(ly)?\b|separate (issue|problem|matter)|switching\b|in parallel\b|)"
        R"((second|third|fourth|fifth|sixth)\b|the (second|third|fourth|fifth) \w+|)"
        R"(next (topic|item|issue|area|project|thing)\b|next,|last (topic|area|item|issue)\b|)"
        R"((one )?(more|other) (topic|issue|matter|project)\b|new topic\b|unrelated\b|)"
        R"(on (a|an) (different|separate|unrelated)\b|something (else|different)\b))",
        std::regex::ECMAScript | std::regex::icase | std::regex::optimize);
    return re;
}

}  // namespace

bool starts_new_topic(std::string_view text) {
    // The cue is at the start: a bounded prefix keeps the match cheap on long messages.
    const std::string head(text.substr(0, 160));
    return std::regex_search(head, cue_pattern(), std::regex_constants::match_continuous);
}

}  // namespace rdic
