import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Keeps the client sockets' local ports inside a range (Linux's per-socket
/// `IP_LOCAL_PORT_RANGE`, 6.3+), clear of the ports other processes on the machine listen
/// on. The port is chosen at `connect`, also for a socket bound to a source address first
/// (`IP_BIND_ADDRESS_NO_PORT`). On a kernel without the option the system's range applies.
struct LocalPortRange: Sendable {
    let ports: ClosedRange<Int>

    private static let localPortRange: SocketOptionName = 51  // IP_LOCAL_PORT_RANGE (linux/in.h)
    private static let bindAddressNoPort: CInt = 24  // IP_BIND_ADDRESS_NO_PORT

    /// The option that defers the choice of the port from `bind` to `connect` (set before the
    /// bootstrap binds the socket to its source address).
    static var bindWithoutPort: ChannelOptions.Types.SocketOption {
        .init(level: NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_IP)), name: NIOBSDSocket.Option(rawValue: bindAddressNoPort))
    }

    /// Sets the range on `channel`'s socket before it connects; succeeds also where the kernel
    /// does not know the option.
    func apply(to channel: any Channel) -> EventLoopFuture<Void> {
        guard let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededVoidFuture() }
        // The kernel wants exactly 32 bits: the low port in the low half, the high port in the high one.
        let value = UInt32(ports.upperBound) << 16 | UInt32(ports.lowerBound)
        return provider.unsafeSetSocketOption(level: SocketOptionLevel(IPPROTO_IP), name: Self.localPortRange, value: value)
            .recover { _ in }
    }
}
