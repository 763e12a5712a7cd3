import PresenceCore
import Testing

/// The code of the ``PresenceError`` that `body` throws, nil when it does not throw; any
/// other error is recorded as an issue of the calling test.
public func errorCode(
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
