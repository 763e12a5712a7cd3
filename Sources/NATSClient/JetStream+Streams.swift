internal import CNATS
import Foundation

extension JetStream {
    /// Creates the stream `configuration` describes when it does not exist yet. An existing
    /// stream keeps its configuration, except that its `maxAge` is set to the configured one
    /// and its `replicas` raised to it (never lowered).
    /// - Returns: whether the stream was created.
    @discardableResult
    public func addStream(_ configuration: StreamConfiguration) async throws(NATSError) -> Bool {
        try await BlockingCalls.run { () throws(NATSError) in try self.addStreamBlocking(configuration) }
    }

    private func addStreamBlocking(_ configuration: StreamConfiguration) throws(NATSError) -> Bool {
        var options = try Self.options(domain: domainCString, waitMilliseconds: max(1, timeout.milliseconds))
        var config = jsStreamConfig()
        try check(jsStreamConfig_Init(&config), "jsStreamConfig_Init")
        let name = strdup(configuration.name)
        let subjects = configuration.subjects.map { strdup($0) }
        defer {
            free(name)
            subjects.forEach { free($0) }
        }
        var subjectPointers = subjects.map { UnsafePointer($0) }
        let maxAge = Int64(configuration.maxAge.nanoseconds)
        let (status, errorCode) = subjectPointers.withUnsafeMutableBufferPointer { pointers in
            config.Name = UnsafePointer(name)
            config.Subjects = pointers.baseAddress
            config.SubjectsLen = Int32(pointers.count)
            config.Replicas = Int64(configuration.replicas)
            config.MaxAge = maxAge
            config.Storage = js_FileStorage
            config.DenyDelete = configuration.appendOnly
            config.DenyPurge = configuration.appendOnly
            config.AllowRollup = false
            var info: UnsafeMutablePointer<jsStreamInfo>?
            var errorCode = jsErrCode(rawValue: 0)
            let status = js_AddStream(&info, handle, &config, &options, &errorCode)
            if let info { jsStreamInfo_Destroy(info) }
            return (status, errorCode)
        }
        if status == NATS_OK { return true }
        guard errorCode == JSStreamNameExistErr else {
            throw NATSError(status: status, jetStreamCode: errorCode, context: "create stream \(configuration.name)")
        }
        _ = try updateStreamBlocking(configuration.name, context: "update stream \(configuration.name)") { existing in
            guard existing.pointee.MaxAge != maxAge || existing.pointee.Replicas < Int64(configuration.replicas) else {
                return false
            }
            existing.pointee.MaxAge = maxAge
            existing.pointee.Replicas = max(existing.pointee.Replicas, Int64(configuration.replicas))
            return true
        }
        return false
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
