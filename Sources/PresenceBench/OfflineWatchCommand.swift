import ArgumentParser
import Foundation
import NIOConcurrencyHelpers

/// `presence-bench offline-watch`: counts every sign that a user who keeps heartbeating was
/// shown offline. On each node it keeps streams open on the watched users (at most
/// `--per-stream` ids each; a stream that ends, as when its node restarts, is opened again and
/// its snapshot counted too) and reads them in batches every `--read-interval` seconds. Every
/// `offline` event and every `offline` read is a false offline, as long as the users'
/// heartbeats (sent by someone else, e.g. `rate`) never stopped. Prints one JSON line.
struct OfflineWatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offline-watch", abstract: "Count offline events and offline reads of heartbeating users on every node.")

    @Option(help: "HTTP ports of the nodes watched, comma-separated.") var ports: String
    @Option(help: "Users watched: <prefix>0 … <prefix>(users-1).") var users: Int = 10_000
    @Option(help: "User id prefix.") var prefix: String = "user"
    @Option(help: "Seconds of watching.") var seconds: Double = 300
    @Option(help: "Users per stream (the API allows 1000).") var perStream: Int = 1000
    @Option(help: "Seconds between two batch reads on a node (each reads the next 1000 users).")
    var readInterval: Double = 1

    private var portList: [Int] { ports.split(separator: ",").compactMap { Int($0) } }

    func validate() throws {
        guard !portList.isEmpty else { throw ValidationError("--ports takes HTTP ports, comma-separated") }
        guard users > 0, (1...1000).contains(perStream), seconds > 0, readInterval > 0 else {
            throw ValidationError("--users, --seconds, --read-interval must be positive; --per-stream 1…1000")
        }
    }

    func run() throws {
        raiseOpenFileLimit()
        let names = (0..<users).map { "\(prefix)\($0)" }
        let chunks = stride(from: 0, to: names.count, by: perStream).map { Array(names[$0..<min($0 + perStream, names.count)]) }
        let counts = NIOLockedValueBox(Dictionary(uniqueKeysWithValues: portList.map { ($0, OfflineWatchCounts(port: $0)) }))
        let examples = NIOLockedValueBox([String]())
        let began = monotonicMicros()
        let deadline = began + seconds * 1e6
        let note: @Sendable (Int, String, Substring) -> Void = { port, kind, evidence in
            examples.withLockedValue {
                guard $0.count < 20 else { return }
                let at = String(format: "%.1f", (monotonicMicros() - began) / 1e6)
                let user = EventFields.userID(in: evidence) ?? "?"
                $0.append(#"{"port":\#(port),"kind":"\#(kind)","at_s":\#(at),"user":"\#(user)"}"#)
            }
        }
        for port in portList {
            for chunk in chunks {
                let watcher = OfflineStreamWatcher(port: port, users: chunk, deadline: deadline)
                Thread { watcher.run(counts: counts, note: note) }.start()
            }
            let reader = OfflineBatchReader(port: port, chunks: chunks, interval: readInterval, deadline: deadline)
            Thread { reader.run(counts: counts, note: note) }.start()
        }
        while monotonicMicros() < deadline { usleep(100_000) }
        let nodes = counts.withLockedValue { current in portList.compactMap { current[$0] } }
        let streamOffline = nodes.map(\.streamOffline).reduce(0, +)
        let readOffline = nodes.map(\.readOffline).reduce(0, +)
        print(
            #"{"seconds":\#(seconds),"users":\#(users),"false_offline":\#(streamOffline + readOffline),"stream_offline_events":\#(streamOffline),"read_offline":\#(readOffline),"nodes":[\#(nodes.map(\.json).joined(separator: ","))],"examples":[\#(examples.withLockedValue { $0 }.joined(separator: ","))]}"#
        )
    }
}
