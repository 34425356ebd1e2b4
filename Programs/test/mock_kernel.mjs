// mock_kernel.mjs - runs the committed component fixtures (wasm/system,
// wasm/kernel, wasm/swift/sensor_client) under Node.js with a small stand-in
// for Phantom's kernel: the session ABI (import module "phantom_session",
// docs/SESSION-ABI.md) on the host side, WASI from node:wasi.
//
// Not Phantom, not a fixture: no persistence, no routing config, no quotas.
// It exists to check the real binaries' use of the ABI (argument encoding,
// the 24-byte event struct, little-endian Timer/ROM requests, blocking
// opens, TOO_BIG handling) before the kernel can run them.
//
// Each component runs in a worker thread. A session_* / service_* import
// posts the request to the main thread (the "kernel") and blocks in
// Atomics.wait until the kernel writes the answer into a shared buffer, so a
// blocked client or server blocks only its own thread, like in Phantom.
//
// usage: node mock_kernel.mjs OUTDIR SCENARIO [ECHO_SERVER_WASM]
//   scenarios (at the end): system, echo, rom, misc; mock.sh runs and checks them
// Writes OUTDIR/<component>.out (stdout), OUTDIR/<component>.LOG (LOG
// session messages), OUTDIR/reports.txt, OUTDIR/kernel.txt (kernel events).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { WASI } from 'node:wasi';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SHARED_DATA = 64;             // offset of the data area in the shared buffer
const SHARED_SIZE = 64 + (1 << 20);

// ===================================================================== worker
if (!isMainThread) {
    const { name, wasm, args, preopens, out, shared } = workerData;
    const ctrl = new Int32Array(shared, 0, 16);    // [0] state, [1] result, [2] length, [3..8] info
    const data = new Uint8Array(shared, SHARED_DATA);
    let memory;
    const mem = () => new Uint8Array(memory.buffer);
    const view = () => new DataView(memory.buffer);
    const bytes = (p, n) => mem().slice(p, p + n);
    const text = (p, n) => Buffer.from(bytes(p, n)).toString('utf8');
    function ask(msg) {                              // blocks this component until the kernel answers
        Atomics.store(ctrl, 0, 1);
        parentPort.postMessage(msg);
        Atomics.wait(ctrl, 0, 1);
        Atomics.store(ctrl, 0, 0);
        return { result: ctrl[1], length: ctrl[2] >>> 0 };
    }
    const phantom = {
        session_open(s, sl, l, ll, quota) {
            return ask({ op: 'open', service: text(s, sl), label: text(l, ll), quota: quota.toString() }).result;
        },
        session_call(h, req, reqLen, reply, cap, lenPtr) {
            const r = ask({ op: 'call', handle: h, request: bytes(req, reqLen), capacity: cap });
            view().setUint32(lenPtr, r.length, true);
            if (r.result >= 0) mem().set(data.subarray(0, r.length), reply);
            return r.result;
        },
        session_close(h) { return ask({ op: 'close', handle: h }).result; },
        service_announce(s, n) { return ask({ op: 'announce', service: text(s, n) }).result; },
        service_next(buf, cap, info, timeout) {
            const r = ask({ op: 'next', capacity: cap, timeout: timeout.toString() });
            if (r.result === 0 || r.result === -5) {
                const v = view();
                for (let i = 0; i < 4; i++) v.setUint32(info + 4 * i, ctrl[3 + i] >>> 0, true);
                v.setBigUint64(info + 16, BigInt(ctrl[7] >>> 0) | (BigInt(ctrl[8] >>> 0) << 32n), true);
                if (r.result === 0) mem().set(data.subarray(0, r.length), buf);
            }
            return r.result;
        },
        service_reply(req, status, d, n) {
            return ask({ op: 'reply', request: req >>> 0, status, data: bytes(d, n) }).result;
        },
    };
    const fd = fs.openSync(out, 'w');
    const wasi = new WASI({ version: 'preview1', args, env: {}, preopens, stdout: fd, stderr: fd, returnOnExit: true });
    const module = new WebAssembly.Module(fs.readFileSync(wasm));
    const instance = new WebAssembly.Instance(module, {
        wasi_snapshot_preview1: wasi.wasiImport, phantom_session: phantom,
    });
    memory = instance.exports.memory;
    let code;
    try { code = wasi.start(instance); } catch (e) { code = 'trap: ' + e.message; }
    parentPort.postMessage({ op: 'exit', code: String(code) });
}

// ===================================================================== kernel
class Kernel {
    constructor(outdir) {
        this.outdir = outdir;
        this.components = new Map();
        this.providers = new Map();   // service -> component
        this.waitingOpens = [];       // opens for services nobody announced yet
        this.requests = new Map();    // request id -> { kind, client, ... }
        this.nextRequest = 1; this.nextSession = 1;
        this.rom = new Map();         // "component/name" -> { version, content, waiters }
        this.reports = [];
        this.denied = new Set(['Secret']);
        this.events = [];
    }
    note(s) { this.events.push(s); }

