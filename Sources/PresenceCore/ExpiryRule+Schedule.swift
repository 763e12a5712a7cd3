extension ExpiryRule {
    /// Whether a moment (a record's next change, the end of its retention) has come by `now`;
    /// nil never comes.
    @inlinable
    public static func hasComeBy(_ moment: Timestamp?, now: Timestamp) -> Bool {
        guard let moment else { return false }
        return now >= moment
    }

    /// The moment a record last written at `lastWrittenMillis` is due to be dropped, under
    /// `presence.retention` of `retentionSeconds`.
    @inlinable
    public static func retainedUntil(lastWrittenMillis: Int64, retentionSeconds: Int) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: lastWrittenMillis + Int64(retentionSeconds) * 1000)
    }
}
