import Foundation
import Synchronization

/// Why the demo could not start its nodes: exit 1 with this line, not the usage text.
struct DemoFailure: Error, CustomStringConvertible {
    let description: String
}

/// The demo's console: lines typed on standard input, read by a thread of their own (a
/// blocking read belongs on no executor) and taken by the demo's loop as it polls.
final class DemoConsole: Sendable {
    private let pending = Mutex<[String]>([])

    /// Starts reading standard input until it ends.
    static func lines() -> DemoConsole {
        let console = DemoConsole()
        // The file descriptor, not stdio's `stdin`: a reader blocked in `getline` holds the
        // stream's lock, and `fflush(NULL)` anywhere in the process would wait for it.
        let reader = Thread {
            var buffered = Data()
            while case let chunk = FileHandle.standardInput.availableData, !chunk.isEmpty {
                buffered.append(chunk)
                while let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                    let command = String(decoding: buffered[buffered.startIndex..<newline], as: UTF8.self)
                        .trimmingCharacters(in: .whitespaces)
                    buffered.removeSubrange(buffered.startIndex...newline)
                    if !command.isEmpty { console.pending.withLock { $0.append(command) } }
                }
            }
        }
        reader.name = "demo-console"
        reader.start()
        return console
    }

    /// Writes a line to standard output at once (no stdio buffer to flush: the demo's output
    /// is read by people and scripts while it runs).
    static func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// The next line typed, nil when none is waiting.
    func next() -> String? {
        pending.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }
}
