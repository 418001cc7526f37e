#include "model_fixture.h"

#include <stdexcept>

#include "rdic/build_info.h"
#include "rdic/model_paths.h"

namespace rdic::test {

namespace {
std::shared_ptr<const Model> load_cached(const std::filesystem::path& p) {
    if (!std::filesystem::exists(p)) {
        throw std::runtime_error(p.string() + " is missing: run ./scripts/setup.sh");
    }
    return Model::load({.path = p});
}
}  // namespace

std::filesystem::path gemma_path() {
    return model_cache_dir() / build_info::kDefaultModelFile;
}
std::filesystem::path smollm_path() {
    return model_cache_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf";
}

std::shared_ptr<const Model> gemma() {
    static const std::shared_ptr<const Model> m = load_cached(gemma_path());
    return m;
}

std::shared_ptr<const Model> smollm() {
    static const std::shared_ptr<const Model> m = load_cached(smollm_path());
    return m;
}

const char* const kClusterPrompts[3] = {
    "Incident report for the payments service: at 02:14 the primary PostgreSQL node ran out of "
    "disk space, replication to the standby stopped, and the on-call engineer decided to",
    "Our quarterly marketing budget review: the social media campaign cost 42,000 euros and "
    "brought 1,300 new subscribers, while the podcast sponsorship",
    "Recipe notes for the sourdough bread: mix 500 g of flour with 350 g of water, rest for an "
    "hour, then add the starter and salt. After the first fold",
};

}  // namespace rdic::test
