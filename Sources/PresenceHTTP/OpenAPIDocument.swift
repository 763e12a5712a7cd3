// Generated from openapi.yaml by scripts/embed-openapi.sh (`make openapi`); do not edit.

/// The OpenAPI 3.1 document of the API, served at `/openapi.yaml` and rendered at `/docs`.
public enum OpenAPIDocument {
    /// The document's YAML text, exactly as in `openapi.yaml`.
    public static let yaml = #"""
openapi: 3.1.0
info:
  title: swift-presence
  version: 0.1.0
  summary: Distributed user presence on NATS JetStream KV.
  description: |
    Tells any app whether a user is `online`, `away`, `busy` or `offline`, with a custom
    message and a time to live. Reads are public (unless `auth.public_reads: false`); writes
    need a JWT (`Authorization: Bearer …`) whose `sub` is the user, or whose `scope` contains
    `presence:admin`.

    Every error is `{"error": {"code": "…", "message": "…"}}`. A record whose status is not
    `offline` and whose `updated_at + ttl` is in the past reads as `offline` with an empty
    message on every node, at once.

    HTTP: every JSON body ends with a newline. A path that exists with another method is
    405 `method_not_allowed` with `Allow`; unknown paths are 404. Malformed framing (a bad
    chunk size, a malformed head) is 400 `bad_request`, a request line and header fields over
    16 KiB are 431 `headers_too_large`; both close the connection. A request head must arrive
    within `service.http.header_timeout` seconds (10) of its first byte and an idle
    keep-alive connection is closed after `service.http.idle_timeout` (60). HTTP/1.0 is
    answered in HTTP/1.0 and closed unless it asks for keep-alive.
servers:
  - url: http://localhost:8080
tags:
  - name: presence
    description: Read and change presence.
  - name: operations
    description: Health, metrics and this document.
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
      bearerFormat: JWT
      description: HS256 with the shared secret (or RS256/ES256 with a configured public key). Required claims `sub` and `exp`.
  parameters:
    UserID:
      name: user_id
      in: path
      required: true
      description: '1–128 bytes of UTF-8; letters, digits and `. _ - @ + : =`. Percent-encode it in the path.'
      schema:
        $ref: '#/components/schemas/UserID'
      example: alice
    IfMatch:
      name: If-Match
      in: header
      required: false
      description: '`"<revision>"` (or a list of them, or `*`): the write happens only if the record is at that revision; otherwise 412.'
      schema:
        type: string
      example: '"42"'
    IfNoneMatch:
      name: If-None-Match
      in: header
      required: false
      description: The ETag you hold; 304 when it is still current.
      schema:
        type: string
      example: '"42"'
    Users:
      name: users
      in: query
      required: true
      description: Comma-separated user ids (duplicates collapsed). `+` is a literal plus.
      schema:
        type: string
        minLength: 1
      example: alice,bob
  headers:
    ETag:
      description: The record's revision in double quotes (a strong validator).
      required: true
      schema:
        type: string
      example: '"42"'
    RetryAfter:
      description: Seconds to wait before trying again.
      required: true
      schema:
        type: string
      example: '1'
    WWWAuthenticate:
      description: '`Bearer realm="presence"`.'
      required: true
      schema:
        type: string
    Allow:
      description: The methods of the path, e.g. `DELETE, GET, HEAD, PUT`.
      required: true
      schema:
        type: string
      example: GET, HEAD
  schemas:
    UserID:
      type: string
      minLength: 1
      maxLength: 128
      pattern: '^[A-Za-z0-9._@+:=-]+$'
      description: Also accepts Unicode letters and decimal digits (e.g. `josé`), up to 128 bytes of UTF-8.
    Status:
      type: string
      enum: [online, away, busy, offline]
    Presence:
      type: object
      additionalProperties: false
      required: [user_id, status, message, last_seen, updated_at, node_id, ttl, revision]
      properties:
        user_id:
          type: string
        status:
          $ref: '#/components/schemas/Status'
        message:
          type: string
          maxLength: 256
        last_seen:
          type: string
          format: date-time
          description: The last write or heartbeat whose status was not offline.
        updated_at:
          type: string
          format: date-time
          description: Server time of the last write or heartbeat (RFC 3339, UTC, milliseconds).
        node_id:
          type: string
          description: The node that accepted the last write.
        ttl:
          type: integer
          minimum: 10
          maximum: 86400
        revision:
          type: integer
          minimum: 1
          description: The NATS KV revision; also the ETag.
      example:
        user_id: alice
        status: busy
        message: In a meeting
        last_seen: '2026-11-21T10:00:00.000Z'
        updated_at: '2026-11-21T10:00:00.000Z'
        node_id: leaf-eu-1
        ttl: 300
        revision: 42
    PresenceUpdate:
      type: object
      required: [status]
      properties:
        status:
          $ref: '#/components/schemas/Status'
        message:
          type: string
          maxLength: 256
          description: At most 256 characters (Unicode scalars), no control characters. Default empty.
        ttl:
          type: integer
          minimum: 10
          maximum: 86400
          description: Seconds; default `presence.default_ttl` (300).
      example:
        status: busy
        message: In a meeting
        ttl: 300
    BatchRequest:
      type: object
      required: [user_ids]
      properties:
        user_ids:
          type: array
          minItems: 1
          maxItems: 1000
          items:
            $ref: '#/components/schemas/UserID'
      example:
        user_ids: [alice, bob]
    Batch:
      type: object
      additionalProperties: false
      required: [presences, not_found]
      properties:
        presences:
          type: array
          items:
            $ref: '#/components/schemas/Presence'
          description: Records in request order.
        not_found:
          type: array
          items:
            type: string
          description: Requested ids without a record, in request order.
    Error:
      type: object
      additionalProperties: false
      required: [error]
      properties:
        error:
          type: object
          additionalProperties: false
          required: [code, message]
          properties:
            code:
              type: string
              enum:
                - bad_request
                - invalid_user_id
                - invalid_status
                - invalid_message
                - invalid_ttl
                - too_many_users
                - unauthorized
                - forbidden
                - not_found
                - method_not_allowed
                - precondition_failed
                - payload_too_large
                - unsupported_media_type
                - rate_limited
                - headers_too_large
                - unavailable
                - outcome_unknown
                - insufficient_storage
                - internal
            message:
              type: string
      example:
        error:
          code: invalid_status
          message: status must be one of online, away, busy, offline
  responses:
    Presence:
      description: The record, as it reads now.
      headers:
        ETag:
          $ref: '#/components/headers/ETag'
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Presence'
    Batch:
      description: The records that exist, in request order, and the ids that have none.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Batch'
    BadRequest:
      description: 'Invalid input: `bad_request`, `invalid_user_id`, `invalid_status`, `invalid_message`, `invalid_ttl` or `too_many_users`.'
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    Unauthorized:
      description: Missing, malformed, badly signed, expired or not-yet-valid token.
      headers:
        WWW-Authenticate:
          $ref: '#/components/headers/WWWAuthenticate'
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    Forbidden:
      description: The token may not change this user's presence.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    NotFound:
      description: The user has no presence record.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    MethodNotAllowed:
      description: 'The path exists, but not with this method (`method_not_allowed`); `Allow` lists its methods.'
      headers:
        Allow:
          $ref: '#/components/headers/Allow'
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    HeadersTooLarge:
      description: 'The request line and header fields are larger than 16 KiB (`headers_too_large`); the connection is closed.'
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    PreconditionFailed:
      description: The record is not at the revision given in `If-Match`.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    PayloadTooLarge:
      description: The body is larger than the limit (PUT 4 KiB, batch 64 KiB).
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    UnsupportedMediaType:
      description: The body's `Content-Type` is not JSON.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    RateLimited:
      description: Too many writes for this subject (or reads from this address).
      headers:
        Retry-After:
          $ref: '#/components/headers/RetryAfter'
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    Unavailable:
      description: The store (the hub, for a leaf) cannot be reached, or too many streams are open. A write answered so was not applied.
      headers:
        Retry-After:
          $ref: '#/components/headers/RetryAfter'
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    OutcomeUnknown:
      description: The write was sent but its acknowledgement did not come in time; it may or may not be stored (read the presence to see).
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
    InsufficientStorage:
      description: The store is out of space or over its limit; the write was not applied.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
paths:
  /api/v2/presence/{user_id}:
    parameters:
      - $ref: '#/components/parameters/UserID'
    get:
      tags: [presence]
      operationId: getPresence
      summary: One user's presence
      description: Public unless `auth.public_reads` is false. Served from the node's in-memory replica.
      parameters:
        - $ref: '#/components/parameters/IfNoneMatch'
      responses:
        '200':
          $ref: '#/components/responses/Presence'
        '304':
          description: Not modified (the `If-None-Match` ETag is current).
          headers:
            ETag:
              $ref: '#/components/headers/ETag'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '404':
          $ref: '#/components/responses/NotFound'
        '429':
          $ref: '#/components/responses/RateLimited'
        '503':
          $ref: '#/components/responses/Unavailable'
    put:
      tags: [presence]
      operationId: putPresence
      summary: Set a user's presence
      description: Stored durably before the answer. Without `If-Match`, a write that loses a race retries on the new revision.
      security:
        - bearer: []
      parameters:
        - $ref: '#/components/parameters/IfMatch'
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/PresenceUpdate'
      responses:
        '200':
          $ref: '#/components/responses/Presence'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '412':
          $ref: '#/components/responses/PreconditionFailed'
        '413':
          $ref: '#/components/responses/PayloadTooLarge'
        '415':
          $ref: '#/components/responses/UnsupportedMediaType'
        '429':
          $ref: '#/components/responses/RateLimited'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/OutcomeUnknown'
        '507':
          $ref: '#/components/responses/InsufficientStorage'
    delete:
      tags: [presence]
      operationId: deletePresence
      summary: Set a user offline
      description: Keeps the record and `last_seen`; clears the message.
      security:
        - bearer: []
      parameters:
        - $ref: '#/components/parameters/IfMatch'
      responses:
        '200':
          $ref: '#/components/responses/Presence'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '412':
          $ref: '#/components/responses/PreconditionFailed'
        '429':
          $ref: '#/components/responses/RateLimited'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/OutcomeUnknown'
        '507':
          $ref: '#/components/responses/InsufficientStorage'
  /api/v2/presence/{user_id}/heartbeat:
    parameters:
      - $ref: '#/components/parameters/UserID'
    post:
      tags: [presence]
      operationId: heartbeat
      summary: Keep a user's presence alive
      description: Refreshes `updated_at` and `last_seen` (and so the TTL) without changing status or message. On a record that reads offline it writes nothing and returns the record.
      security:
        - bearer: []
      parameters:
        - $ref: '#/components/parameters/IfMatch'
      responses:
        '200':
          $ref: '#/components/responses/Presence'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '412':
          $ref: '#/components/responses/PreconditionFailed'
        '429':
          $ref: '#/components/responses/RateLimited'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/OutcomeUnknown'
        '507':
          $ref: '#/components/responses/InsufficientStorage'
  /api/v2/presence:
    get:
      tags: [presence]
      operationId: getPresences
      summary: Several users' presence
      description: At most 100 distinct ids.
      parameters:
        - $ref: '#/components/parameters/Users'
      responses:
        '200':
          $ref: '#/components/responses/Batch'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '429':
          $ref: '#/components/responses/RateLimited'
        '503':
          $ref: '#/components/responses/Unavailable'
  /api/v2/presence/batch:
    post:
      tags: [presence]
      operationId: postBatch
      summary: Several users' presence (body form)
      description: At most 1000 distinct ids; body at most 64 KiB.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/BatchRequest'
      responses:
        '200':
          $ref: '#/components/responses/Batch'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '413':
          $ref: '#/components/responses/PayloadTooLarge'
        '415':
          $ref: '#/components/responses/UnsupportedMediaType'
        '429':
          $ref: '#/components/responses/RateLimited'
        '503':
          $ref: '#/components/responses/Unavailable'
  /api/v2/presence/stream:
    get:
      tags: [presence]
      operationId: streamPresence
      summary: Live presence (Server-Sent Events)
      description: |
        First one `presence` event per listed user that has a record, then one per change
        (including expiry to offline), and a `: keepalive` comment every 15 s. Each event is
        `id: <revision>`, `event: presence`, `data: <the record as JSON on one line>`. A client
        that reads too slowly gets a final `event: error` with code `slow_consumer`. At most
        1000 ids.
      parameters:
        - $ref: '#/components/parameters/Users'
      responses:
        '200':
          description: An event stream.
          content:
            text/event-stream:
              schema:
                type: string
              example: |
                id: 42
                event: presence
                data: {"user_id":"alice","status":"busy","message":"In a meeting","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","node_id":"leaf-eu-1","ttl":300,"revision":42}
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '429':
          $ref: '#/components/responses/RateLimited'
        '503':
          $ref: '#/components/responses/Unavailable'
  /health/live:
    get:
      tags: [operations]
      operationId: live
      summary: Liveness
      responses:
        '200':
          description: The process serves HTTP.
          content:
            application/json:
              schema:
                type: object
                required: [status]
                properties:
                  status:
                    type: string
                    const: ok
  /health/ready:
    get:
      tags: [operations]
      operationId: ready
      summary: Readiness
      description: Ready once NATS is connected, the bucket is reachable and the replica holds the whole bucket.
      responses:
        '200':
          description: Ready.
          content:
            application/json:
              schema:
                type: object
                required: [ready]
                properties:
                  ready:
                    type: boolean
                    const: true
        '503':
          description: Not ready, with a reason (a leaf still answers reads meanwhile).
          headers:
            Retry-After:
              $ref: '#/components/headers/RetryAfter'
          content:
            application/json:
              schema:
                type: object
                required: [ready, reason]
                properties:
                  ready:
                    type: boolean
                    const: false
                  reason:
                    type: string
  /health/info:
    get:
      tags: [operations]
      operationId: info
      summary: Node information
      responses:
        '200':
          description: What this node is and how it is doing.
          content:
            application/json:
              schema:
                type: object
                required: [node_id, role, version, uptime_seconds, nats, cache, presence_count]
                properties:
                  node_id:
                    type: string
                  role:
                    type: string
                    enum: [center, leaf]
                  version:
                    type: string
                  uptime_seconds:
                    type: integer
                  presence_count:
                    type: integer
                  nats:
                    type: object
                    required: [connected, reconnects, hub_reachable]
                    properties:
                      connected:
                        type: boolean
                      server_url:
                        type: string
                      reconnects:
                        type: integer
                      hub_reachable:
                        type: boolean
                  cache:
                    type: object
                    required: [entries, cost_bytes, hits, misses, evictions, hit_ratio]
                    properties:
                      entries:
                        type: integer
                      cost_bytes:
                        type: integer
                      hits:
                        type: integer
                      misses:
                        type: integer
                      evictions:
                        type: integer
                      hit_ratio:
                        type: number
                  leafnodes:
                    type: array
                    description: On a center, the connected leaves.
                    items:
                      type: object
                      required: [name, address]
                      properties:
                        name:
                          type: string
                        address:
                          type: string
  /metrics:
    get:
      tags: [operations]
      operationId: metrics
      summary: Prometheus metrics
      responses:
        '200':
          description: Prometheus text exposition format.
          content:
            text/plain:
              schema:
                type: string
  /openapi.yaml:
    get:
      tags: [operations]
      operationId: openapi
      summary: This document
      responses:
        '200':
          description: The OpenAPI 3.1 document.
          content:
            application/yaml:
              schema:
                type: string
  /docs:
    get:
      tags: [operations]
      operationId: docs
      summary: API reference
      responses:
        '200':
          description: A human-readable page rendered from this document.
          content:
            text/html:
              schema:
                type: string
"""#
}
