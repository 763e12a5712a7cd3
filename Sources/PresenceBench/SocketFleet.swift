import NIOCore
import NIOPosix

/// One event loop's bench sockets: it opens them (at most `window` between connect and
/// welcome at once), subscribes them, keeps them, and tallies what they receive. Each socket
/// is a ``BenchSocket`` handler on this loop; the fleet holds no task and no timer per socket
/// (one sweep every 250 ms looks for what is overdue). Every method runs on `eventLoop`.
final class SocketFleet {
    let eventLoop: any EventLoop
    let settings: SocketClientSettings
    /// The upgrade request every socket sends (one buffer, shared).
    let upgradeRequest: ByteBuffer
    private var bootstrap: ClientBootstrap?
    private let address: SocketAddress?
    private var mask: UInt32
    private var tally = SocketTally()
    private var phaseStart = NIODeadline.now()

    private var toConnect: [Int] = []
    private var nextConnect = 0
    private var connectWindow = 1
    private var handshaking: [ObjectIdentifier: BenchSocket] = [:]
    private var connectsInFlight = 0
    private var inConnectMore = false
    private var connected: EventLoopPromise<Void>?
    /// The last welcome (or the connect phase's start): a fleet that sees none for half the
    /// timeout stops starting sockets (a node that no longer answers would hold each for it).
    private var lastProgress = NIODeadline.now()

    private(set) var live: [BenchSocket] = []
    private var nextSubscribe = 0
    private var subscribeWindow = 1
    private var awaitingOK: [ObjectIdentifier: BenchSocket] = [:]
    private var subscribedNumbers: [Int] = []
    private var subscribedAll: EventLoopPromise<Void>?

    private var fanout: FanoutTally?
    private var watch: WatchTally?
    private var watchPrefix: [UInt8] = []
    private var watchArmed = false
    private var sweeping = false

