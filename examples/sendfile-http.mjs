// A static-file HTTP server whose bodies go from the file to the socket with
// sendfile(2) after Node wrote the headers: the bytes never enter JS. It serves
// this file to itself twice over one keep-alive connection, then exits.
// Run: node examples/sendfile-http.mjs
import http from 'node:http';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sendFile } from 'butter';

const file = fileURLToPath(import.meta.url);
const sockets = new Set(); // the connections requests came on
const log = [];
const handled = [];
const server = http.createServer((req, res) => handled.push(respond(req, res)));

async function respond(req, res) {
  const { size } = await stat(file);
  res.writeHead(200, { 'content-type': 'text/javascript', 'content-length': size });
  res.flushHeaders();                          // the headers go through Node, first
  const sent = await sendFile(res.socket, file); // then the body, kernel to kernel
  res.end();                                    // nothing more to write: the length was said
  sockets.add(req.socket);
  log.push(`${req.url}: sent ${sent} of ${size} bytes with sendfile`);
}

server.listen(0, '127.0.0.1', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (const path of ['/first', '/second']) {
    const body = await new Promise((resolve, reject) => {
      http.get({ port: server.address().port, host: '127.0.0.1', path, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
      }).on('error', reject);
    });
    log.push(`client got ${path}: ${body.length} bytes, ${body.toString().startsWith('// A static-file') ? 'this file' : 'something else'}`);
  }
  await Promise.all(handled);
  console.log(`${log.sort().join('\n')}\n${sockets.size} connection(s)`);
  agent.destroy();
  server.close();
});
