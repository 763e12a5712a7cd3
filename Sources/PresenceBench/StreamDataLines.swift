import Foundation

/// Reads an SSE stream's `data:` lines on a thread of its own until the connection ends, and
/// hands each to `handle` with the moment its bytes arrived (by `clock`): the stream reader of
/// the propagation and time-to-offline tools.
func readDataLines(
    from descriptor: Int32, clock: @escaping @Sendable () -> Double,
    _ handle: @escaping @Sendable (_ line: Substring, _ arrived: Double) -> Void
) {
    Thread {
        var pending = ""
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count <= 0 { return }
            let now = clock()
            pending += String(decoding: chunk[0..<count], as: UTF8.self)
            while let range = pending.range(of: "\n") {
                let line = pending[..<range.lowerBound]
                if line.hasPrefix("data: ") { handle(line, now) }
                pending.removeSubrange(..<range.upperBound)
            }
        }
    }.start()
}
