#include <gtest/gtest.h>

#include <cstdlib>

#include "rdic/build_info.h"
#include "rdic/model_paths.h"

namespace {

class EnvGuard {
public:
    explicit EnvGuard(const char* name) : name_(name) {
        if (const char* v = std::getenv(name)) saved_ = v, had_ = true;
    }
    ~EnvGuard() {
        if (had_)
            setenv(name_, saved_.c_str(), 1);
        else
            unsetenv(name_);
    }

private:
    const char* name_;
    std::string saved_;
    bool had_ = false;
};

TEST(ModelPaths, ExplicitPathWins) {
    EXPECT_EQ(rdic::resolve_model_path("/x/y.gguf"), std::filesystem::path("/x/y.gguf"));
}

TEST(ModelPaths, RdicModelsOverridesCache) {
    EnvGuard g("RDIC_MODELS");
    setenv("RDIC_MODELS", "/tmp/my-models", 1);
    EXPECT_EQ(rdic::model_cache_dir(), std::filesystem::path("/tmp/my-models"));
    EXPECT_EQ(rdic::resolve_model_path(""),
              std::filesystem::path("/tmp/my-models") / rdic::build_info::kDefaultModelFile);
}

TEST(ModelPaths, RdicCacheHoldsModelsDirectory) {
    EnvGuard g1("RDIC_MODELS"), g2("RDIC_CACHE");
    unsetenv("RDIC_MODELS");
    setenv("RDIC_CACHE", "/srv/rdic", 1);
    EXPECT_EQ(rdic::model_cache_dir(), std::filesystem::path("/srv/rdic/models"));
}

TEST(ModelPaths, DefaultsUnderHomeCache) {
    EnvGuard g1("RDIC_MODELS"), g2("XDG_CACHE_HOME"), g3("HOME"), g4("RDIC_CACHE");
    unsetenv("RDIC_MODELS");
    unsetenv("RDIC_CACHE");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    EXPECT_EQ(rdic::model_cache_dir(), std::filesystem::path("/home/u/.cache/rdic/models"));
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    EXPECT_EQ(rdic::model_cache_dir(), std::filesystem::path("/xdg/rdic/models"));
}

}  // namespace
