import NIOCore
import NIOHTTP1
import NIOPosix

/// One event loop's share of an open-loop run. It sends each of its requests at the moment
/// the ``RateSchedule`` says, on a free keep-alive connection, or on a new one when none is
/// free (up to ``RateClientSettings/maxConnections``), so that a slow answer never delays the
/// next send; it never waits for answers before sending. Every method runs on `eventLoop`.
final class RateLoop {
    private let eventLoop: any EventLoop
    private let schedule: RateSchedule
    private let shape: RateRequestShape
    private let settings: RateClientSettings
    private let lanes: Int
    private var bootstrap: ClientBootstrap?

    /// The next index of this lane to send.
    private var next: Int
    private var idle: [RateConnection] = []
    private var open: [ObjectIdentifier: RateConnection] = [:]
    private var connecting = 0
    private var connectionNumber = 0
    /// Requests due but not yet sent: no connection was free.
    private var waiting = CircularBuffer<Int>()
    private var tally = RateTally()
    private var drainDeadline: NIODeadline?
    private var finished = false
    private let promise: EventLoopPromise<RateTally>
    /// The shortest sleep between two rounds of sends: every wake-up costs a timer and an
    /// epoll round trip, so at 10,000/s the requests go out in twos and threes, at most this
    /// late (and their latency, measured from the schedule, counts it).
    private static let tickSpacing: TimeAmount = .microseconds(200)

    init(
        eventLoop: any EventLoop, schedule: RateSchedule, shape: RateRequestShape, settings: RateClientSettings,
        lane: Int, lanes: Int
    ) {
        self.eventLoop = eventLoop
        self.schedule = schedule
        self.shape = shape
        self.settings = settings
        self.lanes = max(1, lanes)
        self.next = lane
        self.promise = eventLoop.makePromise()
    }

    /// Opens the warm connections, sends every request of this lane on time, waits for the
    /// answers (each at most the timeout), closes everything and returns what it saw.
    func run() -> EventLoopFuture<RateTally> {
        eventLoop.preconditionInEventLoop()
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let portRange = settings.localPorts.map(LocalPortRange.init(ports:))
        bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(LocalPortRange.bindWithoutPort, value: 1)
            .connectTimeout(settings.timeout)
            .channelInitializer { channel in
                let ports = portRange?.apply(to: channel) ?? channel.eventLoop.makeSucceededVoidFuture()
                return ports.flatMapThrowing {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(RateConnection(loop: bound.value))
                }
            }
        for _ in 0..<min(settings.warmConnections, settings.maxConnections) { connect() }
        let isolated = eventLoop.assumeIsolated()
        isolated.scheduleTask(deadline: schedule.due(next)) { self.tick() }
        isolated.scheduleTask(in: .milliseconds(50)) { self.sweep() }
        return promise.futureResult
    }

    /// Sends every request that is due, then sleeps until the next one is.
    private func tick() {
        let now = NIODeadline.now()
        while next < schedule.count, schedule.due(next) <= now {
            dispatch(next)
            next += lanes
        }
        if next < schedule.count {
            let at = max(schedule.due(next), now + Self.tickSpacing)
            eventLoop.assumeIsolated().scheduleTask(deadline: at) { self.tick() }
        } else {
            drainDeadline = now + settings.timeout
            finishIfDone()
        }
    }

    private func dispatch(_ index: Int) {
        if let connection = idle.popLast() {
            send(index, on: connection)
        } else {
            waiting.append(index)
            openIfNeeded()
        }
    }

    private func send(_ index: Int, on connection: RateConnection) {
        let (head, body) = shape.request(index, of: schedule)
        let scheduled = schedule.due(index)
        if NIODeadline.now() - scheduled > settings.lateBound { tally.lateSends += 1 }
        tally.sent += 1
        connection.send(head: head, body: body, index: index, scheduled: scheduled)
    }

