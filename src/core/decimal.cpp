#include "decimal.h"

#include "error.h"

namespace usage_meter {
namespace {

using u128 = unsigned __int128;

__int128 pow10(int exponent) {
    __int128 result = 1;
    for (int i = 0; i < exponent; ++i) result *= 10;
    return result;
}

[[noreturn]] void overflow() {
    throw CoreError(ErrorKind::OutOfRange, "decimal value out of range",
                    "values are limited to 38 significant digits and 36 decimal places");
}

__int128 checked_mul(__int128 a, __int128 b) {
    __int128 out;
    if (__builtin_mul_overflow(a, b, &out)) overflow();
    return out;
}

__int128 checked_add(__int128 a, __int128 b) {
    __int128 out;
    if (__builtin_add_overflow(a, b, &out)) overflow();
    return out;
}

// Brings both operands to the larger scale.
void align(__int128& a, int& sa, __int128& b, int& sb) {
    if (sa < sb) {
        a = checked_mul(a, pow10(sb - sa));
        sa = sb;
    } else if (sb < sa) {
        b = checked_mul(b, pow10(sa - sb));
        sb = sa;
    }
}

// sign(p/q - r/s) for p, r >= 0 and q, s > 0, by comparing continued-fraction expansions (no overflow).
int compare_nonnegative_ratios(u128 p, u128 q, u128 r, u128 s) {
    for (;;) {
        u128 a = p / q, b = r / s;
        if (a != b) return a < b ? -1 : 1;
        p %= q;
        r %= s;
        if (p == 0 && r == 0) return 0;
        if (p == 0) return -1;
        if (r == 0) return 1;
        // p/q < r/s  <=>  s/r < q/p
        u128 np = s, nq = r, nr = q, ns = p;
        p = np;
        q = nq;
        r = nr;
        s = ns;
    }
}

u128 magnitude(__int128 v) { return v < 0 ? -static_cast<u128>(v) : static_cast<u128>(v); }

// Drops trailing fractional zeros; refuses more than kMaxScale places.
template <typename Scale>
void normalize(__int128& units, Scale& scale) {
    while (scale > 0 && units % 10 == 0) {
        units /= 10;
        --scale;
    }
    if (scale > Decimal::kMaxScale) {
        throw CoreError(ErrorKind::OutOfRange, "decimal value has more than 36 decimal places",
                        "round the value before passing it");
    }
}

}  // namespace

Decimal Decimal::make(__int128 units, int scale) {
    normalize(units, scale);
    return Decimal(units, scale);
}

Decimal Decimal::parse(std::string_view text) {
    size_t i = 0, n = text.size();
    while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
    while (n > i && (text[n - 1] == ' ' || text[n - 1] == '\t')) --n;
    bool negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    __int128 units = 0;
    int digits = 0, fraction_digits = 0;
    int pending_zeros = 0;  // fractional zeros after the last non-zero digit: significant only if one follows
    bool any_digit = false, in_fraction = false;
    for (; i < n; ++i) {
        char c = text[i];
        if (c >= '0' && c <= '9') {
            any_digit = true;
            if (units == 0 && c == '0') {
                if (in_fraction) ++fraction_digits;
                continue;
            }
            if (in_fraction && c == '0') {
                ++pending_zeros;
                continue;
            }
            for (; pending_zeros > 0; --pending_zeros) {
                if (++digits > kMaxDigits) overflow();
                units *= 10;
                ++fraction_digits;
            }
            if (++digits > kMaxDigits) overflow();
            units = units * 10 + (c - '0');
            if (in_fraction) ++fraction_digits;
        } else if (c == '.' && !in_fraction) {
            in_fraction = true;
        } else {
            break;
        }
    }
    if (!any_digit) throw CoreError(ErrorKind::InvalidParameter, "not a decimal number: \"" + std::string(text) + "\"");
    long exponent = 0;
    if (i < n && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool exp_negative = false;
        if (i < n && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
        if (i == n) throw CoreError(ErrorKind::InvalidParameter, "not a decimal number: \"" + std::string(text) + "\"");
        for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i) {
            exponent = exponent * 10 + (text[i] - '0');
            if (exponent > 1000) overflow();
        }
        if (exp_negative) exponent = -exponent;
    }
    if (i != n) throw CoreError(ErrorKind::InvalidParameter, "not a decimal number: \"" + std::string(text) + "\"");
    long scale = fraction_digits - exponent;
    if (units == 0) return Decimal(0, 0);
    while (scale < 0) {
        units = checked_mul(units, 10);
        if (++digits > kMaxDigits) overflow();
        ++scale;
    }
    normalize(units, scale);
    return Decimal(negative ? -units : units, static_cast<int>(scale));
}

Decimal Decimal::parse_named(std::string_view text, std::string_view argument) {
    try {
        return parse(text);
    } catch (const CoreError& e) {
        throw CoreError(e.kind(), "invalid " + std::string(argument) + ": " + e.what(), e.hint());
    }
}

Decimal Decimal::operator+(const Decimal& other) const {
    __int128 a = units_, b = other.units_;
    int sa = scale_, sb = other.scale_;
    align(a, sa, b, sb);
    return make(checked_add(a, b), sa);
}

Decimal Decimal::operator-() const { return Decimal(-units_, scale_); }

Decimal Decimal::operator-(const Decimal& other) const { return *this + (-other); }

Decimal Decimal::operator*(const Decimal& other) const {
    return make(checked_mul(units_, other.units_), scale_ + other.scale_);
}

Decimal Decimal::shifted_down(int exponent) const { return make(units_, scale_ + exponent); }

int Decimal::compare(const Decimal& other) const {
    if (is_negative() != other.is_negative()) return is_negative() ? -1 : 1;
    // Same sign: compare magnitudes as ratios units/10^scale, which never overflows.
    int c = compare_nonnegative_ratios(magnitude(units_), static_cast<u128>(pow10(scale_)), magnitude(other.units_),
                                       static_cast<u128>(pow10(other.scale_)));
    return is_negative() ? -c : c;
}

int compare_ratios(const Decimal& a, const Decimal& b, const Decimal& c, const Decimal& d) {
    if (b.units_ <= 0 || d.units_ <= 0) throw CoreError(ErrorKind::Internal, "compare_ratios needs positive divisors");
    if (a.is_negative() != c.is_negative()) return a.is_negative() ? -1 : 1;
    // a/b = (A * 10^sb) / (B * 10^sa); bring numerator and denominator of each to a common scale first.
    __int128 an = magnitude(a.units_), ad = b.units_, cn = magnitude(c.units_), cd = d.units_;
    int s_an = a.scale_, s_ad = b.scale_, s_cn = c.scale_, s_cd = d.scale_;
    align(an, s_an, ad, s_ad);
    align(cn, s_cn, cd, s_cd);
    int result = compare_nonnegative_ratios(static_cast<u128>(an), static_cast<u128>(ad), static_cast<u128>(cn),
                                            static_cast<u128>(cd));
    return a.is_negative() ? -result : result;
}

std::string Decimal::to_string() const {
    char buf[64];
    write(buf, sizeof buf);
    return std::string(buf);
}

bool Decimal::write(char* buf, size_t size) const {
    char digits[48];
    int len = 0;
    u128 m = magnitude(units_);
    do {
        digits[len++] = static_cast<char>('0' + static_cast<int>(m % 10));
        m /= 10;
    } while (m != 0);
    while (len <= scale_) digits[len++] = '0';  // at least one digit before the point
    size_t needed = static_cast<size_t>(len) + (scale_ > 0 ? 1 : 0) + (units_ < 0 ? 1 : 0) + 1;
    if (needed > size) return false;
    size_t pos = 0;
    if (units_ < 0) buf[pos++] = '-';
    for (int i = len - 1; i >= 0; --i) {
        buf[pos++] = digits[i];
        if (i == scale_ && scale_ > 0) buf[pos++] = '.';
    }
    buf[pos] = '\0';
    return true;
}

}  // namespace usage_meter
