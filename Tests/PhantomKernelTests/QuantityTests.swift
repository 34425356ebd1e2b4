import Testing
@testable import PhantomKernel

/// Quantities as Genode's util/string.h reads (`ascii_to(…, Number_of_bytes &)`,
/// `ascii_to_unsigned`, `ascii_to(bool)`) and prints them (`Number_of_bytes::print`).
@Suite struct QuantityTests {
    // ascii_to(Number_of_bytes): K, M, G are binary multiples
    @Test func suffixesScaleByPowersOf1024() {
        #expect(NumberOfBytes(parsing: "1M")?.value == 1_048_576)
        #expect(NumberOfBytes(parsing: "512K")?.value == 524_288)
        #expect(NumberOfBytes(parsing: "1G")?.value == 1_073_741_824)
        #expect(NumberOfBytes(parsing: "4096")?.value == 4096)
        #expect(NumberOfBytes(parsing: "0")?.value == 0)
        #expect(NumberOfBytes(parsing: "16G")?.value == 16 << 30)
    }

    // ascii_to_unsigned with base 0: a 0x prefix selects hexadecimal, suffixes still apply
    @Test func hexadecimalWithPrefix() {
        #expect(NumberOfBytes(parsing: "0x1000")?.value == 4096)
        #expect(NumberOfBytes(parsing: "0X10K")?.value == 16 * 1024)
        #expect(NumberOfBytes(parsing: "0xfF")?.value == 255)
        #expect(NumberOfBytes(parsing: "ff") == nil)
    }

    // where Genode's whole-value check fails (or where it would quietly read 0), we refuse
    @Test func malformedQuantitiesAreRejected() {
        for bad in ["", "1m", "1k", "1 M", " 1M", "1M ", "M", "12X", "0x", "1KB", "-1", "1.5M", "1MK",
                    "99999999999999999999", "17179869184G"] {
            #expect(NumberOfBytes(parsing: bad) == nil, "accepted \"\(bad)\"")
        }
    }

    // Number_of_bytes::print: the largest suffix that divides exactly
    @Test func formattingUsesTheLargestExactSuffix() {
        #expect(NumberOfBytes(0).description == "0")
        #expect(NumberOfBytes(1 << 20).description == "1M")
        #expect(NumberOfBytes(2359 * 1024).description == "2359K")
        #expect(NumberOfBytes(1536 * 1024).description == "1536K")
        #expect(NumberOfBytes(3 << 30).description == "3G")
        #expect(NumberOfBytes(1024 << 30).description == "1024G")
        #expect(NumberOfBytes(1000).description == "1000")
        #expect(NumberOfBytes(1025).description == "1025")
        #expect("\(NumberOfBytes(4096))" == "4K")
    }

    @Test func formattedAmountsParseBack() {
        for value: UInt64 in [0, 1, 1000, 1024, 1536 * 1024, 2359 * 1024, 1 << 30, (5 << 30) + 4096] {
            #expect(NumberOfBytes(parsing: NumberOfBytes(value).description)?.value == value)
        }
    }

    @Test func quantitiesCompareByAmount() {
        #expect(NumberOfBytes(parsing: "1M")! > NumberOfBytes(parsing: "1023K")!)
        #expect(NumberOfBytes(parsing: "1024K") == NumberOfBytes(parsing: "1M"))
    }

    // ascii_to_unsigned / ascii_to_signed
    @Test func integers() {
        #expect(GenodeNumber.unsigned("150") == 150)
        #expect(GenodeNumber.unsigned("0x20") == 32)
        #expect(GenodeNumber.unsigned("18446744073709551615") == UInt64.max)
        #expect(GenodeNumber.unsigned("18446744073709551616") == nil)
        #expect(GenodeNumber.unsigned("1K") == nil)
        #expect(GenodeNumber.unsigned("+1") == nil)
        #expect(GenodeNumber.signed("-5") == -5)
        #expect(GenodeNumber.signed("+3") == 3)
        #expect(GenodeNumber.signed("-0x10") == -16)
        #expect(GenodeNumber.signed("-9223372036854775808") == Int64.min)
        #expect(GenodeNumber.signed("9223372036854775808") == nil)
        #expect(GenodeNumber.signed("-") == nil)
        #expect(GenodeNumber.signed("") == nil)
    }

    // ascii_to(bool): exactly six spellings
    @Test func booleans() {
        for yes in ["yes", "true", "on"] { #expect(GenodeNumber.bool(yes) == true) }
        for no in ["no", "false", "off"] { #expect(GenodeNumber.bool(no) == false) }
        for neither in ["1", "0", "Yes", "YES", "y", "", "yes "] { #expect(GenodeNumber.bool(neither) == nil) }
    }
}
