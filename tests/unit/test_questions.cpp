// Fact-question scoring and the copy control, on hand-built strings with hand-counted answers,
// plus a cross-check against tools/check_dataset.py's normalise()/occurs() through
// tests/data/questions_fixtures.json (written by tools/make_questions_fixtures.py).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "rdic/evaluation/copy_control.h"
#include "rdic/evaluation/questions.h"

namespace rdic {
namespace {

TEST(QuestionsNormalise, ThousandsSeparators) {
    EXPECT_EQ(normalise_answer("1,234,567"), "1234567");
    EXPECT_EQ(normalise_answer("47,200"), "47200");
    EXPECT_EQ(normalise_answer("1'234'567"), "1234567");
    EXPECT_EQ(normalise_answer("1,234'567"), "1234567");
    EXPECT_EQ(normalise_answer("GBP 12,400."), "gbp 12400");
    EXPECT_EQ(normalise_answer("12,3456"), "12 3456");       // four digits follow
    EXPECT_EQ(normalise_answer("1,234,5678"), "1234 5678");  // second group too long
    EXPECT_EQ(normalise_answer("1,23"), "1 23");             // two digits follow
    EXPECT_EQ(normalise_answer(",123"), "123");              // no digit before
    EXPECT_EQ(normalise_answer("a,123"), "a 123");           // a letter before
    EXPECT_EQ(normalise_answer("1,,234"), "1 234");
    EXPECT_EQ(normalise_answer("1;234"), "1 234");  // only ',' and '\''
    EXPECT_EQ(normalise_answer("x2,000y"), "x2000y");
}

TEST(QuestionsNormalise, Decimals) {
    EXPECT_EQ(normalise_answer("3,14"), "3 14");
    EXPECT_EQ(normalise_answer("3.14"), "3 14");
    EXPECT_EQ(normalise_answer("$1,200.50"), "1200 50");
    EXPECT_EQ(normalise_answer("0.125"), "0 125");  // '.' is never a separator to drop
    EXPECT_EQ(normalise_answer("-4.5%"), "4 5");
}

TEST(QuestionsNormalise, PunctuationCaseAndSpaces) {
    EXPECT_EQ(normalise_answer("  Hello,   World!  "), "hello world");
    EXPECT_EQ(normalise_answer("IR-0419."), "ir 0419");
    EXPECT_EQ(normalise_answer("A&B/C"), "a b c");
    EXPECT_EQ(normalise_answer("O'Brien"), "o brien");
    EXPECT_EQ(normalise_answer("it's 5'000"), "it s 5000");
    EXPECT_EQ(normalise_answer("New\n\tYork\r\n"), "new york");
    EXPECT_EQ(normalise_answer("MiXeD CaSe Q3"), "mixed case q3");
    EXPECT_EQ(normalise_answer(""), "");
    EXPECT_EQ(normalise_answer("...!?"), "");
}

TEST(QuestionsNormalise, NonAsciiBytesAreSeparators) {
    EXPECT_EQ(normalise_answer("Z\xC3\xBCrich"), "z rich");       // "Zürich"
    EXPECT_EQ(normalise_answer("caf\xC3\xA9"), "caf");            // "café"
    EXPECT_EQ(normalise_answer("\xE6\x9D\xB1\xE4\xBA\xAC"), "");  // "東京"
    EXPECT_EQ(normalise_answer("10\xC2\xA0km"), "10 km");         // no-break space
    EXPECT_EQ(normalise_answer("DON\xE2\x80\x99T"), "don t");     // curly apostrophe
    EXPECT_EQ(normalise_answer("\xFF\xFE"
                               "ab\x80"),
              "ab");                                      // not UTF-8 at all
    EXPECT_EQ(normalise_answer("\xC3\x84PFEL"), "pfel");  // 'Ä' is not lowered
}

TEST(QuestionsNormalise, Dates) {
    EXPECT_EQ(normalise_answer("3 March"), "3 march");
    EXPECT_EQ(normalise_answer("March 3rd"), "march 3rd");
    EXPECT_EQ(normalise_answer("3 March, 2024"), "3 march 2024");
    EXPECT_EQ(normalise_answer("2024-03-03"), "2024 03 03");
    EXPECT_EQ(normalise_answer("3/3/2024"), "3 3 2024");
}

TEST(QuestionsOccurs, WordBoundaries) {
    EXPECT_FALSE(answer_occurs("12", "123"));
    EXPECT_FALSE(answer_occurs("12", "a 312 b"));
    EXPECT_TRUE(answer_occurs("12", "12"));
    EXPECT_TRUE(answer_occurs("12", "a 12."));
    EXPECT_TRUE(answer_occurs("12", "12-3"));  // '-' is a boundary
    EXPECT_TRUE(answer_occurs("ir 0419", "report IR-0419."));
    EXPECT_TRUE(answer_occurs("IR-0419", "report ir 0419"));
    EXPECT_FALSE(answer_occurs("IR-0419", "IR0419"));
    EXPECT_TRUE(answer_occurs("0419", "IR-0419"));
    EXPECT_TRUE(answer_occurs("new york", "Flights to NEW   YORK today"));
}

TEST(QuestionsOccurs, NumbersAndDates) {
    EXPECT_TRUE(answer_occurs("47,200", "about 47200 in all"));
    EXPECT_TRUE(answer_occurs("47200", "about 47,200 in all"));
    EXPECT_FALSE(answer_occurs("400", "GBP 12,400"));  // "12400" is one word
    EXPECT_FALSE(answer_occurs("12 400", "GBP 12,400"));
    EXPECT_TRUE(answer_occurs("3.14", "pi is 3,14"));
    EXPECT_FALSE(answer_occurs("3 March", "on March 3rd"));
    EXPECT_FALSE(answer_occurs("March 3", "on March 3rd"));
    EXPECT_TRUE(answer_occurs("3 March", "due on 3 March."));
    EXPECT_TRUE(answer_occurs("March 3rd", "Due: MARCH 3RD!"));
}

TEST(QuestionsOccurs, EmptyAnswersNeverOccur) {
    EXPECT_FALSE(answer_occurs("", "anything"));
    EXPECT_FALSE(answer_occurs("...", "..."));
    EXPECT_FALSE(answer_occurs("\xE6\x9D\xB1", "\xE6\x9D\xB1"));
    EXPECT_FALSE(answer_occurs("a", ""));
}

TEST(QuestionsAbstention, ListedPhrases) {
    for (const char* reply :
         {"Unknown.", "It is not stated.", "Not mentioned in the notes", "not specified",
          "The text does not say", "It doesn't say.", "No information about that.", "I don't know.",
          "I cannot determine that.", "Can't determine it", "not provided", "UNKNOWN!",
          "I DON\xE2\x80\x99T KNOW"}) {
        EXPECT_TRUE(is_abstention(reply)) << reply;
    }
}

TEST(QuestionsAbstention, EmptyAfterNormalisation) {
    EXPECT_TRUE(is_abstention(""));
    EXPECT_TRUE(is_abstention("  ...?  "));
    EXPECT_TRUE(is_abstention("\xE2\x80\x94"));  // an em dash alone
}

TEST(QuestionsAbstention, PhrasesMustBeWholeWords) {
    EXPECT_FALSE(is_abstention("The unknowns were listed."));
    EXPECT_FALSE(is_abstention("I know: it is 12."));
    EXPECT_FALSE(is_abstention("It was not statedly so."));
    EXPECT_FALSE(is_abstention("It is 12,400."));
    EXPECT_FALSE(is_abstention("not"));
}

Question budget_question() {
    Question q;
    q.id = "fin-budget";
    q.kind = QuestionKind::topic;
    q.cluster = "fin";
    q.text = "What is the approved budget?";
    q.answer_type = "number";
    q.answers = {"GBP 12,400", "12,400"};
    q.lures = {Lure{"ops", {"9,800", "9800 pounds"}}, Lure{"hr", {"15,000"}}};
    return q;
}

TEST(QuestionsScore, Correct) {
    const Question q = budget_question();
    EXPECT_EQ(score_answer(q, "The budget is GBP 12,400."), AnswerOutcome::correct);
    EXPECT_EQ(score_answer(q, "12400"), AnswerOutcome::correct);
    EXPECT_EQ(score_answer(q, "gbp 12 400"), AnswerOutcome::wrong);  // "12 400" is two words
}

TEST(QuestionsScore, Lure) {
    const Question q = budget_question();
    EXPECT_EQ(score_answer(q, "It is 9,800."), AnswerOutcome::lure);
    EXPECT_EQ(score_answer(q, "9800 POUNDS"), AnswerOutcome::lure);
    EXPECT_EQ(score_answer(q, "15000 was approved"), AnswerOutcome::lure);  // second lure
}

TEST(QuestionsScore, Mixed) {
    const Question q = budget_question();
    EXPECT_EQ(score_answer(q, "Either 12,400 or 15,000."), AnswerOutcome::mixed);
    EXPECT_EQ(score_answer(q, "9,800 (ops), GBP 12,400 (finance)"), AnswerOutcome::mixed);
}

TEST(QuestionsScore, AbstainedAndWrong) {
    const Question q = budget_question();
    EXPECT_EQ(score_answer(q, "I don't know."), AnswerOutcome::abstained);
    EXPECT_EQ(score_answer(q, "The conversation does not say."), AnswerOutcome::abstained);
    EXPECT_EQ(score_answer(q, ""), AnswerOutcome::abstained);
    EXPECT_EQ(score_answer(q, "About 11,000."), AnswerOutcome::wrong);
    EXPECT_EQ(score_answer(q, "124,000"), AnswerOutcome::wrong);  // 12400 is not a word of it
    EXPECT_EQ(score_answer(q, "98000"), AnswerOutcome::wrong);
}

TEST(QuestionsScore, AnswerBeatsAbstention) {
    const Question q = budget_question();
    EXPECT_EQ(score_answer(q, "Unknown, but probably 12,400."), AnswerOutcome::correct);
    EXPECT_EQ(score_answer(q, "Not stated; 9,800 is the ops figure."), AnswerOutcome::lure);
}

TEST(QuestionsScore, CrossQuestionsHaveNoLures) {
    Question q;
    q.id = "cross-total";
    q.kind = QuestionKind::cross;
    q.clusters = {"fin", "ops"};
    q.answers = {"22,200"};
    EXPECT_EQ(score_answer(q, "Together: 22,200."), AnswerOutcome::correct);
    EXPECT_EQ(score_answer(q, "9,800 and 12,400"), AnswerOutcome::wrong);
    EXPECT_EQ(score_answer(q, "not provided"), AnswerOutcome::abstained);
}

TEST(QuestionsScore, OutcomeNames) {
    EXPECT_EQ(to_string(AnswerOutcome::correct), "correct");
    EXPECT_EQ(to_string(AnswerOutcome::lure), "lure");
    EXPECT_EQ(to_string(AnswerOutcome::mixed), "mixed");
    EXPECT_EQ(to_string(AnswerOutcome::abstained), "abstained");
    EXPECT_EQ(to_string(AnswerOutcome::wrong), "wrong");
}

// Python's answers for the same inputs (tools/check_dataset.py's normalise() and occurs()).
TEST(QuestionsFixtures, AgreeWithTheAuthoringChecker) {
    const std::string path = RDIC_TEST_DATA_DIR "/questions_fixtures.json";
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    const nlohmann::json fixture = nlohmann::json::parse(in);
    const auto& cases = fixture.at("cases");
    constexpr size_t kMinCases = 40;
    ASSERT_GE(cases.size(), kMinCases);
    std::map<bool, int> n_by_occurs;
    for (const auto& c : cases) {
        const auto answer = c.at("answer").get<std::string>();
        const auto text = c.at("text").get<std::string>();
        const bool occurs = c.at("occurs").get<bool>();
        ++n_by_occurs[occurs];
        SCOPED_TRACE(c.at("why").get<std::string>() + ": '" + answer + "' in '" + text + "'");
        EXPECT_EQ(normalise_answer(answer), c.at("answer_normalised").get<std::string>());
        EXPECT_EQ(normalise_answer(text), c.at("text_normalised").get<std::string>());
        EXPECT_EQ(answer_occurs(answer, text), occurs);
    }
    EXPECT_GT(n_by_occurs[true], 0);
    EXPECT_GT(n_by_occurs[false], 0);
}

// 30 distinct bytes, none of them '#', '%' or '|', which the tests use as filler.
const std::string kSpan30 = "abcdefghijklmnopqrstuvwxyz0123";

TEST(CopyShare, HalfTheOutputCopied) {
    const std::string prompt = "Prompt: " + kSpan30 + " end";
    const std::string output = std::string(15, '#') + kSpan30 + std::string(15, '%');
    ASSERT_EQ(output.size(), 60u);
    EXPECT_DOUBLE_EQ(copy_share(output, prompt), 0.5);
}

TEST(CopyShare, SpansShorterThanTheMinimumDoNotCount) {
    const std::string prompt = "Prompt: " + kSpan30 + " end";
    const std::string span24 = kSpan30.substr(0, 24);
    const std::string output = std::string(18, '#') + span24 + std::string(18, '%');
    ASSERT_EQ(output.size(), 60u);
    EXPECT_DOUBLE_EQ(copy_share(output, prompt), 0.0);
    // Exactly the minimum counts: 25 of 50 bytes.
    const std::string output25 = std::string(12, '#') + kSpan30.substr(0, 25) + "%%%%%%%%%%%%%";
    ASSERT_EQ(output25.size(), 50u);
    EXPECT_DOUBLE_EQ(copy_share(output25, prompt), 0.5);
}

TEST(CopyShare, OverlappingCopiesFromTwoPlacesCountEachByteOnce) {
    // Output bytes [0, 30) come from x and [20, 50) from y (the 10 digits are in both); no
    // 25-byte window across the seam occurs in the prompt, where '|' follows x.
    const std::string x = "ABCDEFGHIJKLMNOPQRST0123456789";
    const std::string y = "0123456789abcdefghijklmnopqrst";
    const std::string prompt = x + "|" + y;
    const std::string output = "ABCDEFGHIJKLMNOPQRST0123456789abcdefghijklmnopqrst##########";
    ASSERT_EQ(output.size(), 60u);
    EXPECT_DOUBLE_EQ(copy_share(output, prompt), 50.0 / 60.0);
}

TEST(CopyShare, TwoSeparateCopies) {
    const std::string prompt = kSpan30 + "|" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    // 30 copied + 10 filler + 26 copied + 14 filler = 80 bytes, 56 copied.
    const std::string output =
        kSpan30 + std::string(10, '#') + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + std::string(14, '%');
    ASSERT_EQ(output.size(), 80u);
    EXPECT_DOUBLE_EQ(copy_share(output, prompt), 56.0 / 80.0);
}

TEST(CopyShare, WholeOutputCopied) {
    EXPECT_DOUBLE_EQ(copy_share(kSpan30, "before " + kSpan30 + " after"), 1.0);
    EXPECT_DOUBLE_EQ(copy_share(kSpan30, kSpan30), 1.0);
    // The same span copied twice.
    EXPECT_DOUBLE_EQ(copy_share(kSpan30 + kSpan30, "x" + kSpan30 + "y"), 1.0);
}

TEST(CopyShare, EmptyAndShortInputs) {
    EXPECT_DOUBLE_EQ(copy_share("", kSpan30), 0.0);
    EXPECT_DOUBLE_EQ(copy_share(kSpan30, ""), 0.0);
    EXPECT_DOUBLE_EQ(copy_share("", ""), 0.0);
    // Output shorter than the minimum span, though all of it is in the prompt.
    EXPECT_DOUBLE_EQ(copy_share(kSpan30.substr(0, 24), kSpan30), 0.0);
    // Prompt shorter than the minimum span.
    EXPECT_DOUBLE_EQ(copy_share(kSpan30, kSpan30.substr(0, 24)), 0.0);
}

TEST(CopyShare, CaseAndSpacingCount) {
    std::string upper = kSpan30;
    for (char& c : upper)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    EXPECT_DOUBLE_EQ(copy_share(upper, kSpan30), 0.0);
}

TEST(CopyShare, OtherMinimumSpans) {
    EXPECT_DOUBLE_EQ(copy_share("abcdef", "xxabcdefxx", 3), 1.0);
    EXPECT_DOUBLE_EQ(copy_share("abc#ef", "xxabcdefxx", 3), 0.5);  // "ef" is too short
    EXPECT_DOUBLE_EQ(copy_share("ab#", "ab", 1), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(copy_share("ab#", "ab", 0), 2.0 / 3.0);  // 0 counts as 1
}

TEST(CopyShare, RepetitiveText) {
    EXPECT_DOUBLE_EQ(copy_share(std::string(100, 'a'), std::string(30, 'a')), 1.0);
    EXPECT_DOUBLE_EQ(copy_share(std::string(100, 'a'), std::string(24, 'a')), 0.0);
    EXPECT_DOUBLE_EQ(copy_share(std::string(50, 'a') + std::string(50, 'b'), std::string(40, 'a')),
                     0.5);
    // A run in the output longer than the prompt's run is still all copied.
    const std::string prompt = std::string(26, 'a') + "|" + std::string(26, 'b');
    EXPECT_DOUBLE_EQ(copy_share(std::string(60, 'a') + std::string(40, 'b'), prompt), 1.0);
}

// The definition, checked byte by byte: byte j is covered when some window of `span` bytes that
// contains it occurs in the prompt.
double copy_share_by_definition(const std::string& output, const std::string& prompt, size_t span) {
    if (output.empty() || output.size() < span) return 0;
    std::vector<bool> covered(output.size(), false);
    for (size_t i = 0; i + span <= output.size(); ++i)
        if (prompt.find(output.substr(i, span)) != std::string::npos)
            for (size_t k = i; k < i + span; ++k) covered[k] = true;
    size_t n = 0;
    for (bool c : covered) n += c;
    return static_cast<double>(n) / static_cast<double>(output.size());
}

// Two-letter texts repeat windows everywhere, which exercises the extend-without-lookup paths.
TEST(CopyShare, MatchesTheDefinitionOnRandomTwoLetterTexts) {
    constexpr uint32_t kSeed = 20240611;
    constexpr int kRounds = 300;
    constexpr size_t kMaxLength = 80;
    std::mt19937 rng(kSeed);
    std::uniform_int_distribution<size_t> length(0, kMaxLength);
    std::uniform_int_distribution<size_t> span_of(1, 8);
    std::uniform_int_distribution<int> letter(0, 1);
    const auto random_text = [&](size_t n) {
        std::string s(n, 'a');
        for (char& c : s) c = static_cast<char>('a' + letter(rng));
        return s;
    };
    for (int round = 0; round < kRounds; ++round) {
        const std::string output = random_text(length(rng));
        const std::string prompt = random_text(length(rng));
        const size_t span = span_of(rng);
        EXPECT_DOUBLE_EQ(copy_share(output, prompt, span),
                         copy_share_by_definition(output, prompt, span))
            << "output '" << output << "' prompt '" << prompt << "' span " << span;
    }
}

}  // namespace
}  // namespace rdic

namespace rdic {
namespace {

Example copy_control_example() {
    Example ex;
    Cluster a;
    a.id = "a";
    Cluster b;
    b.id = "b";
    ex.clusters = {a, b};
    ex.turns = {{1, "a", TurnType::context, "one two three", TurnRole::user},
                {2, "b", TurnType::context, "four five", TurnRole::user},
                {3, "a", TurnType::context, "six seven", TurnRole::user}};
    return ex;
}

TEST(CopyControl, OwnTurnsOrWholeConversationCutToTheWordCount) {
    const Example ex = copy_control_example();
    EXPECT_EQ(copy_control_text(ex, "a", CopySource::own_turns, 4), "one two three six");
    EXPECT_EQ(copy_control_text(ex, "a", CopySource::whole_conversation, 4), "one two three four");
    EXPECT_EQ(copy_control_text(ex, "b", CopySource::own_turns, 10), "four five");
    EXPECT_EQ(copy_control_text(ex, "a", CopySource::own_turns, 0), "");
    EXPECT_EQ(copy_control_text(ex, "zz", CopySource::own_turns, 3), "");
}

TEST(CopyControl, AssistantTurnsAreLabelledAsInThePrompt) {
    Example ex = copy_control_example();
    ex.turns[2].role = TurnRole::assistant;
    EXPECT_EQ(copy_control_text(ex, "a", CopySource::own_turns, 6),
              "User: one two three Assistant: six");
}

TEST(CopyControl, ControlConditionNames) {
    EXPECT_TRUE(is_copy_control("copy_own"));
    EXPECT_TRUE(is_copy_control("copy_all"));
    EXPECT_FALSE(is_copy_control("semantic"));
}

}  // namespace
}  // namespace rdic
