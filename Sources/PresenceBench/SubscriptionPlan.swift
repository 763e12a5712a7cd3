/// Whom each bench socket subscribes to (users `<targetPrefix><n>`).
enum SubscriptionPlan: Sendable {
    /// Nobody.
    case none
    /// Socket `n` takes the `count` users after its own in a ring of `population`: each user
    /// then has exactly `count` subscribers.
    case ring(count: Int, population: Int)
    /// Socket `n` takes users `(n - first) * size ..< (n - first + 1) * size`, below `total`
    /// (watchers, each over a block of watched users).
    case blocks(size: Int, total: Int, first: Int)

    /// The user numbers socket `number` subscribes to.
    func targets(of number: Int) -> [Int] {
        switch self {
        case .none:
            return []
        case .ring(let count, let population):
            let count = min(count, population - 1)
            guard count > 0 else { return [] }
            return (1...count).map { (number + $0) % population }
        case .blocks(let size, let total, let first):
            let lower = (number - first) * size
            return lower >= 0 && lower < total ? Array(lower..<min(total, lower + size)) : []
        }
    }
}
