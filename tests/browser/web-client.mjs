// Two people chat through the web client (/app) in headless Chromium, each in a browser context of
// their own: register, find each other, private chat with typing, ticks, presence, reactions,
// replies, edit, delete, search, history paging, a dropped socket that catches up, a group, and a
// token refresh. Run by tests/api/web_client.rs:
//   node web-client.mjs <app url> <screenshot dir> [chat|connects|refused|safety <admin email>|push]
// `connects`: one person registers and the page's socket connects (the page's origin is allowed);
// `refused`: the node refuses the page's origin and the page says why. The host name foreign.test
// resolves to 127.0.0.1, so a page can be served from an origin the node does not allow.
// `safety`: a message is reported, the admin (the account ADMIN_EMAILS names) removes it from the
// moderation page, the reporter downloads their data and deletes their account.
// `push`: with notifications allowed, "Enable notifications" registers the service worker; a message
// to a conversation not on screen shows a desktop notification, and a Web Push delivered to the
// service worker (through the DevTools protocol: no real push service is reachable here) shows one.
// Exits non-zero with the failing step on any failure.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { join } from 'node:path';

const [appUrl, shots, mode = 'chat', adminEmail] = process.argv.slice(2);
if (!appUrl || !shots || !['chat', 'connects', 'refused', 'safety', 'push'].includes(mode) || (mode === 'safety' && !adminEmail)) {
  console.error('usage: node web-client.mjs <app url> <screenshot dir> [chat|connects|refused|safety <admin email>|push]');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const TIMEOUT = 15_000;
const tag = Date.now().toString(36).slice(-5);
const problems = [];
let current = 'start';
const step = (name) => { current = name; console.log(`step: ${name}`); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP foreign.test 127.0.0.1'],
});

async function person(name, { connected = true, email, notifications = false } = {}) {
  const context = await browser.newContext({
    viewport: { width: 1100, height: 720 },
    permissions: notifications ? ['notifications'] : [],
  });
  context.setDefaultTimeout(TIMEOUT);
  if (notifications) {
    // Watches the real Notification API (each notification is still shown): a test cannot see the
    // desktop's notification area.
    await context.addInitScript(() => {
      const Real = window.Notification;
      window.shownNotices = [];
      window.Notification = class extends Real {
        constructor(title, options = {}) {
          super(title, options);
          window.shownNotices.push({ title, body: options.body, tag: options.tag });
        }
      };
    });
  }
  const page = await context.newPage();
  page.on('pageerror', (err) => problems.push(`${name}: page error: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium ignores the Cross-Origin-Opener-Policy of a plain-http page on a non-local host
    // (foreign.test) and says so: a fact of the test's address, not a fault of the page. Its
    // browser contexts are incognito, where Chromium has no Push API and says so when the page
    // subscribes (the page then tells its user that pushes while it is closed are unavailable).
    if (msg.type() === 'error' && !/Failed to load resource|Cross-Origin-Opener-Policy header has been ignored|does not support the Push API in incognito/.test(msg.text())) {
      problems.push(`${name}: console error: ${msg.text()}`);
    }
  });
  const username = `${name}_${tag}`;
  const who = { name, username, page, context, refreshes: 0 };
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/auth/refresh')) who.refreshes += 1;
  });
  await page.goto(appUrl);
  await page.click('#tab-register');
  const form = page.locator('#register-form');
  await form.locator('[name=username]').fill(username);
  await form.locator('[name=email]').fill(email || `${username}@example.com`);
  await form.locator('[name=firstName]').fill(name[0].toUpperCase() + name.slice(1));
  await form.locator('[name=password]').fill('SecurePass123!');
  await form.locator('button[type=submit]').click();
  await page.locator('#chat-view').waitFor();
  if (!connected) return { name, username, page };
  await page.locator('#connection-dot.on').waitFor();
  who.firstToken = await page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')).accessToken);
  who.since = Date.now();
  return who;
}

/** REST calls as the page's user, with the page's own token. */
function rest(who, method, path, body) {
  return who.page.evaluate(async ([method, path, body]) => {
    const { accessToken } = JSON.parse(sessionStorage.getItem('chat.session'));
    const res = await fetch(`/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() };
  }, [method, path, body]);
}

