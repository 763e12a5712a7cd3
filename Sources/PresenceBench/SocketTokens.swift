import PresenceAuth

/// Pre-signed HS256 tokens for bench sockets, one per user `<prefix><n>`, signed before any
/// socket connects (100,000 take a few seconds) on a few issuers at once.
enum SocketTokens {
    static func sign(prefix: String, numbers: Range<Int>, secret: String, lifetime: Int, issuers: Int = 2)
        async throws -> [String]
    {
        let lanes = max(1, issuers)
        let chunks = (0..<lanes).map { lane in
            numbers.lowerBound + numbers.count * lane / lanes..<numbers.lowerBound + numbers.count * (lane + 1) / lanes
        }
        return try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for (lane, chunk) in chunks.enumerated() {
                group.addTask {
                    let issuer = await TokenIssuer(secret: secret)
                    var tokens: [String] = []
                    tokens.reserveCapacity(chunk.count)
                    for number in chunk {
                        tokens.append(try await issuer.token(subject: "\(prefix)\(number)", lifetime: lifetime))
                    }
                    return (lane, tokens)
                }
            }
            var byLane = [[String]](repeating: [], count: lanes)
            for try await (lane, tokens) in group { byLane[lane] = tokens }
            return byLane.flatMap { $0 }
        }
    }
}
