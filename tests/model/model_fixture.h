// Shared fixtures for model tests: the real GGUF models from the model cache, loaded once per
// test binary. A missing model fails the test with a hint (scripts/setup.sh fetches them).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "rdic/engine/model.h"

namespace rdic::test {

std::filesystem::path gemma_path();   // default model: Gemma 3 270M Q4_K_M (sliding window)
std::filesystem::path smollm_path();  // SmolLM2-135M-Instruct Q4_1 (llama architecture)

std::shared_ptr<const Model> gemma();
std::shared_ptr<const Model> smollm();

// Three prompts on unrelated topics, each a few dozen tokens, used as "clusters".
extern const char* const kClusterPrompts[3];

}  // namespace rdic::test
