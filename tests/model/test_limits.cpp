// Limits checked before anything is decoded (rdic/isolation/executor.h check_limits): a turn
// larger than the model's context and more clusters than one session holds are refused with the
// file, turn and token counts, instead of prefilling for minutes or failing deep in the engine.
#include <gtest/gtest.h>

#include <string>

#include "model_fixture.h"
#include "rdic/datasets/example.h"
#include "rdic/error.h"
#include "rdic/isolation/executor.h"
#include "rdic/isolation/plan.h"

namespace rdic {
namespace {

Example shipped() {
    LoadResult r = load_example(std::string(RDIC_DATA_DIR) + "/dev/fin-01.json");
    EXPECT_TRUE(r.example && r.issues.empty());
    return std::move(*r.example);
}

// Finding 1: a 1 MB turn prefilled for more than ten minutes.
TEST(Limits, AnOversizedTurnIsRefusedBeforeAnyDecode) {
    const auto model = test::gemma();
    Example ex = shipped();
    ExecutorOptions opt;
    opt.max_tokens = 4;
    EXPECT_EQ(check_limits(*model, ex, make_plan(ex, Condition::semantic), opt), "");
    std::string huge;
    while (huge.size() < (1u << 20)) huge += "The quarterly ledger lists invoice 4471 twice. ";
    ex.turns[1].text += " " + huge;
    const int32_t id = ex.turns[1].id;
    for (Condition c : {Condition::semantic, Condition::sequential}) {
        try {
            run_condition(model, ex, make_plan(ex, c), opt);
            ADD_FAILURE() << "ran";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::context_overflow);
            const std::string w = e.what();
            EXPECT_NE(w.find("fin-01.json: turn " + std::to_string(id) + " (cluster "),
                      std::string::npos)
                << w;
            EXPECT_NE(w.find(" tokens; the model's context is " +
                             std::to_string(model->info().n_ctx_train) + " tokens"),
                      std::string::npos)
                << w;
        }
    }
}

// Finding 7: 10,001 clusters passed validate, then every pair failed with "n_seq_max in [1, 256]".
TEST(Limits, MoreClustersThanOneSessionHoldsAreRefusedNamingTheLimit) {
    const auto model = test::gemma();
    Example ex;
    ex.id = "many";
    ex.file = "many.json";
    for (int32_t i = 0; i < 300; ++i) {
        // Appended, not `"c" + std::to_string(i)`: GCC 12 warns falsely (-Wrestrict) there.
        std::string id = "c";
        id += std::to_string(i);
        Cluster c;
        c.id = id;
        c.name = "topic " + id;
        ex.clusters.push_back(c);
        Turn t;
        t.id = i;
        t.cluster = id;
        t.text = "Note " + id.substr(1) + ".";
        ex.turns.push_back(t);
    }
    const ExecutorOptions options;  // named: a temporary draws a false -Wmaybe-uninitialized
    const std::string why = check_limits(*model, ex, make_plan(ex, Condition::semantic), options);
    EXPECT_NE(why.find("many.json: 300 outputs (clusters) need 302 sequences in one session; the "
                       "engine holds at most 256"),
              std::string::npos)
        << why;
}

}  // namespace
}  // namespace rdic
