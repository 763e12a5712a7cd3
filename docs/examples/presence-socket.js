// presence-socket.js: a browser client for swift-presence's connected sessions (SPEC §3b,
// GET /api/v2/connect). Plain JavaScript, no dependencies; copy it into your app.
//
//   const socket = new PresenceSocket({
//     url: "wss://presence.example.com/api/v2/connect",
//     token: () => fetchMyJWT(),            // a string, or a function (async or not) giving one
//     session: "tab-" + crypto.randomUUID().slice(0, 8),
//     device: "Firefox",
//     onPresence: p => render(p),            // a subscribed user's presence (snapshot, then changes)
//     onState: s => console.log(s),          // "connecting" | "live" | "waiting" | "closed"
//   });
//   socket.subscribe(["bob", "carol"]);
//   await socket.set("busy", "in a call");
//
// The user is present while the socket is open: the browser answers the server's pings by
// itself, so there is no heartbeat timer here. When the connection drops (a network switch,
// a sleeping laptop) it reconnects with exponential backoff and jitter, says hello for the
// same session (within presence.reconnect_grace the session is taken over: no offline in
// between) and subscribes again. Closing the page closes the socket: the session ends at once.
class PresenceSocket {
  constructor(options) {
    this.options = Object.assign({ minDelay: 500, maxDelay: 30000 }, options);
    this.session = options.session;          // the server makes one up when absent
    this.users = new Set();
    this.pending = new Map();                // command id -> {resolve, reject}
    this.nextId = 1;
    this.attempt = 0;
    this.stopped = false;
    this.presence = null;                    // the user's own presence, from the last welcome or set
    this.connect();
  }

  /** Start sending these users' presence (kept across reconnects). */
  subscribe(users) {
    users.forEach(u => this.users.add(u));
    return this.live ? this.command({ type: "subscribe", users }) : Promise.resolve({ type: "queued" });
  }

  /** Stop sending these users' presence. */
  unsubscribe(users) {
    users.forEach(u => this.users.delete(u));
    return this.live ? this.command({ type: "unsubscribe", users }) : Promise.resolve({ type: "queued" });
  }

  /** Set the session's status and message; resolves with the user's combined presence. */
  async set(status, message = "", messageExpiresAt = undefined) {
    const command = { type: "set", status, message };
    if (messageExpiresAt) command.message_expires_at = messageExpiresAt;
    this.options.status = status;            // said again in the hello after a reconnect
    this.options.message = message;
    const reply = await this.command(command);
    this.presence = reply.presence;
    return reply.presence;
  }

  /** Close for good: the session ends at once on every node. */
  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000, "bye");
    this.state("closed");
  }

  // --- internals ---

  state(name, detail) {
    this.live = name === "live";
    if (this.options.onState) this.options.onState(name, detail);
  }

  command(body) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify(Object.assign({ id }, body)));
    });
  }

  async connect() {
    if (this.stopped) return;
    this.state("connecting");
    const token = typeof this.options.token === "function" ? await this.options.token() : this.options.token;
    const ws = new WebSocket(this.options.url);    // never put the token in the URL
    this.ws = ws;
    ws.onopen = () => {
      const hello = { type: "hello", token };
      if (this.session) hello.session = this.session;
      if (this.options.device) hello.device = this.options.device;
      if (this.options.status) hello.status = this.options.status;
      if (this.options.message !== undefined) hello.message = this.options.message;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = event => this.receive(JSON.parse(event.data));
    ws.onclose = event => this.closed(event);
  }

  receive(message) {
    if (message.type === "welcome") {
      this.session = message.session;
      this.presence = message.presence;
      this.attempt = 0;
      this.state("live", message.presence);
      if (this.users.size > 0) this.command({ type: "subscribe", users: [...this.users] });
    } else if (message.type === "presence") {
      if (this.options.onPresence) this.options.onPresence(message.presence);
    } else if (message.id !== undefined && this.pending.has(message.id)) {
      const { resolve, reject } = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.type === "error") reject(Object.assign(new Error(message.error.message), message.error));
      else resolve(message);
    } else if (message.type === "error" && this.options.onError) {
      this.options.onError(message.error);
    }
  }

  closed(event) {
    for (const { reject } of this.pending.values()) reject(new Error("the socket closed"));
    this.pending.clear();
    // 4409: another connection took this session over (another tab, a reconnect elsewhere):
    // do not fight it. 1000: closed by us.
    if (this.stopped || event.code === 4409 || event.code === 1000) {
      this.state("closed", event.code);
      return;
    }
    // Anything else (1006 dropped, 1001 node draining, 1013 too slow, 4401 token, 4408
    // timeout, 4410 session ended elsewhere): try again, later each time. A token that
    // expired (4401) is asked for again through options.token.
    const delay = Math.min(this.options.maxDelay, this.options.minDelay * 2 ** this.attempt);
    this.attempt += 1;
    const jittered = delay / 2 + Math.random() * delay / 2;
    this.state("waiting", { code: event.code, reason: event.reason, retryIn: Math.round(jittered) });
    this.retryTimer = setTimeout(() => this.connect(), jittered);
  }
}

if (typeof module !== "undefined") module.exports = { PresenceSocket };
