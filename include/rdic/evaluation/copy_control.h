// The copy control: what a "model" that only copies its prompt would score. For every output of
// a run, `rdic eval` scores two no-model texts of the same length with the same metrics and
// reports them as the pseudo-conditions copy_own and copy_all:
//
//   std::string t = rdic::copy_control_text(example, "budget", rdic::CopySource::own_turns, 120);
//
// copy_own: the cluster's own turns (what semantic isolation shows the model); copy_all: the
// whole conversation (what the shared-context baselines show), each cut to the first n words.
// Every metric in a report then shows its distance above copying. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rdic/datasets/example.h"

namespace rdic {

enum class CopySource { own_turns, whole_conversation };

inline constexpr std::string_view kCopyOwnCondition = "copy_own";
inline constexpr std::string_view kCopyAllCondition = "copy_all";
bool is_copy_control(std::string_view condition);

// The first `n_words` whitespace-separated words of the source text (turns rendered as the
// prompt builder renders a context block), joined by single spaces. "" for an unknown cluster.
std::string copy_control_text(const Example& example, const std::string& cluster_id,
                              CopySource source, int32_t n_words);

}  // namespace rdic
