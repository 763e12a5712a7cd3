import NIOCore
import PresenceCore

/// Counts the bytes a stream's connection has accepted but not yet written to its socket into
/// the stream's ``StreamBuffer``, and cuts the stream off when they pass its bound (or the
/// total cap while it is behind).
///
/// It sits first in the pipeline, next to the socket, for as long as the stream runs, so it
/// sees every byte NIO buffers for the connection, chunk framing included; a byte stops
/// counting when its write completes (or fails, when the connection closes). A buffer counts
/// what it allocated (its capacity, not only its readable bytes), and each pending write
/// also ``overheadPerWrite``: small writes cost far more memory than their bytes.
final class StreamOutboundCounter: ChannelOutboundHandler, RemovableChannelHandler, Sendable {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// What NIO and this counter keep per pending write besides its bytes (the buffer's
    /// storage and rounding, the pending-write entry, the promise and its callback), roughly.
    static let overheadPerWrite = 256

    private let subscription: PresenceChangeHub.Subscription

    init(subscription: PresenceChangeHub.Subscription) {
        self.subscription = subscription
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = Self.heldBytes(unwrapOutboundIn(data)) + Self.overheadPerWrite
        let buffer = subscription.buffer
        let promise = promise ?? context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in buffer.release(bytes) }
        let withinBound = buffer.add(bytes)
        context.write(data, promise: promise)
        if !withinBound { subscription.cutOff() }
    }

    private static func heldBytes(_ data: IOData) -> Int {
        switch data {
        case .byteBuffer(let buffer): max(buffer.readableBytes, buffer.capacity)
        case .fileRegion(let region): region.readableBytes
        }
    }
}
