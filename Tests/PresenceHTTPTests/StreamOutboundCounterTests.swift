import NIOCore
import NIOEmbedded
import PresenceCore
import Synchronization
import Testing

@testable import PresenceHTTP

/// The bytes a stream's connection has not sent yet count against the stream's bound, and
/// a stream past it is cut off (hardening item 8).
struct StreamOutboundCounterTests {
    private func bytes(_ count: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: count)
        return buffer
    }

    @Test func unsentBytesCountUntilWrittenAndPastTheBoundTheStreamIsCutOff() throws {
        let hub = PresenceChangeHub(maxSubscribers: 1, queueCapacity: 10, memory: StreamMemoryBudget(maxPerStream: 20_000))
        let cutOffs = Atomic(0)
        let subscription = try #require(hub.subscribe(to: [try UserID(validating: "u")]) { cutOffs.add(1, ordering: .relaxed) })
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(StreamOutboundCounter(subscription: subscription))

        channel.write(bytes(8_000), promise: nil)
        #expect(subscription.buffer.heldBytes >= 8_000, "written but not sent: held")
        channel.flush()
        #expect(subscription.buffer.heldBytes == 0, "sent: given back")
        #expect(!subscription.wasOverrun)

        for _ in 0..<3 { channel.write(bytes(8_000), promise: nil) }
        #expect(subscription.wasOverrun)
        #expect(hub.overrunCount == 1)
        #expect(cutOffs.load(ordering: .relaxed) == 1)
        #expect(hub.bufferedBytes == 0, "a cut-off stream holds nothing against the budget")
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
