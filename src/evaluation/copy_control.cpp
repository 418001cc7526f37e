#include "rdic/evaluation/copy_control.h"

#include <sstream>

#include "rdic/isolation/plan.h"

namespace rdic {

bool is_copy_control(std::string_view condition) {
    return condition == kCopyOwnCondition || condition == kCopyAllCondition;
}

std::string copy_control_text(const Example& example, const std::string& cluster_id,
                              CopySource source, int32_t n_words) {
    if (example.find(cluster_id) == nullptr) return "";
    std::vector<const Turn*> turns;
    if (source == CopySource::own_turns) {
        turns = example.turns_of(cluster_id);
    } else {
        for (const Turn& t : example.turns) turns.push_back(&t);
    }
    std::istringstream in(render_turns(turns, false));
    std::string word, out;
    for (int32_t i = 0; i < n_words && in >> word; ++i) {
        if (!out.empty()) out += ' ';
        out += word;
    }
    return out;
}

}  // namespace rdic
