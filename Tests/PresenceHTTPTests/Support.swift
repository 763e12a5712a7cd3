import Foundation
import PresenceCore
import Testing

/// The code of the `PresenceError` that `body` throws, nil when it does not throw.
func errorCode(
    _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) -> PresenceError.Code? {
    do {
        try body()
        return nil
    } catch let error as PresenceError {
        return error.code
    } catch {
        Issue.record("not a PresenceError: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
