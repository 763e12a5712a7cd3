import Hummingbird

/// The router's paths and the methods each accepts, to tell "no such path" (404) from "not
/// this method" (405 with `Allow`). Paths match segment by segment; `:name` and `{name}`
/// segments match any one segment, `*` too. Like the router, a constant segment wins over a
/// parameter, so `/api/v2/presence/batch` is matched before `/api/v2/presence/:user_id`.
struct RouteTable: Sendable {
    private enum Segment: Sendable, Equatable {
        case constant(Substring)
        case parameter
    }

    private struct Route: Sendable {
        let segments: [Segment]
        var methods: Set<String>
    }

    private let routes: [Route]

    /// The table of `routes` (the router's `routes`: path and method pairs).
    init(_ routes: [(path: String, method: String)]) {
        var byPath: [String: Route] = [:]
        for (path, method) in routes {
            let segments = path.split(separator: "/").map { segment -> Segment in
                segment.hasPrefix(":") || segment.hasPrefix("{") || segment == "*" ? .parameter : .constant(segment)
            }
            byPath[path, default: Route(segments: segments, methods: [])].methods.insert(method)
        }
        self.routes = Array(byPath.values)
    }

    /// The methods of the route `path` matches, sorted; nil when no route matches.
    func allowedMethods(path: String) -> [String]? {
        let requested = path.split(separator: "/")
        var best: Route?
        for route in routes where Self.matches(route.segments, requested) {
            if let current = best, !Self.isMoreSpecific(route.segments, than: current.segments) { continue }
            best = route
        }
        return best.map { $0.methods.sorted() }
    }

    private static func matches(_ segments: [Segment], _ requested: [Substring]) -> Bool {
        guard segments.count == requested.count else { return false }
        return zip(segments, requested).allSatisfy { segment, part in
            if case .constant(let constant) = segment { return constant == part }
            return true
        }
    }

    /// At the first segment where they differ, `a` has a constant and `b` a parameter.
    private static func isMoreSpecific(_ a: [Segment], than b: [Segment]) -> Bool {
        for (left, right) in zip(a, b) where left != right {
            if case .constant = left, right == .parameter { return true }
            return false
        }
        return false
    }
}
