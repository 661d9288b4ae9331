// The side-by-side reference (benchmark 3): a minimal Node.js socket.io server doing the emit work
// of our realtime node, and nothing else: no token verification, no database, no change feed.
// The "token" is `<userId>:<groupId>`; the socket joins `user_<userId>` and `group_<groupId>`.
// `sendMessage {messageData}` goes to the receiver's room as `messageReceived`, or to the group's
// room (without the sender's sockets) as `groupMessageReceived`, and back to the sender as `messageSent`.
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 3010);
const io = new Server(port, { maxHttpBufferSize: 1e6 });
let nextId = 0;

io.of("/chat").on("connection", (socket) => {
  const [userId, groupId] = String(socket.handshake.auth.token || "").split(":");
  socket.join(`user_${userId}`);
  if (groupId) socket.join(`group_${groupId}`);
  socket.on("sendMessage", (payload) => {
    const data = (payload && payload.messageData) || payload || {};
    const message = {
      ...data,
      messageId: String(++nextId),
      sender: userId,
      status: "SENT",
      createdAt: new Date().toISOString(),
    };
    if (data.groupId) {
      socket.to(`group_${data.groupId}`).except(`user_${userId}`).emit("groupMessageReceived", message);
    } else {
      io.of("/chat").to(`user_${data.receiver}`).emit("messageReceived", message);
    }
    socket.emit("messageSent", message);
  });
});
console.log(`reference socket.io server on ${port}`);
