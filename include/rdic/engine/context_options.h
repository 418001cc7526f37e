// The names of a context's options as users type them (--flash-attn, --kv-layout): one parser
// each, shared by every command that takes the option (run, bench, serve). Pure: no llama.cpp,
// so rdic_core carries them and they are unit-tested without a model.
//
//   rdic::FlashAttn fa = rdic::parse_flash_attn("off");         // FlashAttn::off
//   std::optional<rdic::KvLayout> kv = rdic::parse_kv_layout("auto");  // nullopt: caller decides
//
// Failure: a value outside the accepted names throws Error(invalid_argument) whose message names
// the option and every accepted value; a CLI option check prefixes it with the flag.
#pragma once

#include <optional>
#include <string_view>

namespace rdic {

enum class FlashAttn { automatic, on, off };    // llama.cpp's flash attention (context-wide)
enum class KvLayout { unified, per_sequence };  // session.h's header comment says which when

std::string_view to_string(KvLayout layout);  // "unified", "per_sequence"
// "unified", "per_sequence" (or "per-sequence"); "auto" gives nullopt. Throws invalid_argument.
std::optional<KvLayout> parse_kv_layout(std::string_view name);
// "auto", "on", "off". Throws invalid_argument.
FlashAttn parse_flash_attn(std::string_view name);

}  // namespace rdic
