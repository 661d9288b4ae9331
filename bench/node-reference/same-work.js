// The same-work reference (issue: "beat a Node.js server doing the same work"): a plain Node.js
// socket.io 4 server that does, per private message, what our realtime node must do, with the
// usual Node.js tools and nothing more:
// - handshake: the client's access token verified with `jsonwebtoken` (HS256, our JWT_SECRET), the
//   socket joins `user_<sub>`;
// - `sendMessage {messageData}`: in ONE better-sqlite3 transaction (WAL, synchronous=NORMAL, as
//   ours): the receiver must exist, the sender's per-minute rate-limit counter is counted and
//   checked, the message row is inserted; then `messageReceived` goes to the receiver's room and
//   `messageSent` back to the sender.
// The users it knows are given in USER_IDS (comma-separated), its database is DATABASE_PATH.
const { Server } = require("socket.io");
const jwt = require("jsonwebtoken");
const Database = require("better-sqlite3");
const crypto = require("crypto");

const port = Number(process.env.PORT || 3011);
const secret = process.env.JWT_SECRET;
const db = new Database(process.env.DATABASE_PATH || "reference.db");
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.exec(`
  CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS rate_limits (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, message_id TEXT NOT NULL, chat_room_id TEXT NOT NULL, chat_type TEXT NOT NULL,
    sender TEXT NOT NULL, receiver TEXT, message TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS messages_room ON messages (chat_room_id, created_at);
`);
const addUser = db.prepare("INSERT OR IGNORE INTO users (id) VALUES (?)");
for (const id of (process.env.USER_IDS || "").split(",").filter(Boolean)) addUser.run(id);

const userExists = db.prepare("SELECT 1 FROM users WHERE id = ?");
const hit = db.prepare(
  "INSERT INTO rate_limits (key, count, expires_at) VALUES (?, 1, ?) " +
    "ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING count");
const insert = db.prepare(
  "INSERT INTO messages (id, message_id, chat_room_id, chat_type, sender, receiver, message, status, created_at, updated_at) " +
    "VALUES (?, ?, ?, 'PRIVATE', ?, ?, ?, 'SENT', ?, ?)");
const LIMIT = 1000000;
const send = db.transaction((sender, data) => {
  if (!userExists.get(data.receiver)) return { error: "Receiver not found" };
  const window = Math.floor(Date.now() / 60000);
  const { count } = hit.get(`message:user:${sender}:${window}`, new Date((window + 1) * 60000).toISOString());
  if (count > LIMIT) return { error: "Too many requests" };
  const now = new Date().toISOString();
  const room = [sender, data.receiver].sort().join("_");
  const message = {
    _id: crypto.randomBytes(12).toString("hex"),
    messageId: crypto.randomUUID(),
    chatRoomId: room,
    chatType: "PRIVATE",
    sender,
    receiver: data.receiver,
    message: String(data.message || ""),
    status: "SENT",
    createdAt: now,
    updatedAt: now,
  };
  insert.run(message._id, message.messageId, room, sender, data.receiver, message.message, now, now);
  return { message };
});

const io = new Server(port, { maxHttpBufferSize: 1e6 });
const chat = io.of("/chat");
chat.use((socket, next) => {
  try {
    const claims = jwt.verify(String(socket.handshake.auth.token || ""), secret, { algorithms: ["HS256"] });
    if (claims.type !== "access") return next(new Error("Invalid access token"));
    socket.data.userId = claims.sub;
    next();
  } catch {
    next(new Error("Invalid access token"));
  }
});
chat.on("connection", (socket) => {
  const userId = socket.data.userId;
  socket.join(`user_${userId}`);
  socket.on("sendMessage", (payload) => {
    const data = (payload && payload.messageData) || {};
    const result = send(userId, data);
    if (result.error) return socket.emit("error", { message: result.error });
    chat.to(`user_${data.receiver}`).emit("messageReceived", result.message);
    socket.emit("messageSent", result.message);
  });
});
console.log(`same-work reference socket.io server on ${port}`);