// A message whose text is exactly `text` (a substring match would also take "filler 4" followed by
// a time "01:00 PM" for "filler 40").
const exactly = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const message = (who, text) => who.page.locator('#messages .message')
  .filter({ has: who.page.locator('.text', { hasText: exactly(text) }) });
const send = async (who, text) => {
  await who.page.fill('#message-input', text);
  await who.page.press('#message-input', 'Enter');
  await message(who, text).waitFor();
};
async function waitText(locator, pattern) {
  await locator.filter({ hasText: pattern }).first().waitFor();
}

/** A real PNG of `size`×`size` pixels in one colour (so the browser must decode it). */
function png(size, [r, g, b]) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4); length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0); header.writeUInt32BE(size, 4);
  header[8] = 8; header[9] = 2; // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array(size).fill([r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array(size).fill(row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

/** The whole conversation between two people. */
async function chat() {
  step('two people register in two browser contexts');
  const alice = await person('alice');
  const bob = await person('bob');

  step('alice finds bob by name and opens a private chat');
  await alice.page.fill('#people-query', bob.username.slice(0, 6));
  await alice.page.locator(`#people-results li[data-user="${bob.username}"]`).click();
  await waitText(alice.page.locator('#conversation-title'), bob.username);

  step('alice sends; bob sees the unread conversation; the tick turns to delivered');
  await send(alice, 'Hello Bob');
  await waitText(bob.page.locator('#rooms li'), 'Hello Bob');
  await bob.page.locator('#rooms li .badge', { hasText: '1' }).waitFor();
  await message(alice, 'Hello Bob').locator('.ticks[data-status="DELIVERED"]').waitFor();

  step('bob opens it; the tick turns to read; alice sees bob online');
  await bob.page.locator('#rooms li', { hasText: 'Hello Bob' }).click();
  await message(bob, 'Hello Bob').waitFor();
  await message(alice, 'Hello Bob').locator('.ticks.read').waitFor();
  await waitText(alice.page.locator('#conversation-status'), /^online$/);

  step('bob types: alice sees the typing indicator, then the message live');
  await bob.page.locator('#message-input').pressSequentially('Hi Alice', { delay: 30 });
  await waitText(alice.page.locator('#typing'), 'is typing');
  await bob.page.fill('#message-input', 'Hi Alice, how are you?');
  await bob.page.press('#message-input', 'Enter');
  await message(alice, 'Hi Alice, how are you?').waitFor();
  await alice.page.locator('#typing').filter({ hasText: /^$/ }).waitFor();

  step('alice reacts to it; bob sees the reaction');
  const bobsMessage = message(alice, 'Hi Alice, how are you?');
  await bobsMessage.hover();
  await bobsMessage.locator('.action-react', { hasText: '👍' }).click();
  await message(bob, 'Hi Alice, how are you?').locator('.reaction', { hasText: '👍 1' }).waitFor();

  step('alice replies to it; bob sees the quote');
  await bobsMessage.hover();
  await bobsMessage.locator('.action-reply').click();
  await send(alice, 'Great, thanks!');
  await message(bob, 'Great, thanks!').locator('.quote', { hasText: 'Hi Alice, how are you?' }).waitFor();

  step('alice edits her first message; bob sees the new text marked edited');
  const first = message(alice, 'Hello Bob');
  await first.hover();
  await first.locator('.action-edit').click();
  await alice.page.fill('#message-input', 'Hello Bob, nice to meet you');
  await alice.page.press('#message-input', 'Enter');
  await message(bob, 'Hello Bob, nice to meet you').locator('.meta', { hasText: 'edited' }).waitFor();

  step('alice deletes a message; bob sees a tombstone');
  await send(alice, 'oops, wrong chat');
  await message(bob, 'oops, wrong chat').waitFor();
  const oops = message(alice, 'oops, wrong chat');
  await oops.hover();
  await oops.locator('.action-delete').click();
  await bob.page.locator('#messages .message.deleted').waitFor();
  if (await message(bob, 'oops, wrong chat').count() !== 0) throw new Error('the deleted text is still shown');

  step('alice sends a photo: it uploads through the local stack and bob sees it inline');
  await alice.page.setInputFiles('#file-input', { name: 'sunset.png', mimeType: 'image/png', buffer: png(48, [230, 120, 40]) });
  const photo = bob.page.locator('#messages .message img.attachment-image[alt="sunset.png"]');
  await photo.waitFor();
  await bob.page.waitForFunction(() => {
    const img = document.querySelector('#messages img.attachment-image[alt="sunset.png"]');
    return img && img.complete && img.naturalWidth === 48;
  }, null, { timeout: TIMEOUT });
  await alice.page.locator('#messages img.attachment-image[alt="sunset.png"]').waitFor();
  await waitText(bob.page.locator('#rooms li'), '📎 photo');

  step('alice sends a document: bob gets a download link');
  await alice.page.setInputFiles('#file-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('meeting at 10') });
  await waitText(bob.page.locator('#messages .attachment-link'), 'notes.txt');

  step('bob searches his messages');
  await bob.page.fill('#message-search', 'nice');
  await waitText(bob.page.locator('#message-results li'), 'Hello Bob, nice to meet you');
  // The README's picture: a conversation with a reply, a reaction, an edit, a tombstone, a search.
  await bob.page.screenshot({ path: join(shots, 'web-client.png') });

  step('history pages back with the before cursor on scroll');
  for (let i = 1; i <= 40; i++) {
    const sent = await rest(bob, 'POST', '/chat/message', { receiver: await alice.page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')).user._id), message: `filler ${i}` });
    if (sent.status !== 201) throw new Error(`filler send: ${JSON.stringify(sent)}`);
  }
  await message(alice, 'filler 40').waitFor();
  await alice.page.locator('#rooms li', { hasText: 'filler 40' }).click();
  await message(alice, 'filler 40').waitFor();
  if (await message(alice, 'Hello Bob, nice to meet you').count() !== 0) throw new Error('the first page holds everything');
  await alice.page.locator('#messages').evaluate((box) => { box.scrollTop = 0; });
  await message(alice, 'Hello Bob, nice to meet you').waitFor();
  await alice.page.locator('#messages .history-end').waitFor();

  step('a dropped socket reconnects and catches up with the after cursor');
  await alice.page.evaluate(() => window.chatApp.socket.disconnect());
  await alice.page.locator('#connection-dot:not(.on)').waitFor();
  const aliceId = await alice.page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')).user._id);
  await rest(bob, 'POST', '/chat/message', { receiver: aliceId, message: 'sent while you were away' });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  if (await message(alice, 'sent while you were away').count() !== 0) throw new Error('delivered to a closed socket');
  await alice.page.evaluate(() => window.chatApp.socket.connect());
  await message(alice, 'sent while you were away').waitFor();

  step('alice creates a group with bob; bob gets the group message; alice sees it read');
  await alice.page.click('#new-group');
  await alice.page.fill('#group-form [name=groupName]', `Team ${tag}`);
  await alice.page.fill('#group-member-query', bob.username);
  await alice.page.locator(`#group-member-results li[data-user="${bob.username}"]`).click();
  await alice.page.locator('#group-members li').waitFor();
  await alice.page.click('#group-create');
  await waitText(alice.page.locator('#conversation-title'), `Team ${tag}`);
  await send(alice, 'Hello team');
  await bob.page.locator('#rooms li', { hasText: `Team ${tag}` }).click();
  await message(bob, 'Hello team').waitFor();
  await message(alice, 'Hello team').locator('.ticks.read').waitFor();

  step('tokens are refreshed before they expire and the socket keeps delivering');
  const lifetime = await alice.page.evaluate(() => {
    const [, body] = JSON.parse(sessionStorage.getItem('chat.session')).accessToken.split('.');
    const claims = JSON.parse(atob(body.replace(/-/g, '+').replace(/_/g, '/')));
    return (claims.exp - claims.iat) * 1000;
  });
  const wait = alice.since + lifetime + 3000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const token = await alice.page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')).accessToken);
  if (token === alice.firstToken) throw new Error('the access token was never refreshed');
  // One refresh per 80 % of a lifetime, not a storm.
  const expected = Math.ceil((Date.now() - alice.since) / (0.8 * lifetime));
  if (alice.refreshes > expected + 1) {
    throw new Error(`${alice.refreshes} refreshes in ${Date.now() - alice.since} ms (expected about ${expected})`);
  }
  await bob.page.locator('#rooms li', { hasText: alice.username }).click();
  await send(bob, 'still here after the token expired');
  await alice.page.locator('#rooms li', { hasText: 'still here after the token expired' }).waitFor();

  step('screenshots');
  await alice.page.locator('#rooms li', { hasText: 'still here' }).click();
  await message(alice, 'still here after the token expired').waitFor();
  await alice.page.screenshot({ path: join(shots, 'web-client-alice.png') });
  await bob.page.screenshot({ path: join(shots, 'web-client-bob.png') });
}

/** One person registers at an allowed origin: the socket connects and no error is shown. */
async function connects() {
  step(`the page's socket connects at ${new URL(appUrl).origin}`);
  const carol = await person('carol');
  const error = await carol.page.locator('#chat-error').textContent();
  if (error) throw new Error(`the page shows an error: ${error}`);
}

/** One person registers at an origin the node refuses: the page says why. */
async function refused() {
  step(`the node refuses ${new URL(appUrl).origin} and the page shows the reason`);
  const dave = await person('dave', { connected: false });
  await waitText(dave.page.locator('#chat-error'), 'ALLOWED_ORIGINS');
  await waitText(dave.page.locator('#chat-error'), new URL(appUrl).origin);
  if (await dave.page.locator('#connection-dot.on').count() !== 0) throw new Error('the socket connected');
  await dave.page.screenshot({ path: join(shots, 'web-client-refused.png') });
}

/** Reporting, moderation, data export and account deletion through the page. */
async function safety() {
  step('erin writes something; frank reports it from the message');
  const erin = await person('erin');
  const frank = await person('frank');
  await erin.page.fill('#people-query', frank.username.slice(0, 6));
  await erin.page.locator(`#people-results li[data-user="${frank.username}"]`).click();
  await send(erin, 'you are awful');
  await frank.page.locator('#rooms li', { hasText: 'you are awful' }).click();
  const awful = message(frank, 'you are awful');
  await awful.waitFor();
  await awful.hover();
  await awful.locator('.action-report').click();
  await frank.page.selectOption('#report-form [name=reason]', 'harassment');
  await frank.page.fill('#report-form [name=note]', 'insults me');
  await frank.page.click('#report-send');
  await waitText(frank.page.locator('#chat-notice'), 'Reported');
  if (await message(erin, 'you are awful').locator('.action-report').count() !== 0) throw new Error('one can report one\'s own message');

  step('the admin opens the moderation page and removes the message; both pages show the tombstone');
  const root = await person('root', { email: adminEmail });
  if (await erin.page.locator('#moderation').isVisible()) throw new Error('a plain user sees the moderation page');
  await root.page.locator('#moderation').waitFor({ state: 'visible' });
  await root.page.click('#moderation');
  const report = root.page.locator('#admin-reports li.report', { hasText: 'you are awful' });
  await report.waitFor();
  await waitText(report, 'harassment');
  await root.page.screenshot({ path: join(shots, 'web-client-moderation.png') });
  await report.locator('.resolve-removeMessage').click();
  await waitText(root.page.locator('#admin-reports li'), 'No open reports');
  for (const who of [erin, frank]) {
    await waitText(who.page.locator('#messages .message.deleted .text'), 'Removed by a moderator');
  }

  step('frank downloads his data: his profile and messages only');
  await send(frank, 'my own words');
  const [download] = await Promise.all([frank.page.waitForEvent('download'), frank.page.click('#export-data')]);
  const data = JSON.parse(readFileSync(await download.path(), 'utf8'));
  if (data.profile.username !== frank.username) throw new Error(`export of ${data.profile.username}`);
  const texts = data.messages.map((m) => m.message);
  if (!texts.includes('my own words') || texts.includes('you are awful')) throw new Error(`export messages: ${JSON.stringify(texts)}`);

  step('frank deletes his account; erin sees "Deleted user"');
  await frank.page.click('#delete-account');
  await frank.page.fill('#delete-form [name=password]', 'wrong password');
  await frank.page.click('#delete-confirm');
  await waitText(frank.page.locator('#delete-error'), 'incorrect');
  await frank.page.fill('#delete-form [name=password]', 'SecurePass123!');
  await frank.page.click('#delete-confirm');
  await waitText(frank.page.locator('#auth-error'), 'deleted');
  await erin.page.reload();
  await erin.page.locator('#rooms li', { hasText: 'Deleted user' }).waitFor();
}

/** Notifications: the page's own while it is open, the service worker's for a push. */
async function push() {
  step('gina enables notifications: the page registers its service worker');
  const gina = await person('gina', { notifications: true });
  const hank = await person('hank');
  if ((await gina.page.textContent('#notifications')).trim() !== 'Notifications on') {
    throw new Error(`the button says ${await gina.page.textContent('#notifications')} with permission granted`);
  }
  await gina.page.click('#notifications');
  await waitText(gina.page.locator('#chat-notice'), 'Notifications on');
  const scope = await gina.page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration('/app/');
    return registration && registration.active ? registration.scope : null;
  });
  if (!scope || !scope.endsWith('/app/')) throw new Error(`service worker: ${scope}`);

  step('hank writes while gina has no conversation open: a desktop notification');
  await hank.page.fill('#people-query', gina.username.slice(0, 6));
  await hank.page.locator(`#people-results li[data-user="${gina.username}"]`).click();
  await send(hank, 'are you there?');
  await gina.page.waitForFunction(() => window.shownNotices.some((n) => n.body === 'are you there?'));
  const [notice] = await gina.page.evaluate(() => window.shownNotices);
  if (!notice.title.includes(hank.username) && !notice.title.includes('Hank')) throw new Error(`title ${notice.title}`);

  step('a Web Push reaches the service worker: it shows a notification for the conversation');
  const cdp = await gina.context.newCDPSession(gina.page);
  const registrations = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => registrations.push(...list));
  await cdp.send('ServiceWorker.enable');
  const deadline = Date.now() + TIMEOUT;
  while (!registrations.some((r) => r.scopeURL === scope && !r.isDeleted)) {
    if (Date.now() > deadline) throw new Error(`no service worker registration: ${JSON.stringify(registrations)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { registrationId } = registrations.find((r) => r.scopeURL === scope);
  const payload = { title: 'Hank', body: 'pushed while closed', chatRoomId: 'room-1', messageId: 'm-1' };
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: new URL(appUrl).origin, registrationId, data: JSON.stringify(payload),
  });
  await gina.page.waitForFunction(async () => {
    const registration = await navigator.serviceWorker.getRegistration('/app/');
    const shown = await registration.getNotifications();
    return shown.some((n) => n.title === 'Hank' && n.body === 'pushed while closed' && n.tag === 'room-1');
  });
}

try {
  await ({ chat, connects, refused, safety, push })[mode]();
  if (problems.length) throw new Error(`the pages reported problems:\n${problems.join('\n')}`);
  console.log('ok: every step passed');
} catch (err) {
  console.error(`FAILED at step "${current}": ${err.message}`);
  if (problems.length) console.error(problems.join('\n'));
  for (const context of browser.contexts()) {
    for (const [i, page] of context.pages().entries()) {
      await page.screenshot({ path: join(shots, `failure-${browser.contexts().indexOf(context)}-${i}.png`) }).catch(() => {});
    }
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}
