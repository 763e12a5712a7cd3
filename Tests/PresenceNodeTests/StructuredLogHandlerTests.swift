import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import PresenceNode

struct StructuredLogHandlerTests {
    private func capture(_ format: StructuredLogHandler.Format, _ body: (Logger) -> Void) -> [String] {
        let lines = NIOLockedValueBox([String]())
        var logger = Logger(label: "test") { label in
            StructuredLogHandler(label: label, level: .debug, format: format) { line in lines.withLockedValue { $0.append(line) } }
        }
        logger[metadataKey: "node_id"] = "leaf-1"
        body(logger)
        return lines.withLockedValue { $0 }
    }

    @Test func logfmtQuotesWhatNeedsQuoting() throws {
        let lines = capture(.logfmt) { logger in
            logger.info("nats-server started", metadata: ["component": "nats-server", "note": #"say "hi""#])
        }
        let line = try #require(lines.first)
        #expect(line.hasPrefix("ts="))
        #expect(line.contains(#"level=info msg="nats-server started""#))
        #expect(line.contains("component=nats-server"))
        #expect(line.contains("node_id=leaf-1"))
        #expect(line.contains(#"note="say \"hi\"""#))
    }

    @Test func jsonLinesParse() throws {
        let lines = capture(.json) { logger in
            logger.warning("line\nbreak", metadata: ["code": "unavailable"])
        }
        let line = try #require(lines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["msg"] as? String == "line\nbreak")
        #expect(object["code"] as? String == "unavailable")
        #expect(object["node_id"] as? String == "leaf-1")
        #expect((object["ts"] as? String)?.hasSuffix("Z") == true)
    }

    @Test func theLevelFilters() {
        let lines = capture(.logfmt) { logger in
            var quiet = logger
            quiet.logLevel = .warning
            quiet.info("hidden")
            quiet.error("shown")
        }
        #expect(lines.count == 1)
        #expect(lines.first?.contains("shown") == true)
    }

    @Test func logFormatIsConfigurable() throws {
        #expect(try NodeConfiguration.load(file: nil, environment: [:], flags: [:]).logFormat == .logfmt)
        #expect(
            try NodeConfiguration.load(file: nil, environment: ["PRESENCE_LOG_FORMAT": "json"], flags: [:]).logFormat == .json)
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.load(file: nil, environment: ["PRESENCE_LOG_FORMAT": "xml"], flags: [:])
        }
    }
}
