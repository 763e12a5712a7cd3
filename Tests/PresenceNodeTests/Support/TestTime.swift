import Foundation

/// How much slower than usual this test run is allowed to be.
///
/// `PRESENCE_TEST_TIME_SCALE` (default 1) multiplies the upper bounds of time the integration
/// tests allow (a bound on how fast something must happen, or how long to wait for it). `make
/// tsan` sets it, because ThreadSanitizer makes every process several times slower: the timing
/// claims are checked at scale 1 by `make test`, and the TSan run checks everything else.
enum TestTime {
    static let scale: Double = {
        guard let text = ProcessInfo.processInfo.environment["PRESENCE_TEST_TIME_SCALE"],
            let value = Double(text), value >= 1
        else { return 1 }
        return value
    }()
}

extension Duration {
    /// This bound, stretched by ``TestTime/scale``.
    var scaled: Duration { self * TestTime.scale }
}

/// What kind of test run this is.
enum TestRun {
    /// `make tsan` sets `PRESENCE_TEST_SANITIZER=thread`: ThreadSanitizer's allocator keeps what
    /// the program frees, so a process's resident memory says nothing about the program's there
    /// (`make test` checks the memory bounds).
    static let underThreadSanitizer = ProcessInfo.processInfo.environment["PRESENCE_TEST_SANITIZER"] == "thread"
}
