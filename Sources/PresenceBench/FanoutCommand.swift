import ArgumentParser
import Foundation
import NATSClient
import PresenceCore
import NIOConcurrencyHelpers
import Synchronization

/// `presence-bench fanout`: N open streams (one user each), every user updated once a
/// second straight in the bucket, the writes spread evenly over each second (in `slices`
/// groups, as real users' updates arrive, not in one burst); reports the delivery delay
/// (arrival − the record's updated_at) and the node's resident memory.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fanout", abstract: "Measure SSE fan-out delay.")

    @Option(help: "HTTP port of the node holding the streams.") var port: Int
    @Option(help: "NATS URL of the center (updates are written there).") var nats: String
    @Option(help: "Pid of the node, for its resident memory.") var pid: Int32?
    @Option(help: "Open streams (one user each).") var streams: Int = 5000
    @Option(help: "Seconds of updates.") var seconds: Int = 10
    @Option(help: "Groups each second's updates are spread over (1: one burst a second).") var slices: Int = 50

    func run() async throws {
        raiseOpenFileLimit()

        let users = (0..<streams).map { "fan\($0)" }
        let connection = try await NATSConnection.connect(options: .init(urls: [nats], name: "presence-bench-fanout"))
        let js = try connection.jetStream(domain: nil, timeout: .seconds(10), publishing: .bulk)
        let bucket = try await js.keyValue(.init(bucket: "presence"))
        try await write(users, to: bucket, js: js)  // every user exists before the streams open

        var sockets: [LoopbackSocket] = []
        for user in users {
            let socket = try LoopbackSocket(port: port)
            try socket.send("GET /api/v2/presence/stream?users=\(user) HTTP/1.1\r\nHost: x\r\n\r\n")
            sockets.append(socket)
        }
        let descriptors = sockets.map(\.descriptor)
        let delays = NIOLockedValueBox([Double]())
        let received = Atomic(0)
        let measuring = Atomic(false)
        let stop = Atomic(false)
        let reader = Thread {
            var polls = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while !stop.load(ordering: .relaxed) {
                let ready = poll(&polls, nfds_t(polls.count), 100)
                guard ready > 0 else { continue }
                let now = wallMillis()
                var batch: [Double] = []
                for index in polls.indices where polls[index].revents & Int16(POLLIN) != 0 {
                    polls[index].revents = 0
                    let count = read(polls[index].fd, &chunk, chunk.count)
                    guard count > 0 else { continue }
                    let text = String(decoding: chunk[0..<count], as: UTF8.self)
                    guard measuring.load(ordering: .relaxed) else { continue }
                    for line in text.split(separator: "\n") where line.hasPrefix("data: ") {
                        guard let stamp = EventFields.updatedAt(in: line), let written = Timestamp(rfc3339: stamp)
                        else { continue }
                        batch.append(now - Double(written.millisecondsSinceEpoch))
                    }
                }
                if !batch.isEmpty {
                    received.add(batch.count, ordering: .relaxed)
                    delays.withLockedValue { $0.append(contentsOf: batch) }
                }
            }
        }
        reader.start()
        try await Task.sleep(for: .seconds(2))  // let every stream deliver its snapshot
        measuring.store(true, ordering: .relaxed)
        let rssBefore = pid.map(residentKiB) ?? 0
        var peakRSS = rssBefore
        let slices = max(1, min(self.slices, users.count))
        let began = monotonicMicros()
        for slot in 0..<(seconds * slices) {
            let due = began + Double(slot) * 1e6 / Double(slices)
            let wait = due - monotonicMicros()
            if wait > 0 { try await Task.sleep(for: .microseconds(Int(wait))) }
            let slice = slot % slices
            let lower = users.count * slice / slices
            let upper = users.count * (slice + 1) / slices
            try await write(Array(users[lower..<upper]), to: bucket, js: js)
            if slice == 0 { peakRSS = max(peakRSS, pid.map(residentKiB) ?? 0) }
        }
        try await Task.sleep(for: .seconds(1))
        stop.store(true, ordering: .relaxed)
        let sample = Percentiles(delays.withLockedValue { $0 })
        let expected = streams * seconds
        print(
            #"{"streams":\#(streams),"updates_per_second":\#(streams),"slices_per_second":\#(slices),"seconds":\#(seconds),"expected_events":\#(expected),"received_events":\#(received.load(ordering: .relaxed)),"delay_p50_ms":\#(sample.at(0.5)),"delay_p99_ms":\#(sample.at(0.99)),"delay_max_ms":\#(sample.at(1)),"node_rss_kib":\#(peakRSS)}"#
        )
        withExtendedLifetime(sockets) {}
    }

    private func write(_ users: [String], to bucket: KeyValueBucket, js: JetStream) async throws {
        try await bucket.putWithoutWaiting { put in
            for user in users {
                let now = Timestamp.now()  // per record: the delay is measured from each write
                let id = try UserID(validating: user)
                let record = PresenceRecord(
                    userID: id, status: .online, message: "at \(now.millisecondsSinceEpoch)", lastSeen: now,
                    updatedAt: now, nodeID: "bench", ttl: 300, revision: 0)
                try put(UserKeyCodec.key(for: id), PresenceJSON.encodeValue(record))
            }
        }
        try await js.waitForAsyncPublishes(timeout: .seconds(30))
    }
}

/// Resident memory of a process in KiB (Linux /proc).
func residentKiB(_ pid: Int32) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
    return 0
}
