// Shared setup of the browser tests: a real `confide serve` on a loopback
// port with a temporary data directory, and Debian's Chromium driven by
// playwright-core (never a downloaded browser).
import { spawn } from 'node:child_process';
import { createHash, randomBytes, sign } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BIN = process.env.CONFIDE_BIN ?? '';
export const WEB = process.env.CONFIDE_WEB_DIR ?? '';
export const CHROMIUM = process.env.CONFIDE_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = process.env.CONFIDE_SCREENSHOTS_DIR ?? '';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A `confide serve` process on a temporary data directory. */
export class Server {
  /** `embedOrigins`: the company sites allowed to frame the chat. */
  constructor({ embedOrigins = [] } = {}) {
    this.data = mkdtempSync(join(tmpdir(), 'confide-web-test-'));
    this.config = join(this.data, 'confide.toml');
    writeFileSync(
      this.config,
      '[limits]\nvisitors_per_address_per_hour = 1000\n\n[web]\nidle_lock_secs = 300\n' +
        `embed_origins = ${JSON.stringify(embedOrigins)}\n`,
    );
    this.output = '';
  }

  async start() {
    if (!this.port) this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    this.proc = spawn(BIN, ['serve', '--data', this.data, '--listen', `127.0.0.1:${this.port}`, '--config', this.config], {
      env: { ...process.env, CONFIDE_WEB_DIR: WEB, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (d) => (this.output += d.toString()));
    this.proc.stderr.on('data', (d) => (this.output += d.toString()));
    this.exited = new Promise((r) => this.proc.on('exit', r));
    for (let i = 0; i < 200; i++) {
      try {
        const res = await fetch(`${this.base}/healthz`);
        if (res.ok) break;
      } catch {
        // not up yet
      }
      await sleep(50);
    }
    const email = /log in as\s+(\S+)/.exec(this.output);
    const password = /one-time password\s+(\S+)/.exec(this.output);
    if (email && password) {
      this.adminEmail = email[1];
      this.adminPassword = password[1];
    }
    if (!/agent console\s+http/.test(this.output)) {
      throw new Error(`the banner does not show the console URL:\n${this.output}`);
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(5000).then(() => false)]);
    if (!done) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Removes the data directory (after `stop`). */
  remove() {
    rmSync(this.data, { recursive: true, force: true });
  }

  /** The bytes of every SQLite file in the data directory (db, -wal, -shm). */
  storedBytes() {
    const files = readdirSync(this.data).filter((f) => /\.(db|sqlite3?)(-wal|-shm)?$/.test(f) || /-wal$/.test(f));
    return files.map((f) => ({ name: f, bytes: readFileSync(join(this.data, f)) }));
  }
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name) });
}

/** Signs in on /console; changes the one-time password first when asked. */
export async function consoleLogin(page, server, { email, password, newPassword, lock }) {
  if (process.env.CONFIDE_TEST_DEBUG && !page.__logged) {
    page.__logged = true;
    page.on('console', (m) => console.error(`[console] ${m.type()} ${m.text()}`));
    page.on('pageerror', (e) => console.error(`[console] pageerror ${e}`));
  }
  await page.goto(`${server.base}/console${lock ? `?lock=${lock}` : ''}`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  if (newPassword) {
    await page.waitForSelector('#new-password');
    await page.fill('#new-password', newPassword);
    await page.fill('#confirm-password', newPassword);
    await page.click('button[type=submit]');
  }
  await page.waitForSelector('#app[data-ready="true"]');
}

/** Opens the widget on /demo; returns the chat frame and the click-to-ready time. */
export async function openWidget(page, server) {
  await page.goto(`${server.base}/demo`);
  await page.click('#confide-launcher');
  const frame = page.frameLocator('#confide-frame');
  await frame.locator('#app[data-ready="true"]').waitFor();
  await page.waitForSelector('#confide-launcher[data-confide-ready-ms]', { state: 'attached' });
  const ms = Number(await page.getAttribute('#confide-launcher', 'data-confide-ready-ms'));
  return { frame, ms };
}

export async function send(frameOrPage, selector, text) {
  await frameOrPage.locator(selector).fill(text);
  await frameOrPage.locator(selector).press('Enter');
}

/**
 * A company backend's identity token (docs/protocol.md §12.2–12.3, scheme 1:
 * Ed25519), base64 as a backend hands it to its page.
 */
export function issueIdentityToken({ privateKey, keyId, org, inbox, subject, name, email, device, now = Math.floor(Date.now() / 1000) }) {
  const str8 = (s) => {
    const b = Buffer.from(s, 'utf8');
    return Buffer.concat([Buffer.from([b.length]), b]);
  };
  const u64 = (n) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  const body = Buffer.concat([
    Buffer.from([1]),
    str8(keyId),
    Buffer.from(org, 'hex'),
    Buffer.from(inbox, 'hex'),
    str8(subject),
    str8(name),
    str8(email),
    u64(now),
    u64(now + 300),
    randomBytes(16),
    Buffer.from(device, 'hex'),
  ]);
  const label = 'confide/v1/identity-token';
  const input = Buffer.concat([Buffer.from([label.length]), Buffer.from(label), body]);
  const signature = sign(null, input, privateKey);
  return Buffer.concat([body, Buffer.from([1]), signature]).toString('base64');
}

/** A JSON request to the server's API. */
export async function apiCall(server, method, path, { token, json } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${server.base}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * A company's own site on another origin (a loopback port of its own),
 * serving one page that embeds the widget with the exact snippet.
 */
export async function companySite(server, port) {
  const widget = Buffer.from(await (await fetch(`${server.base}/widget.js`)).arrayBuffer());
  const integrity = `sha384-${createHash('sha384').update(widget).digest('base64')}`;
  const org = await (await fetch(`${server.base}/api/v1/organisation`)).json();
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>A shop on another origin</h1>
<script src="${server.base}/widget.js" integrity="${integrity}" crossorigin="anonymous" async
  data-confide-root="${org.root_fingerprint}" data-confide-inbox="${org.default_inbox}"></script>
</body></html>`;
  const site = createHttpServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise((resolve) => site.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => site.close(r)) };
}
