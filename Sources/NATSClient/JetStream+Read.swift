internal import CNATS

extension JetStream {
    /// Reads the messages of `stream` on `subject` (wildcards allowed) stored at or after
    /// `sinceNanoseconds` (nanoseconds since 1970; nil: from the first), oldest first, at
    /// most `limit` of them, through an ephemeral pull consumer that acknowledges nothing and
    /// is deleted afterwards.
    /// - Returns: the messages, and whether more matched than `limit`.
    public func messages(in stream: String, subject: String, sinceNanoseconds: Int64?, limit: Int)
        async throws(NATSError) -> (messages: [StreamMessage], more: Bool)
    {
        try await BlockingCalls.run { () throws(NATSError) in
            try self.messagesBlocking(in: stream, subject: subject, sinceNanoseconds: sinceNanoseconds, limit: limit)
        }
    }

    private func messagesBlocking(in stream: String, subject: String, sinceNanoseconds: Int64?, limit: Int)
        throws(NATSError) -> (messages: [StreamMessage], more: Bool)
    {
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
        var found: [StreamMessage] = []
        while found.count <= limit {
            var request = jsFetchRequest()
            try check(jsFetchRequest_Init(&request), "jsFetchRequest_Init")
            // One more than wanted tells whether there are more; `limit` may be Int.max.
            let wanted = limit - found.count
            request.Batch = Int32(wanted >= 255 ? 256 : wanted + 1)
            request.NoWait = true
            request.Expires = timeout.nanoseconds
            var list = natsMsgList()
            let fetched = natsSubscription_FetchRequest(&list, subscription, &request)
            if fetched == NATS_NOT_FOUND || fetched == NATS_TIMEOUT { break }  // nothing more stored
            guard fetched == NATS_OK else { throw NATSError(status: fetched, context: "read stream \(stream)") }
            var pending: UInt64 = 0
            for index in 0..<Int(list.Count) {
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
                found.append(
                    StreamMessage(
                        subject: natsMsg_GetSubject(message).map { String(cString: $0) } ?? "",
                        sequence: meta.pointee.Sequence.Stream, storedAtNanoseconds: meta.pointee.Timestamp,
                        payload: payload))
            }
            natsMsgList_Destroy(&list)
            if list.Count == 0 || pending == 0 { break }
        }
        let more = found.count > limit
        return (Array(found.prefix(limit)), more)
    }
}