    /// Opens connections for the waiting requests, a few at a time: a burst of connects after a
    /// hiccup would overflow the node's listen backlog, and a dropped SYN costs a second.
    private func openIfNeeded() {
        while connecting < min(waiting.count, settings.maxConnecting), open.count + connecting < settings.maxConnections {
            connect()
        }
    }

    private func connect() {
        guard let bootstrap else { return }
        guard let address = try? SocketAddress.makeAddressResolvingHost(settings.host, port: settings.port) else {
            tally.connectErrors += 1
            return
        }
        connecting += 1
        connectionNumber += 1
        let connector = settings.source(connectionNumber).map { bootstrap.bind(to: $0) } ?? bootstrap
        connector.connect(to: address).assumeIsolated().whenComplete { result in
            self.connecting -= 1
            switch result {
            case .success(let channel):
                guard let connection = try? channel.pipeline.syncOperations.handler(type: RateConnection.self) else {
                    channel.close(promise: nil)
                    return
                }
                self.open[ObjectIdentifier(connection)] = connection
                self.tally.connectionsOpened += 1
                self.tally.peakConnections = max(self.tally.peakConnections, self.open.count)
                self.connectionFree(connection)
            case .failure:
                self.tally.connectErrors += 1
                if !self.finished, !self.waiting.isEmpty, self.connecting == 0 {
                    self.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(10)) { self.openIfNeeded() }
                }
                self.finishIfDone()
            }
        }
    }

    /// A connection has no request in flight: it takes the oldest waiting one, or waits.
    func connectionFree(_ connection: RateConnection) {
        if finished {
            connection.close()
        } else if let index = waiting.popFirst() {
            send(index, on: connection)
        } else {
            idle.append(connection)
            finishIfDone()
        }
    }

    /// An answer arrived for request `index`, scheduled at `scheduled`.
    func answered(status: Int, index: Int, scheduled: NIODeadline) {
        tally.statuses[status, default: 0] += 1
        let latency = Double((NIODeadline.now() - scheduled).nanoseconds) / 1e6
        if !(200..<300).contains(status) {
            tally.unacknowledged.append(index)
            tally.misses.append(RateMiss(index: index, cause: "\(status)", latencyMs: latency))
        }
        tally.latencies.append(latency)
    }

    func connectionClosed(_ connection: RateConnection, lostRequest: Int?) {
        open.removeValue(forKey: ObjectIdentifier(connection))
        idle.removeAll { $0 === connection }
        if let lostRequest {
            tally.socketErrors += 1
            tally.unacknowledged.append(lostRequest)
            tally.misses.append(RateMiss(index: lostRequest, cause: "socket", latencyMs: nil))
        }
        if !finished { openIfNeeded() }
        finishIfDone()
    }

    /// Every 50 ms: requests past the timeout are given up (their connection closed); once the
    /// last request was due and the timeout has passed, what still waits is counted unsent.
    private func sweep() {
        guard !finished else { return }
        let now = NIODeadline.now()
        for connection in open.values {
            if let request = connection.inFlight, now - request.sent > settings.timeout {
                tally.timeouts += 1
                if let index = connection.abandon() {
                    tally.unacknowledged.append(index)
                    tally.misses.append(RateMiss(index: index, cause: "timeout", latencyMs: nil))
                }
            }
        }
        if let drainDeadline, now > drainDeadline {
            tally.unsent += waiting.count
            tally.unacknowledged += waiting
            tally.misses += waiting.map { RateMiss(index: $0, cause: "unsent", latencyMs: nil) }
            waiting.removeAll()
        }
        finishIfDone()
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(50)) { self.sweep() }
    }

    private func finishIfDone() {
        guard !finished, next >= schedule.count, waiting.isEmpty,
            !open.values.contains(where: { $0.inFlight != nil })
        else { return }
        finished = true
        let connections = Array(open.values)
        for connection in connections { connection.close() }
        promise.succeed(tally)
    }
}
