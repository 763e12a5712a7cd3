import Testing
@testable import PresenceCore

@Suite("Timestamp RFC 3339 formatting and parsing")
struct TimestampTests {
    @Test("known values", arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (999, "1970-01-01T00:00:00.999Z"),
        (1_000, "1970-01-01T00:00:01.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-1_000, "1969-12-31T23:59:59.000Z"),
        (-1_001, "1969-12-31T23:59:58.999Z"),
        (951_782_400_123, "2000-02-29T00:00:00.123Z"),
        (951_868_800_000, "2000-03-01T00:00:00.000Z"),
        (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
        (1_795_255_200_000, "2026-11-21T10:00:00.000Z"),
        (1_795_255_200_123, "2026-11-21T10:00:00.123Z"),
        (1_798_761_599_999, "2026-12-31T23:59:59.999Z"),
        (-2_203_891_200_000, "1900-03-01T00:00:00.000Z"),
        (-11_670_953_103_211, "1600-02-29T12:34:56.789Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ])
    func knownValues(millis: Int64, text: String) throws {
        let stamp = Timestamp(millisecondsSinceEpoch: millis)
        #expect(stamp.rfc3339 == text)
        #expect(stamp.description == text)
        let parsed = try #require(Timestamp(rfc3339: text))
        #expect(parsed.millisecondsSinceEpoch == millis)
    }

    @Test func roundTripOfManyValues() {
        var rng = SplitMix64(seed: 2026)
        let lowest: Int64 = -62_167_219_200_000  // 0000-01-01T00:00:00.000Z
        let highest: Int64 = 253_402_300_799_999  // 9999-12-31T23:59:59.999Z
        var values: [Int64] = [lowest, highest, -1, 0, 1, 86_399_999, 86_400_000, -86_400_000, -86_400_001]
        for _ in 0..<20_000 { values.append(Int64.random(in: lowest...highest, using: &rng)) }
        // Around every 1 March and 1 January from 1896 to 2104, leap years and centuries included.
        for year in 1896...2104 {
            for (month, day) in [(1, 1), (3, 1)] {
                let midnight = Int64(Timestamp.daysSinceEpoch(year: year, month: month, day: day)) * 86_400_000
                values += [midnight - 1, midnight, midnight + 1]
            }
        }
        for millis in values {
            let text = Timestamp(millisecondsSinceEpoch: millis).rfc3339
            #expect(text.utf8.count == 24, "\(millis) → \(text)")
            #expect(Timestamp(rfc3339: text)?.millisecondsSinceEpoch == millis, "\(millis) → \(text)")
        }
    }

    @Test func leapDaysFormatCorrectly() {
        for year in [1600, 1904, 1996, 2000, 2024, 2028, 2400] {
            let days = Timestamp.daysSinceEpoch(year: year, month: 2, day: 29)
            let text = Timestamp(millisecondsSinceEpoch: Int64(days) * 86_400_000).rfc3339
            #expect(text == "\(year)-02-29T00:00:00.000Z")
        }
        for year in [1700, 1800, 1900, 2100, 2023, 2026] {
            // The day after 28 February of a common year is 1 March.
            let days = Timestamp.daysSinceEpoch(year: year, month: 2, day: 28) + 1
            let text = Timestamp(millisecondsSinceEpoch: Int64(days) * 86_400_000).rfc3339
            #expect(text == "\(year)-03-01T00:00:00.000Z")
        }
    }

    @Test func textOrderMatchesTimeOrder() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let a = Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &rng)
            let b = Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &rng)
            let (x, y) = (Timestamp(millisecondsSinceEpoch: a), Timestamp(millisecondsSinceEpoch: b))
            #expect((x < y) == (x.rfc3339 < y.rfc3339))
        }
    }

    @Test("malformed strings give nil", arguments: [
        "",
        "2026-11-21T10:00:00Z",  // no milliseconds
        "2026-11-21T10:00:00.00Z",  // two fractional digits
        "2026-11-21T10:00:00.0000Z",  // four fractional digits
        "2026-11-21T10:00:00.000",  // no zone
        "2026-11-21T10:00:00.000+00:00",  // offset instead of Z
        "2026-11-21T10:00:00.000z",
        "2026-11-21t10:00:00.000Z",
        "2026-11-21 10:00:00.000Z",
        "2026/11/21T10:00:00.000Z",
        "26-11-21T10:00:00.000Z",
        "+2026-11-21T10:00:00.000Z",
        " 2026-11-21T10:00:00.000Z",
        "2026-11-21T10:00:00.000Z ",
        "2026-1a-21T10:00:00.000Z",
        "2026-11-21T10:00:00.-01Z",
        "-026-11-21T10:00:00.000Z",
        "2026-00-21T10:00:00.000Z",  // month 0
        "2026-13-21T10:00:00.000Z",  // month 13
        "2026-11-00T10:00:00.000Z",  // day 0
        "2026-11-32T10:00:00.000Z",  // day 32
        "2026-11-21T24:00:00.000Z",
        "2026-11-21T10:60:00.000Z",
        "2026-11-21T10:00:60.000Z",
        "２０２６-11-21T10:00:00.000Z",  // full-width digits
        "not a timestamp at all!!",
    ])
    func malformed(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test("impossible calendar dates give nil", arguments: [
        "2023-02-29T00:00:00.000Z",  // 2023 is not a leap year
        "1900-02-29T00:00:00.000Z",  // 1900 is not a leap year
        "2026-02-30T00:00:00.000Z",
        "2026-04-31T00:00:00.000Z",  // April has 30 days
        "2026-06-31T00:00:00.000Z",
        "2026-09-31T00:00:00.000Z",
        "2026-11-31T00:00:00.000Z",
    ])
    func impossibleDates(text: String) {
        // `init?(rfc3339:)` promises to parse only the form `rfc3339` writes; these are not RFC 3339
        // dates (RFC 3339 §5.7) and `rfc3339` never writes them.
        #expect(Timestamp(rfc3339: text) == nil, "\(text) parsed as \(Timestamp(rfc3339: text).map(\.rfc3339) ?? "nil")")
    }

    @Test func arithmeticAndOrder() {
        #expect(t0.adding(seconds: 10).millisecondsSinceEpoch == t0.millisecondsSinceEpoch + 10_000)
        #expect(t0.adding(seconds: -1).millisecondsSinceEpoch == t0.millisecondsSinceEpoch - 1_000)
        #expect(t0.adding(seconds: 0) == t0)
        #expect(t0 < t0.adding(seconds: 1))
        #expect(!(t0 < t0))
        #expect(at(t0, plusMillis: 1) > t0)
        #expect(Timestamp(millisecondsSinceEpoch: -5) < Timestamp(millisecondsSinceEpoch: 0))
    }

    @Test func nowIsAPlausibleWallClockTime() {
        let now = Timestamp.now()
        // After 2024-01-01 and before 2100-01-01: a sanity check of units (milliseconds, not seconds or µs).
        #expect(now.millisecondsSinceEpoch > 1_704_067_200_000)
        #expect(now.millisecondsSinceEpoch < 4_102_444_800_000)
        #expect(Timestamp(rfc3339: now.rfc3339) == now)
    }
}
