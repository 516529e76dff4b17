// Regenerates media/icon.png (128×128): a page-table tree on a dark tile. No dependencies.
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
const N = 128, px = Buffer.alloc(N * N * 4);
const set = (x, y, [r, g, b, a = 255]) => { if (x < 0 || y < 0 || x >= N || y >= N) return; const i = (y * N + x) * 4; px[i] = r; px[i + 1] = g; px[i + 2] = b; px[i + 3] = a; };
const rect = (x0, y0, w, h, c) => { for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) set(x, y, c); };
const line = (x0, y0, x1, y1, c) => { const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0)); for (let i = 0; i <= n; i++) { const x = Math.round(x0 + (x1 - x0) * i / n), y = Math.round(y0 + (y1 - y0) * i / n); rect(x - 1, y - 1, 3, 3, c); } };
for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) { const r = 20; const dx = Math.max(r - x, x - (N - 1 - r), 0), dy = Math.max(r - y, y - (N - 1 - r), 0); if (dx * dx + dy * dy <= r * r) set(x, y, [24, 36, 64]); }
const blue = [86, 156, 214], green = [78, 201, 176], amber = [220, 170, 90];
const node = (cx, cy, c) => { rect(cx - 13, cy - 9, 26, 18, c); for (let k = 1; k < 4; k++) rect(cx - 13 + k * 6 + 1, cy - 9, 1, 18, [24, 36, 64]); };
line(64, 30, 34, 64, [200, 200, 210]); line(64, 30, 94, 64, [200, 200, 210]);
line(34, 64, 22, 98, [200, 200, 210]); line(34, 64, 48, 98, [200, 200, 210]); line(94, 64, 94, 98, [200, 200, 210]);
node(64, 28, blue); node(34, 64, green); node(94, 64, green); node(22, 98, amber); node(48, 98, amber); node(94, 98, amber);
const raw = Buffer.alloc(N * (N * 4 + 1));
for (let y = 0; y < N; y++) px.copy(raw, y * (N * 4 + 1) + 1, y * N * 4, (y + 1) * N * 4);
const crcT = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcT[(c ^ x) & 255] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
const chunk = (t, d) => { const l = Buffer.alloc(4); l.writeUInt32BE(d.length); const td = Buffer.concat([Buffer.from(t), d]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([l, td, c]); };
const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(N, 0); ihdr.writeUInt32BE(N, 4); ihdr[8] = 8; ihdr[9] = 6;
writeFileSync('media/icon.png', Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
