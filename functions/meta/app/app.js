// The reference web client: the REST API under /api/v1 and the socket.io namespace /chat, nothing
// else. Tokens live in sessionStorage (one login per browser tab), are refreshed before they
// expire, and a dropped socket reconnects and catches up with an `after` cursor.
'use strict';

(() => {
  const PAGE = 30;
  const TYPING_IDLE_MS = 2000;
  const TYPING_SHOWN_MS = 6000;
  const QUICK_REACTIONS = ['👍', '❤️', '😂'];
  const $ = (id) => document.getElementById(id);

  const state = {
    config: null,
    session: null, // {accessToken, refreshToken, user}
    socket: null,
    rooms: new Map(), // chatRoomId → {chatRoomId, kind, partner?, group?, lastMessage, unreadCount}
    profiles: new Map(), // userId → public profile
    current: null, // {room, messages: Map, oldest, newest, hasMore, loading}
    compose: null, // {mode: 'reply'|'edit', message}
    groupDraft: new Map(),
    reporting: null, // the message being reported
    typing: { sent: false, timer: null, shown: new Map() },
    refreshTimer: null,
    refreshing: null,
  };

  // ---- session ----------------------------------------------------------------------------
  const SESSION_KEY = 'chat.session';
  function saveSession(session) {
    state.session = session;
    if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(SESSION_KEY);
  }
  function loadSession() {
    try { return JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch { return null; }
  }
  function me() { return state.session && state.session.user; }
  function myId() { return me() && (me()._id || me().id); }

  function tokenExpiry(token) {
    try {
      const body = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(body)).exp * 1000;
    } catch { return Date.now() + 60_000; }
  }

  /** Refreshes a minute before expiry, or at 80 % of a lifetime under five minutes. */
  function scheduleRefresh(delay) {
    clearTimeout(state.refreshTimer);
    if (!state.session) return;
    if (delay === undefined) {
      const left = tokenExpiry(state.session.accessToken) - Date.now();
      delay = left > 300_000 ? left - 60_000 : left * 0.8;
    }
    state.refreshTimer = setTimeout(() => refreshTokens().catch(() => {}), Math.max(1000, delay));
  }

  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * One refresh at a time. 409 (another refresh just rotated the pair), 429 and server errors are
   * retried after a pause; only a refused refresh token (400/401/403) ends the session here.
   */
  function refreshTokens() {
    if (state.refreshing) return state.refreshing;
    state.refreshing = (async () => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        let res;
        try {
          res = await fetch(`${state.config.apiBase}/auth/refresh`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ refreshToken: state.session.refreshToken }),
          });
        } catch {
          await pause(2000 * attempt);
          continue;
        }
        if (res.ok) {
          const body = await res.json();
          saveSession({ ...state.session, accessToken: body.accessToken, refreshToken: body.refreshToken });
          scheduleRefresh();
          return;
        }
        if ([400, 401, 403].includes(res.status)) {
          signOut('Your session ended: log in again.');
          throw new Error('session ended');
        }
        const retryAfter = Number(res.headers.get('Retry-After')) * 1000;
        await pause(Math.min(retryAfter || 1000 * attempt, 30_000));
      }
      // Still unreachable or throttled: keep the session and try again a little later.
      scheduleRefresh(15_000);
      throw new Error('cannot refresh the session yet');
    })().finally(() => { state.refreshing = null; });
    return state.refreshing;
  }

  // ---- REST -------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, body) {
      const text = body && body.message;
      super(Array.isArray(text) ? text.join('; ') : text || `HTTP ${status}`);
      this.status = status;
    }
  }

  async function api(method, path, body, { auth = true, retried = false } = {}) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth) headers.Authorization = `Bearer ${state.session.accessToken}`;
    const res = await fetch(`${state.config.apiBase}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401 && auth && !retried) {
      await refreshTokens();
      return api(method, path, body, { auth, retried: true });
    }
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  function showError(where, err) {
    $(where).textContent = err ? err.message || String(err) : '';
  }

  // ---- auth screen ------------------------------------------------------------------------
  function showAuth(message) {
    $('chat-view').hidden = true;
    $('auth-view').hidden = false;
    $('auth-error').textContent = message || '';
  }

  function switchTab(register) {
    $('tab-register').classList.toggle('active', register);
    $('tab-login').classList.toggle('active', !register);
    $('register-form').hidden = !register;
    $('login-form').hidden = register;
  }

  async function authenticate(path, form) {
    const fields = Object.fromEntries(new FormData(form).entries());
    for (const key of Object.keys(fields)) if (fields[key] === '') delete fields[key];
    try {
      const body = await fetch(`${state.config.apiBase}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(fields),
      }).then(async (res) => {
        const data = await res.json();
        if (!res.ok) throw new ApiError(res.status, data);
        return data;
      });
      saveSession(body);
      form.reset();
      await enterChat();
    } catch (err) {
      showError('auth-error', err);
    }
  }

  function signOut(message) {
    forgetPush();
    clearTimeout(state.refreshTimer);
    if (state.socket) { state.socket.removeAllListeners(); state.socket.disconnect(); state.socket = null; }
    saveSession(null);
    state.rooms.clear();
    state.current = null;
    $('messages').replaceChildren();
    $('rooms').replaceChildren();
    showAuth(message);
  }

  // ---- rendering helpers ------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function displayName(user) {
    if (!user) return 'someone';
    if (user.deleted) return 'Deleted user';
    return user.firstName ? `${user.firstName} (@${user.username})` : `@${user.username}`;
  }
  function shortName(userId) {
    if (userId === myId()) return 'You';
    const user = state.profiles.get(userId);
    return user ? user.firstName || user.username : 'someone';
  }
  function time(iso) {
    const date = new Date(iso);
    const sameDay = date.toDateString() === new Date().toDateString();
    return sameDay ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : date.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  }
  function remember(users) { for (const user of users || []) state.profiles.set(user._id || user.id, user); }
  async function profile(userId) {
    if (!state.profiles.has(userId)) {
      try { remember([await api('GET', `/users/${userId}`)]); } catch { /* unknown: "someone" */ }
    }
    return state.profiles.get(userId);
  }

  // ---- rooms ------------------------------------------------------------------------------
  function roomTitle(room) {
    return room.kind === 'group' ? `# ${room.group.groupName}` : displayName(room.partner);
  }
  function preview(message) {
    if (!message) return 'No messages yet';
    if (message.deleted) return message.removedByModerator ? 'Removed by a moderator' : 'Message deleted';
    const who = message.sender === myId() ? 'You: ' : senderPrefix(message);
    const file = storedFile(message);
    if (file && !message.message) return `${who}📎 ${isImage(file) ? 'photo' : file.fileName}`;
    return who + message.message;
  }

  // ---- attachments ------------------------------------------------------------------------
  // A stored file (`{attachmentId, …}`); the seed's plain URL string is shown as a link instead.
  function storedFile(message) {
    return message.attachment && typeof message.attachment === 'object' ? message.attachment : null;
  }
  const INLINE_IMAGES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
  function isImage(file) { return INLINE_IMAGES.includes(file.contentType); }
  function bytes(size) {
    if (size < 1024) return `${size} B`;
    if (size < 1024 * 1024) return `${(size / 1024).toFixed(0)} KiB`;
    return `${(size / 1024 / 1024).toFixed(1)} MiB`;
  }
  // The short-lived signed URL of a file (asked for when it is shown or clicked).
  async function fileUrl(file) {
    const link = await api('GET', `/chat/attachments/${file.attachmentId}?redirect=false`);
    return link.url;
  }
  function renderAttachment(message) {
    const file = storedFile(message);
    if (!file) {
      if (typeof message.attachment !== 'string') return null;
      const link = el('a', 'attachment-link', `📎 ${message.attachment}`);
      link.href = message.attachment;
      link.rel = 'noopener noreferrer';
      link.target = '_blank';
      return link;
    }
    if (isImage(file)) {
      const img = el('img', 'attachment-image');
      img.alt = file.fileName;
      img.loading = 'lazy';
      if (file.width && file.height) { img.width = Math.min(file.width, 240); img.height = Math.round(img.width * file.height / file.width); }
      fileUrl(file).then((url) => { img.src = url; }).catch((err) => showError('chat-error', err));
      return img;
    }
    const link = el('a', 'attachment-link', `📎 ${file.fileName} (${bytes(file.size)})`);
    link.href = '#';
    link.addEventListener('click', async (event) => {
      event.preventDefault();
      try { window.location.assign(await fileUrl(file)); } catch (err) { showError('chat-error', err); }
    });
    return link;
  }

  // PUTs the bytes as the API said, reporting progress (fetch cannot).
  function putBytes(upload, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(upload.method, upload.url);
      for (const [name, value] of Object.entries(upload.headers)) {
        if (name.toLowerCase() !== 'content-length') xhr.setRequestHeader(name, value);
      }
      xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
      xhr.addEventListener('load', () => (xhr.status >= 200 && xhr.status < 300
        ? resolve() : reject(new Error(`upload refused (${xhr.status}): ${xhr.responseText}`))));
      xhr.addEventListener('error', () => reject(new Error('upload failed: storage unreachable')));
      xhr.send(file);
    });
  }

  async function sendFile(file) {
    if (!file || !state.current) return;
    const room = state.current.room;
    const conversation = room.kind === 'group' ? { groupId: room.group.groupId } : { receiver: room.partner._id };
    const bar = $('upload-progress');
    const caption = $('message-input').value.trim();
    showError('chat-error', null);
    try {
      const ticket = await api('POST', '/chat/attachments', {
        fileName: file.name || 'pasted image', contentType: file.type || 'application/octet-stream', size: file.size, ...conversation,
      });
      bar.hidden = false;
      bar.value = 0;
      await putBytes(ticket.upload, file, (done) => { bar.value = done; });
      const sent = await request('sendMessage', {
        messageData: { ...conversation, attachmentId: ticket.attachmentId, message: caption, clientMessageId: crypto.randomUUID() },
      });
      $('message-input').value = '';
      await applyMessage(sent);
      scrollToBottom();
    } catch (err) {
      showError('chat-error', err);
    } finally {
      bar.hidden = true;
      $('file-input').value = '';
    }
  }
  function senderPrefix(message) {
    return message.chatType === 'GROUP' ? `${shortName(message.sender)}: ` : '';
  }

  async function loadRooms() {
    const [privateRooms, groupRooms] = await Promise.all([
      api('GET', `/chat/rooms/${myId()}`),
      api('GET', `/chat/group-rooms/${myId()}`),
    ]);
    for (const room of privateRooms) {
      remember([room.partner]);
      upsertRoom({ chatRoomId: room.chatRoomId, kind: 'private', partner: room.partner,
        lastMessage: room.lastMessage, unreadCount: room.unreadCount, muted: room.muted });
      // Messages that arrived while we were away are delivered now (the sender sees ✓✓).
      if (room.unreadCount > 0) {
        api('PUT', `/chat/messages/delivered/${myId()}/${room.partner._id}`).catch(() => {});
      }
    }
    for (const room of groupRooms) {
      upsertRoom({ chatRoomId: room.chatRoomId, kind: 'group', group: room.group,
        lastMessage: room.lastMessage, unreadCount: room.unreadCount, muted: room.muted });
    }
    renderRooms();
  }

  function upsertRoom(room) {
    const known = state.rooms.get(room.chatRoomId);
    state.rooms.set(room.chatRoomId, known ? { ...known, ...room } : room);
    return state.rooms.get(room.chatRoomId);
  }

  function renderRooms() {
    const rooms = [...state.rooms.values()].sort((a, b) =>
      (b.lastMessage ? b.lastMessage.createdAt : '').localeCompare(a.lastMessage ? a.lastMessage.createdAt : ''));
    const items = rooms.map((room) => {
      const item = el('li');
      item.dataset.room = room.chatRoomId;
      if (state.current && state.current.room.chatRoomId === room.chatRoomId) item.classList.add('active');
      const dot = el('span', 'dot');
      if (room.kind === 'private' && room.partner.isOnline) dot.classList.add('on');
      item.append(dot, el('span', 'name', roomTitle(room)));
      const badge = el('span', room.unreadCount > 0 ? 'badge' : '', room.unreadCount > 0 ? String(room.unreadCount) : '');
      item.append(badge, el('span', 'preview', preview(room.lastMessage)));
      item.addEventListener('click', () => openRoom(room.chatRoomId));
      return item;
    });
    $('rooms').replaceChildren(...items);
  }

  /** A private room with a user, known or not yet (no messages). */
  function privateRoomWith(user) {
    remember([user]);
    const ids = [myId(), user._id].sort();
    const chatRoomId = ids.join('_');
    return state.rooms.get(chatRoomId)
      || upsertRoom({ chatRoomId, kind: 'private', partner: user, lastMessage: null, unreadCount: 0 });
  }

  // ---- one conversation -------------------------------------------------------------------
  function target(room) {
    return room.kind === 'group' ? { groupId: room.group.groupId } : { receiverId: room.partner._id };
  }

  async function openRoom(chatRoomId, highlight) {
    const room = state.rooms.get(chatRoomId);
    if (!room) return;
    leaveCompose();
    stopTyping();
    state.current = { room, messages: new Map(), oldest: null, newest: null, hasMore: true, loading: false };
    $('conversation-title').textContent = roomTitle(room);
    $('conversation-status').textContent = '';
    $('typing').textContent = '';
    $('add-member').hidden = room.kind !== 'group';
    $('member-picker').hidden = true;
    $('message-input').disabled = false;
    $('file-input').disabled = false;
    $('send').disabled = false;
    $('messages').replaceChildren();
    renderRooms();
    if (room.kind === 'group') {
      api('GET', `/chat/group/${room.group.groupId}`).then((details) => {
        remember(details.memberProfiles);
        $('conversation-status').textContent = `${details.members.length} members`;
        rerenderAll();
      }).catch(() => {});
    } else {
      refreshPresence(room.partner._id);
      emit('joinPrivateChat', { receiverId: room.partner._id });
    }
    await loadOlder();
    scrollToBottom();
    markRead();
    if (highlight) highlightMessage(highlight);
    $('message-input').focus();
  }

  async function fetchPage(cursor) {
    const body = { ...target(state.current.room), limit: PAGE, ...cursor };
    return api('POST', '/chat/messages/fetch', body);
  }

  /** History, newest first from the server; `before` the oldest shown, for infinite scroll. */
  async function loadOlder() {
    const current = state.current;
    if (!current || current.loading || !current.hasMore) return;
    current.loading = true;
    try {
      const page = await fetchPage(current.oldest ? { before: current.oldest } : {});
      if (state.current !== current) return;
      const box = $('messages');
      const fromBottom = box.scrollHeight - box.scrollTop;
      for (const message of page.messages) {
        await profile(message.sender);
        insertMessage(message, 'top');
      }
      current.hasMore = page.hasMore;
      if (!page.hasMore && !box.querySelector('.history-end')) {
        box.prepend(el('div', 'history-end', 'Beginning of the conversation'));
      }
      box.scrollTop = box.scrollHeight - fromBottom;
    } finally {
      current.loading = false;
    }
  }

  /** After a reconnect: what arrived while we were away, oldest first (`after` cursor). */
  async function catchUp() {
    const current = state.current;
    if (!current || !current.newest) return;
    for (;;) {
      const page = await fetchPage({ after: current.newest });
      for (const message of page.messages) insertMessage(message, 'bottom');
      if (!page.hasMore || page.messages.length === 0) break;
    }
    scrollToBottom();
    markRead();
  }

  function insertMessage(message, where) {
    const current = state.current;
    const known = current.messages.get(message.messageId);
    current.messages.set(message.messageId, message);
    const node = renderMessage(message);
    if (known) {
      const old = $('messages').querySelector(`[data-id="${CSS.escape(message.messageId)}"]`);
      if (old) { old.replaceWith(node); return; }
    }
    const box = $('messages');
    if (where === 'top') {
      const end = box.querySelector('.history-end');
      if (end) end.after(node); else box.prepend(node);
      current.oldest = message.messageId;
      if (!current.newest) current.newest = message.messageId;
    } else {
      box.append(node);
      current.newest = message.messageId;
      if (!current.oldest) current.oldest = message.messageId;
    }
  }

  function rerenderAll() {
    if (!state.current) return;
    for (const message of state.current.messages.values()) insertMessage(message);
  }

  function ticks(message) {
    if (message.sender !== myId()) return null;
    const span = el('span', 'ticks');
    if (message.chatType === 'GROUP') {
      const readers = (message.readBy || []).filter((id) => id !== myId()).length;
      span.textContent = readers > 0 ? '✓✓' : '✓';
      span.title = readers > 0 ? `read by ${readers}` : 'sent';
      if (readers > 0) span.classList.add('read');
    } else {
      span.textContent = message.status === 'SENT' ? '✓' : '✓✓';
      span.title = message.status.toLowerCase();
      if (message.status === 'READ') span.classList.add('read');
    }
    span.dataset.status = message.status;
    return span;
  }

  function renderMessage(message) {
    const mine = message.sender === myId();
    const node = el('div', `message${mine ? ' mine' : ''}${message.deleted ? ' deleted' : ''}`);
    node.dataset.id = message.messageId;
    if (!mine && message.chatType === 'GROUP') node.append(el('div', 'author', shortName(message.sender)));
    if (message.replyTo) {
      const quoted = message.replyTo.deleted ? 'Message deleted' : message.replyTo.message;
      node.append(el('div', 'quote', `${shortName(message.replyTo.sender)}: ${quoted}`));
    }
    const attachment = message.deleted ? null : renderAttachment(message);
    if (attachment) node.append(attachment);
    const tombstone = message.removedByModerator ? 'Removed by a moderator' : 'Message deleted';
    if (message.deleted || message.message) node.append(el('div', 'text', message.deleted ? tombstone : message.message));
    if (message.reactions && message.reactions.length > 0) {
      const row = el('div', 'reactions');
      for (const reaction of message.reactions) {
        const mineToo = reaction.userIds.includes(myId());
        const chip = el('button', `reaction${mineToo ? ' mine' : ''}`, `${reaction.emoji} ${reaction.count}`);
        chip.type = 'button';
        chip.title = reaction.userIds.map(shortName).join(', ');
        chip.addEventListener('click', () => react(message, reaction.emoji));
        row.append(chip);
      }
      node.append(row);
    }
    const meta = el('div', 'meta', `${message.editedAt && !message.deleted ? 'edited · ' : ''}${time(message.createdAt)}`);
    const tick = ticks(message);
    if (tick) meta.append(tick);
    node.append(meta);
    if (!message.deleted) node.append(actions(message, mine));
    return node;
  }

  function actions(message, mine) {
    const bar = el('div', 'actions');
    const button = (label, title, onClick) => {
      const b = el('button', `action-${title}`, label);
      b.type = 'button';
      b.title = title;
      b.addEventListener('click', onClick);
      bar.append(b);
    };
    for (const emoji of QUICK_REACTIONS) button(emoji, 'react', () => react(message, emoji));
    button('↩', 'reply', () => startCompose('reply', message));
    if (mine) {
      button('✎', 'edit', () => startCompose('edit', message));
      button('🗑', 'delete', () => deleteMessage(message));
    } else {
      button('⚑', 'report', () => openReport(message));
    }
    return bar;
  }

  function scrollToBottom() { const box = $('messages'); box.scrollTop = box.scrollHeight; }

  function highlightMessage(messageId) {
    const node = $('messages').querySelector(`[data-id="${CSS.escape(messageId)}"]`);
    if (!node) return;
    node.classList.add('highlight');
    node.scrollIntoView({ block: 'center' });
    setTimeout(() => node.classList.remove('highlight'), 3000);
  }

  /** Everything from others in the open conversation is read (when the tab is visible). */
  function markRead() {
    const current = state.current;
    if (!current || document.visibilityState !== 'visible') return;
    const room = current.room;
    if (room.unreadCount > 0 || [...current.messages.values()].some((m) => unreadFromOthers(m))) {
      const path = room.kind === 'group' ? `/chat/group/${room.group.groupId}/read`
        : `/chat/messages/read/${myId()}/${room.partner._id}`;
      api('PUT', path).catch(() => {});
    }
    room.unreadCount = 0;
    renderRooms();
  }
  function unreadFromOthers(message) {
    if (message.sender === myId() || message.deleted) return false;
    return message.chatType === 'GROUP' ? !(message.readBy || []).includes(myId()) : message.status !== 'READ';
  }

  // ---- composing --------------------------------------------------------------------------
  function startCompose(mode, message) {
    state.compose = { mode, message };
    $('compose-bar').hidden = false;
    $('compose-bar-text').textContent = mode === 'reply'
      ? `Replying to ${shortName(message.sender)}: ${message.message.slice(0, 80)}`
      : 'Editing your message';
    if (mode === 'edit') $('message-input').value = message.message;
    $('message-input').focus();
  }
  function leaveCompose() {
    state.compose = null;
    $('compose-bar').hidden = true;
  }

  async function submitComposer(event) {
    event.preventDefault();
    const input = $('message-input');
    const text = input.value.trim();
    if (!text || !state.current) return;
    const compose = state.compose;
    input.value = '';
    leaveCompose();
    stopTyping();
    try {
      if (compose && compose.mode === 'edit') {
        const edited = await request('editMessage', { messageId: compose.message.messageId, message: text });
        applyMessage(edited);
        return;
      }
      const messageData = {
        ...(state.current.room.kind === 'group' ? { groupId: state.current.room.group.groupId }
          : { receiver: state.current.room.partner._id }),
        message: text,
        clientMessageId: crypto.randomUUID(),
      };
      if (compose && compose.mode === 'reply') messageData.replyTo = compose.message.messageId;
      const sent = await request('sendMessage', { messageData });
      await applyMessage(sent);
      scrollToBottom();
      // The first message makes the partner a contact: their presence becomes visible.
      const room = state.current.room;
      if (room.kind === 'private' && !$('conversation-status').textContent) refreshPresence(room.partner._id);
    } catch (err) {
      input.value = text;
      showError('chat-error', err);
    }
  }

  async function react(message, emoji) {
    const current = state.current && state.current.messages.get(message.messageId);
    const reaction = (current || message).reactions.find((r) => r.emoji === emoji);
    const mine = reaction && reaction.userIds.includes(myId());
    try {
      const answer = await request(mine ? 'removeReaction' : 'addReaction', { messageId: message.messageId, emoji });
      applyReactions(answer);
    } catch (err) { showError('chat-error', err); }
  }

  async function deleteMessage(message) {
    try {
      applyDeleted(await request('deleteMessage', { messageId: message.messageId }));
    } catch (err) { showError('chat-error', err); }
  }

  // ---- typing -----------------------------------------------------------------------------
  function onInput() {
    if (!state.current || (state.compose && state.compose.mode === 'edit')) return;
    if (!state.typing.sent) {
      state.typing.sent = true;
      emit('userTyping', target(state.current.room));
    }
    clearTimeout(state.typing.timer);
    state.typing.timer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }
  function stopTyping() {
    clearTimeout(state.typing.timer);
    if (state.typing.sent && state.current) emit('userStoppedTyping', target(state.current.room));
    state.typing.sent = false;
  }
  function showTyping({ userId, chatRoomId }, typing) {
    clearTimeout(state.typing.shown.get(chatRoomId + userId));
    const names = state.typing.names || (state.typing.names = new Map());
    if (typing) {
      names.set(chatRoomId + userId, { chatRoomId, userId });
      state.typing.shown.set(chatRoomId + userId, setTimeout(() => showTyping({ userId, chatRoomId }, false), TYPING_SHOWN_MS));
    } else {
      names.delete(chatRoomId + userId);
    }
    const here = state.current ? [...names.values()].filter((t) => t.chatRoomId === state.current.room.chatRoomId) : [];
    $('typing').textContent = here.length ? `${here.map((t) => shortName(t.userId)).join(', ')} is typing…` : '';
  }

  // ---- presence ---------------------------------------------------------------------------
  async function refreshPresence(userId) {
    try {
      const status = await api('GET', `/chat/user/${userId}/online-status`);
      setPresence(userId, status.isOnline, status.lastSeen);
    } catch { /* not a contact yet: nothing to show */ }
  }
  function setPresence(userId, online, lastSeen) {
    const user = state.profiles.get(userId);
    if (user) { user.isOnline = online; if (lastSeen) user.lastSeen = lastSeen; }
    for (const room of state.rooms.values()) {
      if (room.kind === 'private' && room.partner._id === userId) {
        room.partner.isOnline = online;
        if (lastSeen) room.partner.lastSeen = lastSeen;
      }
    }
    const current = state.current;
    if (current && current.room.kind === 'private' && current.room.partner._id === userId) {
      $('conversation-status').textContent = online ? 'online'
        : lastSeen ? `last seen ${time(lastSeen)}` : 'offline';
    }
    renderRooms();
  }

  // ---- incoming changes -------------------------------------------------------------------
  async function applyMessage(message) {
    await profile(message.sender);
    let room = state.rooms.get(message.chatRoomId);
    let counted = false; // the server's unread count already includes this message
    if (!room) {
      await loadRooms();
      room = state.rooms.get(message.chatRoomId);
      if (!room) return { open: false, counted };
      counted = true;
    }
    const newest = !room.lastMessage || room.lastMessage.createdAt <= message.createdAt
      || room.lastMessage.messageId === message.messageId;
    if (newest) room.lastMessage = message;
    const open = state.current && state.current.room.chatRoomId === message.chatRoomId;
    if (open) {
      const known = state.current.messages.has(message.messageId);
      const box = $('messages');
      const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
      insertMessage(message, known ? undefined : 'bottom');
      if (!known && atBottom) scrollToBottom();
    }
    renderRooms();
    return { open, counted };
  }

  async function onIncoming(message) {
    const known = state.current && state.current.messages.has(message.messageId);
    const { open, counted } = await applyMessage(message);
    if (known || message.sender === myId()) return;
    const visible = open && document.visibilityState === 'visible';
    if (visible) {
      emit('messageRead', { messageId: message.messageId });
    } else {
      const room = state.rooms.get(message.chatRoomId);
      if (room && !counted) { room.unreadCount += 1; renderRooms(); }
      if (message.chatType === 'PRIVATE') emit('messageDelivered', { messageId: message.messageId });
      desktopNotice(message).catch(() => {});
    }
  }

  function patchMessage(messageId, change) {
    const current = state.current;
    const message = current && current.messages.get(messageId);
    if (message) insertMessage({ ...message, ...change });
    for (const room of state.rooms.values()) {
      if (room.lastMessage && room.lastMessage.messageId === messageId) room.lastMessage = { ...room.lastMessage, ...change };
    }
    renderRooms();
  }
  function applyDeleted({ messageId, deletedAt, removedByModerator }) {
    patchMessage(messageId, { deleted: true, deletedAt, removedByModerator: !!removedByModerator, message: '', reactions: [], attachment: undefined });
  }
  function applyReactions({ messageId, reactions }) { patchMessage(messageId, { reactions }); }

  // ---- socket -----------------------------------------------------------------------------
  function emit(event, payload) { if (state.socket && state.socket.connected) state.socket.emit(event, payload); }

  /** An event with an acknowledgement; failures reject with the server's message. */
  function request(event, payload) {
    return new Promise((resolve, reject) => {
      if (!state.socket || !state.socket.connected) { reject(new Error('Not connected: retrying…')); return; }
      state.socket.timeout(10_000).emit(event, payload, (err, answer) => {
        if (err) reject(new Error('No answer from the server'));
        else if (answer && answer.error) reject(new Error(answer.error.message));
        else resolve(answer);
      });
    });
  }

  function connectSocket() {
    const socket = io(`${state.config.realtimeUrl}/chat`, {
      auth: (cb) => cb({ token: state.session.accessToken }),
      transports: ['websocket'],
    });
    state.socket = socket;
    window.chatApp.socket = socket;
    socket.on('connect', async () => {
      $('connection-dot').classList.add('on');
      $('connection-dot').title = 'connected';
      showError('chat-error', null);
      // A socket hears what is committed after its handshake; what came before (since the rooms
      // were loaded, or while we were away) is read now.
      await loadRooms().catch(() => {});
      await catchUp().catch(() => {});
      const current = state.current;
      if (current && current.room.kind === 'private') emit('joinPrivateChat', { receiverId: current.room.partner._id });
    });
    socket.on('disconnect', (reason) => {
      $('connection-dot').classList.remove('on');
      $('connection-dot').title = `disconnected (${reason})`;
      // The server closed it (token expired or session ended): reconnect with a fresh token.
      if (reason === 'io server disconnect' && state.session) {
        const fresh = tokenExpiry(state.session.accessToken) - Date.now() > 5000;
        (fresh ? Promise.resolve() : refreshTokens()).then(() => socket.connect()).catch(() => {});
      }
    });
    socket.on('connect_error', (err) => {
      $('connection-dot').title = err.message;
      if (/expired/i.test(err.message)) {
        refreshTokens().then(() => socket.connect()).catch(() => {});
        return;
      }
      // A refusal (origin, session, too many sockets) or an unreachable node: say so, not a grey dot.
      showError('chat-error', new Error(`Cannot connect to the realtime server: ${err.message}`));
    });
    socket.on('sessionEnded', () => signOut('This session was ended (logged out elsewhere).'));
    socket.on('messageReceived', onIncoming);
    socket.on('groupMessageReceived', onIncoming);
    socket.on('messageStatus', (message) => applyMessage(message));
    socket.on('messageEdited', (message) => applyMessage(message));
    socket.on('messageDeleted', applyDeleted);
    socket.on('messageReactions', applyReactions);
    socket.on('userTyping', (data) => showTyping(data, true));
    socket.on('userStoppedTyping', (data) => showTyping(data, false));
    socket.on('userOnline', ({ userId }) => setPresence(userId, true));
    socket.on('userOffline', ({ userId, lastSeen }) => setPresence(userId, false, lastSeen));
    socket.on('error', (failure) => showError('chat-error', new Error(`${failure.event}: ${failure.message}`)));
  }

  // ---- search -----------------------------------------------------------------------------
  function debounce(fn, ms) {
    let timer;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  async function findPeople(query, list, onPick) {
    const q = query.trim();
    if (!q) { list.replaceChildren(); return; }
    try {
      const users = await api('GET', `/users/search?q=${encodeURIComponent(q)}`);
      remember(users);
      list.replaceChildren(...users.filter((u) => u._id !== myId()).map((user) => {
        const item = el('li', 'person', displayName(user));
        item.dataset.user = user.username;
        item.addEventListener('click', () => onPick(user));
        return item;
      }));
    } catch (err) { showError('chat-error', err); }
  }

  async function searchMessages(query) {
    const q = query.trim();
    const list = $('message-results');
    if (!q) { list.replaceChildren(); return; }
    try {
      const found = await api('GET', `/chat/messages/search?q=${encodeURIComponent(q)}&limit=20`);
      if (found.messages.length === 0) { list.replaceChildren(el('li', 'hit muted', 'No messages found')); return; }
      list.replaceChildren(...found.messages.map((message) => {
        const room = state.rooms.get(message.chatRoomId);
        const item = el('li', 'hit');
        item.append(el('div', 'muted', `${room ? roomTitle(room) : message.chatRoomId} · ${time(message.createdAt)}`),
          el('div', 'text', message.message));
        item.addEventListener('click', () => openRoom(message.chatRoomId, message.messageId));
        return item;
      }));
    } catch (err) { showError('chat-error', err); }
  }

  // ---- notifications ----------------------------------------------------------------------
  // While a page is open its socket is connected, so the server sends no push: the page itself
  // shows a desktop notification (Notification API) for a message that is not on screen. With
  // every page closed, the service worker (sw.js) shows the server's Web Push.
  const PUSH_SUBSCRIBE_TIMEOUT_MS = 15000;

  function showNotificationsState() {
    const button = $('notifications');
    if (!('Notification' in window)) { button.hidden = true; return; }
    const permission = Notification.permission;
    button.textContent = permission === 'granted' ? 'Notifications on'
      : permission === 'denied' ? 'Notifications blocked' : 'Enable notifications';
  }

  async function desktopNotice(message) {
    if (!('Notification' in window) || Notification.permission !== 'granted' || message.deleted) return;
    const room = state.rooms.get(message.chatRoomId);
    if (!room || room.muted) return;
    const sender = await profile(message.sender);
    const title = room.kind === 'group' ? room.group.groupName : displayName(sender);
    const notice = new Notification(title, { body: preview(message), tag: message.chatRoomId });
    notice.addEventListener('click', () => { window.focus(); openRoom(message.chatRoomId); notice.close(); });
  }

  /** The bytes of a base64url text (the VAPID key). */
  function keyBytes(text) {
    const plain = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(plain, (c) => c.charCodeAt(0));
  }

  function withTimeout(promise, ms, what) {
    return Promise.race([promise,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer`)), ms))]);
  }

  async function enableNotifications() {
    if (!('Notification' in window)) { notify('This browser cannot show notifications.'); return; }
    const permission = await Notification.requestPermission();
    showNotificationsState();
    if (permission !== 'granted') { notify('Notifications are blocked for this site (see the browser\'s site settings).'); return; }
    if (!('serviceWorker' in navigator) || !('PushManager' in window)) {
      notify('Notifications on while this page is open (this browser has no Web Push).');
      return;
    }
    try {
      const registration = await navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' });
      await navigator.serviceWorker.ready;
      const { publicKey } = await api('GET', '/users/me/push-subscriptions/vapid-public-key');
      let subscription = await registration.pushManager.getSubscription();
      if (!subscription) {
        subscription = await withTimeout(registration.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: keyBytes(publicKey),
        }), PUSH_SUBSCRIBE_TIMEOUT_MS, 'the browser\'s push service');
      }
      const { endpoint, keys } = subscription.toJSON();
      await api('POST', '/users/me/push-subscriptions', { kind: 'webpush', endpoint, keys });
      notify('Notifications on, also while this page is closed.');
    } catch (err) {
      notify(`Notifications on while this page is open; not while it is closed: ${err.message}`);
    }
  }

  /** Logging out: this browser stops receiving pushes (the server forgot the device already). */
  function forgetPush() {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.getRegistration('/app/')
      .then((registration) => registration && registration.pushManager.getSubscription())
      .then((subscription) => subscription && subscription.unsubscribe())
      .catch(() => {});
  }

  // ---- trust and safety -------------------------------------------------------------------
  function notify(text) {
    $('chat-notice').textContent = text;
    setTimeout(() => { if ($('chat-notice').textContent === text) $('chat-notice').textContent = ''; }, 5000);
  }

  function openReport(message) {
    state.reporting = message;
    $('report-excerpt').textContent = message.message || '';
    $('report-dialog').showModal();
  }

  async function sendReport(event) {
    event.preventDefault();
    const form = $('report-form');
    const data = new FormData(form);
    const note = data.get('note').trim();
    try {
      await api('POST', `/chat/message/${encodeURIComponent(state.reporting.messageId)}/report`,
        { reason: data.get('reason'), ...(note ? { note } : {}) });
      $('report-dialog').close();
      form.reset();
      notify('Reported. A moderator will look at it.');
    } catch (err) { showError('chat-error', err); $('report-dialog').close(); }
  }

  /** GET /users/me/export, saved as a file by the browser. */
  async function downloadData() {
    try {
      const get = () => fetch(`${state.config.apiBase}/users/me/export`, { headers: { Authorization: `Bearer ${state.session.accessToken}` } });
      let res = await get();
      if (res.status === 401) { await refreshTokens(); res = await get(); }
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
      const url = URL.createObjectURL(await res.blob());
      const link = el('a');
      link.href = url;
      link.download = 'chat-export.json';
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) { showError('chat-error', err); }
  }

  async function deleteAccount(event) {
    event.preventDefault();
    const form = $('delete-form');
    try {
      await api('DELETE', '/users/me', { password: new FormData(form).get('password') });
      $('delete-dialog').close();
      form.reset();
      signOut('Your account was deleted.');
    } catch (err) { showError('delete-error', err); }
  }

  function isModerator() {
    const roles = (me() && me().roles) || [];
    return roles.includes('moderator') || roles.includes('admin');
  }

  function describeTarget(target) {
    if (target.kind === 'message') return `Message by ${shortName(target.author)}`;
    return `User ${shortName(target.userId)}`;
  }

  async function loadReports() {
    showError('admin-error', null);
    try {
      const page = await api('GET', '/admin/reports');
      const people = new Set(page.reports.flatMap((r) => [r.reporter, r.target.author || r.target.userId]));
      await Promise.all([...people].map(profile));
      const items = page.reports.map((report) => {
        const item = el('li', 'report');
        item.dataset.report = report.reportId;
        item.append(el('div', '', `${describeTarget(report.target)} · ${report.reason.replace('_', ' ')} · reported by ${shortName(report.reporter)}`));
        if (report.target.excerpt) item.append(el('div', 'excerpt', report.target.excerpt));
        if (report.note) item.append(el('div', 'muted', report.note));
        const row = el('div', 'row');
        const action = (label, body) => {
          const b = el('button', `resolve-${body.action}`, label);
          b.type = 'button';
          b.addEventListener('click', () => resolveReport(report, body));
          row.append(b);
        };
        if (report.target.kind === 'message') action('Remove message', { action: 'removeMessage' });
        action('Suspend 1 day', { action: 'suspend', until: new Date(Date.now() + 86_400_000).toISOString() });
        action('Ban', { action: 'ban' });
        action('Dismiss', { action: 'dismiss' });
        item.append(row);
        return item;
      });
      if (items.length === 0) items.push(el('li', 'muted', 'No open reports.'));
      $('admin-reports').replaceChildren(...items);
    } catch (err) { showError('admin-error', err); }
  }

  async function resolveReport(report, body) {
    try {
      await api('POST', `/admin/reports/${report.reportId}/resolve`, body);
      await loadReports();
    } catch (err) { showError('admin-error', err); }
  }

  // ---- groups -----------------------------------------------------------------------------
  function renderGroupDraft() {
    $('group-members').replaceChildren(...[...state.groupDraft.values()].map((user) => el('li', '', displayName(user))));
  }

  async function createGroup(event) {
    event.preventDefault();
    const form = $('group-form');
    const groupName = new FormData(form).get('groupName').trim();
    try {
      const group = await api('POST', '/chat/group', { groupName, members: [...state.groupDraft.keys()] });
      $('group-dialog').close();
      form.reset();
      state.groupDraft.clear();
      renderGroupDraft();
      $('group-member-results').replaceChildren();
      const room = upsertRoom({ chatRoomId: `group_${group.groupId}`, kind: 'group', lastMessage: null, unreadCount: 0,
        group: { ...group, memberCount: group.members.length } });
      await openRoom(room.chatRoomId);
    } catch (err) { showError('chat-error', err); }
  }

  async function addMember(user) {
    const room = state.current && state.current.room;
    if (!room || room.kind !== 'group') return;
    try {
      const group = await api('POST', `/chat/group/${room.group.groupId}/member`, { userId: user._id });
      $('member-picker').hidden = true;
      $('member-query').value = '';
      $('member-results').replaceChildren();
      $('conversation-status').textContent = `${group.members.length} members`;
    } catch (err) { showError('chat-error', err); }
  }

  // ---- start ------------------------------------------------------------------------------
  async function enterChat() {
    $('auth-view').hidden = true;
    $('chat-view').hidden = false;
    $('me-name').textContent = displayName(me());
    $('moderation').hidden = !isModerator();
    showNotificationsState();
    remember([me()]);
    scheduleRefresh();
    try {
      await loadRooms();
    } catch (err) {
      if (err.status === 401) { signOut('Your session ended: log in again.'); return; }
      showError('chat-error', err);
    }
    connectSocket();
  }

  function wire() {
    $('tab-login').addEventListener('click', () => switchTab(false));
    $('tab-register').addEventListener('click', () => switchTab(true));
    $('login-form').addEventListener('submit', (e) => { e.preventDefault(); authenticate('/auth/login', e.target); });
    $('register-form').addEventListener('submit', (e) => { e.preventDefault(); authenticate('/auth/register', e.target); });
    $('logout').addEventListener('click', async () => {
      try { await api('POST', '/auth/logout'); } catch { /* ending locally is enough */ }
      signOut();
    });
    const people = debounce((q) => findPeople(q, $('people-results'), (user) => {
      $('people-query').value = '';
      $('people-results').replaceChildren();
      openRoom(privateRoomWith(user).chatRoomId);
    }), 250);
    $('people-query').addEventListener('input', (e) => people(e.target.value));
    $('people-form').addEventListener('submit', (e) => e.preventDefault());
    const messages = debounce(searchMessages, 300);
    $('message-search').addEventListener('input', (e) => messages(e.target.value));
    $('message-search-form').addEventListener('submit', (e) => { e.preventDefault(); searchMessages($('message-search').value); });
    $('composer').addEventListener('submit', submitComposer);
    $('message-input').addEventListener('input', onInput);
    $('file-input').addEventListener('change', (e) => sendFile(e.target.files[0]));
    $('message-input').addEventListener('paste', (e) => {
      const image = [...(e.clipboardData ? e.clipboardData.files : [])].find((f) => f.type.startsWith('image/'));
      if (image) { e.preventDefault(); sendFile(image); }
    });
    $('compose-bar-cancel').addEventListener('click', () => { if (state.compose && state.compose.mode === 'edit') $('message-input').value = ''; leaveCompose(); });
    $('messages').addEventListener('scroll', () => { if ($('messages').scrollTop < 60) loadOlder().catch((err) => showError('chat-error', err)); });
    document.addEventListener('visibilitychange', markRead);
    $('new-group').addEventListener('click', () => $('group-dialog').showModal());
    $('group-cancel').addEventListener('click', () => $('group-dialog').close());
    $('group-form').addEventListener('submit', createGroup);
    $('report-form').addEventListener('submit', sendReport);
    $('report-cancel').addEventListener('click', () => $('report-dialog').close());
    $('export-data').addEventListener('click', downloadData);
    $('notifications').addEventListener('click', () => { enableNotifications().catch((err) => notify(err.message)); });
    $('delete-account').addEventListener('click', () => { showError('delete-error', null); $('delete-dialog').showModal(); });
    $('delete-cancel').addEventListener('click', () => $('delete-dialog').close());
    $('delete-form').addEventListener('submit', deleteAccount);
    $('moderation').addEventListener('click', () => { $('admin-dialog').showModal(); loadReports(); });
    $('admin-close').addEventListener('click', () => $('admin-dialog').close());
    const groupPeople = debounce((q) => findPeople(q, $('group-member-results'), (user) => {
      state.groupDraft.set(user._id, user);
      renderGroupDraft();
    }), 250);
    $('group-member-query').addEventListener('input', (e) => groupPeople(e.target.value));
    $('add-member').addEventListener('click', () => { $('member-picker').hidden = !$('member-picker').hidden; $('member-query').focus(); });
    const memberPeople = debounce((q) => findPeople(q, $('member-results'), addMember), 250);
    $('member-query').addEventListener('input', (e) => memberPeople(e.target.value));
  }

  async function start() {
    // A handle for the browser console (and the browser test): the live socket.
    window.chatApp = { socket: null };
    wire();
    state.config = await fetch('/app/config.json').then((res) => res.json());
    const saved = loadSession();
    if (saved) {
      state.session = saved;
      await enterChat();
    } else {
      showAuth();
    }
  }

  document.addEventListener('DOMContentLoaded', () => { start().catch((err) => showAuth(err.message)); });
})();
