// Stop strings and UTF-8 boundaries: what a user sees in streamed and final text.
#include <gtest/gtest.h>

#include "rdic/text_stream.h"

namespace {

using rdic::TextStream;

TEST(TextStream, PassesTextThroughWithoutStops) {
    TextStream ts;
    EXPECT_FALSE(ts.push("Hello"));
    EXPECT_FALSE(ts.push(", world"));
    EXPECT_EQ(ts.take_ready(), "Hello, world");
    EXPECT_EQ(ts.finish(), "Hello, world");
}

TEST(TextStream, StopStringSplitAcrossPiecesIsCut) {
    TextStream ts({"<end>"});
    EXPECT_FALSE(ts.push("answer <e"));
    EXPECT_EQ(ts.take_ready(), "answer ");  // "<e" held back: it may start the stop string
    EXPECT_FALSE(ts.push("n"));
    EXPECT_EQ(ts.take_ready(), "");
    EXPECT_TRUE(ts.push("d> tail"));
    EXPECT_EQ(ts.take_ready(), "");
    EXPECT_EQ(ts.finish(), "answer ");
}

TEST(TextStream, HeldBackPrefixIsReleasedWhenItDoesNotComplete) {
    TextStream ts({"<end>"});
    ts.push("a <e");
    EXPECT_EQ(ts.take_ready(), "a ");
    ts.push("xtra");
    EXPECT_EQ(ts.take_ready(), "<extra");
}

TEST(TextStream, FinishReleasesTail) {
    TextStream ts({"STOP"});
    ts.push("abc ST");
    EXPECT_EQ(ts.take_ready(), "abc ");
    EXPECT_EQ(ts.finish(), "abc ST");
    EXPECT_EQ(ts.take_ready(), "ST");
}

TEST(TextStream, EarliestOfSeveralStopsWins) {
    TextStream ts({"B", "A"});
    EXPECT_TRUE(ts.push("xxAyyB"));
    EXPECT_EQ(ts.finish(), "xx");
}

TEST(TextStream, StopAtVeryStart) {
    TextStream ts({"\n\n"});
    EXPECT_TRUE(ts.push("\n\nmore"));
    EXPECT_EQ(ts.finish(), "");
}

TEST(TextStream, PushAfterStopIsIgnored) {
    TextStream ts({"X"});
    EXPECT_TRUE(ts.push("aX"));
    EXPECT_TRUE(ts.push("bbb"));
    EXPECT_EQ(ts.finish(), "a");
}

TEST(TextStream, SplitUtf8CharacterIsHeldUntilComplete) {
    TextStream ts;
    const std::string euro = "\xE2\x82\xAC";  // U+20AC in three bytes
    ts.push("price " + euro.substr(0, 1));
    EXPECT_EQ(ts.take_ready(), "price ");
    ts.push(euro.substr(1, 1));
    EXPECT_EQ(ts.take_ready(), "");
    ts.push(euro.substr(2));
    EXPECT_EQ(ts.take_ready(), euro);
}

TEST(TextStream, EmptyStopStringsAreIgnored) {
    TextStream ts({""});
    EXPECT_FALSE(ts.push("abc"));
    EXPECT_EQ(ts.take_ready(), "abc");
}

TEST(Utf8, CompletePrefix) {
    EXPECT_EQ(rdic::utf8_complete_prefix("abc"), 3u);
    EXPECT_EQ(rdic::utf8_complete_prefix("a\xC3"), 1u);
    EXPECT_EQ(rdic::utf8_complete_prefix("a\xC3\xA9"), 3u);
    EXPECT_EQ(rdic::utf8_complete_prefix("\xF0\x9F\x98"), 0u);
    EXPECT_EQ(rdic::utf8_complete_prefix("\xF0\x9F\x98\x80"), 4u);
    EXPECT_EQ(rdic::utf8_complete_prefix(""), 0u);
}

TEST(Utf8, Validity) {
    EXPECT_TRUE(rdic::is_valid_utf8("plain ascii"));
    EXPECT_TRUE(rdic::is_valid_utf8("caf\xC3\xA9 \xF0\x9F\x98\x80"));
    EXPECT_FALSE(rdic::is_valid_utf8("\xC3"));              // truncated
    EXPECT_FALSE(rdic::is_valid_utf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(rdic::is_valid_utf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(rdic::is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
    EXPECT_FALSE(rdic::is_valid_utf8("\x80"));              // lone continuation
}

}  // namespace
