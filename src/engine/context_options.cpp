#include "rdic/engine/context_options.h"

#include <string>

#include "rdic/error.h"

namespace rdic {

std::string_view to_string(KvLayout layout) {
    return layout == KvLayout::unified ? "unified" : "per_sequence";
}

std::optional<KvLayout> parse_kv_layout(std::string_view name) {
    if (name == "auto") return std::nullopt;
    if (name == "unified") return KvLayout::unified;
    if (name == "per_sequence" || name == "per-sequence") return KvLayout::per_sequence;
    throw Error(ErrorCode::invalid_argument,
                "KV layout '" + std::string(name) + "' (expected auto, unified, per_sequence)");
}

FlashAttn parse_flash_attn(std::string_view name) {
    if (name == "auto") return FlashAttn::automatic;
    if (name == "on") return FlashAttn::on;
    if (name == "off") return FlashAttn::off;
    throw Error(ErrorCode::invalid_argument,
                "flash attention '" + std::string(name) + "' (expected auto, on, off)");
}

}  // namespace rdic
