// Decimal: exact money arithmetic. Expected values are worked out by hand in the comments.
#include <string>

#include "test_support.h"

namespace usage_meter {
namespace {

using test::dec;
using test::i128_text;

// Parses `text` and checks the exact representation: units / 10^scale, normalised (no trailing zeros).
void expect_parts(const char* text, const char* units, int scale) {
    SCOPED_TRACE(std::string("parse(\"") + text + "\")");
    Decimal d = Decimal::parse(text);
    EXPECT_EQ(i128_text(d.units()), units);
    EXPECT_EQ(d.scale(), scale);
}

std::string repeat(char c, size_t n) { return std::string(n, c); }

// ---- parsing -----------------------------------------------------------------------------------------

TEST(DecimalParse, Integers) {
    expect_parts("0", "0", 0);
    expect_parts("12", "12", 0);
    expect_parts("-12", "-12", 0);
    expect_parts("+1", "1", 0);
    expect_parts("1000", "1000", 0);  // trailing zeros of an integer are significant
    expect_parts("-0", "0", 0);
    EXPECT_FALSE(Decimal::parse("-0").is_negative());
}

TEST(DecimalParse, LeadingZerosAreIgnored) {
    expect_parts("007", "7", 0);
    expect_parts("-007.50", "-75", 1);
    expect_parts("00.5", "5", 1);
    // 43 characters but one significant digit: well inside the 38-digit limit.
    expect_parts(("0000000000000000000000000000000000000000001"), "1", 0);
}

TEST(DecimalParse, Fractions) {
    expect_parts("0.000003", "3", 6);
    expect_parts("0.80", "8", 1);
    expect_parts("4.00", "4", 0);
    expect_parts("-0.075", "-75", 3);
    expect_parts("0.0", "0", 0);
    expect_parts("123.456", "123456", 3);
}

TEST(DecimalParse, ExponentNotation) {
    expect_parts("1e-7", "1", 7);      // 0.0000001
    expect_parts("1.5E-06", "15", 7);  // 0.0000015
    expect_parts("3e-6", "3", 6);      // 0.000003
    expect_parts("7.5e-08", "75", 9);  // 0.000000075
    expect_parts("1e3", "1000", 0);
    expect_parts("1E+3", "1000", 0);
    expect_parts("2.5e1", "25", 0);
    expect_parts("123.456e1", "123456", 2);  // 1234.56
    expect_parts("-4.2e-2", "-42", 3);       // -0.042
    expect_parts("1e0", "1", 0);
    expect_parts("0e0", "0", 0);
    expect_parts("0e-5", "0", 0);
    expect_parts("1.50e-05", "15", 6);     // 0.000015
    expect_parts("1e007", "10000000", 0);  // leading zeros in the exponent
    // The exponent form and the plain form are the same number.
    EXPECT_EQ(dec("3e-6"), dec("0.000003"));
    EXPECT_EQ(dec("7.5e-08"), dec("0.000000075"));
}

TEST(DecimalParse, SurroundingWhitespace) {
    expect_parts(" 12 ", "12", 0);
    expect_parts("\t-0.5\t", "-5", 1);
    expect_parts("  1e-7", "1", 7);
}

TEST(DecimalParse, RejectsGarbage) {
    for (const char* text :
         {"",         " ",         ".",   "-",   "+",   "1e",   "1e+", "1e-",   "e5",  "abc",   "1.2.3", "NaN", "nan",
          "Infinity", "-Infinity", "1 2", "--1", "+-1", "0x10", "1,5", "1e5.5", "12a", "1e2e3", "1..2",  "- 1"}) {
        SCOPED_TRACE(std::string("parse(\"") + text + "\")");
        EXPECT_CORE_ERROR(Decimal::parse(text), ErrorKind::InvalidParameter);
    }
}

TEST(DecimalParse, ThirtyEightDigitsIsTheLimit) {
    const std::string nines38 = repeat('9', 38);
    expect_parts(nines38.c_str(), nines38.c_str(), 0);
    expect_parts(("-" + nines38).c_str(), ("-" + nines38).c_str(), 0);
    // 38 significant digits with 36 of them after the point.
    expect_parts("12.345678901234567890123456789012345678", "12345678901234567890123456789012345678", 36);
    expect_parts("1e37", ("1" + repeat('0', 37)).c_str(), 0);

    EXPECT_CORE_ERROR(Decimal::parse(repeat('9', 39)), ErrorKind::OutOfRange);
    EXPECT_CORE_ERROR(Decimal::parse("1" + repeat('0', 38)), ErrorKind::OutOfRange);  // 10^38: 39 digits
    EXPECT_CORE_ERROR(Decimal::parse("-1" + repeat('0', 38)), ErrorKind::OutOfRange);
    EXPECT_CORE_ERROR(Decimal::parse("1e38"), ErrorKind::OutOfRange);
    expect_parts("1.5e37", ("15" + repeat('0', 36)).c_str(), 0);         // 38 digits: fits
    EXPECT_CORE_ERROR(Decimal::parse("1.5e38"), ErrorKind::OutOfRange);  // 39 digits
}

TEST(DecimalParse, ThirtySixDecimalPlacesIsTheLimit) {
    expect_parts(("0." + repeat('0', 35) + "1").c_str(), "1", 36);
    expect_parts("1e-36", "1", 36);
    expect_parts("-1e-36", "-1", 36);
    EXPECT_CORE_ERROR(Decimal::parse("0." + repeat('0', 36) + "1"), ErrorKind::OutOfRange);
    EXPECT_CORE_ERROR(Decimal::parse("1e-37"), ErrorKind::OutOfRange);
    EXPECT_CORE_ERROR(Decimal::parse("1.5e-36"), ErrorKind::OutOfRange);  // 0.0...015: 37 places
    EXPECT_CORE_ERROR(Decimal::parse("1e-1001"), ErrorKind::OutOfRange);
    EXPECT_CORE_ERROR(Decimal::parse("1e1001"), ErrorKind::OutOfRange);
}

TEST(DecimalParse, TrailingFractionalZerosAreNotSignificant) {
    // PostgreSQL prints numeric with its display scale, so a value like 500 can arrive as "500.000...0"
    // (e.g. the product of two numeric(30,18) values has display scale 36). The padding zeros carry no
    // information: the value has 3 significant digits and 0 decimal places, so it must parse.
    expect_parts(("500." + repeat('0', 36)).c_str(), "500", 0);
    expect_parts(("0.1" + repeat('0', 40)).c_str(), "1", 1);
    expect_parts(("-2.5" + repeat('0', 45) + "e-3").c_str(), "-25", 4);
    // ...but a non-zero digit after the padding makes those zeros significant again.
    EXPECT_CORE_ERROR(Decimal::parse("1." + repeat('0', 37) + "1"), ErrorKind::OutOfRange);
    EXPECT_CORE_ERROR(Decimal::parse("1" + repeat('0', 20) + "." + repeat('0', 17) + "1"), ErrorKind::OutOfRange);
}

TEST(DecimalParse, NamedErrorsMentionTheArgument) {
    EXPECT_CORE_ERROR(Decimal::parse_named("abc", "unit_price"), ErrorKind::InvalidParameter, "unit_price", "abc");
    EXPECT_CORE_ERROR(Decimal::parse_named("1e-40", "quantity"), ErrorKind::OutOfRange, "quantity");
    try {
        Decimal::parse_named("1e-40", "quantity");
        FAIL() << "did not throw";
    } catch (const CoreError& e) {
        EXPECT_FALSE(e.hint().empty());
    }
    EXPECT_EQ(Decimal::parse_named("0.5", "quantity"), dec("0.5"));
}

// ---- arithmetic --------------------------------------------------------------------------------------

TEST(DecimalArithmetic, AdditionIsExact) {
    EXPECT_EQ((dec("0.1") + dec("0.2")).to_string(), "0.3");  // not 0.30000000000000004
    Decimal sum = dec("0.1") + dec("0.2");
    EXPECT_EQ(i128_text(sum.units()), "3");
    EXPECT_EQ(sum.scale(), 1);
    EXPECT_EQ(dec("0.000003") + dec("1000"), dec("1000.000003"));
    EXPECT_EQ(dec("-2.75") + dec("0.25"), dec("-2.5"));
    Decimal zero = dec("1.5") + dec("-1.5");
    EXPECT_TRUE(zero.is_zero());
    EXPECT_EQ(zero.scale(), 0);  // normalised
    EXPECT_EQ(dec("0.05") + dec("0.05"), dec("0.1"));
    EXPECT_EQ((dec("0.05") + dec("0.05")).scale(), 1);
}

TEST(DecimalArithmetic, SubtractionIsExact) {
    EXPECT_EQ(dec("1") - dec("0.000001"), dec("0.999999"));
    EXPECT_EQ(dec("0.5") - dec("0.75"), dec("-0.25"));
    EXPECT_EQ(dec("-1") - dec("-1"), Decimal());
    EXPECT_EQ(-dec("2.5"), dec("-2.5"));
    EXPECT_EQ(-Decimal(), Decimal());
}

TEST(DecimalArithmetic, MultiplicationIsExact) {
    EXPECT_EQ(Decimal::from_int(1234) * dec("0.8"), dec("987.2"));
    EXPECT_EQ(dec("-1.5") * dec("0.2"), dec("-0.3"));
    EXPECT_EQ(dec("-1.5") * dec("-0.2"), dec("0.3"));
    EXPECT_EQ(dec("0.001") * dec("0.001"), dec("0.000001"));
    Decimal tenth = dec("0.5") * dec("0.2");  // units 10, scale 2 before normalising
    EXPECT_EQ(i128_text(tenth.units()), "1");
    EXPECT_EQ(tenth.scale(), 1);
    EXPECT_EQ(dec("1e18") * dec("1e18"), dec("1e36"));
    EXPECT_EQ(dec("1e-18") * dec("1e-18"), dec("1e-36"));
    EXPECT_EQ(Decimal::from_int(0) * dec("123.456"), Decimal());
}

TEST(DecimalArithmetic, OverflowThrowsInsteadOfRounding) {
    const Decimal big = dec(repeat('9', 38));
    EXPECT_CORE_ERROR(big + big, ErrorKind::OutOfRange);  // ~2e38 > 2^127
    EXPECT_CORE_ERROR(-big - big, ErrorKind::OutOfRange);
    EXPECT_CORE_ERROR(dec("1e20") * dec("1e19"), ErrorKind::OutOfRange);    // 10^39 > 2^127 (~1.7 * 10^38)
    EXPECT_CORE_ERROR(dec("1e-20") * dec("1e-20"), ErrorKind::OutOfRange);  // 40 decimal places
    // Aligning 10^37 to two decimal places needs 10^39: the sum cannot be represented exactly.
    EXPECT_CORE_ERROR(dec("1e37") + dec("0.01"), ErrorKind::OutOfRange);
    // One decimal place still fits: 10^37 + 0.1 is 10^38 + 1 units of 0.1, below 2^127.
    EXPECT_EQ((dec("1e37") + dec("0.1")).to_string(), "1" + repeat('0', 37) + ".1");
}

TEST(DecimalArithmetic, ShiftedDownDividesByPowersOfTen) {
    EXPECT_EQ(dec("3262.32").shifted_down(6), dec("0.00326232"));
    EXPECT_EQ(dec("1000").shifted_down(3), Decimal::from_int(1));
    EXPECT_EQ(dec("1000").shifted_down(3).scale(), 0);
    EXPECT_EQ(dec("-25").shifted_down(2), dec("-0.25"));
    EXPECT_EQ(dec("7").shifted_down(0), dec("7"));
    EXPECT_EQ(Decimal::from_int(1).shifted_down(36), dec("1e-36"));
    EXPECT_EQ(Decimal().shifted_down(100), Decimal());    // zero has no digits to lose
    EXPECT_EQ(dec("10").shifted_down(37), dec("1e-36"));  // the trailing zero absorbs one place
    EXPECT_CORE_ERROR(Decimal::from_int(1).shifted_down(37), ErrorKind::OutOfRange);
    EXPECT_CORE_ERROR(dec("0.000001").shifted_down(31), ErrorKind::OutOfRange);
}

// ---- comparison --------------------------------------------------------------------------------------

TEST(DecimalCompare, AcrossScales) {
    EXPECT_EQ(dec("1.5").compare(dec("1.50")), 0);
    EXPECT_EQ(dec("1.5").compare(dec("15e-1")), 0);
    EXPECT_EQ(dec("0.1").compare(dec("0.10000000001")), -1);
    EXPECT_EQ(dec("0.10000000001").compare(dec("0.1")), 1);
    EXPECT_EQ(dec("2").compare(dec("1." + repeat('9', 36))), 1);
    EXPECT_EQ(dec(repeat('9', 38)).compare(dec(repeat('9', 37) + ".9")), 1);
    // Aligning these scales would need 10^73; comparison must still work.
    EXPECT_EQ(dec("1e37").compare(dec("1e-36")), 1);
    EXPECT_EQ(dec("1e-36").compare(dec("1e37")), -1);
    EXPECT_EQ(dec(repeat('9', 38)).compare(dec("99." + repeat('9', 36))), 1);
}

TEST(DecimalCompare, AcrossSigns) {
    EXPECT_EQ(dec("-1").compare(Decimal()), -1);
    EXPECT_EQ(Decimal().compare(dec("-1")), 1);
    EXPECT_EQ(dec("-1").compare(dec("0.000001")), -1);
    EXPECT_EQ(dec("-0.5").compare(dec("-0.6")), 1);
    EXPECT_EQ(dec("-0.6").compare(dec("-0.5")), -1);
    EXPECT_EQ(dec("-1e37").compare(dec("-1e-36")), -1);
    EXPECT_EQ(dec("-0").compare(dec("0.000")), 0);
    EXPECT_EQ(dec("-2.50").compare(dec("-2.5")), 0);
}

TEST(DecimalCompare, Operators) {
    const Decimal a = dec("0.25"), b = dec("0.3");
    EXPECT_TRUE(a < b);
    EXPECT_TRUE(a <= b);
    EXPECT_FALSE(a > b);
    EXPECT_FALSE(a >= b);
    EXPECT_TRUE(a != b);
    EXPECT_FALSE(a == b);
    EXPECT_TRUE(a == dec("0.250"));
    EXPECT_TRUE(a <= dec("0.250"));
    EXPECT_TRUE(a >= dec("0.250"));
    EXPECT_TRUE(dec("-3") < dec("-2.999"));
}

// ---- text --------------------------------------------------------------------------------------------

TEST(DecimalText, ToStringIsShortestExactText) {
    EXPECT_EQ(dec("0.00326232").to_string(), "0.00326232");
    EXPECT_EQ(dec("3.000").to_string(), "3");
    EXPECT_EQ(dec("2.50").to_string(), "2.5");
    EXPECT_EQ(dec("-1.5").to_string(), "-1.5");
    EXPECT_EQ(dec("-0.000001").to_string(), "-0.000001");
    EXPECT_EQ(dec("1000").to_string(), "1000");
    EXPECT_EQ(dec("1e3").to_string(), "1000");
    EXPECT_EQ(dec("7.5e-08").to_string(), "0.000000075");
    EXPECT_EQ(Decimal().to_string(), "0");
    EXPECT_EQ(dec("-0.0").to_string(), "0");
    EXPECT_EQ(Decimal::from_int(-42).to_string(), "-42");
    EXPECT_EQ(dec("1e37").to_string(), "1" + repeat('0', 37));
    EXPECT_EQ(dec("1e-36").to_string(), "0." + repeat('0', 35) + "1");
    EXPECT_EQ(dec("-" + repeat('9', 38) + "e-36").to_string(), "-99." + repeat('9', 36));
}

TEST(DecimalText, ToStringRoundTrips) {
    for (const std::string& text :
         {std::string("0"), std::string("1"), std::string("-1"), std::string("0.1"), std::string("-0.000000075"),
          std::string("123456789.987654321"), std::string("0.00326232"), repeat('9', 38), "-0." + repeat('0', 35) + "1",
          "0." + repeat('9', 36)}) {
        SCOPED_TRACE(text);
        EXPECT_EQ(dec(text).to_string(), text);
        EXPECT_EQ(dec(dec(text).to_string()), dec(text));
    }
}

TEST(DecimalText, WriteReportsWhetherItFits) {
    char buf[8];
    ASSERT_TRUE(dec("-0.5").write(buf, 5));  // "-0.5" plus NUL
    EXPECT_STREQ(buf, "-0.5");
    EXPECT_FALSE(dec("-0.5").write(buf, 4));
    EXPECT_FALSE(dec("12345678").write(buf, 8));
    ASSERT_TRUE(dec("1234567").write(buf, 8));
    EXPECT_STREQ(buf, "1234567");
}

// ---- compare_ratios ----------------------------------------------------------------------------------

TEST(DecimalRatios, Basic) {
    EXPECT_EQ(compare_ratios(dec("1"), dec("2"), dec("2"), dec("4")), 0);
    EXPECT_EQ(compare_ratios(dec("1"), dec("3"), dec("0.333"), dec("1")), 1);  // 1/3 > 0.333
    EXPECT_EQ(compare_ratios(dec("0.333"), dec("1"), dec("1"), dec("3")), -1);
    EXPECT_EQ(compare_ratios(dec("0.5"), dec("0.25"), dec("2"), dec("1")), 0);
    EXPECT_EQ(compare_ratios(dec("0.000001"), dec("3"), dec("1"), dec("3000000")), 0);
    EXPECT_EQ(compare_ratios(dec("2"), dec("3"), dec("666666"), dec("1000000")), 1);  // 2/3 > 0.666666
    EXPECT_EQ(compare_ratios(Decimal(), dec("1"), Decimal(), dec("7")), 0);
    EXPECT_EQ(compare_ratios(Decimal(), dec("5"), dec("0.000001"), dec("5")), -1);
}

TEST(DecimalRatios, NegativeNumerators) {
    EXPECT_EQ(compare_ratios(dec("-1"), dec("2"), dec("1"), dec("3")), -1);
    EXPECT_EQ(compare_ratios(dec("1"), dec("3"), dec("-1"), dec("2")), 1);
    EXPECT_EQ(compare_ratios(dec("-1"), dec("2"), dec("-1"), dec("3")), -1);  // -0.5 < -0.333
    EXPECT_EQ(compare_ratios(dec("-1"), dec("3"), dec("-1"), dec("2")), 1);
    EXPECT_EQ(compare_ratios(Decimal(), dec("5"), dec("-1"), dec("5")), 1);
    EXPECT_EQ(compare_ratios(dec("-1"), dec("5"), Decimal(), dec("5")), -1);
    EXPECT_EQ(compare_ratios(dec("-0.5"), dec("0.25"), dec("-3"), dec("1")), 1);  // -2 > -3
    EXPECT_EQ(compare_ratios(dec("-2"), dec("4"), dec("-0.5"), dec("1")), 0);
}

TEST(DecimalRatios, CrossProductsBeyond128Bits) {
    // N = 10^37. (N-1)/N vs (N-2)/(N-1): (N-1)^2 = N^2 - 2N + 1 > N(N-2) = N^2 - 2N, so the first is larger
    // by 1/(N(N-1)); the cross products are ~10^74, far beyond 2^127.
    const Decimal n = dec("1e37");
    const Decimal n1 = dec(repeat('9', 37));        // N - 1
    const Decimal n2 = dec(repeat('9', 36) + "8");  // N - 2
    EXPECT_EQ(compare_ratios(n1, n, n2, n1), 1);
    EXPECT_EQ(compare_ratios(n2, n1, n1, n), -1);
    EXPECT_EQ(compare_ratios(-n1, n, -n2, n1), -1);
    EXPECT_EQ(compare_ratios(-n2, n1, -n1, n), 1);
    // k/m vs 2k/2m with 38-digit numbers: equal.
    const Decimal k = dec("4" + repeat('9', 37)), m = dec("4" + repeat('9', 36) + "8");
    const Decimal k2 = dec(repeat('9', 37) + "8"), m2 = dec(repeat('9', 37) + "6");
    EXPECT_EQ(compare_ratios(k, m, k2, m2), 0);
    EXPECT_EQ(compare_ratios(-k2, m2, -k, m), 0);
    // The same ratios with fractional scales: (N-1)/N vs (N-2)/(N-1), all divided by 10^36.
    EXPECT_EQ(compare_ratios(n1.shifted_down(36), n.shifted_down(36), n2.shifted_down(36), n1.shifted_down(36)), 1);
}

TEST(DecimalRatios, DivisorsMustBePositive) {
    EXPECT_CORE_ERROR(compare_ratios(dec("1"), Decimal(), dec("1"), dec("1")), ErrorKind::Internal);
    EXPECT_CORE_ERROR(compare_ratios(dec("1"), dec("1"), dec("1"), dec("-1")), ErrorKind::Internal);
}

}  // namespace
}  // namespace usage_meter
