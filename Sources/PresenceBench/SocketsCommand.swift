import ArgumentParser
import Foundation
import NIOCore

/// `presence-bench sockets`: N authenticated WebSockets on one node (issue 26). Each socket is
/// user `<prefix><n>` with its own token; it says hello (a durable session start), then
/// subscribes to the `subscriptions` users after it in a ring (each user has that many
/// subscribers), answers pings and stays. Reports the connect rate (welcomes per second), every
/// socket not welcomed (by reason), the node's resident memory per idle socket (`--pid`) and,
/// with `--fanout-port`, the delivery of an open-loop stream of changes (PUTs on that node)
/// to the subscribed sockets. Prints one JSON line; with `--hold` then keeps the sockets until
/// it is killed.
struct SocketsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sockets", abstract: "Open N WebSockets on a node; connect rate, memory per socket, fan-out delivery.")

    @OptionGroup var client: SocketOptions
    @Option(help: "HTTP port of the node the sockets connect to.") var port: Int
    @Option(help: "How many sockets.") var connections: Int = 1000
    @Option(help: "User id prefix of the sockets (socket n is user <prefix>n, session s1).") var prefix: String = "ws"
    @Option(help: "Users each socket subscribes to (the ones after its own, in a ring).") var subscriptions: Int = 20
    @Option(help: "Pid of the node, for its resident memory (VmRSS) before and after.") var pid: Int32?
    @Option(help: "Seconds the sockets stay idle before the node's memory is read.") var settle: Double = 5
    @Option(help: "HTTP port of the node the fan-out changes are written to (none: no fan-out).")
    var fanoutPort: Int?
    @Option(help: "An admin token for the changes.") var fanoutToken: String?
    @Option(help: "Changes per second, spread evenly over each second (open loop).") var fanoutRate: Double = 5000
    @Option(help: "Seconds of changes.") var fanoutSeconds: Double = 10
    @Option(help: "Seconds to wait for deliveries after the last change's answer.") var fanoutDrain: Double = 5
    @Option(help: "Keep-alive connections for the changes, at most.") var fanoutConnections: Int = 512
    @Flag(help: "After printing, keep the sockets open until the process is killed.") var hold = false

    func validate() throws {
        guard connections > 0, subscriptions >= 0, settle >= 0 else {
            throw ValidationError("--connections must be positive, --subscriptions and --settle not negative")
        }
        guard fanoutPort == nil || fanoutToken != nil else { throw ValidationError("--fanout-port needs --fanout-token") }
        guard fanoutRate > 0, fanoutSeconds > 0, fanoutConnections > 0 else {
            throw ValidationError("--fanout-rate, --fanout-seconds and --fanout-connections must be positive")
        }
    }

    func run() async throws {
        raiseOpenFileLimit()
        var report: [String: Any] = ["connections": connections, "subscriptions_per_socket": subscriptions]
        let signing = ContinuousClock.now
        let settings = try await client.settings(
            port: port, prefix: prefix, numbers: 0..<connections,
            plan: subscriptions > 0 ? .ring(count: subscriptions, population: connections) : .none, targetPrefix: prefix)
        report["token_signing_seconds"] = seconds(since: signing)
        let fleets = try await SocketFleets.make(settings: settings, threads: client.threads)
        let rssBefore = pid.map(residentKiB)

        progressLine("connecting \(connections) sockets to port \(port)")
        let connecting = ContinuousClock.now
        report["connect_started_at_ms"] = wallMillis().rounded()
        let (everyone, window) = (Array(0..<connections), client.window)
        try await watchProgress(fleets) { try await fleets.connect(everyone, window: window) }
        report["connect_seconds"] = seconds(since: connecting)
        let connected = try await fleets.tally()
        report.merge(Self.connectFigures(connected)) { $1 }
        let rssConnected = pid.map(residentKiB)

        if subscriptions > 0 {
            progressLine("subscribing")
            let subscribing = ContinuousClock.now
            try await watchProgress(fleets) { try await fleets.subscribe(window: window) }
            report["subscribe_seconds"] = seconds(since: subscribing)
        }
        try await Task.sleep(for: .seconds(settle))
        let idle = try await fleets.tally()
        report.merge(Self.holdFigures(idle)) { $1 }
        if let pid, let before = rssBefore, let connectedRSS = rssConnected {
            let after = residentKiB(pid)
            report["rss_before_kib"] = before
            report["rss_after_connect_kib"] = connectedRSS
            report["rss_after_subscribe_kib"] = after
            report["rss_per_connection_kib"] = Self.per(after - before, idle.open)
            report["rss_per_connection_before_subscribe_kib"] = Self.per(connectedRSS - before, connected.welcomed)
        }

        if let fanoutPort, let fanoutToken {
            progressLine("fan-out: \(fanoutRate) changes/s for \(fanoutSeconds) s on port \(fanoutPort)")
            let run = SocketFanout(
                port: fanoutPort, token: fanoutToken, prefix: prefix, population: connections, rate: fanoutRate,
                seconds: fanoutSeconds, drain: fanoutDrain, connections: fanoutConnections, plan: settings.plan)
            report["fanout"] = try await run.measure(fleets)
            let after = try await fleets.tally()
            report["open_after_fanout"] = after.open
            report["lost_after_welcome"] = after.lostAfterWelcome
            report["pings_answered"] = after.pingsAnswered
        }
        try printJSONLine(report)
        if hold {
            progressLine("holding the sockets until killed")
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        await fleets.shutdown()
    }

    /// Runs `step`, writing progress to stderr every second meanwhile.
    private func watchProgress(_ fleets: SocketFleets, _ step: @escaping @Sendable () async throws -> Void)
        async throws
    {
        let progress = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                let now = try await fleets.progress()
                progressLine("started \(now.started), welcomed \(now.welcomed), failed \(now.failed), subscribed \(now.subscribed)")
            }
        }
        defer { progress.cancel() }
        try await step()
    }

    static func connectFigures(_ tally: SocketTally) -> [String: Any] {
        let latencies = Percentiles(tally.welcomeLatenciesMs)
        let seconds = tally.lastWelcomeMs / 1000
        return [
            "started": tally.started, "welcomed": tally.welcomed, "failed": tally.failed, "failures": tally.failures,
            "connects_per_second": seconds > 0 ? round(Double(tally.welcomed) / seconds) : 0,
            "last_welcome_seconds": round(seconds * 1000) / 1000,
            "welcomes_by_second": tally.welcomesBySecond,
            "peak_connects_per_second": tally.welcomesBySecond.max() ?? 0,
            "welcome_p50_ms": rounded(latencies.at(0.5)), "welcome_p99_ms": rounded(latencies.at(0.99)),
            "welcome_max_ms": rounded(latencies.at(1)),
        ]
    }

    static func holdFigures(_ tally: SocketTally) -> [String: Any] {
        [
            "subscribed": tally.subscribed, "subscribe_failures": tally.subscribeFailures,
            "presence_frames": tally.presenceFrames, "open": tally.open, "lost_after_welcome": tally.lostAfterWelcome,
            "pings_answered": tally.pingsAnswered,
        ]
    }

    private static func per(_ kib: Int, _ count: Int) -> Any {
        count > 0 ? rounded(Double(kib) / Double(count)) : NSNull()
    }
}

/// A JSON number rounded to three decimals (NSNull for NaN: no sample).
func rounded(_ value: Double) -> Any {
    value.isFinite ? (value * 1000).rounded() / 1000 : NSNull()
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return ((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1000).rounded() / 1000
}

/// One JSON line on stdout, written at once (a process that then holds its sockets is read
/// while it runs).
func printJSONLine(_ object: [String: Any]) throws {
    var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    data.append(0x0A)
    FileHandle.standardOutput.write(data)
}

/// A progress line on stderr (stdout carries the JSON).
func progressLine(_ line: String) {
    FileHandle.standardError.write(Data("[presence-bench] \(line)\n".utf8))
}
