import ArgumentParser
import Foundation
import NIOCore

/// `presence-bench sockets-offline`: time-to-offline of connected users, seen on another node
/// (issue 26). Watcher sockets on `--watch-port` subscribe to users `<prefix>0 …` and wait until
/// each shows online; then the users' sockets go away, and each user's first `offline` event
/// on the watchers is timed from when its socket went:
///   close   sockets of this process (on `--port`) send close frames, one after another over
///           `--spread` seconds; each is timed from its own close frame;
///   silent  sockets of this process stop answering pings, all at once;
///   stop    the process `--victim-pid` (e.g. `presence-bench sockets --hold`, holding the
///           users' sockets) is stopped with SIGSTOP, and killed at the end.
/// Prints one JSON line.
struct SocketsOfflineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sockets-offline", abstract: "Time-to-offline on another node after a close or a vanished client.")

    enum Mode: String, ExpressibleByArgument, CaseIterable { case close, silent, stop }

    @OptionGroup var client: SocketOptions
    @Option(help: "How the users' sockets go away: close, silent or stop.") var mode: Mode
    @Option(help: "HTTP port of the node the users' sockets connect to (close, silent).") var port: Int?
    @Option(help: "HTTP port of the node the watchers connect to (another node).") var watchPort: Int
    @Option(help: "The process holding the users' sockets (stop).") var victimPid: Int32?
    @Option(help: "How many users.") var users: Int = 200
    @Option(help: "User id prefix of the users.") var prefix: String = "gone"
    @Option(help: "Seconds over which the close frames are spread (close).") var spread: Double = 5
    @Option(help: "The nodes' service.ws.ping_interval, seconds (for the bound).") var pingInterval: Double = 20
    @Option(help: "The nodes' service.ws.pong_timeout, seconds (for the bound).") var pongTimeout: Double = 10
    @Option(help: "Seconds to wait past the bound (or the last close) for the offline events.") var patience: Double = 15

    /// Users one watcher subscribes to, in one `subscribe`: its frame must stay under the
    /// server's 4 KiB (1000 ids, `service.ws.max_subscriptions`, would not fit in one).
    static let usersPerWatcher = 200

    func validate() throws {
        guard users > 0 else { throw ValidationError("--users must be positive") }
        switch mode {
        case .close, .silent: guard port != nil else { throw ValidationError("--mode \(mode) needs --port") }
        case .stop: guard victimPid != nil else { throw ValidationError("--mode stop needs --victim-pid") }
        }
    }

    func run() async throws {
        raiseOpenFileLimit()
        var victims: SocketFleets?
        if mode != .stop, let port {
            let settings = try await client.settings(
                port: port, prefix: prefix, numbers: 0..<users, plan: .none, targetPrefix: prefix)
            let fleets = try await SocketFleets.make(settings: settings, threads: client.threads)
            try await fleets.connect(Array(0..<users), window: client.window)
            victims = fleets
        }
        let victimTally = try await victims?.tally()

        let watcherCount = (users + Self.usersPerWatcher - 1) / Self.usersPerWatcher
        let watcherSettings = try await client.settings(
            port: watchPort, prefix: "\(prefix)-watcher", numbers: 0..<watcherCount,
            plan: .blocks(size: Self.usersPerWatcher, total: users, first: 0), targetPrefix: prefix)
        let watchers = try await SocketFleets.make(settings: watcherSettings, threads: 1)
        _ = try await watchers.each { $0.beginWatch(prefix: prefix, users: users) }
        try await watchers.connect(Array(0..<watcherCount), window: watcherCount)
        try await watchers.subscribe(window: watcherCount)
        let onlineBy = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < onlineBy, try await seenOnline(watchers) < users {
            try await Task.sleep(for: .milliseconds(50))
        }
        let online = try await seenOnline(watchers)
        progressLine("\(online) of \(users) users seen online on port \(watchPort); \(mode)")

        _ = try await watchers.each { $0.arm() }
        var wentAt = [Double](repeating: .nan, count: users)
        let bound = (pingInterval + pongTimeout) * 1000 + 1000
        let waitUntil: Double
        switch mode {
        case .close:
            let began = ContinuousClock.now
            for number in 0..<users {
                try await Task.sleep(until: began + .seconds(spread * Double(number) / Double(users)), clock: .continuous)
                let closes = try await victims?.each { $0.close(number: number) } ?? []
                wentAt[number] = closes.compactMap { $0 }.first ?? .nan
            }
            waitUntil = wallMillis() + patience * 1000
        case .silent:
            let at = wallMillis()
            _ = try await victims?.each { $0.silence() }
            wentAt = Array(repeating: at, count: users)
            waitUntil = at + bound + patience * 1000
        case .stop:
            let at = wallMillis()
            if let victimPid { kill(victimPid, SIGSTOP) }
            wentAt = Array(repeating: at, count: users)
            waitUntil = at + bound + patience * 1000
        }
        while wallMillis() < waitUntil, try await offlineCount(watchers) < users {
            try await Task.sleep(for: .milliseconds(20))
        }
        if mode == .stop, let victimPid { kill(victimPid, SIGKILL) }

        var watch = WatchTally(users: users)
        for tally in try await watchers.each({ $0.watchTally() }) { if let tally { watch.merge(tally) } }
        let delays = (0..<users).compactMap { number -> Double? in
            let seen = watch.offlineAt[number]
            return seen.isNaN || wentAt[number].isNaN ? nil : seen - wentAt[number]
        }
        let sample = Percentiles(delays)
        var report: [String: Any] = [
            "mode": mode.rawValue, "users": users, "seen_online": online, "offline_events": delays.count,
            "missing": users - delays.count, "offline_before": watch.offlineBeforeArmed,
            "repeated_offline_events": watch.offlineEvents - delays.count,
            "p50_ms": rounded(sample.at(0.5)), "p99_ms": rounded(sample.at(0.99)), "max_ms": rounded(sample.at(1)),
            "min_ms": rounded(sample.at(0)), "over_1s": delays.filter { $0 > 1000 }.count,
            "ping_interval_s": pingInterval, "pong_timeout_s": pongTimeout,
        ]
        if mode == .close { report["spread_s"] = spread }
        if mode != .close { report["bound_ms"] = bound }
        if let victimTally {
            report["victims_welcomed"] = victimTally.welcomed
            report["victims_failures"] = victimTally.failures
        }
        let watcherTally = try await watchers.tally()
        report["watchers"] = watcherCount
        report["watchers_welcomed"] = watcherTally.welcomed
        report["watchers_lost"] = watcherTally.lostAfterWelcome
        try printJSONLine(report)
        await watchers.shutdown()
        await victims?.shutdown()
    }

    private func seenOnline(_ watchers: SocketFleets) async throws -> Int {
        try await watchers.each { $0.watchTally()?.seenOnline.reduce(0) { $0 + ($1 ? 1 : 0) } ?? 0 }.reduce(0, +)
    }

    private func offlineCount(_ watchers: SocketFleets) async throws -> Int {
        try await watchers.each { $0.watchTally()?.offlineAt.reduce(0) { $0 + ($1.isNaN ? 0 : 1) } ?? 0 }.reduce(0, +)
    }
}
