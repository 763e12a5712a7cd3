internal import CNATS

/// Where a read of a stream starts.
public enum StreamStart: Sendable, Equatable {
    /// At the first message kept.
    case first
    /// At the first message stored at or after this time, in nanoseconds since 1970.
    case time(nanoseconds: Int64)
    /// At this stream sequence.
    case sequence(UInt64)
}

extension JetStream {
    /// Reads the messages of `stream` on `subject` (wildcards allowed) from `start` on, oldest first, through
    /// an ephemeral pull consumer that acknowledges nothing and is deleted afterwards. Each
    /// message goes to `visit` with the result so far, until `visit` answers false or the
    /// stream has no more.
    /// - Returns: the result after the last message visited.
    public func scan<Result: Sendable>(
        in stream: String, subject: String, from start: StreamStart, into initial: Result,
        _ visit: @escaping @Sendable (inout Result, StreamMessage) -> Bool
    ) async throws(NATSError) -> Result {
        try await BlockingCalls.run { () throws(NATSError) in
            var result = initial
            try self.scanBlocking(in: stream, subject: subject, from: start) { visit(&result, $0) }
            return result
        }
    }

    private func scanBlocking(
        in stream: String, subject: String, from start: StreamStart, _ visit: (StreamMessage) -> Bool
    ) throws(NATSError) {
        var options = try Self.options(domain: domainCString, waitMilliseconds: max(1, timeout.milliseconds))
        var subscribeOptions = jsSubOptions()
        try check(jsSubOptions_Init(&subscribeOptions), "jsSubOptions_Init")
        var subscription: OpaquePointer?
        var errorCode = jsErrCode(rawValue: 0)
        let status = stream.withCString { streamName in
            subscribeOptions.Stream = streamName
            subscribeOptions.Config.AckPolicy = js_AckNone
            switch start {
            case .first: break
            case .time(let nanoseconds):
                subscribeOptions.Config.DeliverPolicy = js_DeliverByStartTime
                subscribeOptions.Config.OptStartTime = nanoseconds
            case .sequence(let sequence):
                subscribeOptions.Config.DeliverPolicy = js_DeliverByStartSequence
                subscribeOptions.Config.OptStartSeq = sequence
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
        var fetches = 0
        while going {
            fetches += 1
            var request = jsFetchRequest()
            try check(jsFetchRequest_Init(&request), "jsFetchRequest_Init")
            request.Batch = 256
            request.NoWait = true
            request.Expires = timeout.nanoseconds
            var list = natsMsgList()
            let fetched = natsSubscription_FetchRequest(&list, subscription, &request)
            if fetched == NATS_NOT_FOUND { break }  // nothing more stored
            // No answer at all to the first fetch: nothing stored (an older server's way of
            // saying it). Later, more was pending: a short read must not pass for a whole one.
            if fetched == NATS_TIMEOUT, fetches == 1 { break }
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
