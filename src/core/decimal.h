// Exact decimal arithmetic for money and counts: a 128-bit integer of units and a power-of-ten scale.
// Every operation is exact or throws CoreError(OutOfRange); nothing ever rounds or touches binary floating point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace usage_meter {

class Decimal {
public:
    static constexpr int kMaxScale = 36;
    static constexpr int kMaxDigits = 38;

    constexpr Decimal() = default;
    static Decimal from_int(int64_t value) { return Decimal(value, 0); }
    // Parses plain and exponent notation: "12", "-0.075", "1.5E-06", "3e-6". Throws on anything else.
    static Decimal parse(std::string_view text);
    // Like parse, but names the argument in the error message.
    static Decimal parse_named(std::string_view text, std::string_view argument);

    __int128 units() const { return units_; }
    int scale() const { return scale_; }
    bool is_zero() const { return units_ == 0; }
    bool is_negative() const { return units_ < 0; }

    Decimal operator+(const Decimal& other) const;
    Decimal operator-(const Decimal& other) const;
    Decimal operator*(const Decimal& other) const;
    Decimal operator-() const;
    // Exact division by 10^exponent (shifts the scale).
    Decimal shifted_down(int exponent) const;
    int compare(const Decimal& other) const;
    bool operator==(const Decimal& o) const { return compare(o) == 0; }
    bool operator!=(const Decimal& o) const { return compare(o) != 0; }
    bool operator<(const Decimal& o) const { return compare(o) < 0; }
    bool operator<=(const Decimal& o) const { return compare(o) <= 0; }
    bool operator>(const Decimal& o) const { return compare(o) > 0; }
    bool operator>=(const Decimal& o) const { return compare(o) >= 0; }

    // Shortest exact text: no exponent, no trailing fractional zeros ("0.00326232", "3", "-1.5").
    std::string to_string() const;
    // Writes to_string() into buf (NUL-terminated); returns false if it does not fit.
    bool write(char* buf, size_t size) const;

private:
    constexpr Decimal(__int128 units, int scale) : units_(units), scale_(scale) {}
    static Decimal make(__int128 units, int scale);  // normalises trailing zeros, checks the scale
    friend int compare_ratios(const Decimal&, const Decimal&, const Decimal&, const Decimal&);

    __int128 units_ = 0;
    int scale_ = 0;
};

// Compares a/b with c/d exactly; b and d must be positive. Returns -1, 0 or 1.
int compare_ratios(const Decimal& a, const Decimal& b, const Decimal& c, const Decimal& d);

}  // namespace usage_meter
