import NIOCore

/// When each request of an open-loop run is due, and what it is: request `index` is due at
/// `start + index / rate`, whatever happened to the requests before it (answers that come late
/// never delay the next send). Request `index` goes to user `(firstUser + index) % users`, so at
/// `rate = users / period` every user is sent one request per `period`.
///
/// A run spread over several event loops gives loop `lane` of `lanes` the indices
/// `lane, lane + lanes, lane + 2 * lanes, …`: together they keep the one schedule.
struct RateSchedule: Sendable {
    /// Requests per second offered.
    var rate: Double
    /// How many requests in all (`rate × seconds`).
    var count: Int
    /// When index 0 is due.
    var start: NIODeadline
    /// Users the requests cycle over.
    var users: Int
    /// The user of index 0.
    var firstUser: Int = 0

    init(rate: Double, seconds: Double, start: NIODeadline, users: Int, firstUser: Int = 0) {
        self.rate = rate
        self.count = max(0, Int((rate * seconds).rounded()))
        self.start = start
        self.users = max(1, users)
        self.firstUser = firstUser
    }

    /// The moment request `index` is due.
    func due(_ index: Int) -> NIODeadline {
        start + .nanoseconds(Int64((Double(index) * 1e9 / rate).rounded()))
    }

    /// The user number of request `index`.
    func user(_ index: Int) -> Int { (firstUser + index) % users }

    /// The indices one of `lanes` event loops sends: `lane`, `lane + lanes`, ….
    func indices(lane: Int, lanes: Int) -> StrideTo<Int> { stride(from: lane, to: count, by: max(1, lanes)) }

    /// Seconds the schedule spans.
    var seconds: Double { Double(count) / rate }
}
