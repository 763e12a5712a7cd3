/// A request of an open-loop run that got no 2xx answer: which one, what happened instead,
/// and when. Its due time is the schedule's (`index / rate` seconds after the run's start).
struct RateMiss: Sendable {
    /// The request's index in the ``RateSchedule``.
    let index: Int
    /// The HTTP status of a non-2xx answer, or `timeout`, `socket` (the connection closed
    /// before the answer) or `unsent` (no connection was free before the run ended).
    let cause: String
    /// Milliseconds from the scheduled send to the answer (a non-2xx answer only).
    let latencyMs: Double?

    /// One line of JSON: `{"index":…,"cause":"…","latency_ms":…}`.
    var json: String {
        let latency = latencyMs.map { String(format: "%.3f", $0) } ?? "null"
        return #"{"index":\#(index),"cause":"\#(cause)","latency_ms":\#(latency)}"#
    }
}
