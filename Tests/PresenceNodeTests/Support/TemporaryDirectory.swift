import Foundation
import NIOConcurrencyHelpers
import Testing

/// Fresh temporary directories and files, each removed when the test that made it ends.
///
/// A test gets them only inside the ``TemporaryFilesTrait`` scope (`.temporaryFiles` on its
/// suite): making one outside a scope records an issue, so no test can leave files behind by
/// forgetting the trait. Set `PRESENCE_TEST_KEEP_FILES=1` to keep them for a post-mortem.
enum TemporaryDirectory {
    /// The paths of the running test, removed when its scope ends.
    final class Scope: Sendable {
        private let paths = NIOLockedValueBox<[String]>([])

        func add(_ path: String) { paths.withLockedValue { $0.append(path) } }

        func removeAll() {
            for path in paths.withLockedValue({ $0 }) where FileManager.default.fileExists(atPath: path) {
                do {
                    try FileManager.default.removeItem(atPath: path)
                } catch {
                    Issue.record("cannot remove the temporary path \(path): \(error)")
                }
            }
        }
    }

    @TaskLocal static var scope: Scope?

    /// A new empty directory.
    static func make() -> String {
        let path = reserve("presence-test-")
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            Issue.record("cannot create the temporary directory \(path): \(error)")
        }
        return path
    }

    /// A path for a new file (not created), ending in `suffix`.
    static func file(_ prefix: String, suffix: String) -> String {
        reserve(prefix, suffix: suffix)
    }

    /// Registers `path` (made by the caller beside the others) for removal with the rest.
    static func adopt(_ path: String) {
        guard let scope else {
            Issue.record("a temporary path outside a .temporaryFiles scope: add the trait to the suite")
            return
        }
        scope.add(path)
    }

    private static func reserve(_ prefix: String, suffix: String = "") -> String {
        let path = NSTemporaryDirectory() + prefix + UUID().uuidString + suffix
        adopt(path)
        return path
    }
}

/// Removes the temporary files a test made (``TemporaryDirectory``) when it ends, passed or failed.
struct TemporaryFilesTrait: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let scope = TemporaryDirectory.Scope()
        defer {
            if ProcessInfo.processInfo.environment["PRESENCE_TEST_KEEP_FILES"] != "1" { scope.removeAll() }
        }
        try await TemporaryDirectory.$scope.withValue(scope) { try await function() }
    }
}

extension Trait where Self == TemporaryFilesTrait {
    /// Temporary files made by the test are removed when it ends.
    static var temporaryFiles: Self { TemporaryFilesTrait() }
}
