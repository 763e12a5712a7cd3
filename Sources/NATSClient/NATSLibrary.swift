internal import CNATS
import NIOConcurrencyHelpers

/// Opens the nats.c library once per process.
enum NATSLibrary {
    private static let opened = NIOLockedValueBox(false)

    static func open() throws(NATSError) {
        let status: natsStatus = opened.withLockedValue { opened in
            guard !opened else { return NATS_OK }
            let status = nats_Open(-1)
            if status == NATS_OK { opened = true }
            return status
        }
        try check(status, "nats_Open")
    }
}
