internal import CNATS

extension JetStream {
    /// Reads the messages of `stream` on `subject` (wildcards allowed) stored at or after
    /// `sinceNanoseconds` (nanoseconds since 1970; nil: from the first), oldest first, through
    /// an ephemeral pull consumer that acknowledges nothing and is deleted afterwards. Each
    /// message goes to `visit` with the result so far, until `visit` answers false or the
    /// stream has no more.
    /// - Returns: the result after the last message visited.
    public func scan<Result: Sendable>(
        in stream: String, subject: String, sinceNanoseconds: Int64?, into initial: Result,
        _ visit: @escaping @Sendable (inout Result, StreamMessage) -> Bool
    ) async throws(NATSError) -> Result {
        try await BlockingCalls.run { () throws(NATSError) in
            var result = initial
            try self.scanBlocking(in: stream, subject: subject, sinceNanoseconds: sinceNanoseconds) { visit(&result, $0) }
            return result
        }
    }

    private func scanBlocking(
        in stream: String, subject: String, sinceNanoseconds: Int64?, _ visit: (StreamMessage) -> Bool
    ) throws(NATSError) {
        var options = try Self.options(domain: domainCString, waitMilliseconds: max(1, timeout.milliseconds))
        var subscribeOptions = jsSubOptions()
        try check(jsSubOptions_Init(&subscribeOptions), "jsSubOptions_Init")
        var subscription: OpaquePointer?
        var errorCode = jsErrCode(rawValue: 0)
        let status = stream.withCString { streamName in
            subscribeOptions.Stream = streamName
            subscribeOptions.Config.AckPolicy = js_AckNone
            if let sinceNanoseconds {
                subscribeOptions.Config.DeliverPolicy = js_DeliverByStartTime
                subscribeOptions.Config.OptStartTime = sinceNanoseconds
            }
            return js_PullSubscribe(&subscription, handle, subject, nil, &options, &subscribeOptions, &errorCode)
        }
        guard status == NATS_OK, let subscription else {
            throw NATSError(status: status, jetStreamCode: errorCode, context: "read stream \(stream)")
        }
        defer {
            natsSubscription_Unsubscribe(subscription)
            natsSubscription_Destroy(subscription)
        }
        var going = true
        while going {
            var request = jsFetchRequest()
            try check(jsFetchRequest_Init(&request), "jsFetchRequest_Init")
            request.Batch = 256
            request.NoWait = true
            request.Expires = timeout.nanoseconds
            var list = natsMsgList()
            let fetched = natsSubscription_FetchRequest(&list, subscription, &request)
            if fetched == NATS_NOT_FOUND || fetched == NATS_TIMEOUT { break }  // nothing more stored
            guard fetched == NATS_OK else { throw NATSError(status: fetched, context: "read stream \(stream)") }
            defer { natsMsgList_Destroy(&list) }
            var pending: UInt64 = 0
            for index in 0..<Int(list.Count) where going {
                guard let message = list.Msgs[index] else { continue }
                var meta: UnsafeMutablePointer<jsMsgMetaData>?
                guard natsMsg_GetMetaData(&meta, message) == NATS_OK, let meta else { continue }
                defer { jsMsgMetaData_Destroy(meta) }
                pending = meta.pointee.NumPending
                let length = Int(natsMsg_GetDataLength(message))
                var payload = [UInt8]()
                if length > 0, let data = natsMsg_GetData(message) {
                    payload = Array(UnsafeRawBufferPointer(start: data, count: length))
                }
                going = visit(
                    StreamMessage(
                        subject: natsMsg_GetSubject(message).map { String(cString: $0) } ?? "",
                        sequence: meta.pointee.Sequence.Stream, storedAtNanoseconds: meta.pointee.Timestamp,
                        payload: payload))
            }
            if list.Count == 0 || pending == 0 { break }
        }
    }
}
