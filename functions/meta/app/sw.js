// The web client's service worker: shows a Web Push (`{title, body, chatRoomId, messageId}`, sent
// by the realtime node while none of this user's pages is connected) as a system notification, one
// per conversation (a newer one replaces it), and opens the chat when it is clicked.
'use strict';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let push = {};
  try { push = event.data ? event.data.json() : {}; } catch { push = {}; }
  const title = typeof push.title === 'string' && push.title ? push.title : 'New message';
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof push.body === 'string' ? push.body : '',
    tag: typeof push.chatRoomId === 'string' ? push.chatRoomId : 'chat',
    renotify: true,
    data: { chatRoomId: push.chatRoomId, messageId: push.messageId },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = pages.find((page) => new URL(page.url).pathname.startsWith('/app/'));
    if (open) return open.focus();
    return self.clients.openWindow('/app/');
  })());
});
