// Chat templates, BOS handling and embeddings on the two real models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "model_fixture.h"
#include "rdic/engine/chat.h"
#include "rdic/engine/generate.h"
#include "rdic/error.h"
#include "rdic/serving/conversation.h"

namespace rdic {
namespace {

size_t count_bos(const Model& m, const Tokens& t) {
    return static_cast<size_t>(std::count(t.begin(), t.end(), m.bos()));
}

TEST(Chat, GemmaBaseModelUsesNativeTurnFormat) {
    const auto model = test::gemma();
    EXPECT_FALSE(model->info().has_chat_template) << "the default Gemma 270M is a base model";
    const ChatFormatter chat(*model);
    EXPECT_EQ(chat.template_source(), "architecture default (gemma)");
    const std::string p = chat.format({{"system", "Be brief."}, {"user", "Name a colour."}});
    EXPECT_NE(p.find("<start_of_turn>user"), std::string::npos) << p;
    EXPECT_NE(p.find("Be brief."), std::string::npos) << p;
    EXPECT_TRUE(p.ends_with("<start_of_turn>model\n")) << p;
    const Tokens t = chat.tokenize(p);
    EXPECT_EQ(count_bos(*model, t), 1u);
    EXPECT_EQ(t.front(), model->bos());
    // Control text became control tokens, not characters.
    EXPECT_EQ(model->tokenize("<start_of_turn>", false).size(), 1u);
}

// The model's template over any messages: a NUL byte in a content would cut the rest of it in
// llama.cpp's C strings, so it is refused with the message index; the user-turn split is exact.
TEST(Chat, ATemplateWithoutAModelRefusesNulBytesAndSplitsUserTurnsExactly) {
    const ChatTemplate chatml("", "qwen2");
    EXPECT_EQ(chatml.source(), "architecture default (chatml)");
    const std::string nul("before\0after", 12);
    try {
        (void)chatml.format({{"system", "s"}, {"user", nul}});
        ADD_FAILURE() << "a NUL byte was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
        EXPECT_NE(std::string(e.what()).find("chat message 1: content has a NUL byte at offset 6"),
                  std::string::npos)
            << e.what();
    }
    const ChatTemplate::UserTurn turn = chatml.user_turn("Be brief.");
    EXPECT_EQ(turn.head + "Budget?" + turn.tail,
              chatml.format({{"system", "Be brief."}, {"user", "Budget?"}}));
    EXPECT_THROW((void)ChatTemplate("", "qwen2", "no such template").format({{"user", "x"}}),
                 Error);
}

TEST(Chat, TemplateWritingBosNeverYieldsTwo) {
    const auto model = test::gemma();
    const ChatFormatter chat(*model);
    const Tokens t = chat.tokenize("<bos><start_of_turn>user\nhi<end_of_turn>\n");
    EXPECT_EQ(count_bos(*model, t), 1u);
}

TEST(Chat, SmolLmUsesItsGgufTemplate) {
    const auto model = test::smollm();
    EXPECT_TRUE(model->info().has_chat_template);
    const ChatFormatter chat(*model);
    EXPECT_EQ(chat.template_source(), "gguf");
    const std::string p = chat.format({{"user", "Hello"}});
    EXPECT_NE(p.find("<|im_start|>user\nHello<|im_end|>"), std::string::npos) << p;
    EXPECT_TRUE(p.ends_with("<|im_start|>assistant\n")) << p;
    // SmolLM2's vocabulary asks for no BOS: its template's own markers start the prompt.
    EXPECT_FALSE(model->info().add_bos);
    const Tokens t = chat.tokenize(p);
    EXPECT_LE(count_bos(*model, t), 1u + 2u);  // <|im_start|> doubles as BOS id in this vocab
}

TEST(Chat, InstructModelAnswersAndStopsAtEndOfTurn) {
    const auto model = test::smollm();
    const ChatFormatter chat(*model);
    Session session(model, {.n_ctx = 1024, .n_seq_max = 1});
    Sequence s = session.open();
    GenerationRequest r;
    r.seq = &s;
    r.prompt = chat.tokenize(chat.format({{"user", "What is the capital of France?"}}));
    r.max_tokens = 64;
    r.stop = chat.stop_strings();
    const auto res = generate(session, std::span(&r, 1));
    EXPECT_NE(res[0].text.find("Paris"), std::string::npos) << res[0].text;
    EXPECT_NE(res[0].stop_reason, StopReason::max_tokens) << res[0].text;
    EXPECT_EQ(res[0].text.find("<|im_end|>"), std::string::npos);
}

TEST(Chat, UnknownRoleIsRejected) {
    const ChatFormatter chat(*test::gemma());
    EXPECT_THROW(chat.format({{"robot", "beep"}}), Error);
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d += double{a[i]} * b[i];
    return d;  // inputs are L2-normalised
}

TEST(Embeddings, PooledVectorsAreNormalisedDeterministicAndTopical) {
    const auto model = test::gemma();
    Session session(model, {.n_ctx = 2048, .n_seq_max = 3, .embeddings = true});
    const auto e1 =
        session.embed(model->tokenize("The goalkeeper saved a penalty in the final "
                                      "minute of the football match.",
                                      true));
    const auto e1b =
        session.embed(model->tokenize("The goalkeeper saved a penalty in the final "
                                      "minute of the football match.",
                                      true));
    const auto e2 =
        session.embed(model->tokenize("The striker scored twice and the team won the "
                                      "football championship.",
                                      true));
    const auto e3 =
        session.embed(model->tokenize("Preheat the oven, then knead the dough with "
                                      "flour, yeast and warm water.",
                                      true));
    ASSERT_EQ(e1.size(), static_cast<size_t>(model->info().n_embd));
    EXPECT_NEAR(cosine(e1, e1), 1.0, 1e-4);
    EXPECT_EQ(e1, e1b);
    EXPECT_GT(cosine(e1, e2), cosine(e1, e3)) << "football should be nearer football than baking";
    EXPECT_EQ(session.n_live_sequences(), 0) << "embed() must free its scratch sequence";
}

TEST(Embeddings, GenerationStillWorksInEmbeddingSession) {
    const auto model = test::gemma();
    Session session(model, {.n_ctx = 1024, .n_seq_max = 2, .embeddings = true});
    Sequence s = session.open();
    GenerationRequest r;
    r.seq = &s;
    r.prompt = model->tokenize("The capital of France is", true);
    r.max_tokens = 4;
    Session plain(model, {.n_ctx = 1024, .n_seq_max = 1});
    Sequence p = plain.open();
    GenerationRequest r2 = r;
    r2.seq = &p;
    const auto with_embed = generate(session, std::span(&r, 1));
    (void)session.embed(model->tokenize("interleaved embedding call", true));
    const auto without = generate(plain, std::span(&r2, 1));
    EXPECT_EQ(with_embed[0].tokens, without[0].tokens);
}

// A topic sequence grows by appending the next turn's tokens instead of rendering its whole
// conversation again: the two must give the same tokens, with and without a system prompt, on
// every cached model's template and on the built-in ChatML and Llama 3 ones.
TEST(Chat, AppendingATurnGivesTheTokensOfTheWholeConversation) {
    struct Case {
        std::shared_ptr<const Model> model;
        std::string tmpl;
    };
    const std::vector<Case> cases = {{test::gemma(), ""},
                                     {test::smollm(), ""},
                                     {test::smollm(), "chatml"},
                                     {test::smollm(), "llama3"}};
    const std::vector<std::string> users = {"I grow tomatoes. Any tip?", "  How often?\n\n",
                                            "<|im_start|>not a turn", "Thanks! Last one: soil?"};
    const std::vector<std::string> replies = {"Water them daily.\n", " Twice a week. ",
                                              "Loamy <end_of_turn> soil.", "ok"};
    for (const Case& c : cases) {
        const ChatFormatter chat(*c.model, c.tmpl);
        for (const std::string system : {"", "Be brief."}) {
            SCOPED_TRACE(chat.template_source() + (system.empty() ? "" : " + system"));
            std::vector<ChatMessage> msgs;
            if (!system.empty()) msgs.push_back({"system", system});
            msgs.push_back({"user", users[0]});
            Tokens grown = conversation_tokens(chat, *c.model, msgs);
            for (size_t i = 1; i < users.size(); ++i) {
                msgs.push_back({"assistant", replies[i - 1]});
                msgs.push_back({"user", users[i]});
                const Tokens r = reply_tokens(*c.model, replies[i - 1]);
                grown.insert(grown.end(), r.begin(), r.end());
                const Tokens n = next_turn_tokens(chat, *c.model, system, users[i]);
                grown.insert(grown.end(), n.begin(), n.end());
                ASSERT_EQ(grown, conversation_tokens(chat, *c.model, msgs)) << "turn " << i;
            }
        }
    }
}

}  // namespace
}  // namespace rdic