    start(name, wasm, { args = [], config = null, preopens = {} } = {}) {
        const romdir = path.join(this.outdir, 'rom', name);
        fs.mkdirSync(romdir, { recursive: true });
        if (config !== null) this.setROM(name, 'config', config);
        const shared = new SharedArrayBuffer(SHARED_SIZE);
        const c = {
            name, shared, ctrl: new Int32Array(shared, 0, 16), data: new Uint8Array(shared, SHARED_DATA),
            handles: new Map(), nextHandle: 1, queue: [], waiting: null, exited: null,
            log: path.join(this.outdir, name + '.LOG'),
        };
        c.worker = new Worker(fileURLToPath(import.meta.url), {
            workerData: {
                name, wasm, args: [name, ...args], shared, out: path.join(this.outdir, name + '.out'),
                preopens: { '/rom': romdir, ...preopens },
            },
        });
        c.worker.on('message', (m) => this.handle(c, m));
        c.worker.on('error', (e) => { c.exited = 'error ' + e.message; this.note(`${name} error ${e.message}`); });
        this.components.set(name, c);
        return c;
    }

    answer(c, result, bytes = null, info = null) {
        let length = 0;
        if (bytes) { c.data.set(bytes.subarray(0, Math.min(bytes.length, c.data.length))); length = bytes.length; }
        if (info) { info.forEach((v, i) => { c.ctrl[3 + i] = v; }); length = info[3]; }
        c.ctrl[1] = result; c.ctrl[2] = length;
        Atomics.store(c.ctrl, 0, 2);
        Atomics.notify(c.ctrl, 0);
    }
    answerLength(c, result, length) {
        c.ctrl[1] = result; c.ctrl[2] = length;
        Atomics.store(c.ctrl, 0, 2); Atomics.notify(c.ctrl, 0);
    }

    setROM(component, name, content) {
        const key = component + '/' + name;
        let r = this.rom.get(key);
        if (!r) { r = { version: 0, content: '', waiters: [] }; this.rom.set(key, r); }
        r.version++; r.content = content;
        fs.writeFileSync(path.join(this.outdir, 'rom', component, name), content);
        const waiters = r.waiters; r.waiters = [];
        for (const w of waiters) w();
    }

    enqueue(server, ev) {
        server.queue.push(ev);
        this.deliver(server);
    }
    deliver(server) {
        const w = server.waiting;
        if (!w || server.queue.length === 0) return;
        const ev = server.queue[0];
        const info = [ev.kind, ev.session, ev.request, ev.data.length, Number(ev.quota & 0xffffffffn), Number(ev.quota >> 32n)];
        server.waiting = null;
        if (w.timer) clearTimeout(w.timer);
        if (ev.data.length > w.capacity) { this.answer(server, -5, null, info); return; }   // stays queued
        server.queue.shift();
        server.data.set(ev.data);
        this.answer(server, 0, null, info);
    }

    open(c, m, provider) {
        const sid = this.nextSession++;
        const request = this.nextRequest++;
        const label = m.label === '' ? c.name : `${c.name} -> ${m.label}`;
        this.requests.set(request, { kind: 'open', client: c, server: provider, sid });
        this.enqueue(provider, { kind: 1, session: sid, request, data: Buffer.from(label), quota: BigInt(m.quota) });
    }