    init(eventLoop: any EventLoop, settings: SocketClientSettings, seed: UInt32) {
        self.eventLoop = eventLoop
        self.settings = settings
        self.mask = seed | 1
        self.address = try? SocketAddress.makeAddressResolvingHost(settings.host, port: settings.port)
        upgradeRequest = ByteBuffer(
            string: "GET /api/v2/connect HTTP/1.1\r\nHost: \(settings.host):\(settings.port)\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: cHJlc2VuY2UtYmVuY2gtMDE=\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let portRange = settings.localPorts.map(LocalPortRange.init(ports:))
        bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(LocalPortRange.bindWithoutPort, value: 1)
            .connectTimeout(settings.timeout)
            .channelInitializer { channel in portRange?.apply(to: channel) ?? channel.eventLoop.makeSucceededVoidFuture() }
    }

    // MARK: Connecting

    /// Opens a socket for each of `numbers`, at most `window` of them between connect and
    /// welcome at once; succeeds when each was welcomed or failed. `start` is when the connect
    /// phase began (for the welcomes per second).
    func connect(_ numbers: [Int], window: Int, start: NIODeadline) -> EventLoopFuture<Void> {
        toConnect = numbers
        nextConnect = 0
        connectWindow = max(1, window)
        phaseStart = start
        lastProgress = .now()
        let promise = eventLoop.makePromise(of: Void.self)
        connected = promise
        startSweeping()
        connectMore()
        return promise.futureResult
    }

    private func connectMore() {
        // A connect that fails at once settles inside the loop below: no recursion.
        guard !inConnectMore else { return }
        inConnectMore = true
        defer {
            inConnectMore = false
            finishConnectingIfDone()
        }
        while connectsInFlight < connectWindow, nextConnect < toConnect.count, let bootstrap {
            let number = toConnect[nextConnect]
            nextConnect += 1
            connectsInFlight += 1
            tally.started += 1
            guard let address else {
                settle(nil, failure: "connect")
                continue
            }
            let started = NIODeadline.now()
            let connector = settings.source(number).map { bootstrap.bind(to: $0) } ?? bootstrap
            connector.connect(to: address).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let channel):
                    let socket = BenchSocket(number: number, fleet: self, started: started)
                    socket.deadline = started + self.settings.timeout
                    self.handshaking[ObjectIdentifier(socket)] = socket
                    do {
                        try channel.pipeline.syncOperations.addHandler(socket)
                    } catch {
                        self.settle(socket, failure: "connect")
                        channel.close(promise: nil)
                    }
                case .failure:
                    self.settle(nil, failure: "connect")
                }
            }
        }
    }

    /// A socket's handshake ended: welcomed (`failure` nil) or not. Counts once per socket.
    private func settle(_ socket: BenchSocket?, failure: String?) {
        if let socket {
            guard handshaking.removeValue(forKey: ObjectIdentifier(socket)) != nil else { return }
            socket.deadline = nil
        }
        connectsInFlight -= 1
        if let failure { tally.fail(failure) }
        connectMore()
    }

    private func finishConnectingIfDone() {
        guard nextConnect >= toConnect.count, connectsInFlight == 0, let promise = connected else { return }
        connected = nil
        promise.succeed()
    }

    // MARK: What the sockets report

    func nextMask() -> UInt32 {
        mask ^= mask << 13
        mask ^= mask >> 17
        mask ^= mask << 5
        return mask
    }

    /// The hello of socket `number` (its own user's token; session and status fixed).
    func hello(for number: Int) -> ByteBuffer {
        let index = number - settings.tokenBase
        let token = settings.tokens.indices.contains(index) ? settings.tokens[index] : ""
        return ByteBuffer(
            string: #"{"type":"hello","token":"\#(token)","session":"\#(settings.session)","status":"online"}"#)
    }

    func welcomed(_ socket: BenchSocket) {
        guard handshaking[ObjectIdentifier(socket)] != nil else { return }
        let now = NIODeadline.now()
        lastProgress = now
        tally.welcomed += 1
        tally.welcomeLatenciesMs.append(Double((now - socket.started).nanoseconds) / 1e6)
        let sincePhase = Double((now - phaseStart).nanoseconds) / 1e6
        tally.lastWelcomeMs = max(tally.lastWelcomeMs, sincePhase)
        let second = max(0, Int(sincePhase / 1000))
        if tally.welcomesBySecond.count <= second {
            tally.welcomesBySecond += Array(repeating: 0, count: second + 1 - tally.welcomesBySecond.count)
        }
        tally.welcomesBySecond[second] += 1
        live.append(socket)
        settle(socket, failure: nil)
    }

    func refused(_ socket: BenchSocket, status: Int) { settle(socket, failure: "upgrade_\(status)") }

    func malformed(_ socket: BenchSocket) {
        if handshaking[ObjectIdentifier(socket)] != nil {
            settle(socket, failure: "malformed")
        } else {
            tally.lostAfterWelcome["malformed", default: 0] += 1
        }
    }

    /// An `ok` (or an `error`) to the socket's last command.
    func replied(_ socket: BenchSocket, ok: Bool, _ payload: ByteBuffer? = nil) {
        let code = payload.map(PresenceFrameFields.errorCode) ?? "unknown"
        if handshaking[ObjectIdentifier(socket)] != nil {
            // The hello was refused (the socket could say hello again; the bench counts it).
            settle(socket, failure: "hello_error_\(code)")
            socket.drop()
            return
        }
        guard awaitingOK.removeValue(forKey: ObjectIdentifier(socket)) != nil else { return }
        socket.deadline = nil
        if ok {
            tally.subscribed += 1
            subscribedNumbers.append(socket.number)
        } else {
            tally.subscribeFailures[code, default: 0] += 1
        }
        subscribeMore()
    }

    func pinged(answered: Bool) {
        if answered { tally.pingsAnswered += 1 } else { tally.pingsIgnored += 1 }
    }

    /// A `presence` frame: a fan-out change, a watched user's, or anything else.
    func presence(_ socket: BenchSocket, _ payload: ByteBuffer) {
        if fanout != nil {
            fanout?.record(payload, at: wallMillis())
        } else if watch != nil {
            watch?.record(payload, prefix: watchPrefix, armed: watchArmed, at: wallMillis())
        } else {
            tally.presenceFrames += 1
        }
    }

    /// The connection ended; `was` is the phase it was in.
    func ended(_ socket: BenchSocket, was: BenchSocket.Phase, closeCode: UInt16?) {
        let reason = closeCode.map { "closed_\($0)" } ?? "closed"
        if handshaking[ObjectIdentifier(socket)] != nil {
            settle(socket, failure: reason)
            return
        }
        if awaitingOK.removeValue(forKey: ObjectIdentifier(socket)) != nil {
            tally.subscribeFailures[reason, default: 0] += 1
            subscribeMore()
        }
        switch was {
        case .closing: tally.closedByClient += 1
        case .live: tally.lostAfterWelcome[reason, default: 0] += 1
        case .upgrading, .greeting, .closed: break
        }
    }

    // MARK: Subscribing

    /// Subscribes every welcomed socket to its users (``SocketClientSettings/targets(of:)``),
    /// at most `window` awaiting their `ok` at once; succeeds when each was answered or timed out.
    func subscribe(window: Int) -> EventLoopFuture<Void> {
        subscribeWindow = max(1, window)
        nextSubscribe = 0
        let promise = eventLoop.makePromise(of: Void.self)
        subscribedAll = promise
        startSweeping()
        subscribeMore()
        return promise.futureResult
    }

    private func subscribeMore() {
        guard subscribedAll != nil else { return }
        while awaitingOK.count < subscribeWindow, nextSubscribe < live.count {
            let socket = live[nextSubscribe]
            nextSubscribe += 1
            guard socket.phase == .live else { continue }
            let targets = settings.targets(of: socket.number)
            guard !targets.isEmpty else { continue }
            let users = targets.map { #""\#(settings.targetPrefix)\#($0)""# }.joined(separator: ",")
            socket.deadline = .now() + settings.timeout
            awaitingOK[ObjectIdentifier(socket)] = socket
            socket.send(text: ByteBuffer(string: #"{"id":1,"type":"subscribe","users":[\#(users)]}"#))
        }
        if nextSubscribe >= live.count, awaitingOK.isEmpty, let promise = subscribedAll {
            subscribedAll = nil
            promise.succeed()
        }
    }

    // MARK: Overdue handshakes and replies

    private func startSweeping() {
        guard !sweeping else { return }
        sweeping = true
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(250)) { self.sweep() }
    }

    private func sweep() {
        let now = NIODeadline.now()
        let stall = TimeAmount.nanoseconds(settings.timeout.nanoseconds / 2)
        if connected != nil, nextConnect < toConnect.count, now - lastProgress > stall {
            // No welcome for half the timeout: the rest are not started, and counted as failed.
            tally.fail("not_started_no_welcome_for_\(stall.nanoseconds / 1_000_000)ms", toConnect.count - nextConnect)
            nextConnect = toConnect.count
        }
        for socket in handshaking.values where (socket.deadline ?? .distantFuture) < now {
            settle(socket, failure: "timeout")
            socket.drop()
        }
        for (key, socket) in awaitingOK where (socket.deadline ?? .distantFuture) < now {
            awaitingOK[key] = nil
            socket.deadline = nil
            tally.subscribeFailures["timeout", default: 0] += 1
        }
        subscribeMore()
        if connected == nil, subscribedAll == nil, handshaking.isEmpty, awaitingOK.isEmpty {
            sweeping = false
            return
        }
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(250)) { self.sweep() }
    }

    // MARK: Measurements

    /// The tally so far (sockets open now counted).
    func currentTally() -> SocketTally {
        var copy = tally
        copy.open = live.reduce(0) { $0 + ($1.phase == .live ? 1 : 0) }
        return copy
    }

    /// Started, welcomed, failed and subscribed so far (cheap, for progress lines).
    func progress() -> (started: Int, welcomed: Int, failed: Int, subscribed: Int) {
        (tally.started, tally.welcomed, tally.failed, tally.subscribed)
    }

    /// The sockets whose subscription was accepted.
    func subscribed() -> [Int] { subscribedNumbers }

    /// From now on, `presence` frames are fan-out changes `0 ..< changes`.
    func beginFanout(changes: Int) { fanout = FanoutTally(changes: changes) }

    func fanoutTally() -> FanoutTally? { fanout }

    /// Fan-out deliveries so far.
    func fanoutDeliveries() -> Int { fanout?.latenciesMs.count ?? 0 }

    /// From now on, `presence` frames are watched users' (`<prefix>0 ..< users`); offline
    /// events count once `armed`.
    func beginWatch(prefix: String, users: Int) {
        watchPrefix = Array(prefix.utf8)
        watch = WatchTally(users: users)
    }

    func arm() { watchArmed = true }

    func watchTally() -> WatchTally? { watch }

    /// Stops answering pings on every socket (a peer gone silent).
    func silence() { for socket in live { socket.answersPings = false } }

    /// Sends a close frame on socket `number`; the wall-clock milliseconds it was written at,
    /// nil when the fleet has no live socket of that number.
    func close(number: Int) -> Double? {
        guard let socket = live.first(where: { $0.number == number && $0.phase == .live }) else { return nil }
        let at = wallMillis()
        socket.sendClose()
        return at
    }

    /// Drops every connection without a close frame.
    func dropAll() { for socket in live { socket.drop() } }
}
