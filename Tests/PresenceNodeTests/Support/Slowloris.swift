import EmbeddedNATS
import Foundation
import NIOConcurrencyHelpers

/// A slowloris attacker on a thread of its own: keeps `connections` non-blocking sockets open
/// to 127.0.0.1:`port`, each trickling one byte of a never-ending request head per
/// `byteInterval`, and opens a new one whenever the server closes one.
final class Slowloris: Sendable {
    struct Statistics: Sendable {
        /// Connections opened, in total.
        var opened = 0
        /// Connections the server closed (EOF or reset).
        var cutByServer = 0
    }

    private let port: Int
    private let connections: Int
    private let byteInterval: Duration
    private let stopped = NIOLockedValueBox(false)
    private let finished = NIOLockedValueBox(false)
    private let statistics = NIOLockedValueBox(Statistics())

    init(port: Int, connections: Int, byteInterval: Duration = .seconds(1)) {
        self.port = port
        self.connections = connections
        self.byteInterval = byteInterval
    }

    var stats: Statistics { statistics.withLockedValue { $0 } }

    func start() {
        let thread = Thread { [self] in run() }
        thread.start()
    }

    /// Stops the attack and waits until every socket is closed.
    func stop() async {
        stopped.withLockedValue { $0 = true }
        while !finished.withLockedValue({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
    }

    private struct Slot {
        var descriptor: Int32 = -1
        var sent = 0
        var nextByte = ContinuousClock.now
    }

    /// The request head, then header bytes forever: a head that never completes.
    private static let prefix = Array("GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8)

    private func run() {
        var slots = [Slot](repeating: Slot(), count: connections)
        let clock = ContinuousClock()
        while !stopped.withLockedValue({ $0 }) {
            let now = clock.now
            for index in slots.indices {
                if slots[index].descriptor < 0 {
                    slots[index] = Slot(descriptor: openSocket(), sent: 0, nextByte: now)
                    if slots[index].descriptor >= 0 { statistics.withLockedValue { $0.opened += 1 } }
                    continue
                }
                if serverClosed(slots[index].descriptor) {
                    close(slots[index].descriptor)
                    slots[index].descriptor = -1
                    statistics.withLockedValue { $0.cutByServer += 1 }
                    continue
                }
                guard now >= slots[index].nextByte else { continue }
                var byte = slots[index].sent < Self.prefix.count ? Self.prefix[slots[index].sent] : UInt8(ascii: "a")
                let count = RawConnection.sendNoSignal(slots[index].descriptor, &byte, 1)
                if count == 1 {
                    slots[index].sent += 1
                    slots[index].nextByte = now + byteInterval
                } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN && errno != EINPROGRESS {
                    close(slots[index].descriptor)
                    slots[index].descriptor = -1
                    statistics.withLockedValue { $0.cutByServer += 1 }
                }
            }
            usleep(50_000)
        }
        for slot in slots where slot.descriptor >= 0 { close(slot.descriptor) }
        finished.withLockedValue { $0 = true }
    }

    /// A non-blocking socket with a connect under way, or -1.
    private func openSocket() -> Int32 {
        (try? Loopback.connect(port: port, blocking: false)) ?? -1
    }

    /// Whether the server closed or reset the connection (a read sees EOF or an error).
    private func serverClosed(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
        if count == 0 { return true }
        if count < 0 { return errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN && errno != EINPROGRESS }
        return false
    }
}