    handle(c, m) {
        const builtins = ['LOG', 'Report', 'Timer', 'ROM'];
        switch (m.op) {
        case 'open': {
            if (builtins.includes(m.service)) {
                const h = c.nextHandle++;
                c.handles.set(h, { builtin: m.service, label: m.label });
                return this.answer(c, h);
            }
            if (this.denied.has(m.service)) return this.answer(c, -1);
            if (BigInt(m.quota) > (1n << 30n)) return this.answer(c, -3);
            const provider = this.providers.get(m.service);
            if (!provider) { this.waitingOpens.push({ c, m }); this.note(`${c.name} waits for ${m.service}`); return; }
            return this.open(c, m, provider);
        }
        case 'announce': {
            this.providers.set(m.service, c);
            this.note(`${c.name} announced ${m.service}`);
            const now = this.waitingOpens.filter((w) => w.m.service === m.service);
            this.waitingOpens = this.waitingOpens.filter((w) => w.m.service !== m.service);
            this.answer(c, 0);
            for (const w of now) this.open(w.c, w.m, c);
            return;
        }
        case 'call': {
            const s = c.handles.get(m.handle);
            if (!s) return this.answer(c, -2);
            const req = Buffer.from(m.request);
            const reply = (status, data = Buffer.alloc(0)) => {
                if (data.length > m.capacity) return this.answerLength(c, -5, data.length);
                return this.answer(c, status, data);
            };
            if (s.builtin === 'LOG') { fs.appendFileSync(c.log, req.toString() + '\n'); return reply(0); }
            if (s.builtin === 'Report') { this.reports.push(`${c.name} -> ${s.label}: ${req}`); return reply(0); }
            if (s.builtin === 'Timer') {
                if (req.length !== 8) return reply(-2);
                return setTimeout(() => reply(0), Number(req.readBigUInt64LE(0) / 1000000n));
            }
            if (s.builtin === 'ROM') {
                const r = this.rom.get(c.name + '/' + s.label);
                if (!r) return reply(-1);
                const send = () => reply(r.version, Buffer.from(r.content));
                if (req.length === 0) return send();
                if (req.length !== 4) return reply(-2);
                const known = req.readUInt32LE(0);
                if (known !== r.version) return send();
                r.waiters.push(send);
                return;
            }
            if (s.server.exited) return this.answer(c, -4);
            const request = this.nextRequest++;
            this.requests.set(request, { kind: 'call', client: c, capacity: m.capacity });
            return this.enqueue(s.server, { kind: 2, session: s.sid, request, data: req, quota: 0n });
        }
        case 'close': {
            const s = c.handles.get(m.handle);
            if (!s) return this.answer(c, -2);
            c.handles.delete(m.handle);
            if (s.server) this.enqueue(s.server, { kind: 3, session: s.sid, request: 0, data: Buffer.alloc(0), quota: 0n });
            return this.answer(c, 0);
        }
        case 'next': {
            c.waiting = { capacity: m.capacity };
            const t = BigInt(m.timeout);
            if (c.queue.length) return this.deliver(c);
            if (t >= 0n) {
                c.waiting.timer = setTimeout(() => { c.waiting = null; this.answer(c, -6); }, Number(t / 1000000n));
            }
            return;
        }
        case 'reply': {
            const r = this.requests.get(m.request);
            if (!r) return this.answer(c, -2);
            this.requests.delete(m.request);
            this.answer(c, 0);
            if (r.kind === 'open') {
                if (m.status < 0) return this.answer(r.client, -1);
                const h = r.client.nextHandle++;
                r.client.handles.set(h, { server: r.server, sid: r.sid });
                return this.answer(r.client, h);
            }
            const data = Buffer.from(m.data);
            if (data.length > r.capacity) return this.answerLength(r.client, -5, data.length);
            return this.answer(r.client, m.status, data);
        }
        case 'exit':
            c.exited = m.code;
            this.note(`${c.name} exited with ${m.code}`);
            return;
        }
    }

    async stop() {
        for (const c of this.components.values()) await c.worker.terminate();
        fs.writeFileSync(path.join(this.outdir, 'reports.txt'), this.reports.join('\n') + '\n');
        fs.writeFileSync(path.join(this.outdir, 'kernel.txt'), this.events.join('\n') + '\n');
    }
}

// ================================================================== scenarios
if (isMainThread) {
    const [outdir, scenario, echoServer] = process.argv.slice(2);
    const wasm = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'wasm');
    fs.mkdirSync(outdir, { recursive: true });
    const k = new Kernel(outdir);
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const waitExit = async (name, ms) => {
        for (let t = 0; t < ms && !k.components.get(name).exited; t += 20) await sleep(20);
    };
    if (scenario === 'system') {
        const data = path.join(outdir, 'data'); fs.mkdirSync(data, { recursive: true });
        // the client first: its open blocks until the sensor announces
        k.start('sensor_client', `${wasm}/swift/sensor_client.wasm`, { args: ['5', '50'] });
        k.start('control', `${wasm}/system/control.wasm`, { config: '<config period_ms="10" high="80" low="20"/>\n' });
        await sleep(200);
        k.start('sensor', `${wasm}/system/sensor.wasm`, { config: '<config/>\n' });
        k.start('historian', `${wasm}/system/historian.wasm`, { preopens: { '/data': data } });
        await sleep(3000);
    } else if (scenario === 'echo') {
        k.start('echo_client', `${wasm}/kernel/echo_client.wasm`, { config: '<config calls="4"/>\n' });
        await sleep(100);
        k.start('echo_server', echoServer || `${wasm}/kernel/echo_server.wasm`);
        await waitExit('echo_client', 3000);
        k.start('opener', `${wasm}/kernel/opener.wasm`, { args: ['Echo', 'x'] });
        await waitExit('opener', 3000);
        k.start('opener2', `${wasm}/kernel/opener.wasm`, { config: '<config service="Secret"/>\n' });
        await waitExit('opener2', 3000);
        k.start('opener3', `${wasm}/kernel/opener.wasm`, { args: ['Echo', 'big', '4000000000'] });
        await waitExit('opener3', 3000);
    } else if (scenario === 'rom') {
        k.start('rom_watcher', `${wasm}/kernel/rom_watcher.wasm`, { config: '<config a="1"/>\nline two\n' });
        await sleep(300);
        k.setROM('rom_watcher', 'config', '<config a="2"/>\n');
        await sleep(300);
        k.setROM('rom_watcher', 'config', 'x'.repeat(5000) + '\nbig\n');   // more than its 4 KiB buffer
        await sleep(300);
    } else if (scenario === 'misc') {
        k.start('ticker', `${wasm}/kernel/ticker.wasm`);
        k.start('spinner', `${wasm}/kernel/spinner.wasm`);
        await sleep(1050);
    } else {
        console.error('scenarios: system echo rom misc');
        process.exit(2);
    }
    await k.stop();
}
